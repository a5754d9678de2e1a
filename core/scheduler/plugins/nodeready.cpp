#include "nodeready.h"

namespace podscape::core::scheduler::plugins {

Status NodeReady::filter(const PodInfo &pod, const NodeInfo &node) const
{
    std::string_view key;
    switch (node.readiness()) {
    case NodeInfo::Readiness::Ready:
    case NodeInfo::Readiness::Missing: return {};
    case NodeInfo::Readiness::NotReady: key = TaintNodeNotReady; break;
    case NodeInfo::Readiness::Unknown: key = TaintNodeUnreachable; break;
    }
    const Taint implied{std::string(key), {}, std::string(NoSchedule)};
    if (toleratesAny(pod.tolerations, implied))
        return {};
    return Status::unresolvable(std::string(ErrReason));
}

} // namespace podscape::core::scheduler::plugins
