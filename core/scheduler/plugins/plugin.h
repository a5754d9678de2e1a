#pragma once
// The common shape of a scheduling plugin (kube-scheduler's framework, reduced to the
// extension points Podscape uses). A plugin is stateless between pods: everything it needs
// comes from the PodInfo and the NodeInfo it is handed.
//
//   PreFilter  once per pod: reject it outright, or narrow the nodes worth looking at
//   Filter     per node: may the pod run there? (the first rejection ends a node's check)
//   Score      per feasible node: 0..100 after NormalizeScore, then times the plugin weight

#include "core/scheduler/clusterevent.h"
#include "core/scheduler/nodeinfo.h"
#include "core/scheduler/podinfo.h"
#include "core/scheduler/status.h"

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

namespace podscape::core::scheduler {

inline constexpr int64_t MaxNodeScore = 100;

struct PreFilterResult {
    Status status;
    // The only nodes the pod can go to, or nullopt for every node.
    std::optional<std::set<std::string>> nodeNames;
};

class Plugin
{
public:
    virtual ~Plugin() = default;
    virtual std::string_view name() const = 0;
    // The cluster events that could turn this plugin's rejection into a pass.
    virtual uint32_t events() const { return AnyEvent; }

    virtual PreFilterResult preFilter(const PodInfo &) const { return {}; }
    virtual Status filter(const PodInfo &, const NodeInfo &) const { return {}; }

    // false: the plugin has nothing to say about this pod and is skipped (scores 0 everywhere).
    virtual bool preScore(const PodInfo &) const { return true; }
    virtual int64_t score(const PodInfo &, const NodeInfo &) const { return 0; }
    // Brings the raw scores of all feasible nodes into 0..MaxNodeScore.
    virtual void normalizeScores(const PodInfo &, std::span<const NodeInfo *const> nodes, std::span<int64_t> scores) const
    {
        (void)nodes;
        (void)scores;
    }
};

// kube-scheduler's DefaultNormalizeScore: scales so that the highest score becomes
// MaxNodeScore; with `reverse` the highest becomes 0 (for counts of something bad).
void defaultNormalizeScore(std::span<int64_t> scores, bool reverse);

} // namespace podscape::core::scheduler
