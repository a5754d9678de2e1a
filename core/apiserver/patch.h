#pragma once
// The three patch types of PATCH requests, chosen by Content-Type as the API server does:
// strategic merge (kubectl's default for built-in kinds), JSON merge patch (RFC 7386, what
// `kubectl scale` sends to /scale) and JSON patch (RFC 6902, what `rollout undo` sends).
// Server-side apply is separate: it needs field managers.

#include "core/base/result.h"
#include "core/model/schemaregistry.h"

#include <nlohmann/json.hpp>

#include <string_view>

namespace podscape::core::apiserver {

enum class PatchType { Strategic, Merge, Json };

// From a Content-Type (parameters ignored); UnsupportedMediaType (415) names the ones we take.
Result<PatchType> patchTypeOf(std::string_view contentType);

// `body` is the request body as sent; `type` the object's schema type (for strategic merge).
Result<nlohmann::json> applyPatch(PatchType patchType, const nlohmann::json &original, std::string_view body,
                                  const model::SchemaRegistry &registry, const std::string &type);

} // namespace podscape::core::apiserver
