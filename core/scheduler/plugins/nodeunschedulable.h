#pragma once
// NodeUnschedulable: a cordoned node (spec.unschedulable) takes no new pods, except those
// tolerating the node.kubernetes.io/unschedulable:NoSchedule taint (DaemonSet pods do).

#include "plugin.h"

namespace podscape::core::scheduler::plugins {

class NodeUnschedulable final : public Plugin
{
public:
    static constexpr std::string_view Name = "NodeUnschedulable";
    static constexpr std::string_view ErrReason = "node(s) were unschedulable";

    std::string_view name() const override { return Name; }
    uint32_t events() const override { return NodeAdd | NodeTaintChange; }
    Status filter(const PodInfo &pod, const NodeInfo &node) const override;
};

} // namespace podscape::core::scheduler::plugins
