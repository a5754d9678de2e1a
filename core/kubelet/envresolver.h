#pragma once
// A container's environment as the kubelet builds it: Service links (KUBIA_SERVICE_HOST...
// for every Service of the pod's namespace, and KUBERNETES_* always), envFrom ConfigMaps and
// Secrets, then env with values, $(VAR) references, the downward API (fieldRef,
// resourceFieldRef), configMapKeyRef and secretKeyRef. A missing ConfigMap, Secret or key
// that is not optional is an error with Kubernetes' message, which the kubelet shows as
// CreateContainerConfigError.

#include "core/base/result.h"
#include "core/store/store.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podscape::core::kubelet {

using EnvList = std::vector<std::pair<std::string, std::string>>;

class EnvResolver
{
public:
    struct PodContext {
        std::string podIP;
        std::string hostIP;
        std::string nodeName;
        // For resourceFieldRef limits a container does not set: the node's allocatable.
        int64_t nodeCpuMilli = 0;
        int64_t nodeMemoryBytes = 0;
    };

    explicit EnvResolver(const store::Store &store) : m_store(store) {}

    Result<EnvList> resolve(const nlohmann::json &pod, const nlohmann::json &container, const PodContext &context) const;

    // Kubernetes' $(VAR) expansion for command, args and env values: $(VAR) becomes the
    // value of a defined VAR, $$ is an escaped $, anything else is left as written.
    static std::string expand(std::string_view text, const std::map<std::string, std::string> &vars);

private:
    void serviceLinks(const nlohmann::json &pod, EnvList &out) const;
    const store::Store &m_store;
};

} // namespace podscape::core::kubelet
