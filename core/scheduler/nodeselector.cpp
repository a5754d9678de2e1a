#include "nodeselector.h"

#include "jsonfield.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace podscape::core::scheduler {

using nlohmann::json;
using Op = model::LabelSelector::Operator;

namespace {

std::optional<Op> labelOperator(std::string_view op)
{
    if (op == "In")
        return Op::In;
    if (op == "NotIn")
        return Op::NotIn;
    if (op == "Exists")
        return Op::Exists;
    if (op == "DoesNotExist")
        return Op::DoesNotExist;
    if (op == "Gt")
        return Op::GreaterThan;
    if (op == "Lt")
        return Op::LessThan;
    return std::nullopt;
}

std::vector<std::string> stringValues(const json &r)
{
    std::vector<std::string> out;
    if (auto it = r.find("values"); it != r.end() && it->is_array())
        for (const auto &v : *it)
            if (v.is_string())
                out.push_back(v.get<std::string>());
    return out;
}

} // namespace

NodeSelectorTerm NodeSelectorTerm::fromJson(const json &term)
{
    NodeSelectorTerm t;
    if (!term.is_object()) {
        t.m_valid = false;
        return t;
    }
    if (auto it = term.find("matchExpressions"); it != term.end() && it->is_array())
        for (const auto &r : *it) {
            const auto op = labelOperator(stringField(r, "operator"));
            if (!op) {
                t.m_valid = false;
                continue;
            }
            auto req = model::LabelSelector::makeRequirement(stringField(r, "key"), *op, stringValues(r));
            if (!req)
                t.m_valid = false;
            else
                t.m_labels.push_back(std::move(req.value()));
        }
    if (auto it = term.find("matchFields"); it != term.end() && it->is_array())
        for (const auto &r : *it) {
            // Only metadata.name is a node field, with one value for In or NotIn.
            const std::string op = stringField(r, "operator");
            const auto values = r.is_object() ? stringValues(r) : std::vector<std::string>{};
            if (stringField(r, "key") != "metadata.name" || (op != "In" && op != "NotIn")
                || values.size() != 1) {
                t.m_valid = false;
                continue;
            }
            t.m_fields.push_back({op == "In", values.front()});
        }
    return t;
}

bool NodeSelectorTerm::matches(const model::Labels &labels, std::string_view nodeName) const
{
    if (!m_valid || (m_labels.empty() && m_fields.empty()))
        return false;
    for (const auto &r : m_labels)
        if (!r.matches(labels))
            return false;
    for (const auto &f : m_fields)
        if ((f.value == nodeName) != f.in)
            return false;
    return true;
}

std::optional<std::set<std::string>> NodeSelectorTerm::pinnedNodeNames() const
{
    std::optional<std::set<std::string>> names;
    for (const auto &f : m_fields) {
        if (!f.in)
            continue;
        if (!names)
            names = std::set<std::string>{f.value};
        else if (!names->count(f.value))
            names->clear();
    }
    return names;
}

NodeSelector NodeSelector::fromJson(const json &selector)
{
    NodeSelector s;
    if (!selector.is_object())
        return s;
    if (auto it = selector.find("nodeSelectorTerms"); it != selector.end() && it->is_array())
        for (const auto &t : *it)
            s.m_terms.push_back(NodeSelectorTerm::fromJson(t));
    return s;
}

bool NodeSelector::matches(const model::Labels &labels, std::string_view nodeName) const
{
    return std::any_of(m_terms.begin(), m_terms.end(), [&](const auto &t) { return t.matches(labels, nodeName); });
}

std::vector<PreferredSchedulingTerm> PreferredSchedulingTerm::listFromJson(const json &terms)
{
    std::vector<PreferredSchedulingTerm> out;
    if (!terms.is_array())
        return out;
    for (const auto &t : terms) {
        if (!t.is_object())
            continue;
        const json &w = t.contains("weight") ? t["weight"] : json();
        const int64_t weight = w.is_number_integer() ? w.get<int64_t>() : 0;
        if (weight == 0) // weight 0 cannot change a score
            continue;
        out.push_back({weight, NodeSelectorTerm::fromJson(t.contains("preference") ? t["preference"] : json())});
    }
    return out;
}

} // namespace podscape::core::scheduler
