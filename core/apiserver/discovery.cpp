#include "discovery.h"

#include <algorithm>

namespace podscape::core::apiserver {

using nlohmann::json;

Discovery::Discovery(const model::SchemaRegistry &registry) : m_registry(registry)
{
    for (const auto &r : registry.resources()) {
        m_resources.push_back(&r);
        addGroupVersion(r);
    }
    // The core group first, as the API server lists it.
    std::stable_partition(m_groups.begin(), m_groups.end(), [](const GroupVersions &g) { return g.group.empty(); });
}

void Discovery::addGroupVersion(const model::ResourceInfo &r)
{
    auto g = std::find_if(m_groups.begin(), m_groups.end(), [&](const GroupVersions &x) { return x.group == r.group; });
    if (g == m_groups.end()) {
        m_groups.push_back({r.group, {}});
        g = std::prev(m_groups.end());
    }
    if (std::find(g->versions.begin(), g->versions.end(), r.version) == g->versions.end())
        g->versions.push_back(r.version);
}

void Discovery::addResource(model::ResourceInfo resource)
{
    m_extra.push_back(std::move(resource));
    m_resources.push_back(&m_extra.back());
    addGroupVersion(m_extra.back());
}

json Discovery::apiVersions(const std::string &serverAddress) const
{
    json versions = json::array();
    for (const auto &g : m_groups)
        if (g.group.empty())
            for (const auto &v : g.versions)
                versions.push_back(v);
    return {{"kind", "APIVersions"},
            {"versions", versions},
            {"serverAddressByClientCIDRs", json::array({{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", serverAddress}}})}};
}

json Discovery::apiGroupList() const
{
    json groups = json::array();
    for (const auto &g : m_groups) {
        if (g.group.empty())
            continue;
        json versions = json::array();
        for (const auto &v : g.versions)
            versions.push_back({{"groupVersion", g.group + "/" + v}, {"version", v}});
        groups.push_back({{"name", g.group}, {"versions", versions}, {"preferredVersion", versions.front()}});
    }
    return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

std::vector<Discovery::SubresourceInfo> Discovery::subresourcesOf(const model::ResourceInfo &r) const
{
    std::vector<SubresourceInfo> out;
    for (const auto &name : r.subresources) {
        SubresourceInfo s{name, r.group, r.version, r.kind, {}};
        if (const auto *k = m_registry.subresourceKind(name)) {
            s.group = k->group, s.version = k->version, s.kind = k->kind, s.verbs = k->verbs;
        } else if (name == "log") {
            s.verbs = {"get"};
        } else if (name == "finalize") {
            s.verbs = {"update"};
        } else { // status and the like: the object itself
            s.verbs = {"get", "patch", "update"};
        }
        out.push_back(std::move(s));
    }
    std::sort(out.begin(), out.end(), [](const SubresourceInfo &a, const SubresourceInfo &b) { return a.name < b.name; });
    return out;
}

json Discovery::apiResourceList(const std::string &group, const std::string &version) const
{
    json resources = json::array();
    bool known = false;
    for (const auto *resource : m_resources) {
        const auto &r = *resource;
        if (r.group != group || r.version != version)
            continue;
        known = true;
        json entry = {{"name", r.plural},        {"singularName", r.singular}, {"namespaced", r.namespaced},
                      {"kind", r.kind},          {"verbs", r.verbs}};
        if (!r.shortNames.empty())
            entry["shortNames"] = r.shortNames;
        if (!r.categories.empty())
            entry["categories"] = r.categories;
        resources.push_back(std::move(entry));
        for (const auto &s : subresourcesOf(r)) {
            json sub = {{"name", r.plural + "/" + s.name}, {"singularName", ""}, {"namespaced", r.namespaced},
                        {"kind", s.kind},                  {"verbs", s.verbs}};
            if (s.group != r.group || s.version != r.version) {
                sub["group"] = s.group;
                sub["version"] = s.version;
            }
            resources.push_back(std::move(sub));
        }
    }
    if (!known)
        return nullptr;
    return {{"kind", "APIResourceList"},
            {"apiVersion", "v1"},
            {"groupVersion", group.empty() ? version : group + "/" + version},
            {"resources", resources}};
}

json Discovery::aggregated(bool core, const std::string &apiVersion) const
{
    json items = json::array();
    for (const auto &g : m_groups) {
        if (g.group.empty() != core)
            continue;
        json versions = json::array();
        for (const auto &v : g.versions) {
            json resources = json::array();
            for (const auto *resource : m_resources) {
                const auto &r = *resource;
                if (r.group != g.group || r.version != v)
                    continue;
                json entry = {{"resource", r.plural},
                              {"responseKind", {{"group", r.group}, {"version", r.version}, {"kind", r.kind}}},
                              {"scope", r.namespaced ? "Namespaced" : "Cluster"},
                              {"singularResource", r.singular},
                              {"verbs", r.verbs}};
                if (!r.shortNames.empty())
                    entry["shortNames"] = r.shortNames;
                if (!r.categories.empty())
                    entry["categories"] = r.categories;
                json subs = json::array();
                for (const auto &s : subresourcesOf(r))
                    subs.push_back({{"subresource", s.name},
                                    {"responseKind", {{"group", s.group}, {"version", s.version}, {"kind", s.kind}}},
                                    {"verbs", s.verbs}});
                if (!subs.empty())
                    entry["subresources"] = std::move(subs);
                resources.push_back(std::move(entry));
            }
            std::sort(resources.begin(), resources.end(),
                      [](const json &a, const json &b) { return a["resource"].get<std::string>() < b["resource"].get<std::string>(); });
            versions.push_back({{"version", v}, {"resources", resources}, {"freshness", "Current"}});
        }
        json item = {{"metadata", {{"creationTimestamp", nullptr}}}, {"versions", versions}};
        if (!g.group.empty())
            item["metadata"]["name"] = g.group;
        items.push_back(std::move(item));
    }
    return {{"kind", "APIGroupDiscoveryList"}, {"apiVersion", apiVersion}, {"metadata", json::object()}, {"items", items}};
}

} // namespace podscape::core::apiserver
