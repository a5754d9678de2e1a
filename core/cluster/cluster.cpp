#include "cluster.h"

#include "core/kubelet/podstatus.h"

#include "core/base/logger.h"
#include "core/controllers/deployment/deploymentcontroller.h"
#include "core/controllers/endpoints/endpointscontroller.h"
#include "core/controllers/eventttl/eventttlcontroller.h"
#include "core/controllers/garbagecollector/garbagecollector.h"
#include "core/controllers/namespace/namespacecontroller.h"
#include "core/controllers/nodelifecycle/nodelifecyclecontroller.h"
#include "core/controllers/nodelifecycle/taintevictioncontroller.h"
#include "core/controllers/nodelifecycle/tolerations.h"
#include "core/controllers/replicaset/replicasetcontroller.h"
#include "core/controllers/serviceip/serviceipallocator.h"
#include "core/controllers/serviceip/serviceiprepair.h"
#include "core/controllers/sharedinformers.h"
#include "core/kubelet/kubelet.h"
#include "core/kubelet/podstatus.h"
#include "core/kubelet/runtime/processruntime.h"
#include "core/kubelet/runtime/simruntime.h"
#include "core/proxy/serviceproxy.h"
#include "core/scheduler/scheduler.h"
#include "core/store/sqlitebackend.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace podscape::core::cluster {

using nlohmann::json;

ClusterConfig ClusterConfig::teaching()
{
    ClusterConfig c;
    c.nodeHeartbeatInterval = std::chrono::seconds(2);
    c.nodeMonitorPeriod = std::chrono::seconds(1);
    c.nodeMonitorGracePeriod = std::chrono::seconds(10);
    c.podEvictionSeconds = 20;
    return c;
}

Cluster::Cluster(ClusterConfig config)
    : m_config(std::move(config)), m_clock(m_config.clock ? m_config.clock : &Clock::system())
{}

Cluster::~Cluster()
{
    stop();
    for (int fd : m_nodeClaims)
        ::close(fd);
}

namespace {

// Pod and node IPs are the same in every embedded cluster (127.244.x.y, 127.243.x.1), so two
// engines with real processes on one host would bind each other's addresses. Each node holds
// its kubelet port (10250) on its IP for the engine's life: the second engine is told so.
Result<int> claimNodeAddress(const std::string &ip)
{
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(10250);
    inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || ::listen(fd, 1) != 0) {
        const int err = errno;
        if (fd >= 0)
            ::close(fd);
        return Error(Reason::AlreadyExists,
                     "cannot claim " + ip + ":10250 (" + std::strerror(err) +
                         "): another Podscape engine with the process runtime is probably running on this host; "
                         "stop it, or use the simulated runtime (--runtime sim)");
    }
    return fd;
}

} // namespace

Result<std::unique_ptr<Cluster>> Cluster::start(ClusterConfig config)
{
    if (config.nodes < 0 || config.nodes > 3000)
        return fail(Reason::BadRequest, "the number of nodes must be between 0 and 3000");
    if (config.nodeMonitorGracePeriod < 2 * config.nodeHeartbeatInterval)
        return fail(Reason::BadRequest, "the node monitor grace period must be at least twice the heartbeat interval");
    if (config.timing != "realistic" && config.timing != "instant")
        return fail(Reason::BadRequest, "unknown timing \"" + config.timing + "\"; use realistic or instant");
    std::unique_ptr<Cluster> cluster(new Cluster(std::move(config)));
    if (auto built = cluster->build(); !built)
        return built.takeError();
    return cluster;
}

