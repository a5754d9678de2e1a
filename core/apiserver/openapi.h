#pragma once
// OpenAPI v3 documents, generated from the schema registry's resources: the root index
// (`/openapi/v3`) and one document per group-version (`/openapi/v3/api/v1`, ...). kubectl
// fetches them before `create -f` / `apply -f`: a PATCH operation that lists the
// `fieldValidation` parameter for the object's kind makes it validate on the server
// (fieldValidation=Strict) instead of failing with "failed to download openapi".
// Each document also carries the schemas of its kinds and every type they refer to
// (descriptions, types, defaults, enums, required fields, and the x-kubernetes-patch-*
// extensions strategic merge patch reads), so `kubectl explain pods.spec.containers` works
// and client-side apply computes its patches from the same merge keys the server applies.

#include "core/model/schemaregistry.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>

namespace podscape::core::apiserver {

class OpenApi
{
public:
    explicit OpenApi(const model::SchemaRegistry &registry = model::SchemaRegistry::builtin());

    // {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=..."}, ...}}
    const nlohmann::json &root() const { return m_root; }
    // The document for "api/v1" or "apis/apps/v1"; null when there is none.
    const nlohmann::json *document(const std::string &groupVersionPath) const;

private:
    nlohmann::json m_root;
    std::map<std::string, nlohmann::json> m_documents;
};

} // namespace podscape::core::apiserver
