#include "tainttoleration.h"

namespace podscape::core::scheduler::plugins {

Status TaintToleration::filter(const PodInfo &pod, const NodeInfo &node) const
{
    for (const auto &taint : node.taints()) {
        if (taint.effect != NoSchedule && taint.effect != NoExecute)
            continue;
        if (!toleratesAny(pod.tolerations, taint))
            return Status::unresolvable(std::string(ErrReason));
    }
    return {};
}

int64_t TaintToleration::score(const PodInfo &pod, const NodeInfo &node) const
{
    int64_t intolerable = 0;
    for (const auto &taint : node.taints()) {
        if (taint.effect != PreferNoSchedule)
            continue;
        bool tolerated = false;
        for (const auto &t : pod.tolerations)
            // Only tolerations that apply to PreferNoSchedule (or to every effect) count.
            if ((t.effect.empty() || t.effect == PreferNoSchedule) && t.tolerates(taint)) {
                tolerated = true;
                break;
            }
        if (!tolerated)
            ++intolerable;
    }
    return intolerable;
}

void TaintToleration::normalizeScores(const PodInfo &, std::span<const NodeInfo *const>, std::span<int64_t> scores) const
{
    defaultNormalizeScore(scores, true);
}

} // namespace podscape::core::scheduler::plugins
