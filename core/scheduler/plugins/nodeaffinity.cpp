#include "nodeaffinity.h"

namespace podscape::core::scheduler::plugins {

PreFilterResult NodeAffinity::preFilter(const PodInfo &pod) const
{
    if (!pod.requiredAffinity || pod.requiredAffinity->terms().empty())
        return {};
    // Terms are ORed: the pod is pinned only if every term pins it, to the union of names.
    std::set<std::string> names;
    for (const auto &term : pod.requiredAffinity->terms()) {
        auto pinned = term.pinnedNodeNames();
        if (!pinned)
            return {};
        names.insert(pinned->begin(), pinned->end());
    }
    if (names.empty())
        return {Status::unresolvable(std::string(ErrReasonConflict)), std::nullopt};
    return {Status(), std::move(names)};
}

Status NodeAffinity::filter(const PodInfo &pod, const NodeInfo &node) const
{
    const auto &labels = node.labels();
    for (const auto &[key, value] : pod.nodeSelector) {
        auto it = labels.find(key);
        if (it == labels.end() || it->second != value)
            return Status::unresolvable(std::string(ErrReasonPod));
    }
    if (pod.requiredAffinity && !pod.requiredAffinity->matches(labels, node.name()))
        return Status::unresolvable(std::string(ErrReasonPod));
    return {};
}

int64_t NodeAffinity::score(const PodInfo &pod, const NodeInfo &node) const
{
    int64_t sum = 0;
    for (const auto &term : pod.preferredAffinity)
        if (term.preference.matches(node.labels(), node.name()))
            sum += term.weight;
    return sum;
}

void NodeAffinity::normalizeScores(const PodInfo &, std::span<const NodeInfo *const>, std::span<int64_t> scores) const
{
    defaultNormalizeScore(scores, false);
}

} // namespace podscape::core::scheduler::plugins
