#include "plugin.h"

#include <algorithm>

namespace podscape::core::scheduler {

void defaultNormalizeScore(std::span<int64_t> scores, bool reverse)
{
    int64_t maxCount = 0;
    for (int64_t s : scores)
        maxCount = std::max(maxCount, s);
    if (maxCount == 0) {
        if (reverse)
            std::fill(scores.begin(), scores.end(), MaxNodeScore);
        return;
    }
    for (int64_t &s : scores) {
        s = MaxNodeScore * s / maxCount;
        if (reverse)
            s = MaxNodeScore - s;
    }
}

} // namespace podscape::core::scheduler
