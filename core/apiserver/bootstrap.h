#pragma once
// What kube-apiserver's bootstrap controller keeps in every cluster: the `kubernetes`
// Service in `default` (ClusterIP: the first address of the service range, port 443) and its
// Endpoints, which point at the API server itself. `kubectl get services` shows it first, as
// the seed notes' listings do. Called once the server listens (its port may be chosen then).

#include "core/base/result.h"
#include "core/cluster/clusterapi.h"

#include <cstdint>
#include <string>

namespace podscape::core::apiserver {

Result<void> ensureKubernetesService(cluster::ClusterApi &api, const std::string &serviceCIDR, const std::string &serverIP,
                                     uint16_t serverPort);

} // namespace podscape::core::apiserver
