#pragma once
// The embedded cluster: the composition root that wires the store (optionally persisted in
// SQLite), the write path, the controller manager's control loops, the scheduler and one
// kubelet per node, and runs them on their own threads. Restarting on the same data folder
// resumes every controller from the persisted state.

#include "core/base/clock.h"
#include "core/base/result.h"
#include "core/cluster/clusterapi.h"
#include "core/cluster/nodeaccess.h"
#include "core/store/store.h"

#include <memory>
#include <string>
#include <vector>

namespace podscape::core::controllers {
class SharedInformers;
class Controller;
class ServiceIPAllocator;
} // namespace podscape::core::controllers
namespace podscape::core::scheduler {
class Scheduler;
}
namespace podscape::core::kubelet {
class Kubelet;
}
namespace podscape::core::proxy {
class ServiceProxy;
}

namespace podscape::core::cluster {

struct ClusterConfig {
    int nodes = 3;
    std::string nodeCpu = "4";
    std::string nodeMemory = "8Gi";
    int maxPodsPerNode = 110;
    std::string timing = "realistic"; // "realistic" or "instant" (the simulated runtime's presets)
    // "sim": simulated containers (any number of nodes, FakeClock-friendly); "process": real
    // processes from podscape-image and the host's tools, plus the Service proxy on loopback.
    std::string runtime = "sim";
    std::string programDir; // the process runtime's podscape-shim and podscape-image
    std::string dataDir;              // empty: memory only; otherwise <dataDir>/store.db
    std::string serviceCIDR = "127.96.0.0/12";
    // Node health: kubelets post a heartbeat every nodeHeartbeatInterval, the node lifecycle
    // controller looks every nodeMonitorPeriod and calls a node silent for the grace period
    // Unknown; its pods are evicted podEvictionSeconds later. The grace period must stay well
    // above the heartbeat interval, or healthy nodes flap.
    Clock::Duration nodeHeartbeatInterval = std::chrono::seconds(10);
    Clock::Duration nodeMonitorPeriod = std::chrono::seconds(5);
    Clock::Duration nodeMonitorGracePeriod = std::chrono::seconds(40);
    int64_t podEvictionSeconds = 300;
    int controllerWorkers = 2;
    // Events expire after an hour (the API server's --event-ttl); beyond this many at once
    // the oldest go first, so that memory stays bounded whatever runs.
    size_t maxEvents = 10'000;
    Clock *clock = nullptr; // default: the system clock

    // Short timings for demonstrations: a stopped node is Unknown after 10 s and its pods
    // move 20 s later.
    static ClusterConfig teaching();
};

class Cluster final : public NodeAccess
{
public:
    static Result<std::unique_ptr<Cluster>> start(ClusterConfig config);
    ~Cluster();
    Cluster(const Cluster &) = delete;
    Cluster &operator=(const Cluster &) = delete;

    // Stops kubelets, scheduler, controllers and informers, then flushes the store.
    void stop();

    store::Store &store() { return *m_store; }
    ClusterApi &api() { return *m_api; }
    scheduler::Scheduler &scheduler() { return *m_scheduler; }
    size_t nodeCount() const { return m_kubelets.size(); }
    kubelet::Kubelet &node(size_t index) { return *m_kubelets.at(index); }
    // The Service proxy (process runtime only; null otherwise).
    proxy::ServiceProxy *serviceProxy() { return m_proxy.get(); }
    const ClusterConfig &config() const { return m_config; }
    Clock &clock() { return *m_clock; }

    // NodeAccess: the kubelets, found by node name.
    Result<std::vector<kubelet::runtime::LogLine>> containerLogs(const std::string &node, const std::string &ns,
                                                                 const std::string &pod, const std::string &container,
                                                                 const kubelet::runtime::LogOptions &options) override;
    Result<std::unique_ptr<kubelet::runtime::LogStream>>
    followContainerLogs(const std::string &node, const std::string &ns, const std::string &pod,
                        const std::string &container, const kubelet::runtime::LogOptions &options) override;
    Result<std::unique_ptr<kubelet::runtime::StreamSession>> exec(const std::string &node, const std::string &ns,
                                                                  const std::string &pod, const std::string &container,
                                                                  const kubelet::runtime::ExecOptions &options) override;
    Result<std::unique_ptr<kubelet::runtime::StreamSession>> attach(const std::string &node, const std::string &ns,
                                                                    const std::string &pod, const std::string &container,
                                                                    const kubelet::runtime::AttachOptions &options) override;
    Result<std::unique_ptr<kubelet::runtime::StreamSession>> portForward(const std::string &node, const std::string &ns,
                                                                         const std::string &pod, int port) override;
    std::vector<PodUsage> podUsage() override;
    std::vector<NodeUsage> nodeUsage() override;

private:
    explicit Cluster(ClusterConfig config);
    Result<void> build();
    Result<kubelet::Kubelet *> kubeletFor(const std::string &node);

    ClusterConfig m_config;
    Clock *m_clock;
    std::unique_ptr<store::Store> m_store;
    std::unique_ptr<controllers::ServiceIPAllocator> m_allocator;
    std::unique_ptr<ClusterApi> m_api;
    std::unique_ptr<controllers::SharedInformers> m_informers;
    std::vector<std::unique_ptr<controllers::Controller>> m_controllers;
    std::unique_ptr<scheduler::Scheduler> m_scheduler;
    std::vector<std::unique_ptr<kubelet::Kubelet>> m_kubelets;
    std::unique_ptr<proxy::ServiceProxy> m_proxy;
    std::vector<int> m_nodeClaims; // sockets holding each node's IP:10250 (process runtime)
    bool m_stopped = false;
};

} // namespace podscape::core::cluster
