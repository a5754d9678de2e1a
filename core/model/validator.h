#pragma once
// Validation in the API server's style: every problem at once, each with its field path
// (`spec.containers[0].image: Required value`), from the schema registry (types, required
// fields, enums, formats, bounds, list keys, unknown fields) plus each kind's own rules
// (a Deployment's selector must match its template's labels, ...).

#include "core/base/result.h"
#include "schemaregistry.h"
#include "yamlcodec.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace podscape::core::model {

struct ValidationIssue {
    std::string type;    // cause type: FieldValueRequired, FieldValueUnknown...
    std::string field;   // spec.containers[0].image
    std::string pointer; // /spec/containers/0/image, to find the line in the source
    std::string message; // Required value; unknown field; did you mean "image"?

    bool isUnknownField() const { return type == "FieldValueUnknown"; }
    // "spec.containers[0].image: Required value"
    std::string toString() const { return field.empty() ? message : field + ": " + message; }
};

class Validator
{
public:
    explicit Validator(const SchemaRegistry &registry = SchemaRegistry::builtin());

    // A whole object: its kind is read from apiVersion/kind.
    std::vector<ValidationIssue> validate(const nlohmann::json &object) const;
    // An update: validate() plus immutable fields and the kinds' update rules.
    std::vector<ValidationIssue> validateUpdate(const nlohmann::json &updated, const nlohmann::json &old) const;
    // A value of a named schema type (no kind rules for the object root).
    std::vector<ValidationIssue> validateType(std::string_view typeName, const nlohmann::json &value) const;

    const SchemaRegistry &registry() const { return m_registry; }

private:
    const SchemaRegistry &m_registry;
};

// The API server's Invalid error (422) for an object's issues.
Error invalidError(const nlohmann::json &object, const std::vector<ValidationIssue> &issues);
// Strict field validation's BadRequest (400) for unknown fields.
Error unknownFieldsError(const std::vector<ValidationIssue> &unknown);

// Issues as a person reads them next to a manifest: "pod.yaml:7:7: spec.containers[0].images:
// unknown field; did you mean "image"?", one per line, in source order.
std::string describeIssues(const std::vector<ValidationIssue> &issues, const YamlDocument *source = nullptr,
                           std::string_view sourceName = {});

// The closest of `candidates` to `word` when close enough to be a likely typo, else "".
std::string closestMatch(std::string_view word, const std::vector<std::string> &candidates);

} // namespace podscape::core::model
