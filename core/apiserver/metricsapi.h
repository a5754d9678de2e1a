#pragma once
// metrics.k8s.io/v1beta1, as metrics-server serves it: NodeMetrics and PodMetrics from the
// kubelets' usage figures, so that `kubectl top nodes` and `kubectl top pods` work. Read-only
// (get and list, label selectors); there is no history, only "now".

#include "core/apiserver/httpsserver.h"
#include "core/apiserver/requestinfo.h"
#include "core/base/clock.h"
#include "core/cluster/nodeaccess.h"
#include "core/model/schemaregistry.h"
#include "core/store/store.h"

#include <vector>

namespace podscape::core::apiserver {

class MetricsApi
{
public:
    static constexpr const char *kGroup = "metrics.k8s.io";

    MetricsApi(cluster::NodeAccess &nodes, const store::Store &store) : m_nodes(nodes), m_store(store) {}

    // nodes and pods, for discovery.
    static std::vector<model::ResourceInfo> resources();

    // A request whose group is metrics.k8s.io.
    HttpResponse handle(const RequestInfo &info);

private:
    cluster::NodeAccess &m_nodes;
    const store::Store &m_store;
};

} // namespace podscape::core::apiserver
