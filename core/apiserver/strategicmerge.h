#pragma once
// Strategic merge patch, as the API server applies `application/strategic-merge-patch+json`
// (what `kubectl apply`, `edit`, `rollout restart`, `pause` and `resume` send):
//
//   - objects merge key by key; a null deletes the key;
//   - a list whose schema names merge keys (containers by name, ports by containerPort...)
//     merges element by element on the first key; any other list is replaced;
//   - a list of scalars with set semantics (finalizers) is a union;
//   - directives: `$patch: replace | delete | merge` in an object or as a list element,
//     `$setElementOrder/<list>`, `$retainKeys`, `$deleteFromPrimitiveList/<list>`.
//
// The schema comes from the model's registry; parts of an object the registry does not
// describe are merged as JSON merge patch does (lists replaced).

#include "core/base/result.h"
#include "core/model/schemaregistry.h"

#include <nlohmann/json.hpp>

#include <string>

namespace podscape::core::apiserver {

// `original` patched by `patch`; `type` is the schema type of the object ("Pod" root type
// name as the registry spells it). BadRequest for a malformed patch, naming the field path.
Result<nlohmann::json> strategicMerge(const nlohmann::json &original, const nlohmann::json &patch,
                                      const model::SchemaRegistry &registry, const std::string &type);

} // namespace podscape::core::apiserver
