#pragma once
// How the API server reaches the nodes, as the real one reaches kubelets: the node-proxied
// pod subresources (log, exec, attach, portforward) and the usage figures metrics.k8s.io
// serves. The Cluster answers over its in-process kubelets; tests answer with fakes.
//
// Every call names the node the pod is bound to (spec.nodeName); a node this cluster does not
// run is ServiceUnavailable, a pod the node does not run is NotFound, and a container that
// has not started is BadRequest, with messages worded as the kubelet words them.

#include "core/base/clock.h"
#include "core/base/result.h"
#include "core/kubelet/runtime/containerruntime.h"

#include <memory>
#include <string>
#include <vector>

namespace podscape::core::cluster {

struct ContainerUsage {
    std::string name;
    int64_t cpuMilli = 0;
    int64_t memoryBytes = 0;
};

struct PodUsage {
    std::string ns;
    std::string name;
    Clock::TimePoint timestamp;
    std::vector<ContainerUsage> containers;
};

struct NodeUsage {
    std::string name;
    Clock::TimePoint timestamp;
    int64_t cpuMilli = 0;
    int64_t memoryBytes = 0;
};

class NodeAccess
{
public:
    virtual ~NodeAccess() = default;

    virtual Result<std::vector<kubelet::runtime::LogLine>> containerLogs(const std::string &node, const std::string &ns,
                                                                         const std::string &pod,
                                                                         const std::string &container,
                                                                         const kubelet::runtime::LogOptions &options) = 0;
    virtual Result<std::unique_ptr<kubelet::runtime::LogStream>>
    followContainerLogs(const std::string &node, const std::string &ns, const std::string &pod,
                        const std::string &container, const kubelet::runtime::LogOptions &options) = 0;
    virtual Result<std::unique_ptr<kubelet::runtime::StreamSession>>
    exec(const std::string &node, const std::string &ns, const std::string &pod, const std::string &container,
         const kubelet::runtime::ExecOptions &options) = 0;
    virtual Result<std::unique_ptr<kubelet::runtime::StreamSession>>
    attach(const std::string &node, const std::string &ns, const std::string &pod, const std::string &container,
           const kubelet::runtime::AttachOptions &options) = 0;
    virtual Result<std::unique_ptr<kubelet::runtime::StreamSession>>
    portForward(const std::string &node, const std::string &ns, const std::string &pod, int port) = 0;

    // Usage of every running pod and every running node (all nodes the cluster runs).
    virtual std::vector<PodUsage> podUsage() = 0;
    virtual std::vector<NodeUsage> nodeUsage() = 0;
};

} // namespace podscape::core::cluster
