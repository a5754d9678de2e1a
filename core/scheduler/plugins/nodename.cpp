#include "nodename.h"

namespace podscape::core::scheduler::plugins {

Status NodeName::filter(const PodInfo &pod, const NodeInfo &node) const
{
    if (pod.nodeName.empty() || pod.nodeName == node.name())
        return {};
    return Status::unresolvable(std::string(ErrReason));
}

} // namespace podscape::core::scheduler::plugins
