#include "leastallocated.h"

namespace podscape::core::scheduler::plugins {

namespace {
int64_t leastRequested(int64_t requested, int64_t capacity)
{
    if (capacity == 0 || requested > capacity)
        return 0;
    return (capacity - requested) * MaxNodeScore / capacity;
}
} // namespace

int64_t LeastAllocated::score(const PodInfo &pod, const NodeInfo &node) const
{
    const int64_t requested[2] = {node.nonZeroRequestedMilliCpu() + pod.requests.nonZeroMilliCpu,
                                  node.nonZeroRequestedMemory() + pod.requests.nonZeroMemory};
    const int64_t allocatable[2] = {node.allocatable().milliCpu, node.allocatable().memory};
    int64_t sum = 0, weights = 0;
    for (int i = 0; i < 2; ++i) {
        if (allocatable[i] == 0) // a resource the node does not publish does not count
            continue;
        sum += leastRequested(requested[i], allocatable[i]);
        ++weights;
    }
    return weights ? sum / weights : 0;
}

} // namespace podscape::core::scheduler::plugins
