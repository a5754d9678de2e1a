#include "openapi.h"

#include <cstdio>
#include <set>

namespace podscape::core::apiserver {

using nlohmann::json;

namespace {

json queryParameter(const char *name)
{
    return {{"name", name}, {"in", "query"}, {"schema", {{"type", "string"}, {"uniqueItems", true}}}};
}

json operation(const std::string &id, const char *action, const model::ResourceInfo &r, json parameters = json::array())
{
    json op = {{"operationId", id},
               {"x-kubernetes-action", action},
               {"x-kubernetes-group-version-kind", {{"group", r.group}, {"version", r.version}, {"kind", r.kind}}},
               {"responses", {{"200", {{"description", "OK"}}}}}};
    if (!parameters.empty())
        op["parameters"] = std::move(parameters);
    return op;
}

// A stable content hash for the index's URLs (clients cache documents by it).
std::string hashOf(const std::string &text)
{
    uint64_t h = 1469598103934665603ULL; // FNV-1a
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    char out[17];
    std::snprintf(out, sizeof out, "%016llX", static_cast<unsigned long long>(h));
    return out;
}

const char *kSchemaPrefix = "#/components/schemas/";

// The registry's scalar kinds that Kubernetes names as types of their own (explain prints
// them as <Quantity>, <Time>...).
json namedScalar(model::FieldKind kind)
{
    using K = model::FieldKind;
    switch (kind) {
    case K::Quantity:
        return {{"description", "A fixed-point number with a suffix: 100m, 0.5, 128Mi, 1G."},
                {"x-kubernetes-int-or-string", true},
                {"anyOf", json::array({{{"type", "integer"}}, {{"type", "string"}}})}};
    case K::IntOrString:
        return {{"description", "An integer or a string (a port number or name, 25%)."},
                {"x-kubernetes-int-or-string", true},
                {"anyOf", json::array({{{"type", "integer"}}, {{"type", "string"}}})}};
    case K::Time:
        return {{"description", "A time in RFC 3339 form, to the second: 2024-05-01T10:00:00Z."},
                {"type", "string"},
                {"format", "date-time"}};
    case K::MicroTime:
        return {{"description", "A time in RFC 3339 form with microseconds."}, {"type", "string"}, {"format", "date-time"}};
    default: return nullptr;
    }
}

const char *scalarName(model::FieldKind kind)
{
    using K = model::FieldKind;
    switch (kind) {
    case K::Quantity: return "Quantity";
    case K::IntOrString: return "IntOrString";
    case K::Time: return "Time";
    case K::MicroTime: return "MicroTime";
    default: return nullptr;
    }
}

json refTo(const std::string &name) { return {{"$ref", kSchemaPrefix + name}}; }

// The schema of a value of `type`; named types it refers to are added to `wanted`.
json schemaOf(const model::TypeRef &type, std::set<std::string> &wanted)
{
    using K = model::FieldKind;
    switch (type.kind) {
    case K::String: return {{"type", "string"}};
    case K::Int32: return {{"type", "integer"}, {"format", "int32"}};
    case K::Int64: return {{"type", "integer"}, {"format", "int64"}};
    case K::Number: return {{"type", "number"}, {"format", "double"}};
    case K::Boolean: return {{"type", "boolean"}};
    case K::Bytes: return {{"type", "string"}, {"format", "byte"}};
    case K::Any: return {{"x-kubernetes-preserve-unknown-fields", true}};
    case K::Object: return {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
    case K::Quantity:
    case K::IntOrString:
    case K::Time:
    case K::MicroTime:
        wanted.insert(scalarName(type.kind));
        return refTo(scalarName(type.kind));
    case K::Array:
        return {{"type", "array"}, {"items", type.element ? schemaOf(*type.element, wanted) : json::object()}};
    case K::Map:
        return {{"type", "object"}, {"additionalProperties", type.element ? schemaOf(*type.element, wanted) : json::object()}};
    case K::Ref: wanted.insert(type.ref); return refTo(type.ref);
    }
    return json::object();
}

json fieldSchema(const model::FieldSchema &f, std::set<std::string> &wanted)
{
    json s = schemaOf(f.type, wanted);
    if (s.contains("$ref")) // a $ref has no siblings in OpenAPI 3.0; Kubernetes wraps it
        s = {{"allOf", json::array({s})}};
    if (!f.description.empty())
        s["description"] = f.description;
    if (f.defaultValue)
        s["default"] = *f.defaultValue;
    if (!f.enumValues.empty())
        s["enum"] = f.enumValues;
    if (!f.format.empty() && !s.contains("format"))
        s["format"] = f.format;
    if (f.maxLength)
        s["maxLength"] = *f.maxLength;
    if (f.minimum)
        s["minimum"] = *f.minimum;
    if (f.maximum)
        s["maximum"] = *f.maximum;
    // What strategic merge patch needs, exactly as the server's own merge reads the registry:
    // keyed lists merge by their first key, sets merge, retainKeys clears unnamed fields.
    std::string strategy;
    if (!f.listKeys.empty()) {
        s["x-kubernetes-patch-merge-key"] = f.mergeKey();
        s["x-kubernetes-list-type"] = "map";
        s["x-kubernetes-list-map-keys"] = f.listKeys;
        strategy = "merge";
    } else if (f.set) {
        s["x-kubernetes-list-type"] = "set";
        strategy = "merge";
    }
    if (f.retainKeys)
        strategy += strategy.empty() ? "retainKeys" : ",retainKeys";
    if (!strategy.empty())
        s["x-kubernetes-patch-strategy"] = strategy;
    return s;
}

json typeSchema(const model::TypeSchema &t, std::set<std::string> &wanted)
{
    json s = {{"type", "object"}};
    if (!t.description.empty())
        s["description"] = t.description;
    json properties = json::object();
    json required = json::array();
    for (const auto &f : t.fields) {
        properties[f.name] = fieldSchema(f, wanted);
        if (f.required)
            required.push_back(f.name);
    }
    s["properties"] = std::move(properties);
    if (!required.empty())
        s["required"] = std::move(required);
    return s;
}

} // namespace

OpenApi::OpenApi(const model::SchemaRegistry &registry)
{
    for (const auto &r : registry.resources()) {
        const std::string gvPath = r.group.empty() ? "api/" + r.version : "apis/" + r.group + "/" + r.version;
        json &doc = m_documents[gvPath];
        if (doc.is_null())
            doc = {{"openapi", "3.0.0"},
                   {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0-podscape"}}},
                   {"paths", json::object()},
                   {"components", {{"schemas", json::object()}}}};
        const std::string base = "/" + gvPath + (r.namespaced ? "/namespaces/{namespace}/" : "/") + r.plural;
        const json writeParameters = json::array({queryParameter("dryRun"), queryParameter("fieldManager"), queryParameter("fieldValidation")});
        const std::string suffix = (r.namespaced ? "Namespaced" : "") + r.kind;
        // The patch types served; kubectl's apply computes strategic merge patches from the
        // schemas only when the operation lists that content type.
        json patchOperation = operation("patch" + suffix, "patch", r, writeParameters);
        json patchContent = json::object();
        for (const char *type : {"application/json-patch+json", "application/merge-patch+json",
                                 "application/strategic-merge-patch+json"})
            patchContent[type] = {{"schema", {{"type", "object"}}}};
        patchOperation["requestBody"] = {{"content", patchContent}, {"required", true}};
        doc["paths"][base] = {{"get", operation("list" + suffix, "list", r)},
                              {"post", operation("create" + suffix, "post", r, writeParameters)}};
        doc["paths"][base + "/{name}"] = {{"get", operation("read" + suffix, "get", r)},
                                          {"put", operation("replace" + suffix, "put", r, writeParameters)},
                                          {"patch", patchOperation},
                                          {"delete", operation("delete" + suffix, "delete", r, json::array({queryParameter("dryRun")}))}};
    }
    // Schemas: each group-version's kinds and every type they reach, so kubectl explain can
    // walk pods.spec.containers and apply can compute strategic merge patches.
    std::map<std::string, std::set<std::string>> wantedByDocument;
    std::map<std::string, json> gvksByType;
    for (const auto &r : registry.resources()) {
        const std::string gvPath = r.group.empty() ? "api/" + r.version : "apis/" + r.group + "/" + r.version;
        wantedByDocument[gvPath].insert(r.type);
        gvksByType[r.type].push_back({{"group", r.group}, {"version", r.version}, {"kind", r.kind}});
    }
    for (auto &[gvPath, wanted] : wantedByDocument) {
        json &schemas = m_documents[gvPath]["components"]["schemas"];
        std::vector<std::string> pending(wanted.begin(), wanted.end());
        while (!pending.empty()) {
            const std::string name = pending.back();
            pending.pop_back();
            if (schemas.contains(name))
                continue;
            std::set<std::string> refs;
            if (const auto *t = registry.type(name)) {
                schemas[name] = typeSchema(*t, refs);
                if (auto g = gvksByType.find(name); g != gvksByType.end())
                    schemas[name]["x-kubernetes-group-version-kind"] = g->second;
            } else {
                for (auto k : {model::FieldKind::Quantity, model::FieldKind::IntOrString, model::FieldKind::Time,
                               model::FieldKind::MicroTime})
                    if (name == scalarName(k))
                        schemas[name] = namedScalar(k);
            }
            for (const auto &ref : refs)
                if (!schemas.contains(ref))
                    pending.push_back(ref);
        }
    }
    m_root = {{"paths", json::object()}};
    for (const auto &[path, doc] : m_documents)
        m_root["paths"][path] = {{"serverRelativeURL", "/openapi/v3/" + path + "?hash=" + hashOf(doc.dump())}};
}

const json *OpenApi::document(const std::string &groupVersionPath) const
{
    auto it = m_documents.find(groupVersionPath);
    return it == m_documents.end() ? nullptr : &it->second;
}

} // namespace podscape::core::apiserver
