#pragma once
// The node agent: one Kubelet per node. It registers its Node, renews the Node's heartbeat,
// and runs the pods bound to it (spec.nodeName) through a ContainerRuntime, writing what it
// sees back as pod status, as Kubernetes' kubelet does:
//
//   watch pods on this node ──> mark dirty ──> sync loop ──> runtime (sandbox, pull, create,
//        ^                                      │  ^          start, stop, probe)
//        └──── status writes (only on change) <─┘  └── wake-ups: runtime.nextChange(), back-off
//                                                      expiries, probe periods, heartbeats
//
// Level-triggered: a sync reads the pod and the runtime's state and works out what to do,
// whatever happened before, so it is idempotent and a missed event costs nothing. One thread
// runs it; nothing polls: the thread sleeps on the Clock until the next thing due, so a
// FakeClock drives minutes of a node in milliseconds.
//
// Kubernetes behaviour kept: the pod phase and conditions (PodScheduled,
// PodReadyToStartContainers, Initialized, ContainersReady, Ready), container states with
// lastState and restartCount, image pull policies and ImagePullBackOff, restart policies and
// CrashLoopBackOff (first restart at once, then 10 s doubling to 5 min, reset after 10 min),
// init containers, readiness/liveness/startup probes on their schedule, env from values,
// the downward API, ConfigMaps and Secrets (CreateContainerConfigError when missing),
// admission (pods, cpu, memory), graceful termination and the final deletion with grace 0,
// and events with Kubernetes' reasons and messages.

