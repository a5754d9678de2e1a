#pragma once
// NodeName: a pod that names its node (spec.nodeName) fits only that node.

#include "plugin.h"

namespace podscape::core::scheduler::plugins {

class NodeName final : public Plugin
{
public:
    static constexpr std::string_view Name = "NodeName";
    static constexpr std::string_view ErrReason = "node(s) didn't match the requested node name";

    std::string_view name() const override { return Name; }
    uint32_t events() const override { return NodeAdd; }
    Status filter(const PodInfo &pod, const NodeInfo &node) const override;
};

} // namespace podscape::core::scheduler::plugins