Result<void> Cluster::build()
{
    // The store, loaded from disk when there is a data folder.
    if (!m_config.dataDir.empty()) {
        auto backend = store::SqliteBackend::open(m_config.dataDir + "/store.db");
        if (!backend)
            return backend.takeError();
        m_store = std::make_unique<store::Store>(*m_clock, std::move(*backend));
        if (!m_store->openStatus())
            return m_store->openStatus().error();
    } else {
        m_store = std::make_unique<store::Store>(*m_clock);
    }

    // Service IPs and node ports, rebuilt from the Services that already exist.
    controllers::ServiceIPAllocator::Options ipOptions;
    ipOptions.serviceCIDR = m_config.serviceCIDR;
    auto allocator = controllers::ServiceIPAllocator::create(ipOptions);
    if (!allocator)
        return allocator.takeError();
    m_allocator = std::move(*allocator);
    if (auto services = m_store->list("services"); services) {
        std::vector<json> existing;
        for (const auto &s : services->items)
            existing.push_back(*s);
        m_allocator->rebuild(existing);
    }

    // The write path and its admission steps (what the API server's admission chain does).
    m_api = std::make_unique<ClusterApi>(*m_store);
    const int64_t evictionSeconds = m_config.podEvictionSeconds;
    m_api->addAdmission([this, evictionSeconds](const model::ResourceInfo &r, json &object, const json *old,
                                                bool dryRun) -> Result<void> {
        if (r.kind == "Namespace" && !old)
            controllers::NamespaceController::initializeNamespace(object);
        if (r.kind == "Pod" && !old) {
            controllers::addDefaultTolerations(object, evictionSeconds, evictionSeconds);
            // As the API server's pod create strategy: Pending, with the QoS class decided.
            object["status"] = {{"phase", "Pending"}, {"qosClass", kubelet::qosClass(object.value("spec", json::object()))}};
        }
        if (r.kind == "Service") {
            if (!old)
                return m_allocator->allocate(object, dryRun);
            // Keep what was allocated, allocate what the update newly needs, release the rest.
            return m_allocator->reconcileUpdate(*old, object, dryRun);
        }
        return {};
    });
    m_api->addDeleteHook([this](const model::ResourceInfo &r, const json &object) {
        if (r.kind == "Service")
            m_allocator->release(object);
    });

    // The namespaces every cluster has.
    for (const char *ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
        if (m_store->get("namespaces", "", ns).ok())
            continue;
        auto created = m_api->create(json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
        if (!created)
            return created.takeError();
    }

    // The controller manager.
    m_informers = std::make_unique<controllers::SharedInformers>(*m_store, *m_clock);
    using controllers::ReplicaSetController;
    m_controllers.push_back(std::make_unique<ReplicaSetController>(*m_informers, ReplicaSetController::Kind::ReplicaSet));
    m_controllers.push_back(
        std::make_unique<ReplicaSetController>(*m_informers, ReplicaSetController::Kind::ReplicationController));
    m_controllers.push_back(std::make_unique<controllers::DeploymentController>(*m_informers));
    m_controllers.push_back(std::make_unique<controllers::EndpointsController>(*m_informers));
    m_controllers.push_back(std::make_unique<controllers::GarbageCollector>(*m_informers));
    m_controllers.push_back(std::make_unique<controllers::NamespaceController>(*m_informers));
    controllers::NodeLifecycleController::Options lifecycle;
    lifecycle.gracePeriod = m_config.nodeMonitorGracePeriod;
    lifecycle.monitorPeriod = m_config.nodeMonitorPeriod;
    m_controllers.push_back(std::make_unique<controllers::NodeLifecycleController>(*m_informers, lifecycle));
    m_controllers.push_back(std::make_unique<controllers::TaintEvictionController>(*m_informers));
    m_controllers.push_back(std::make_unique<controllers::ServiceIPRepair>(*m_informers, *m_allocator));
    controllers::EventTTLController::Options eventTTL;
    eventTTL.maxEvents = m_config.maxEvents;
    m_controllers.push_back(std::make_unique<controllers::EventTTLController>(*m_informers, eventTTL));
    if (m_config.runtime == "process") {
        // One proxy serves every node, as they all share the host's loopback: NodePorts on
        // 127.0.0.1 and on each node's IP (the kubelets' 127.243.<index>.1). Its handlers
        // must be registered before the informers start.
        proxy::ServiceProxyOptions proxyOptions;
        for (int i = 1; i <= m_config.nodes; ++i)
            proxyOptions.nodeAddresses.push_back("127.243." + std::to_string(i % 256) + "." + std::to_string(1 + i / 256));
        m_proxy = std::make_unique<proxy::ServiceProxy>(*m_informers, proxyOptions);
    }
    m_informers->start();
    for (auto &c : m_controllers)
        c->start(m_config.controllerWorkers);
    if (m_proxy)
        if (auto started = m_proxy->start(); !started)
            return started;

    m_scheduler = std::make_unique<scheduler::Scheduler>(*m_store, *m_clock);
    m_scheduler->start();

    if (m_config.runtime != "sim" && m_config.runtime != "process")
        return Error(Reason::Invalid, "unknown runtime \"" + m_config.runtime + "\": use sim or process");
    const bool processes = m_config.runtime == "process";
    if (processes)
        if (auto programs = kubelet::runtime::ProcessRuntime::checkPrograms(m_config.programDir); !programs)
            return programs;
    for (int i = 0; i < m_config.nodes; ++i) {
        const std::string nodeName = "node-" + std::to_string(i + 1);
        if (processes) {
            const int index = i + 1;
            auto claim = claimNodeAddress("127.243." + std::to_string(index % 256) + "." + std::to_string(1 + index / 256));
            if (!claim)
                return claim.error();
            m_nodeClaims.push_back(*claim);
        }
        std::unique_ptr<kubelet::runtime::ContainerRuntime> runtime;
        if (processes) {
            kubelet::runtime::ProcessRuntimeOptions runtimeOptions;
            runtimeOptions.programDir = m_config.programDir;
            runtimeOptions.nodeName = nodeName;
            if (!m_config.dataDir.empty())
                runtimeOptions.dataDir = m_config.dataDir + "/nodes/" + nodeName;
            runtime = std::make_unique<kubelet::runtime::ProcessRuntime>(runtimeOptions);
        } else {
            kubelet::runtime::SimRuntimeOptions runtimeOptions;
            runtimeOptions.timing = m_config.timing == "instant" ? kubelet::runtime::SimTiming::instant()
                                                                 : kubelet::runtime::SimTiming::realistic();
            runtimeOptions.seed = nodeName;
            runtime = std::make_unique<kubelet::runtime::SimRuntime>(*m_clock, runtimeOptions);
        }
        kubelet::KubeletOptions options;
        options.nodeName = nodeName;
        options.nodeIndex = i + 1;
        options.cpu = m_config.nodeCpu;
        options.memory = m_config.nodeMemory;
        options.maxPods = m_config.maxPodsPerNode;
        options.heartbeatInterval = m_config.nodeHeartbeatInterval;
        if (processes)
            options.osImage = "Podscape process runtime (host processes in Linux namespaces)";
        auto k = std::make_unique<kubelet::Kubelet>(*m_store, std::move(runtime), *m_clock, options);
        if (auto started = k->start(); !started)
            return started;
        m_kubelets.push_back(std::move(k));
    }
    PS_LOG(Info, "cluster") << "embedded cluster up: " << m_config.nodes << " node(s), revision " << m_store->revision();
    return {};
}

void Cluster::stop()
{
    if (m_stopped)
        return;
    m_stopped = true;
    if (m_proxy)
        m_proxy->stop();
    for (auto &k : m_kubelets)
        k->stop();
    if (m_scheduler)
        m_scheduler->stop();
    for (auto &c : m_controllers)
        c->stop();
    if (m_informers)
        m_informers->stop();
    if (m_store)
        m_store->flush();
}

Result<kubelet::Kubelet *> Cluster::kubeletFor(const std::string &node)
{
    // Nodes are named node-<index>, index from 1, in m_kubelets' order.
    constexpr std::string_view prefix = "node-";
    if (node.size() > prefix.size() && node.compare(0, prefix.size(), prefix) == 0) {
        const std::string digits = node.substr(prefix.size());
        if (digits.find_first_not_of("0123456789") == std::string::npos && digits.size() < 6) {
            const size_t index = std::stoul(digits);
            if (index >= 1 && index <= m_kubelets.size() && m_kubelets[index - 1]->nodeName() == node) {
                auto *k = m_kubelets[index - 1].get();
                if (!k->isRunning())
                    return fail(Reason::ServiceUnavailable, "the kubelet on node \"" + node
                                                                + "\" is not responding (the node is stopped); start it again or wait for its pods to move");
                return k;
            }
        }
    }
    return fail(Reason::ServiceUnavailable, "node \"" + node + "\" is not run by this cluster; its kubelet cannot be reached");
}

Result<std::vector<kubelet::runtime::LogLine>> Cluster::containerLogs(const std::string &node, const std::string &ns,
                                                                      const std::string &pod, const std::string &container,
                                                                      const kubelet::runtime::LogOptions &options)
{
    auto k = kubeletFor(node);
    if (!k)
        return k.error();
    return (*k)->containerLogs(ns, pod, container, options);
}

Result<std::unique_ptr<kubelet::runtime::LogStream>>
Cluster::followContainerLogs(const std::string &node, const std::string &ns, const std::string &pod,
                             const std::string &container, const kubelet::runtime::LogOptions &options)
{
    auto k = kubeletFor(node);
    if (!k)
        return k.error();
    return (*k)->followContainerLogs(ns, pod, container, options);
}

Result<std::unique_ptr<kubelet::runtime::StreamSession>> Cluster::exec(const std::string &node, const std::string &ns,
                                                                       const std::string &pod, const std::string &container,
                                                                       const kubelet::runtime::ExecOptions &options)
{
    auto k = kubeletFor(node);
    if (!k)
        return k.error();
    return (*k)->exec(ns, pod, container, options);
}

Result<std::unique_ptr<kubelet::runtime::StreamSession>> Cluster::attach(const std::string &node, const std::string &ns,
                                                                         const std::string &pod, const std::string &container,
                                                                         const kubelet::runtime::AttachOptions &options)
{
    auto k = kubeletFor(node);
    if (!k)
        return k.error();
    return (*k)->attach(ns, pod, container, options);
}

Result<std::unique_ptr<kubelet::runtime::StreamSession>> Cluster::portForward(const std::string &node, const std::string &ns,
                                                                              const std::string &pod, int port)
{
    auto k = kubeletFor(node);
    if (!k)
        return k.error();
    return (*k)->portForward(ns, pod, port);
}

std::vector<PodUsage> Cluster::podUsage()
{
    std::vector<PodUsage> out;
    for (auto &k : m_kubelets) {
        if (!k->isRunning())
            continue; // a silent node reports nothing, as metrics-server would drop it
        for (auto &p : k->podUsage()) {
            PodUsage u{std::move(p.ns), std::move(p.name), p.timestamp, {}};
            for (auto &c : p.containers)
                u.containers.push_back({std::move(c.name), c.cpuMilli, c.memoryBytes});
            out.push_back(std::move(u));
        }
    }
    return out;
}

std::vector<NodeUsage> Cluster::nodeUsage()
{
    // The sum of the node's pods: the simulation has no system daemons to add.
    std::vector<NodeUsage> out;
    for (auto &k : m_kubelets) {
        if (!k->isRunning())
            continue;
        NodeUsage n{k->nodeName(), m_clock->now(), 0, 0};
        for (const auto &p : k->podUsage())
            for (const auto &c : p.containers) {
                n.cpuMilli += c.cpuMilli;
                n.memoryBytes += c.memoryBytes;
            }
        out.push_back(std::move(n));
    }
    return out;
}

} // namespace podscape::core::cluster
