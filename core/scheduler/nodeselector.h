#pragma once
// Node selector terms of a pod's node affinity (core/v1 NodeSelector), parsed once per pod.
//
// Terms are ORed, the requirements inside a term ANDed. As in Kubernetes, a term with no
// requirement matches no node, and a term that does not parse (an unknown operator, In with
// no values, Gt with a non-integer) matches no node instead of failing the whole pod.

#include "core/model/labelselector.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace podscape::core::scheduler {

class NodeSelectorTerm
{
public:
    static NodeSelectorTerm fromJson(const nlohmann::json &term);

    bool matches(const model::Labels &labels, std::string_view nodeName) const;
    bool isValid() const { return m_valid; }
    // The node names its `metadata.name In` field requirements pin it to (intersected), or
    // nullopt when it has none (what DaemonSet pods use to target one node).
    std::optional<std::set<std::string>> pinnedNodeNames() const;

private:
    struct FieldRequirement {
        bool in = true; // In, else NotIn
        std::string value;
    };
    std::vector<model::LabelSelector::Requirement> m_labels;
    std::vector<FieldRequirement> m_fields;
    bool m_valid = true;
};

class NodeSelector
{
public:
    // nodeSelectorTerms of a core/v1 NodeSelector ({"nodeSelectorTerms": [...]}).
    static NodeSelector fromJson(const nlohmann::json &selector);
    bool matches(const model::Labels &labels, std::string_view nodeName) const;
    const std::vector<NodeSelectorTerm> &terms() const { return m_terms; }

private:
    std::vector<NodeSelectorTerm> m_terms;
};

struct PreferredSchedulingTerm {
    int64_t weight = 0;
    NodeSelectorTerm preference;

    static std::vector<PreferredSchedulingTerm> listFromJson(const nlohmann::json &terms);
};

} // namespace podscape::core::scheduler
