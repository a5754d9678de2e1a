#pragma once
// NodeAffinity: spec.nodeSelector and the required node affinity must both match the node's
// labels (and, for matchFields, its name); the preferred terms add their weights to the score
// of the nodes they match. A pod pinned to node names by matchFields (as DaemonSet pods are)
// is checked against those nodes only: the others are ruled out in PreFilter.

#include "plugin.h"

namespace podscape::core::scheduler::plugins {

class NodeAffinity final : public Plugin
{
public:
    static constexpr std::string_view Name = "NodeAffinity";
    static constexpr std::string_view ErrReasonPod = "node(s) didn't match Pod's node affinity/selector";
    static constexpr std::string_view ErrReasonConflict = "pod affinity terms conflict";

    std::string_view name() const override { return Name; }
    uint32_t events() const override { return NodeAdd | NodeLabelChange | NodeTaintChange; }
    PreFilterResult preFilter(const PodInfo &pod) const override;
    Status filter(const PodInfo &pod, const NodeInfo &node) const override;
    bool preScore(const PodInfo &pod) const override { return !pod.preferredAffinity.empty(); }
    int64_t score(const PodInfo &pod, const NodeInfo &node) const override;
    void normalizeScores(const PodInfo &pod, std::span<const NodeInfo *const> nodes,
                         std::span<int64_t> scores) const override;
};

} // namespace podscape::core::scheduler::plugins
