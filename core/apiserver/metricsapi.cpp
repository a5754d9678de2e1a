#include "metricsapi.h"

#include "core/base/timeformat.h"
#include "core/model/labelselector.h"

namespace podscape::core::apiserver {

using nlohmann::json;

namespace {

// metrics-server's spelling: CPU in nanocores, memory in Ki.
std::string cpuQuantity(int64_t milli) { return std::to_string(milli * 1'000'000) + "n"; }
std::string memoryQuantity(int64_t bytes) { return std::to_string(bytes / 1024) + "Ki"; }

// The sim kubelets refresh usage every 15 s; metrics-server reports its scrape window likewise.
constexpr const char *kWindow = "15s";

json metadataFrom(const json &object)
{
    const json &m = object.value("metadata", json::object());
    json out = {{"name", m.value("name", "")}, {"creationTimestamp", m.value("creationTimestamp", "")}};
    if (m.contains("namespace"))
        out["namespace"] = m["namespace"];
    if (m.contains("labels"))
        out["labels"] = m["labels"];
    return out;
}

HttpResponse jsonResponse(const json &body)
{
    HttpResponse r;
    r.body = body.dump();
    return r;
}

} // namespace

std::vector<model::ResourceInfo> MetricsApi::resources()
{
    model::ResourceInfo nodes;
    nodes.kind = "NodeMetrics";
    nodes.group = kGroup;
    nodes.version = "v1beta1";
    nodes.plural = "nodes";
    nodes.singular = "";
    nodes.namespaced = false;
    nodes.verbs = {"get", "list"};
    model::ResourceInfo pods = nodes;
    pods.kind = "PodMetrics";
    pods.plural = "pods";
    pods.namespaced = true;
    return {nodes, pods};
}

HttpResponse MetricsApi::handle(const RequestInfo &info)
{
    const bool forNodes = info.resource == "nodes";
    if (info.version != "v1beta1" || (!forNodes && info.resource != "pods") || !info.subresource.empty()
        || (forNodes && !info.ns.empty()))
        return HttpResponse::fromError(Error(Reason::NotFound, "the server could not find the requested resource"));
    if (info.verb != "get" && info.verb != "list")
        return HttpResponse::fromError(Error(Reason::MethodNotAllowed, "metrics are read-only: only get and list are served"));
    model::LabelSelector labels;
    if (auto l = info.queryValue("labelSelector"); !l.empty()) {
        auto parsed = model::LabelSelector::parse(l);
        if (!parsed)
            return HttpResponse::fromError(parsed.error());
        labels = std::move(*parsed);
    }

    json items = json::array();
    if (forNodes) {
        for (const auto &n : m_nodes.nodeUsage()) {
            if (info.verb == "get" && n.name != info.name)
                continue;
            auto node = m_store.get("nodes", "", n.name);
            if (!node)
                continue;
            json metadata = metadataFrom(**node);
            if (!labels.matchesJson(metadata.value("labels", json::object())))
                continue;
            items.push_back({{"metadata", metadata},
                             {"timestamp", formatRfc3339(n.timestamp)},
                             {"window", kWindow},
                             {"usage", {{"cpu", cpuQuantity(n.cpuMilli)}, {"memory", memoryQuantity(n.memoryBytes)}}}});
        }
    } else {
        for (const auto &p : m_nodes.podUsage()) {
            if ((!info.ns.empty() && p.ns != info.ns) || (info.verb == "get" && p.name != info.name))
                continue;
            auto pod = m_store.get("pods", p.ns, p.name);
            if (!pod)
                continue;
            json metadata = metadataFrom(**pod);
            if (!labels.matchesJson(metadata.value("labels", json::object())))
                continue;
            json containers = json::array();
            for (const auto &c : p.containers)
                containers.push_back({{"name", c.name},
                                      {"usage", {{"cpu", cpuQuantity(c.cpuMilli)}, {"memory", memoryQuantity(c.memoryBytes)}}}});
            items.push_back({{"metadata", metadata},
                             {"timestamp", formatRfc3339(p.timestamp)},
                             {"window", kWindow},
                             {"containers", containers}});
        }
    }
    const std::string kind = forNodes ? "NodeMetrics" : "PodMetrics";
    if (info.verb == "get") {
        if (items.empty())
            return HttpResponse::fromError(Error(Reason::NotFound, (forNodes ? "nodemetrics" : "podmetrics") + std::string(".")
                                                                       + kGroup + " \"" + info.name + "\" not found"));
        json item = items.front();
        item["kind"] = kind;
        item["apiVersion"] = std::string(kGroup) + "/v1beta1";
        return jsonResponse(item);
    }
    return jsonResponse({{"kind", kind + "List"},
                         {"apiVersion", std::string(kGroup) + "/v1beta1"},
                         {"metadata", json::object()},
                         {"items", items}});
}

} // namespace podscape::core::apiserver
