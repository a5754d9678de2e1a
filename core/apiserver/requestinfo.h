#pragma once
// What a request is about, read from its method, path and query as the API server's
// RequestInfoResolver does:
//
//   GET  /api/v1/namespaces/default/pods?watch=true    -> watch pods in default
//   GET  /apis/apps/v1/deployments                     -> list deployments, all namespaces
//   PATCH /apis/apps/v1/namespaces/d/deployments/web/scale -> patch the scale subresource
//   GET  /api/v1/namespaces/default                    -> get the namespace "default"
//
// plus the non-resource paths (/version, /healthz, /api, /apis, /openapi/v3...).

#include "core/base/result.h"

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podscape::core::apiserver {

struct RequestInfo {
    bool isResource = false;
    std::string path;          // without the query
    std::string verb;          // get list watch create update patch delete deletecollection (resources); the HTTP method lowercased otherwise
    std::string apiPrefix;     // "api" or "apis"
    std::string group;         // "" for core
    std::string version;
    std::string ns;            // "" when cluster-scoped or all namespaces
    std::string resource;      // plural
    std::string name;
    std::string subresource;   // status, scale, log, exec...
    std::map<std::string, std::string> query; // decoded; the last value of a repeated key
    std::vector<std::pair<std::string, std::string>> queryItems; // decoded, every one in order

    // Every value of a repeated key, in order (exec's command=ls&command=-l).
    std::vector<std::string> queryValues(const std::string &key) const;

    std::string groupVersion() const { return group.empty() ? version : group + "/" + version; }
    std::string queryValue(const std::string &key, const std::string &fallback = {}) const;
    // As Go's strconv.ParseBool: 1, t, T, true, TRUE, True are true; anything else false.
    bool queryFlag(const std::string &key) const;
};

// From the method and the request target ("/api/v1/pods?limit=500"). BadRequest for a path
// that cannot be decoded (bad percent escapes).
Result<RequestInfo> parseRequest(std::string_view method, std::string_view target);

// Percent-decoding of a query component ('+' is a space, as Go's url.ParseQuery reads it).
Result<std::string> percentDecode(std::string_view text, bool plusIsSpace);

} // namespace podscape::core::apiserver
