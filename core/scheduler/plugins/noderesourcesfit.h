#pragma once
// NodeResourcesFit: the pod's effective requests must fit in what the node has left
// (allocatable minus the requests of the pods already counted there, assumed ones included),
// and the node must have a pod slot left. Every shortfall is reported ("Insufficient cpu",
// "Insufficient memory", "Too many pods"); a request larger than the whole node is one that
// no preemption can fix.

#include "plugin.h"

namespace podscape::core::scheduler::plugins {

class NodeResourcesFit final : public Plugin
{
public:
    static constexpr std::string_view Name = "NodeResourcesFit";

    std::string_view name() const override { return Name; }
    uint32_t events() const override
    {
        return NodeAdd | NodeAllocatableChange | NodeTaintChange | NodeLabelChange | AssignedPodDelete
               | AssignedPodUpdate;
    }
    Status filter(const PodInfo &pod, const NodeInfo &node) const override;
};

} // namespace podscape::core::scheduler::plugins
