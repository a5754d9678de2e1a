#pragma once
// LabelSelector: which objects a Service, ReplicaSet, Deployment or `kubectl get -l` means,
// with Kubernetes' semantics (apimachinery pkg/labels and metav1.LabelSelector):
//
//   - the string syntax kubectl sends: "app=kubia,tier!=db,env in (a,b),env notin (c),!canary",
//   - metav1.LabelSelector JSON (matchLabels + matchExpressions) of Deployments, Jobs...,
//   - plain maps (Service.spec.selector, ReplicationController.spec.selector).
//
// Two selectors select everything or nothing without requirements, as in Kubernetes: an empty
// metav1.LabelSelector ({}) selects everything; a missing (null) one selects nothing.

#include "core/base/result.h"

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podscape::core::model {

using Labels = std::map<std::string, std::string>;

// metadata.labels as a map; anything that is not an object gives no labels, and values that
// are not strings are skipped (the API server never stores such labels).
Labels labelsFromJson(const nlohmann::json &metadataLabelsObject);

class LabelSelector
{
public:
    enum class Operator {
        In,
        NotIn,
        Exists,
        DoesNotExist,
        Equals,
        DoubleEquals, // "==": matches as Equals, kept apart so the text prints back as written
        NotEquals,
        GreaterThan,
        LessThan,
    };

    struct Requirement {
        std::string key;
        Operator op = Operator::Exists;
        // In/NotIn: one or more; Equals..LessThan: exactly one; Exists/DoesNotExist: none.
        std::vector<std::string> values;

        bool matches(const Labels &labels) const;
        bool matchesValue(const std::string *value) const; // null: the label is absent
        // "env in (a,b)", "!canary", "tier!=db"; several values print sorted.
        std::string toString() const;
        bool operator==(const Requirement &) const = default;
    };

    LabelSelector() = default; // selects everything
    static LabelSelector everything() { return {}; }
    static LabelSelector nothing();

    // kubectl's syntax. Requirements end up sorted by key, values of in/notin sorted and
    // unique, as Kubernetes' parser leaves them. "" selects everything. Errors are
    // BadRequest and name the offending token and its position (a 0-based byte offset).
    static Result<LabelSelector> parse(std::string_view text);

    // A metav1.LabelSelector. Problems are reported together as Invalid with one cause per
    // problem, each with its field path (e.g. "matchExpressions[1].values") under
    // `fieldPath` (e.g. "spec.selector"), as the API server's validation reports them.
    static Result<LabelSelector> fromJson(const nlohmann::json &selector, std::string_view fieldPath = {});

    // A plain-map selector of a Service or ReplicationController. null and {} both select
    // nothing: Kubernetes manages no endpoints for a Service without selector (they are
    // managed by hand), and an RC's empty selector is filled from its template before use.
    static Result<LabelSelector> fromMatchLabels(const nlohmann::json &selector, std::string_view fieldPath = {});

    // key=value for every label (labels.SelectorFromSet): an empty set selects everything.
    // Keys and values are validated; problems are Invalid with causes.
    static Result<LabelSelector> fromSet(const Labels &labels);

    // A checked requirement, as Kubernetes' NewRequirement: the key must be a qualified name,
    // values label values, and their number must fit the operator. Errors are BadRequest.
    static Result<Requirement> makeRequirement(std::string key, Operator op, std::vector<std::string> values);

    // Adds a requirement (keeping the order by key); a nothing-selector stays one.
    LabelSelector &add(Requirement requirement);

    bool matches(const Labels &labels) const;
    // The same on metadata.labels as stored (no map built: this runs for every pod in a sync).
    bool matchesJson(const nlohmann::json &labelsObject) const;
    // No requirements and not "nothing": selects every object (Kubernetes' Empty()).
    bool isEmpty() const { return !m_nothing && m_requirements.empty(); }
    bool empty() const { return isEmpty(); }
    bool selectsNothing() const { return m_nothing; }
    const std::vector<Requirement> &requirements() const { return m_requirements; }

    // The single value `key` must have when the selector pins it (key=v, key==v, key in (v)),
    // for index lookups.
    std::optional<std::string> requiresExactMatch(std::string_view key) const;

    // Canonical text, requirements sorted by key as Kubernetes prints them; "" for
    // everything and for nothing (Kubernetes prints both as "").
    std::string toString() const;

    bool operator==(const LabelSelector &) const = default;

    // The operator as Kubernetes' selection.Operator spells it: "in", "notin", "exists",
    // "!", "=", "==", "!=", "gt", "lt".
    static std::string_view operatorName(Operator op);

private:
    std::vector<Requirement> m_requirements;
    bool m_nothing = false;
};

} // namespace podscape::core::model
