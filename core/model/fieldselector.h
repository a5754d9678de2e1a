#pragma once
// FieldSelector: `kubectl get --field-selector status.phase!=Running,spec.nodeName=node-1`,
// with Kubernetes' semantics (apimachinery pkg/fields): a conjunction of field=value,
// field==value and field!=value terms, where a value may escape '\\', ',' and '=' with a
// backslash. Which fields a kind supports is for the API server to check with requirements().

#include "core/base/result.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podscape::core::model {

class FieldSelector
{
public:
    enum class Operator { Equals, NotEquals }; // "==" is Equals, as in Kubernetes

    struct Requirement {
        std::string field;
        Operator op = Operator::Equals;
        std::string value; // unescaped

        std::string toString() const; // "field=value" with the value escaped again
        bool operator==(const Requirement &) const = default;
    };

    // The value of a field of the object being tested, nullopt when the object lacks it.
    using FieldGetter = std::function<std::optional<std::string>(std::string_view field)>;

    FieldSelector() = default; // selects everything
    static FieldSelector everything() { return {}; }
    // field=value, as Kubernetes' OneTermEqualSelector (e.g. metadata.name for a watch on one object).
    static FieldSelector oneTermEqual(std::string field, std::string value);

    // Terms are split at unescaped commas, empty terms ignored, and kept in the order of their
    // text, as Kubernetes sorts them. The field is everything before the first operator and is
    // not checked here. Errors are BadRequest and name the offending term.
    static Result<FieldSelector> parse(std::string_view text);

    // Every term holds; a field the object lacks compares as the empty string.
    bool matches(const FieldGetter &get) const;

    const std::vector<Requirement> &requirements() const { return m_requirements; }
    bool isEmpty() const { return m_requirements.empty(); }
    // The value `field` must equal when a term pins it (field=v), for index lookups.
    std::optional<std::string> requiresExactMatch(std::string_view field) const;

    // "a=b,c!=d", values escaped; "" for everything.
    std::string toString() const;

    // Same terms, in any order (the order of parsed terms depends on how they were spelled).
    bool operator==(const FieldSelector &other) const;

    static std::string escapeValue(std::string_view value);
    // Errors (BadRequest) for an unknown escape ("\q"), a trailing '\\', or a bare ',' or '='.
    static Result<std::string> unescapeValue(std::string_view value);

private:
    std::vector<Requirement> m_requirements;
};

} // namespace podscape::core::model
