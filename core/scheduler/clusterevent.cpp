#include "clusterevent.h"

namespace podscape::core::scheduler {

std::string clusterEventNames(uint32_t events)
{
    static const std::pair<uint32_t, const char *> names[] = {
        {NodeAdd, "NodeAdd"},
        {NodeAllocatableChange, "NodeAllocatableChange"},
        {NodeLabelChange, "NodeLabelChange"},
        {NodeTaintChange, "NodeTaintChange"},
        {NodeConditionChange, "NodeConditionChange"},
        {AssignedPodDelete, "AssignedPodDelete"},
        {AssignedPodUpdate, "AssignedPodUpdate"},
        {UnschedulableTimeout, "UnschedulableTimeout"},
    };
    std::string out;
    for (const auto &[bit, name] : names)
        if (events & bit) {
            if (!out.empty())
                out += '|';
            out += name;
        }
    return out;
}

} // namespace podscape::core::scheduler
