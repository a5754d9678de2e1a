#pragma once
// LeastAllocated (NodeResourcesFit's default scoring strategy): prefers the node with the
// most room left after the pod, cpu and memory weighted equally. Counts requests with the
// 100m/200Mi stand-ins for containers that request nothing, so that empty-request pods spread
// too. score = mean over resources of (allocatable - requested) * 100 / allocatable.

#include "plugin.h"

namespace podscape::core::scheduler::plugins {

class LeastAllocated final : public Plugin
{
public:
    static constexpr std::string_view Name = "NodeResourcesLeastAllocated";

    std::string_view name() const override { return Name; }
    int64_t score(const PodInfo &pod, const NodeInfo &node) const override;
};

} // namespace podscape::core::scheduler::plugins
