#include "framework.h"

#include "plugins/leastallocated.h"
#include "plugins/nodeaffinity.h"
#include "plugins/nodename.h"
#include "plugins/nodeready.h"
#include "plugins/noderesourcesfit.h"
#include "plugins/nodeunschedulable.h"
#include "plugins/selectorspread.h"
#include "plugins/tainttoleration.h"

#include <algorithm>
#include <unordered_map>

namespace podscape::core::scheduler {

namespace {
constexpr int MinFeasibleNodesToFind = 100;
constexpr int MinFeasibleNodesPercentageToFind = 5;
} // namespace

Framework::Framework(FrameworkOptions options) : m_options(options), m_random(options.tieBreakSeed.value_or(0)) {}

Framework Framework::withDefaultPlugins(FrameworkOptions options)
{
    Framework f(options);
    auto taints = std::make_shared<plugins::TaintToleration>();
    auto affinity = std::make_shared<plugins::NodeAffinity>();
    f.addFilter(std::make_shared<plugins::NodeUnschedulable>());
    f.addFilter(std::make_shared<plugins::NodeName>());
    f.addFilter(taints);
    f.addFilter(std::make_shared<plugins::NodeReady>());
    f.addFilter(affinity);
    f.addFilter(std::make_shared<plugins::NodeResourcesFit>());
    f.addScore(std::make_shared<plugins::LeastAllocated>(), 1);
    f.addScore(affinity, 2);
    f.addScore(taints, 3);
    f.addScore(std::make_shared<plugins::SelectorSpread>(), 2);
    return f;
}

void Framework::addFilter(std::shared_ptr<const Plugin> plugin) { m_filters.push_back(std::move(plugin)); }

void Framework::addScore(std::shared_ptr<const Plugin> plugin, int64_t weight)
{
    m_scores.push_back({std::move(plugin), weight});
}

Status Framework::runFilters(const PodInfo &pod, const NodeInfo &node) const
{
    for (const auto &p : m_filters) {
        Status s = p->filter(pod, node);
        if (!s.ok())
            return std::move(s.setPlugin(std::string(p->name())));
    }
    return {};
}

int Framework::numFeasibleNodesToFind(int numNodes) const
{
    if (numNodes < MinFeasibleNodesToFind || m_options.percentageOfNodesToScore >= 100)
        return numNodes;
    int percentage = m_options.percentageOfNodesToScore;
    if (percentage <= 0)
        percentage = std::max(MinFeasibleNodesPercentageToFind, 50 - numNodes / 125);
    return std::max(MinFeasibleNodesToFind, numNodes * percentage / 100);
}

Framework::Result Framework::schedule(const PodInfo &pod, const std::vector<const NodeInfo *> &nodes)
{
    Result r;
    r.totalNodes = static_cast<int>(nodes.size());
    if (nodes.empty()) {
        r.message = std::string(NoNodesAvailable);
        r.failureCode = Status::Code::UnschedulableAndUnresolvable;
        r.retryEvents = AnyEvent;
        return r;
    }

    // PreFilter: a rejection of the pod as such, or a narrowing to named nodes.
    std::optional<std::set<std::string>> allowed;
    std::vector<std::string> narrowing;
    for (const auto &p : m_filters) {
        PreFilterResult pre = p->preFilter(pod);
        if (pre.status.isRejected()) {
            pre.status.setPlugin(std::string(p->name()));
            for (const NodeInfo *n : nodes)
                r.rejected.emplace_back(n, pre.status);
            FitError fe{r.totalNodes, pre.status.message(), {}, {}};
            if (m_options.preemptionMessage)
                fe.postFilterMessage = preemptionMessage(pod, nodes, r.rejected);
            r.message = fe.message();
            r.failureCode = pre.status.code();
            r.retryEvents = p->events();
            return r;
        }
        if (pre.nodeNames) {
            narrowing.emplace_back(p->name());
            if (!allowed) {
                allowed = std::move(pre.nodeNames);
            } else {
                std::set<std::string> both;
                std::set_intersection(allowed->begin(), allowed->end(), pre.nodeNames->begin(), pre.nodeNames->end(),
                                      std::inserter(both, both.begin()));
                allowed = std::move(both);
            }
        }
    }

    std::vector<const NodeInfo *> candidates;
    if (!allowed) {
        candidates = nodes;
    } else {
        std::sort(narrowing.begin(), narrowing.end());
        std::string list = "[";
        for (size_t i = 0; i < narrowing.size(); ++i)
            list += (i ? " " : "") + narrowing[i];
        list += "]";
        Status absent = Status::unresolvable("node(s) didn't satisfy plugin(s) " + list);
        absent.setPlugin(narrowing.front());
        for (const NodeInfo *n : nodes) {
            if (allowed->count(n->name()))
                candidates.push_back(n);
            else
                r.rejected.emplace_back(n, absent);
        }
        r.retryEvents |= NodeAdd | NodeLabelChange;
    }

    // Filter, starting where the previous pod stopped so that big clusters are searched
    // evenly, until enough feasible nodes are found.
    const int toFind = numFeasibleNodesToFind(static_cast<int>(candidates.size()));
    const size_t n = candidates.size();
    const size_t start = n ? m_nextStartNodeIndex % n : 0;
    size_t processed = 0;
    for (size_t i = 0; i < n && static_cast<int>(r.feasible.size()) < toFind; ++i) {
        const NodeInfo *node = candidates[(start + i) % n];
        ++processed;
        Status s = runFilters(pod, *node);
        if (s.ok())
            r.feasible.push_back(node);
        else
            r.rejected.emplace_back(node, std::move(s));
    }
    r.evaluatedNodes = static_cast<int>(processed);
    if (n)
        m_nextStartNodeIndex = (start + processed) % n;

    if (r.feasible.empty()) {
        FitError fe{r.totalNodes, {}, {}, {}};
        fe.nodeStatuses.reserve(r.rejected.size());
        bool resolvable = false;
        for (const auto &[node, status] : r.rejected) {
            fe.nodeStatuses.push_back(status);
            resolvable = resolvable || status.code() == Status::Code::Unschedulable;
            for (const auto &p : m_filters)
                if (p->name() == status.plugin())
                    r.retryEvents |= p->events();
        }
        if (m_options.preemptionMessage)
            fe.postFilterMessage = preemptionMessage(pod, nodes, r.rejected);
        r.message = fe.message();
        r.failureCode = resolvable ? Status::Code::Unschedulable : Status::Code::UnschedulableAndUnresolvable;
        return r;
    }
    if (r.feasible.size() == 1) {
        r.selected = r.feasible.front();
        return r;
    }

    // Score: each plugin over all feasible nodes, normalized, weighted, summed.
    const size_t f = r.feasible.size();
    r.totals.assign(f, 0);
    r.pluginScores.resize(m_scores.size());
    r.pluginSkipped.assign(m_scores.size(), false);
    for (size_t p = 0; p < m_scores.size(); ++p) {
        const auto &sp = m_scores[p];
        auto &scores = r.pluginScores[p];
        scores.assign(f, 0);
        if (!sp.plugin->preScore(pod)) {
            r.pluginSkipped[p] = true;
            continue;
        }
        for (size_t i = 0; i < f; ++i)
            scores[i] = sp.plugin->score(pod, *r.feasible[i]);
        sp.plugin->normalizeScores(pod, r.feasible, scores);
        for (size_t i = 0; i < f; ++i)
            r.totals[i] += std::clamp<int64_t>(scores[i], 0, MaxNodeScore) * sp.weight;
    }

    // Highest total wins; ties by node name, or at random (reservoir sampling) with a seed.
    size_t best = 0;
    int ties = 1;
    for (size_t i = 1; i < f; ++i) {
        if (r.totals[i] > r.totals[best]) {
            best = i;
            ties = 1;
        } else if (r.totals[i] == r.totals[best]) {
            if (m_options.tieBreakSeed) {
                ++ties;
                if (std::uniform_int_distribution<int>(0, ties - 1)(m_random) == 0)
                    best = i;
            } else if (r.feasible[i]->name() < r.feasible[best]->name()) {
                best = i;
            }
        }
    }
    r.selected = r.feasible[best];
    return r;
}

std::string Framework::preemptionMessage(const PodInfo &pod, const std::vector<const NodeInfo *> &nodes,
                                         const std::vector<std::pair<const NodeInfo *, Status>> &rejected) const
{
    if (pod.preemptNever)
        return "preemption: not eligible due to preemptionPolicy=Never.";
    std::unordered_map<const NodeInfo *, const Status *> byNode;
    for (const auto &[node, status] : rejected)
        byNode.emplace(node, &status);

    FitError fe{static_cast<int>(nodes.size()), {}, {}, {}};
    for (const NodeInfo *node : nodes) {
        auto it = byNode.find(node);
        if (it == byNode.end() || it->second->code() != Status::Code::Unschedulable) {
            fe.nodeStatuses.push_back(Status::unresolvable(std::string(PreemptionNotHelpful)));
            continue;
        }
        // The dry run: take every lower-priority pod off a copy of the node and filter again.
        NodeInfo without = *node;
        bool victims = false;
        for (const auto &[key, p] : node->pods())
            if (p->priority < pod.priority) {
                without.removePod(key);
                victims = true;
            }
        if (!victims) {
            fe.nodeStatuses.push_back(Status::unresolvable(std::string(NoPreemptionVictims)));
            continue;
        }
        Status s = runFilters(pod, without);
        fe.nodeStatuses.push_back(s.ok() ? Status::unschedulable(std::string(PreemptionNotImplemented)) : s);
    }
    return "preemption: " + fe.message();
}

} // namespace podscape::core::scheduler
