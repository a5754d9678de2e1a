#pragma once
// SelectorSpread: spreads the replicas of one controller (ReplicaSet, StatefulSet, Job...)
// over nodes, and over zones when nodes carry zone labels: a node scores higher the fewer of
// the pod's siblings (same controller ownerReference, not being deleted) it already holds.
// This is kube-scheduler's former SelectorSpread plugin with the owner standing in for the
// selectors; today's default, PodTopologySpread with system defaults, gives the same result
// for replicas of one workload on unzoned nodes.

#include "plugin.h"

namespace podscape::core::scheduler::plugins {

class SelectorSpread final : public Plugin
{
public:
    static constexpr std::string_view Name = "SelectorSpread";
    // Share of the score that comes from the zone when nodes have zones (as kube-scheduler).
    static constexpr double ZoneWeighting = 2.0 / 3.0;

    std::string_view name() const override { return Name; }
    bool preScore(const PodInfo &pod) const override { return !pod.controllerUid.empty(); }
    int64_t score(const PodInfo &pod, const NodeInfo &node) const override;
    void normalizeScores(const PodInfo &pod, std::span<const NodeInfo *const> nodes,
                         std::span<int64_t> scores) const override;
};

} // namespace podscape::core::scheduler::plugins
