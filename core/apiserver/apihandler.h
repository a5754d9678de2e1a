#pragma once
// The Kubernetes REST API over the embedded cluster's write path: what an HttpsServer calls
// for each authenticated request. Serves /version, health checks, discovery (legacy and
// aggregated), and get / list (JSON or Table) / create / update / patch / delete of every
// resource the schema registry knows, with dryRun, fieldValidation and Warning headers.
//
// Watches stream chunked JSON events (ADDED/MODIFIED/DELETED/BOOKMARK/ERROR), as objects or
// one-row Tables, with allowWatchBookmarks and timeoutSeconds. The scale subresource
// (autoscaling/v1 Scale) reads and writes a workload's spec.replicas.
//
// pods/log, exec, attach and portforward go to the pod's node (NodeProxy); metrics.k8s.io
// is answered from the nodes' usage (MetricsApi).
//
// Not served yet (answered with a clear 405/404 Status): the eviction and binding
// subresources, server-side apply, OpenAPI schemas.

#include "core/apiserver/fieldmanager.h"
#include "core/apiserver/discovery.h"
#include "core/apiserver/httpsserver.h"
#include "core/apiserver/metricsapi.h"
#include "core/apiserver/nodeproxy.h"
#include "core/apiserver/openapi.h"
#include "core/base/clock.h"
#include "core/cluster/clusterapi.h"

namespace podscape::core::apiserver {

class ApiHandler
{
public:
    ApiHandler(cluster::ClusterApi &api, Clock &clock = Clock::system(),
               const model::SchemaRegistry &registry = model::SchemaRegistry::builtin());

    HttpResponse handle(const HttpRequest &request);

    // Where pods/log, exec, attach, portforward and metrics.k8s.io reach the nodes; without
    // it those answer ServiceUnavailable (and metrics.k8s.io is not advertised).
    void setNodeAccess(cluster::NodeAccess &nodes);

    // The GitVersion /version reports; kubectl reads minor "32" from it.
    static constexpr const char *kGitVersion = "v1.32.0-podscape";

private:
    struct Target;
    HttpResponse nonResource(const HttpRequest &request, const std::string &path);
    HttpResponse get(const HttpRequest &request, const Target &t);
    HttpResponse list(const HttpRequest &request, const Target &t);
    HttpResponse create(const HttpRequest &request, const Target &t);
    HttpResponse update(const HttpRequest &request, const Target &t);
    HttpResponse patch(const HttpRequest &request, const Target &t);
    HttpResponse remove(const HttpRequest &request, const Target &t);
    HttpResponse watch(const HttpRequest &request, const Target &t);
    HttpResponse scale(const HttpRequest &request, const Target &t);
    HttpResponse podSubresource(const HttpRequest &request, const Target &t);
    // GET/PUT/PATCH .../NAME/status: only the status changes.
    HttpResponse status(const HttpRequest &request, const Target &t);
    // POST pods/NAME/binding (and the bindings resource): what an external scheduler sends.
    HttpResponse binding(const HttpRequest &request, const Target &t, const std::string &podName);
    // POST pods/NAME/eviction (policy/v1 Eviction): kubectl drain's graceful delete.
    HttpResponse eviction(const HttpRequest &request, const Target &t);
    // PATCH with application/apply-patch+yaml: server-side apply (creates a missing object).
    HttpResponse serverSideApply(const HttpRequest &request, const Target &t);
    // The manager a write is recorded under: ?fieldManager=, else the User-Agent's product.
    static std::string managerOf(const HttpRequest &request, const RequestInfo &info);

    cluster::ClusterApi &m_api;
    Clock &m_clock;
    const model::SchemaRegistry &m_registry;
    Discovery m_discovery;
    OpenApi m_openApi;
    FieldManager m_fieldManager;
    std::unique_ptr<NodeProxy> m_nodeProxy;
    std::unique_ptr<MetricsApi> m_metrics;
};

} // namespace podscape::core::apiserver
