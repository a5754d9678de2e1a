#include "nodeunschedulable.h"

namespace podscape::core::scheduler::plugins {

Status NodeUnschedulable::filter(const PodInfo &pod, const NodeInfo &node) const
{
    if (!node.isUnschedulable())
        return {};
    static const Taint cordon{std::string(TaintNodeUnschedulable), {}, std::string(NoSchedule)};
    if (toleratesAny(pod.tolerations, cordon))
        return {};
    return Status::unresolvable(std::string(ErrReason));
}

} // namespace podscape::core::scheduler::plugins
