#pragma once
// Evicts pods from nodes with NoExecute taints (Kubernetes' taint-eviction-controller): a
// pod that does not tolerate every NoExecute taint of its node is deleted at once; one that
// tolerates them all for a while (tolerationSeconds: 300 s by default, see
// addDefaultTolerations) is deleted when the shortest of those runs out, counted from when
// this controller first saw it on the tainted node; one that tolerates them for ever stays.
// Taints removed or tolerations extended cancel the eviction. Eviction is a graceful delete
// after the DisruptionTarget condition is set, with TaintManagerEviction events as
// Kubernetes records them.

#include "core/controllers/controller.h"
#include "core/controllers/sharedinformers.h"
#include "core/events/eventrecorder.h"

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

namespace podscape::core::controllers {

class TaintEvictionController final : public Controller
{
public:
    explicit TaintEvictionController(SharedInformers &informers);

    // `key` is a pod's "namespace/name".
    Result<void> sync(const std::string &key) override;

    // When the pod is due to be evicted, if it is (tests and the GUI's countdown).
    std::optional<Clock::TimePoint> scheduledEviction(const std::string &podKey) const;

private:
    using ObjectPtr = std::shared_ptr<const nlohmann::json>;
    struct Scheduled {
        Clock::TimePoint since; // first seen on the tainted node
        Clock::TimePoint due;
    };

    void enqueuePodsOn(const std::string &nodeName);
    // Drops a scheduled eviction; the event tells `describe pod` readers it was called off.
    void cancel(const std::string &key, const nlohmann::json *pod);
    Result<void> evict(const std::string &key, const nlohmann::json &pod);

    store::Store &m_store;
    cache::Informer &m_pods;
    cache::Informer &m_nodes;
    events::EventRecorder m_recorder;
    mutable std::mutex m_mutex;
    std::map<std::string, Scheduled> m_scheduled; // one entry per pod on a NoExecute-tainted node
};

} // namespace podscape::core::controllers
