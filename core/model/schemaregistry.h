#pragma once
// The schema registry: every field of every kind, loaded from the data in schemas/*.yaml
// (see schemas/README.md for the format). Validation, defaulting, strategic merge patch,
// OpenAPI and the editor's completion all read it, so a field is described exactly once.

#include "core/base/result.h"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podscape::core::model {

enum class FieldKind {
    String,
    Int32,
    Int64,
    Number,
    Boolean,
    Quantity,
    IntOrString,
    Time,
    MicroTime,
    Bytes,
    Any,    // any JSON value
    Object, // a free-form JSON object
    Array,
    Map,
    Ref, // a named type
};

struct TypeRef {
    FieldKind kind = FieldKind::Any;
    std::string ref;                       // Ref: the type's name
    std::shared_ptr<const TypeRef> element; // Array/Map: the element type

    // "[]Container", "map[string]", "int32" — the DSL spelling, also used in messages.
    std::string spelling() const;
    // The JSON type a person would recognise: "string", "integer", "object", "array"...
    std::string jsonTypeName() const;
};

struct FieldSchema {
    std::string name;
    TypeRef type;
    std::string description;
    bool required = false;
    bool immutable = false;
    bool readonly = false;
    bool retainKeys = false;
    bool set = false;                   // list of scalars with set semantics
    std::vector<std::string> listKeys;  // list of objects keyed by these fields (first = merge key)
    std::vector<std::string> enumValues;
    std::optional<nlohmann::json> defaultValue;
    std::optional<double> minimum;
    std::optional<double> maximum;
    std::optional<size_t> maxLength;
    std::string format;

    std::string mergeKey() const { return listKeys.empty() ? std::string() : listKeys.front(); }
};

struct TypeSchema {
    std::string name;
    std::string description;
    std::vector<FieldSchema> fields; // in the order the data lists them

    const FieldSchema *field(std::string_view name) const;
};

struct ResourceInfo {
    std::string kind;
    std::string group; // "" for core
    std::string version;
    std::string plural;
    std::string singular;
    bool namespaced = true;
    std::vector<std::string> shortNames;
    std::vector<std::string> categories;
    std::vector<std::string> verbs;
    std::vector<std::string> subresources;
    std::string type; // schema type of the object

    std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
    std::string groupVersion() const { return apiVersion(); }
    bool hasSubresource(std::string_view name) const;
    bool hasVerb(std::string_view verb) const;
};

// A kind that exists only as a subresource's body (autoscaling/v1 Scale, policy/v1 Eviction,
// PodExecOptions...): known to the API, not listed as a resource in discovery.
struct SubresourceKind {
    std::string kind;
    std::string group;
    std::string version;
    std::string subresource;
    std::vector<std::string> verbs;
    std::string type;

    std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
};

class SchemaRegistry
{
public:
    // The registry built from the data compiled into the binary. Loading it cannot fail at
    // run time: tests load the same data and fail the build's tests if it is inconsistent.
    static const SchemaRegistry &builtin();
    // Builds a registry from schema documents (YAML text in the schemas/README.md format).
    // Every problem is reported: unknown flags, undefined types, duplicate names.
    static Result<SchemaRegistry> load(const std::vector<std::string_view> &documents);

    const TypeSchema *type(std::string_view name) const;
    const std::map<std::string, TypeSchema, std::less<>> &types() const { return m_types; }

    const std::vector<ResourceInfo> &resources() const { return m_resources; }
    // By apiVersion ("apps/v1", "v1") and kind.
    const ResourceInfo *resourceFor(std::string_view apiVersion, std::string_view kind) const;
    // By group ("" core, "apps") and kind, whatever the version.
    const ResourceInfo *resourceForGroupKind(std::string_view group, std::string_view kind) const;
    // What a person types after `kubectl get`: plural, singular, short name or kind, any case,
    // optionally qualified with a group ("deployments.apps", "deploy"). Ambiguous names
    // resolve as kubectl does: the core group first, then the others in data order.
    const ResourceInfo *resolve(std::string_view name) const;
    const std::vector<SubresourceKind> &subresourceKinds() const { return m_subresourceKinds; }
    const SubresourceKind *subresourceKind(std::string_view subresource) const;
    // Resources in a category ("all").
    std::vector<const ResourceInfo *> category(std::string_view name) const;

    // The schema of the value at a field path below a type: {"spec", "containers", "0"}.
    // List indices and map keys step into the element type. nullopt when the path leaves
    // the schema.
    std::optional<TypeRef> typeAt(std::string_view rootType, const std::vector<std::string> &path) const;
    // The field description for `kubectl explain`-like paths ("pods.spec.containers").
    const FieldSchema *fieldAt(std::string_view rootType, const std::vector<std::string> &path) const;

private:
    std::map<std::string, TypeSchema, std::less<>> m_types;
    std::vector<ResourceInfo> m_resources;
    std::vector<SubresourceKind> m_subresourceKinds;
};

// The compiled-in schema files' text (generated by embedschemas.cmake).
std::vector<std::string_view> schemaDocuments();

} // namespace podscape::core::model
