#include "selectorspread.h"

#include <algorithm>
#include <unordered_map>

namespace podscape::core::scheduler::plugins {

int64_t SelectorSpread::score(const PodInfo &pod, const NodeInfo &node) const
{
    return node.ownerCount(pod.controllerUid);
}

void SelectorSpread::normalizeScores(const PodInfo &, std::span<const NodeInfo *const> nodes,
                                     std::span<int64_t> scores) const
{
    std::unordered_map<std::string, int64_t> countsByZone;
    int64_t maxByNode = 0;
    for (size_t i = 0; i < scores.size(); ++i) {
        maxByNode = std::max(maxByNode, scores[i]);
        if (const auto &zone = nodes[i]->zoneKey(); !zone.empty())
            countsByZone[zone] += scores[i];
    }
    int64_t maxByZone = 0;
    for (const auto &[zone, n] : countsByZone)
        maxByZone = std::max(maxByZone, n);
    const double max = double(MaxNodeScore);
    for (size_t i = 0; i < scores.size(); ++i) {
        double s = maxByNode > 0 ? max * double(maxByNode - scores[i]) / double(maxByNode) : max;
        if (const auto &zone = nodes[i]->zoneKey(); !countsByZone.empty() && !zone.empty()) {
            const double zoneScore =
                maxByZone > 0 ? max * double(maxByZone - countsByZone[zone]) / double(maxByZone) : max;
            s = s * (1.0 - ZoneWeighting) + ZoneWeighting * zoneScore;
        }
        scores[i] = static_cast<int64_t>(s);
    }
}

} // namespace podscape::core::scheduler::plugins
