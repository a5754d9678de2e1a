#include "noderesourcesfit.h"

namespace podscape::core::scheduler::plugins {

Status NodeResourcesFit::filter(const PodInfo &pod, const NodeInfo &node) const
{
    std::vector<std::string> reasons;
    bool unresolvable = false;
    const Resources &want = pod.requests.requests;
    const Resources &alloc = node.allocatable();
    const Resources &used = node.requested();

    if (node.podCount() + 1 > alloc.pods)
        reasons.emplace_back("Too many pods");
    if (want.milliCpu == 0 && want.memory == 0 && want.ephemeralStorage == 0 && want.scalars.empty())
        return reasons.empty() ? Status() : Status(Status::Code::Unschedulable, std::move(reasons));

    auto check = [&](int64_t request, int64_t allocatable, int64_t requested, std::string reason) {
        if (request > 0 && request > allocatable - requested) {
            reasons.push_back(std::move(reason));
            unresolvable = unresolvable || request > allocatable;
        }
    };
    check(want.milliCpu, alloc.milliCpu, used.milliCpu, "Insufficient cpu");
    check(want.memory, alloc.memory, used.memory, "Insufficient memory");
    check(want.ephemeralStorage, alloc.ephemeralStorage, used.ephemeralStorage, "Insufficient ephemeral-storage");
    for (const auto &[name, request] : want.scalars) // sorted by name: a stable message
        check(request, alloc.scalar(name), used.scalar(name), "Insufficient " + name);

    if (reasons.empty())
        return {};
    return Status(unresolvable ? Status::Code::UnschedulableAndUnresolvable : Status::Code::Unschedulable,
                  std::move(reasons));
}

} // namespace podscape::core::scheduler::plugins
