#pragma once
// Records core/v1 Events about objects, as Kubernetes components do, so that `describe`
// shows what happened. Identical events (same object, type, reason and message) within ten
// minutes become one Event whose count grows, instead of a flood of objects.

#include "core/base/clock.h"
#include "core/store/store.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace podscape::core::events {

class EventRecorder
{
public:
    // `component` is source.component / reportingComponent ("default-scheduler",
    // "replicaset-controller", "kubelet"); `host` is source.host (the node, for kubelets).
    EventRecorder(store::Store &store, Clock &clock, std::string component, std::string host = {});

    // `type` is "Normal" or "Warning". Failures to write are logged, never thrown: an event is
    // a courtesy, not part of the operation that caused it.
    void record(const nlohmann::json &object, std::string_view type, std::string_view reason, const std::string &message);
    // Called with each event written (new or counted again): the teaching narration reads it.
    void setObserver(std::function<void(const nlohmann::json &event)> observer);

private:
    struct Series {
        std::string ns;
        std::string name;
        Clock::TimePoint last;
    };
    store::Store &m_store;
    Clock &m_clock;
    std::string m_component;
    std::string m_host;
    std::mutex m_mutex;
    // Recent series by (object uid, type, reason, message), least recently used last.
    std::list<std::pair<std::string, Series>> m_recent;
    std::unordered_map<std::string, std::list<std::pair<std::string, Series>>::iterator> m_index;
    std::function<void(const nlohmann::json &)> m_observer;
    uint64_t m_sequence = 0;
};

} // namespace podscape::core::events
