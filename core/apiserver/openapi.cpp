#include "openapi.h"

#include <cstdio>

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
        doc["paths"][base] = {{"get", operation("list" + suffix, "list", r)},
                              {"post", operation("create" + suffix, "post", r, writeParameters)}};
        doc["paths"][base + "/{name}"] = {{"get", operation("read" + suffix, "get", r)},
                                          {"put", operation("replace" + suffix, "put", r, writeParameters)},
                                          {"patch", operation("patch" + suffix, "patch", r, writeParameters)},
                                          {"delete", operation("delete" + suffix, "delete", r, json::array({queryParameter("dryRun")}))}};
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
