#pragma once
// A pod as the scheduler reads it: the fields filters and scores need, parsed once when the
// pod is seen (queue or node bookkeeping), next to the immutable object it came from.

#include "nodeselector.h"
#include "resources.h"
#include "taint.h"

#include "core/model/object.h"
#include "core/store/store.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace podscape::core::scheduler {

struct PodInfo {
    store::ObjectPtr object;
    std::string key; // "namespace/name"
    std::string ns;
    std::string name;
    std::string uid;
    std::string nodeName;      // spec.nodeName: empty while pending
    std::string schedulerName; // spec.schedulerName ("" reads as default-scheduler)
    int64_t priority = 0;      // spec.priority, set by admission from priorityClassName
    bool preemptNever = false; // spec.preemptionPolicy == Never
    bool deleting = false;     // metadata.deletionTimestamp is set
    bool terminal = false;     // status.phase is Succeeded or Failed: holds no resources
    bool gated = false;        // spec.schedulingGates is not empty

    PodRequests requests;
    std::vector<Toleration> tolerations;
    model::Labels nodeSelector;
    std::optional<NodeSelector> requiredAffinity; // requiredDuringSchedulingIgnoredDuringExecution
    std::vector<PreferredSchedulingTerm> preferredAffinity;
    std::string controllerUid; // the owner with controller: true, for spreading replicas

    static std::shared_ptr<const PodInfo> make(store::ObjectPtr object);
    static std::string keyOf(const nlohmann::json &object);
};

using PodInfoPtr = std::shared_ptr<const PodInfo>;

} // namespace podscape::core::scheduler
