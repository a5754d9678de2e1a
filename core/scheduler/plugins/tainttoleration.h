#pragma once
// TaintToleration: a node's NoSchedule and NoExecute taints keep out every pod that does not
// tolerate them; PreferNoSchedule taints only lower the node's score, by how many of them
// the pod does not tolerate.

#include "plugin.h"

namespace podscape::core::scheduler::plugins {

class TaintToleration final : public Plugin
{
public:
    static constexpr std::string_view Name = "TaintToleration";
    // Since Kubernetes 1.34 the taint itself is no longer named in the reason.
    static constexpr std::string_view ErrReason = "node(s) had untolerated taint(s)";

    std::string_view name() const override { return Name; }
    uint32_t events() const override { return NodeAdd | NodeTaintChange | NodeLabelChange; }
    Status filter(const PodInfo &pod, const NodeInfo &node) const override;
    int64_t score(const PodInfo &pod, const NodeInfo &node) const override;
    void normalizeScores(const PodInfo &pod, std::span<const NodeInfo *const> nodes,
                         std::span<int64_t> scores) const override;
};

} // namespace podscape::core::scheduler::plugins
