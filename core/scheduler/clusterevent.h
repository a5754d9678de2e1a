#pragma once
// Changes in the cluster that may make a pod that failed to schedule schedulable, as a bit
// set. Each plugin says which of them could change its verdict; a pod rejected by plugins
// is retried only on an event one of them cares about (kube-scheduler's EventsToRegister).

#include <cstdint>
#include <string>

namespace podscape::core::scheduler {

enum ClusterEvent : uint32_t {
    NoEvent = 0,
    NodeAdd = 1u << 0,
    NodeAllocatableChange = 1u << 1,
    NodeLabelChange = 1u << 2,
    NodeTaintChange = 1u << 3, // taints or spec.unschedulable
    NodeConditionChange = 1u << 4,
    AssignedPodDelete = 1u << 5, // a pod holding resources went away (deleted, finished, unbound)
    AssignedPodUpdate = 1u << 6, // a pod holding resources changed (its requests shrank)
    UnschedulableTimeout = 1u << 7, // waited the maximum: retried whatever rejected it
    AnyEvent = 0xffffffffu,
};

// "NodeAdd|NodeTaintChange", for logs.
std::string clusterEventNames(uint32_t events);

} // namespace podscape::core::scheduler
