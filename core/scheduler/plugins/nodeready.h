#pragma once
// NodeReady: a node whose Ready condition is False or Unknown takes no new pods unless they
// tolerate the taint the node lifecycle controller would put on it (not-ready or unreachable,
// NoSchedule). kube-scheduler relies on that taint alone; Podscape checks the condition as
// well so that a node is kept out even before (or without) a controller tainting it, and
// reports it in the same words. A node with no Ready condition at all (registered by hand)
// is taken as ready.

#include "plugin.h"

namespace podscape::core::scheduler::plugins {

class NodeReady final : public Plugin
{
public:
    static constexpr std::string_view Name = "NodeReady";
    static constexpr std::string_view ErrReason = "node(s) had untolerated taint(s)";

    std::string_view name() const override { return Name; }
    uint32_t events() const override { return NodeAdd | NodeConditionChange | NodeTaintChange; }
    Status filter(const PodInfo &pod, const NodeInfo &node) const override;
};

} // namespace podscape::core::scheduler::plugins
