#pragma once
// Binding a pod to a node: the one write that schedules a pod, shared by the scheduler and
// (later) the API server's pods/binding subresource, with the API server's rules:
//
//   - the pod must exist (and have the given uid, when one is given);
//   - it must not be bound already, being deleted, or held by scheduling gates: Conflict,
//     worded as `Operation cannot be fulfilled on pods/binding "x": pod x is already
//     assigned to node "node-1"`;
//   - the write sets spec.nodeName and the PodScheduled=True condition in one update.

#include "core/base/clock.h"
#include "core/base/result.h"
#include "core/store/store.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>

namespace podscape::core::scheduler {

struct Binding {
    std::string ns;
    std::string podName;
    std::string nodeName;
    std::string podUid; // precondition; empty: none
};

Result<store::ObjectPtr> bindPod(store::Store &store, Clock &clock, const Binding &binding);

// Sets the pod condition `type` in status.conditions (adding it if absent), as Kubernetes'
// UpdatePodCondition: lastTransitionTime moves only when the status changes. Returns
// whether anything changed.
bool updatePodCondition(nlohmann::json &pod, std::string_view type, std::string_view status, std::string_view reason,
                        std::string_view message, Clock::TimePoint now);

} // namespace podscape::core::scheduler
