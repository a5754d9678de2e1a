#pragma once
// The discovery documents kubectl reads before anything else, built from the schema
// registry's resources: legacy (`/api`, `/apis`, `/api/v1`, `/apis/apps/v1`) and aggregated
// (`application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`, v2beta1 for older
// clients). Short names and categories come along, so `kubectl get po` and `get all` resolve.

#include "core/model/schemaregistry.h"

#include <nlohmann/json.hpp>

#include <deque>
#include <string>
#include <vector>

namespace podscape::core::apiserver {

class Discovery
{
public:
    explicit Discovery(const model::SchemaRegistry &registry = model::SchemaRegistry::builtin());

    // A resource served outside the registry (metrics.k8s.io's nodes and pods): listed in
    // every discovery document from now on.
    void addResource(model::ResourceInfo resource);

    // GET /api: APIVersions.
    nlohmann::json apiVersions(const std::string &serverAddress) const;
    // GET /apis: APIGroupList (named groups only; the core group is /api).
    nlohmann::json apiGroupList() const;
    // GET /api/v1, /apis/<group>/<version>: APIResourceList; null when there is no such group/version.
    nlohmann::json apiResourceList(const std::string &group, const std::string &version) const;
    // Aggregated: the core group (`/api`) or the named groups (`/apis`); `apiVersion` is
    // "apidiscovery.k8s.io/v2" or "apidiscovery.k8s.io/v2beta1".
    nlohmann::json aggregated(bool core, const std::string &apiVersion = "apidiscovery.k8s.io/v2") const;

    // The groups in the order they are advertised ("" first), each with its versions.
    struct GroupVersions {
        std::string group;
        std::vector<std::string> versions;
    };
    const std::vector<GroupVersions> &groups() const { return m_groups; }

private:
    struct SubresourceInfo {
        std::string name;
        std::string group, version, kind;
        std::vector<std::string> verbs;
    };
    std::vector<SubresourceInfo> subresourcesOf(const model::ResourceInfo &r) const;

    void addGroupVersion(const model::ResourceInfo &r);

    const model::SchemaRegistry &m_registry;
    std::deque<model::ResourceInfo> m_extra; // deque: m_resources points into it
    std::vector<const model::ResourceInfo *> m_resources; // the registry's, then m_extra
    std::vector<GroupVersions> m_groups;
};

} // namespace podscape::core::apiserver
