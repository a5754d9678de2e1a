#pragma once
// One scheduling profile: the plugins, in order, and the algorithm that runs them for a pod
// over a set of nodes (kube-scheduler's schedulePod): PreFilter, Filter on each node until
// enough feasible nodes are found, Score and NormalizeScore on the feasible ones, weighted
// sum, highest total wins. On failure it builds the FitError message, including what
// kube-scheduler's DefaultPreemption would add (Podscape does not preempt; see below).
//
// Not thread-safe: one scheduling cycle at a time, as in kube-scheduler.

#include "fiterror.h"
#include "nodeinfo.h"
#include "plugins/plugin.h"
#include "podinfo.h"
#include "status.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace podscape::core::scheduler {

struct FrameworkOptions {
    // Stop filtering once this share of the nodes was found feasible (kube-scheduler's
    // percentageOfNodesToScore). 0: adaptive, 50% minus 1% per 125 nodes, at least 5%; never
    // fewer than 100 nodes, so clusters under 100 nodes are always searched whole.
    int percentageOfNodesToScore = 0;
    // Equal best scores: nullopt picks the first node by name (reproducible narration); a
    // seed picks at random among them, as kube-scheduler does, but reproducibly.
    std::optional<uint64_t> tieBreakSeed;
    // Append the "preemption: ..." message kube-scheduler's DefaultPreemption writes when it
    // finds nothing to evict. Podscape never evicts: when evicting lower-priority pods would
    // make room, that node is reported as PreemptionNotImplemented.
    bool preemptionMessage = true;
};

class Framework
{
public:
    static constexpr std::string_view NoNodesAvailable = "no nodes available to schedule pods";
    static constexpr std::string_view PreemptionNotHelpful = "Preemption is not helpful for scheduling";
    static constexpr std::string_view NoPreemptionVictims = "No preemption victims found for incoming pod";
    static constexpr std::string_view PreemptionNotImplemented = "Preemption would help but is not implemented";

    struct ScorePlugin {
        std::shared_ptr<const Plugin> plugin;
        int64_t weight = 1;
    };

    struct Result {
        const NodeInfo *selected = nullptr;
        int totalNodes = 0;
        int evaluatedNodes = 0;
        std::vector<const NodeInfo *> feasible;
        // Rejected nodes with the first rejecting plugin's status (plugin set), in evaluation
        // order; a PreFilter rejection or narrowing rejects the nodes it rules out.
        std::vector<std::pair<const NodeInfo *, Status>> rejected;
        // Scores of the feasible nodes (same order), per score plugin, after normalization;
        // empty when there was only one feasible node (nothing to compare).
        std::vector<std::vector<int64_t>> pluginScores;
        std::vector<bool> pluginSkipped; // PreScore said it has nothing to say about this pod
        std::vector<int64_t> totals;
        // Failure: the FitError message (or "no nodes available to schedule pods"), and the
        // cluster events that could change the verdict of the plugins that rejected.
        std::string message;
        Status::Code failureCode = Status::Code::Success;
        uint32_t retryEvents = NoEvent;
    };

    explicit Framework(FrameworkOptions options = {});
    // NodeUnschedulable, NodeName, TaintToleration, NodeReady, NodeAffinity, NodeResourcesFit
    // as filters (kube-scheduler's order); LeastAllocated x1, NodeAffinity x2,
    // TaintToleration x3, SelectorSpread x2 as scores (kube-scheduler's default weights).
    static Framework withDefaultPlugins(FrameworkOptions options = {});

    void addFilter(std::shared_ptr<const Plugin> plugin);
    void addScore(std::shared_ptr<const Plugin> plugin, int64_t weight);
    const std::vector<std::shared_ptr<const Plugin>> &filterPlugins() const { return m_filters; }
    const std::vector<ScorePlugin> &scorePlugins() const { return m_scores; }
    const FrameworkOptions &options() const { return m_options; }

    // Every filter on one node; the first rejection ends the check (its plugin is set).
    Status runFilters(const PodInfo &pod, const NodeInfo &node) const;
    // Picks a node for `pod` among `nodes` (the nodes with a Node object, sorted by name).
    Result schedule(const PodInfo &pod, const std::vector<const NodeInfo *> &nodes);
    // What DefaultPreemption would report, "preemption: 0/3 nodes are available: ...".
    std::string preemptionMessage(const PodInfo &pod, const std::vector<const NodeInfo *> &nodes,
                                  const std::vector<std::pair<const NodeInfo *, Status>> &rejected) const;
    // How many feasible nodes to look for among `numNodes`.
    int numFeasibleNodesToFind(int numNodes) const;

private:
    FrameworkOptions m_options;
    std::vector<std::shared_ptr<const Plugin>> m_filters;
    std::vector<ScorePlugin> m_scores;
    size_t m_nextStartNodeIndex = 0;
    std::mt19937_64 m_random;
};

} // namespace podscape::core::scheduler