#include "core/base/clock.h"
#include "core/base/result.h"
#include "core/store/store.h"
#include "runtime/containerruntime.h"

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace podscape::core::kubelet {

class IpAllocator;

struct KubeletOptions {
    std::string nodeName = "node-1";
    // Pods get IPs from 127.244.<nodeIndex>.0/24 and the node is 127.243.<nodeIndex>.1 unless
    // (indexes 256-3071: 127.<244 + index/256>.<index%256>.0/24 and 127.243.<index%256>.<1 + index/256>)
    // podCIDR / nodeIP say otherwise. Indexes must differ between nodes: start() refuses a
    // pod CIDR another Node already has.
    int nodeIndex = 0;
    std::string podCIDR;
    std::string nodeIP;

    std::string cpu = "4";
    std::string memory = "8Gi";
    std::string ephemeralStorage = "100Gi";
    int maxPods = 110;
    // Allocatable = capacity minus the eviction thresholds (Kubernetes' defaults).
    std::string evictionMemory = "100Mi";
    int evictionStoragePercent = 10;
    std::map<std::string, std::string> labels; // added to the Node's own labels

    std::string osImage = "Podscape Simulated Linux 1.0";
    std::string kernelVersion = "6.8.0-podscape";
    std::string architecture = "amd64";
    std::string operatingSystem = "linux";
    std::string kubeletVersion = "v1.32.0-podscape";
    int kubeletPort = 10250;

    // How often the Node's conditions get a new lastHeartbeatTime.
    Clock::Duration heartbeatInterval = std::chrono::seconds(10);
    // Sleep at most this long with nothing due (a safety net; everything is scheduled).
    Clock::Duration resyncInterval = std::chrono::minutes(1);
};

// Where the kubelet's events go: the involved object (or an ObjectReference), "Normal" or
// "Warning", a reason and a message. The default writes Events into the store.
using EventSink = std::function<void(const nlohmann::json &involvedObject, std::string_view type,
                                     std::string_view reason, const std::string &message)>;

class Kubelet
{
public:
    static constexpr int MaxNodeIndex = 256 * 12 - 1; // pod ranges up to 127.255.x.0/24
    Kubelet(store::Store &store, std::unique_ptr<runtime::ContainerRuntime> runtime, Clock &clock = Clock::system(),
            KubeletOptions options = {}, EventSink events = {});
    ~Kubelet(); // stops
    Kubelet(const Kubelet &) = delete;
    Kubelet &operator=(const Kubelet &) = delete;

    // Registers the Node (or brings its status up to date) and starts the sync loop. Invalid
    // when the options are (a bad CIDR or quantity); AlreadyExists when another Node holds
    // the pod CIDR. After stop(), resumes: pods are relisted and reconciled with the runtime.
    Result<void> start();
    // Halts everything the kubelet does (heartbeats, pod syncs, status writes), as when a node
    // fails: containers in the runtime keep whatever state they had.
    void stop();
    bool isRunning() const;

    const std::string &nodeName() const { return m_options.nodeName; }
    const KubeletOptions &options() const { return m_options; }
    std::string nodeIP() const { return m_nodeIP; }
    std::string podCIDR() const { return m_podCIDR; }
    runtime::ContainerRuntime &runtime() { return *m_runtime; }

    // For tests and tools driving a FakeClock: waits (in real time) until the sync loop has
    // handled everything due at the clock's current time and sleeps. False on timeout.
    bool waitIdle(std::chrono::milliseconds timeout) const;
    // When the sleeping loop wakes up next (valid once waitIdle() returned true).
    Clock::TimePoint nextWakeup() const;
    // Pods this kubelet is running or finishing.
    size_t podCount() const;

    // The subresources the API server forwards to the node: logs (previous: the instance
    // before the current one), exec, attach, port-forward. NotFound for a pod that is not on
    // this node; BadRequest for a container the pod does not have or that has not started.
    Result<std::vector<runtime::LogLine>> containerLogs(const std::string &ns, const std::string &pod,
                                                        const std::string &container,
                                                        const runtime::LogOptions &options) const;
    Result<std::unique_ptr<runtime::LogStream>> followContainerLogs(const std::string &ns, const std::string &pod,
                                                                    const std::string &container,
                                                                    const runtime::LogOptions &options);
    Result<std::unique_ptr<runtime::StreamSession>> exec(const std::string &ns, const std::string &pod,
                                                         const std::string &container,
                                                         const runtime::ExecOptions &options);
    Result<std::unique_ptr<runtime::StreamSession>> attach(const std::string &ns, const std::string &pod,
                                                           const std::string &container,
                                                           const runtime::AttachOptions &options);
    Result<std::unique_ptr<runtime::StreamSession>> portForward(const std::string &ns, const std::string &pod, int port);

    // Usage of running containers, for metrics (metrics-server's summary API in Kubernetes).
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
    std::vector<PodUsage> podUsage() const;

private:
    struct PodRecord;
    struct ContainerRecord;

    void run();
    // Pod source: a list, then a watch of this node's pods; a watch that ends is relisted.
    bool relist();
    void drainWatch();
    void onPod(const store::ObjectPtr &pod);
    void onPodDeleted(const nlohmann::json &pod);
    void markDirty(const std::string &uid);
    void schedule(PodRecord &rec, std::optional<Clock::TimePoint> at);

    // Node
    Result<void> registerNode();
    void heartbeat(Clock::TimePoint now);
    nlohmann::json nodeStatus(const nlohmann::json *previous, Clock::TimePoint now) const;
    void recordNodeEvent(std::string_view type, std::string_view reason, const std::string &message);

    // Pods (kubelet.cpp: the state machine)
    void syncPod(PodRecord &rec, Clock::TimePoint now);
    bool admit(PodRecord &rec, Clock::TimePoint now);
    bool ensureSandbox(PodRecord &rec, Clock::TimePoint now);
    // One container toward running; returns true when it did something the runtime may
    // already have finished (so the sync goes round again).
    bool syncContainer(PodRecord &rec, ContainerRecord &c, Clock::TimePoint now, bool mayStart);
    bool ensureImage(PodRecord &rec, ContainerRecord &c, Clock::TimePoint now);
    bool startContainer(PodRecord &rec, ContainerRecord &c, Clock::TimePoint now);
    void runProbes(PodRecord &rec, ContainerRecord &c, const runtime::ContainerStatus &status, Clock::TimePoint now);
    void killPod(PodRecord &rec, Clock::TimePoint now);
    void finishPod(PodRecord &rec, Clock::TimePoint now);
    void teardown(PodRecord &rec);
    nlohmann::json computeStatus(PodRecord &rec, Clock::TimePoint now);
    void writeStatus(PodRecord &rec, Clock::TimePoint now);
    void podEvent(const PodRecord &rec, const ContainerRecord *c, std::string_view type, std::string_view reason,
                  const std::string &message);
    PodRecord *findPod(const std::string &ns, const std::string &name) const;
    Result<std::pair<std::string, std::string>> resolveContainer(const std::string &ns, const std::string &pod,
                                                                 const std::string &container, bool previous) const;

    store::Store &m_store;
    std::unique_ptr<runtime::ContainerRuntime> m_runtime;
    Clock &m_clock;
    KubeletOptions m_options;
    EventSink m_events;
    std::shared_ptr<void> m_defaultRecorder; // keeps the default event recorder alive
    std::string m_nodeIP;
    std::string m_podCIDR;
    Clock::TimePoint m_bootTime;
    std::unique_ptr<IpAllocator> m_ips;

    // The sync loop's state: touched by its thread, read under m_stateMutex by the API calls.
    mutable std::mutex m_stateMutex;
    std::map<std::string, std::unique_ptr<PodRecord>> m_pods; // by uid
    std::set<std::string> m_dirty;
    std::set<std::pair<Clock::TimePoint, std::string>> m_timers; // (when, uid)
    std::shared_ptr<store::Watcher> m_watcher;
    Clock::TimePoint m_nextHeartbeat{};
    std::vector<std::string> m_reportedImages;

    // Waking the loop. Shared with the watch's notify callback, which the store may still
    // call after the watch was stopped. Its mutex is never held while calling the store (the
    // store notifies under its own locks); it guards the fields below too.
    struct Waker {
        std::mutex mutex;
        std::condition_variable cv;
        bool wake = false;
        std::set<std::string> changedSandboxes; // reported by the runtime's change notifier
    };
    std::shared_ptr<Waker> m_waker = std::make_shared<Waker>();
    mutable std::condition_variable m_idleCv;
    bool m_stopping = false;
    bool m_running = false;
    bool m_sleeping = false;
    Clock::TimePoint m_sleepUntil{};
    std::thread m_thread;
    std::mutex m_lifecycleMutex;
};

} // namespace podscape::core::kubelet
