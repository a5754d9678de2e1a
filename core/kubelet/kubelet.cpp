#include "kubelet.h"

#include "backoff.h"
#include "envresolver.h"
#include "ipallocator.h"
#include "podstatus.h"
#include "runtime/imagereference.h"

#include "core/base/logger.h"
#include "core/base/timeformat.h"
#include "core/events/eventrecorder.h"
#include "core/model/defaulter.h"
#include "core/model/object.h"
#include "core/model/quantity.h"

#include <algorithm>
#include <cstdio>

namespace podscape::core::kubelet {

using nlohmann::json;
using namespace std::chrono_literals;
using TimePoint = Clock::TimePoint;
using Duration = Clock::Duration;

namespace {

constexpr std::string_view kNormal = "Normal";
constexpr std::string_view kWarning = "Warning";
// After a sync that ended in an error (a failed pull, a crash in back-off) the pod worker
// looks again this much later: why ErrImagePull shows before ImagePullBackOff, and a
// crashed container's terminated state before CrashLoopBackOff.
constexpr Duration kErrorResync = 1s;
// A container whose configuration cannot be built (missing ConfigMap...) is retried so.
constexpr Duration kConfigRetry = 10s;
constexpr size_t kMaxNodeImages = 50;

std::string str(const json &o, std::string_view key)
{
    if (!o.is_object())
        return {};
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string quote(const std::string &s) { return "\"" + s + "\""; }

uint64_t hashOf(std::string_view s)
{
    uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s)
        h = (h ^ c) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

std::string hexId(std::string_view seed, int digits)
{
    std::string out;
    char buf[17];
    uint64_t h = hashOf(seed);
    while (int(out.size()) < digits) {
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
        out += buf;
        h = hashOf(std::string(buf) + std::string(seed));
    }
    return out.substr(0, size_t(digits));
}

std::string uuidFrom(std::string_view seed)
{
    std::string h = hexId(seed, 32);
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20, 12);
}

int64_t intField(const json &o, std::string_view key, int64_t fallback)
{
    if (!o.is_object())
        return fallback;
    auto it = o.find(key);
    return it != o.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

std::string joinNames(const std::vector<std::string> &names)
{
    std::string out = "[";
    for (size_t i = 0; i < names.size(); ++i)
        out += (i ? " " : "") + names[i];
    return out + "]";
}

// Quantity text to a number; `milli` for millicores.
std::optional<int64_t> parseQuantity(const std::string &text, bool milli)
{
    auto q = model::Quantity::parse(text);
    if (!q || q->sign() < 0)
        return std::nullopt;
    return milli ? q->milliValue() : q->value();
}

struct ProbeState {
    bool configured = false;
    runtime::ProbeSpec spec;
    Duration initialDelay{0};
    Duration period{10s};
    int successThreshold = 1;
    int failureThreshold = 3;
    std::optional<int64_t> terminationGrace;
    std::optional<TimePoint> next;
    int successes = 0;
    int failures = 0;
};

// A probe from the container spec; nullopt when there is none.
std::optional<ProbeState> probeFrom(const json &container, const char *field, runtime::ProbeType type)
{
    auto it = container.find(field);
    if (it == container.end() || !it->is_object())
        return std::nullopt;
    const json &p = *it;
    ProbeState s;
    s.configured = true;
    s.spec.type = type;
    auto port = [&](const json &handler) -> int {
        auto pt = handler.find("port");
        if (pt == handler.end())
            return 0;
        if (pt->is_number_integer())
            return pt->get<int>();
        if (pt->is_string()) {
            std::string name = pt->get<std::string>();
            for (const auto &cp : container.value("ports", json::array()))
                if (str(cp, "name") == name)
                    return int(intField(cp, "containerPort", 0));
            if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos)
                return std::atoi(name.c_str());
        }
        return 0;
    };
    if (auto h = p.find("httpGet"); h != p.end() && h->is_object()) {
        s.spec.handler = runtime::ProbeSpec::Handler::HttpGet;
        s.spec.path = str(*h, "path").empty() ? "/" : str(*h, "path");
        s.spec.scheme = str(*h, "scheme").empty() ? "HTTP" : str(*h, "scheme");
        s.spec.port = port(*h);
    } else if (auto t = p.find("tcpSocket"); t != p.end() && t->is_object()) {
        s.spec.handler = runtime::ProbeSpec::Handler::TcpSocket;
        s.spec.port = port(*t);
    } else if (auto g = p.find("grpc"); g != p.end() && g->is_object()) {
        s.spec.handler = runtime::ProbeSpec::Handler::Grpc;
        s.spec.port = port(*g);
    } else if (auto e = p.find("exec"); e != p.end() && e->is_object()) {
        s.spec.handler = runtime::ProbeSpec::Handler::Exec;
        for (const auto &a : e->value("command", json::array()))
            if (a.is_string())
                s.spec.command.push_back(a.get<std::string>());
    } else {
        return std::nullopt;
    }
    s.initialDelay = std::chrono::seconds(std::max<int64_t>(0, intField(p, "initialDelaySeconds", 0)));
    s.period = std::chrono::seconds(std::max<int64_t>(1, intField(p, "periodSeconds", 10)));
    s.spec.timeout = std::chrono::seconds(std::max<int64_t>(1, intField(p, "timeoutSeconds", 1)));
    s.successThreshold = int(std::max<int64_t>(1, intField(p, "successThreshold", 1)));
    s.failureThreshold = int(std::max<int64_t>(1, intField(p, "failureThreshold", 3)));
    if (p.contains("terminationGracePeriodSeconds") && p["terminationGracePeriodSeconds"].is_number_integer())
        s.terminationGrace = p["terminationGracePeriodSeconds"].get<int64_t>();
    return s;
}

} // namespace

// ---- records ----------------------------------------------------------------------------------

struct Kubelet::ContainerRecord {
    std::string name;
    bool init = false;
    bool sidecar = false; // an init container with restartPolicy Always
    std::string currentId;  // the runtime's id of the newest instance
    std::string previousId; // the one before it (kept for logs --previous)
    int instances = 0;
    int restartCount = 0;
    bool startedEvent = false; // "Started" recorded for currentId
    bool exitSeen = false;
    std::optional<runtime::ImagePull> pull; // a pull for the next instance
    TimePoint pullRequestedAt{};
    Backoff pullBackoff;
    Backoff crashBackoff;
    std::optional<TimePoint> pullBackoffEventFor; // the back-off window already announced
    std::optional<TimePoint> crashBackoffEventFor;
    std::optional<TimePoint> restartDecidedFor; // the exit whose restart is under way
    std::optional<TimePoint> pullFailedAt;
    std::string pulledEventFor; // instance number the "already present" event was recorded for
    // Why the container waits, when it does (set by each sync).
    std::string waitingReason;
    std::string waitingMessage;
    std::string configErrorEvent; // the last CreateContainerConfigError announced
    // Probes of the current instance.
    std::string probesFor;
    ProbeState readiness;
    ProbeState liveness;
    ProbeState startup;
    bool ready = false;
    bool started = false; // the startup probe (if any) succeeded
    bool killRequested = false;
    std::string stoppingFor; // the instance a graceful stop was sent to
    // Filled by computeStatus, read by the log API.
    std::string stateId;
    std::string lastStateId;
};

struct Kubelet::PodRecord {
    std::string uid;
    std::string ns;
    std::string name;
    store::ObjectPtr pod; // as last seen
    bool gone = false;    // deleted from the store
    bool built = false;
    bool admitted = false;
    bool rejected = false;
    std::string rejectReason;
    std::string rejectMessage;
    bool terminal = false;  // Succeeded or Failed: nothing restarts
    std::string finalPhase;
    bool finishing = false; // deletion: containers stopped, final status and delete pending
    bool deleted = false;   // the final delete was sent
    std::string sandboxId;
    bool sandboxReady = false;
    bool sandboxStopped = false;
    std::string podIP;
    std::optional<TimePoint> sandboxRetryAt;
    std::optional<TimePoint> startTime;
    std::optional<TimePoint> killDeadline;
    int64_t killGrace = -1;
    std::vector<std::unique_ptr<ContainerRecord>> inits;
    std::vector<std::unique_ptr<ContainerRecord>> containers;
    std::string lastWrittenRv;
    std::optional<TimePoint> scheduledAt;
    std::optional<TimePoint> wake; // collected while syncing
    int64_t cpuRequest = 0;
    int64_t memoryRequest = 0;

    void wakeAt(TimePoint t)
    {
        if (!wake || t < *wake)
            wake = t;
    }
    const json &spec() const
    {
        static const json empty = json::object();
        auto it = pod->find("spec");
        return it != pod->end() && it->is_object() ? *it : empty;
    }
    std::string restartPolicy() const
    {
        std::string p = str(spec(), "restartPolicy");
        return p.empty() ? "Always" : p;
    }
    const json *containerSpec(const ContainerRecord &c) const
    {
        auto it = spec().find(c.init ? "initContainers" : "containers");
        if (it == spec().end() || !it->is_array())
            return nullptr;
        for (const auto &s : *it)
            if (str(s, "name") == c.name)
                return &s;
        return nullptr;
    }
    bool deleting() const { return pod && !str((*pod)["metadata"], "deletionTimestamp").empty(); }
};

// ---- construction and lifecycle ---------------------------------------------------------------

Kubelet::Kubelet(store::Store &store, std::unique_ptr<runtime::ContainerRuntime> runtime, Clock &clock,
                 KubeletOptions options, EventSink events)
    : m_store(store), m_runtime(std::move(runtime)), m_clock(clock), m_options(std::move(options)),
      m_events(std::move(events)), m_bootTime(clock.now())
{
    const int index = m_options.nodeIndex;
    // Indexes past 255 continue in 127.245-255 (pods) and in the node IP's last byte.
    const std::string lo = std::to_string(index % 256);
    m_podCIDR = !m_options.podCIDR.empty() ? m_options.podCIDR : "127." + std::to_string(244 + index / 256) + "." + lo + ".0/24";
    m_nodeIP = !m_options.nodeIP.empty() ? m_options.nodeIP : "127.243." + lo + "." + std::to_string(1 + index / 256);
    // Called on the runtime's threads; the waker outlives neither, as the runtime is ours.
    m_runtime->setChangeNotifier([waker = m_waker](const std::string &sandboxId) {
        std::lock_guard lock(waker->mutex);
        waker->changedSandboxes.insert(sandboxId);
        waker->wake = true;
        waker->cv.notify_all();
    });
    if (!m_events) {
        auto recorder = std::make_shared<events::EventRecorder>(m_store, m_clock, "kubelet", m_options.nodeName);
        m_defaultRecorder = recorder;
        m_events = [r = recorder.get()](const json &object, std::string_view type, std::string_view reason,
                                        const std::string &message) { r->record(object, type, reason, message); };
    }
}

Kubelet::~Kubelet() { stop(); }

bool Kubelet::isRunning() const
{
    std::lock_guard g(m_waker->mutex);
    return m_running;
}

Result<void> Kubelet::start()
{
    std::lock_guard life(m_lifecycleMutex);
    {
        std::lock_guard g(m_waker->mutex);
        if (m_running)
            return {};
    }
    if (!m_ips) {
        auto ips = IpAllocator::create(m_podCIDR);
        if (!ips)
            return ips.error();
        m_ips = std::make_unique<IpAllocator>(std::move(*ips));
    }
    if (m_options.nodeIndex < 0 || m_options.nodeIndex > MaxNodeIndex)
        return fail(Reason::Invalid, "node index " + std::to_string(m_options.nodeIndex) + " is out of range 0-" + std::to_string(MaxNodeIndex));
    for (const auto &[what, text, milli] : {std::tuple{"cpu", m_options.cpu, true}, {"memory", m_options.memory, false},
                                           {"ephemeral-storage", m_options.ephemeralStorage, false},
                                           {"eviction memory", m_options.evictionMemory, false}})
        if (!parseQuantity(text, milli))
            return fail(Reason::Invalid, std::string("invalid node ") + what + " \"" + text + "\": expected a quantity such as 4 or 8Gi");
    if (auto r = registerNode(); !r)
        return r;
    {
        std::lock_guard g(m_waker->mutex);
        m_stopping = false;
        m_running = true;
        m_waker->wake = true;
    }
    m_nextHeartbeat = m_clock.now() + m_options.heartbeatInterval;
    m_thread = std::thread([this] { run(); });
    return {};
}

void Kubelet::stop()
{
    std::lock_guard life(m_lifecycleMutex);
    {
        std::lock_guard g(m_waker->mutex);
        if (!m_running)
            return;
        m_stopping = true;
    }
    m_waker->cv.notify_all();
    if (m_thread.joinable())
        m_thread.join();
    {
        std::lock_guard state(m_stateMutex);
        if (m_watcher)
            m_watcher->stop();
        m_watcher.reset();
    }
    std::lock_guard g(m_waker->mutex);
    m_running = false;
    m_sleeping = false;
    m_idleCv.notify_all();
}

bool Kubelet::waitIdle(std::chrono::milliseconds timeout) const
{
    std::unique_lock lock(m_waker->mutex);
    return m_idleCv.wait_for(lock, timeout, [&] {
        return !m_running || (m_sleeping && !m_waker->wake && m_sleepUntil > m_clock.now());
    });
}

TimePoint Kubelet::nextWakeup() const
{
    std::lock_guard g(m_waker->mutex);
    return m_sleepUntil;
}

size_t Kubelet::podCount() const
{
    std::lock_guard g(m_stateMutex);
    return m_pods.size();
}

// ---- the loop ---------------------------------------------------------------------------------

void Kubelet::run()
{
    std::set<std::string> changedSandboxes;
    bool listed = false;
    TimePoint retryList{};
    while (true) {
        TimePoint deadline;
        {
            std::lock_guard state(m_stateMutex);
            deadline = std::min(m_nextHeartbeat, m_clock.now() + m_options.resyncInterval);
            if (!m_timers.empty())
                deadline = std::min(deadline, m_timers.begin()->first);
            if (!listed)
                deadline = std::min(deadline, retryList);
        }
        {
            std::unique_lock lock(m_waker->mutex);
            while (!m_stopping && !m_waker->wake && m_clock.now() < deadline) {
                m_sleeping = true;
                m_sleepUntil = deadline;
                m_idleCv.notify_all();
                m_clock.waitUntil(lock, m_waker->cv, deadline, [&] { return m_waker->wake || m_stopping; });
                m_sleeping = false;
            }
            m_waker->wake = false;
            if (m_stopping)
                break;
            changedSandboxes.swap(m_waker->changedSandboxes);
        }

        std::lock_guard state(m_stateMutex);
        const TimePoint now = m_clock.now();
        // A runtime with real processes reports exits nobody scheduled: sync those pods.
        if (!changedSandboxes.empty()) {
            for (const auto &[uid, rec] : m_pods)
                if (!rec->sandboxId.empty() && changedSandboxes.count(rec->sandboxId))
                    m_dirty.insert(uid);
            changedSandboxes.clear();
        }
        if (!listed || !m_watcher || m_watcher->isStopped()) {
            listed = relist();
            if (!listed)
                retryList = now + 1s;
        }
        drainWatch();
        if (now >= m_nextHeartbeat) {
            heartbeat(now);
            m_nextHeartbeat = now + m_options.heartbeatInterval;
        }
        while (!m_timers.empty() && m_timers.begin()->first <= now) {
            auto [when, uid] = *m_timers.begin();
            m_timers.erase(m_timers.begin());
            if (auto it = m_pods.find(uid); it != m_pods.end()) {
                it->second->scheduledAt.reset();
                m_dirty.insert(uid);
            }
        }
        // Syncing writes status, whose watch events come back; they only mark pods dirty
        // again when someone else changed them.
        std::set<std::string> dirty;
        dirty.swap(m_dirty);
        for (const auto &uid : dirty) {
            auto it = m_pods.find(uid);
            if (it == m_pods.end())
                continue;
            PodRecord &rec = *it->second;
            syncPod(rec, now);
            if (rec.gone && rec.sandboxId.empty() && !rec.scheduledAt)
                m_pods.erase(uid);
        }
    }
    std::lock_guard g(m_waker->mutex);
    m_sleeping = false;
    m_idleCv.notify_all();
}

bool Kubelet::relist()
{
    if (m_watcher) {
        m_watcher->stop();
        m_watcher.reset();
    }
    store::ListOptions list;
    list.fields = model::FieldSelector::oneTermEqual("spec.nodeName", m_options.nodeName);
    auto pods = m_store.list("pods", list);
    if (!pods) {
        PS_LOG(Warning, "kubelet") << m_options.nodeName << ": cannot list pods: " << pods.error().message();
        return false;
    }
    store::WatchOptions wo;
    wo.fields = list.fields;
    wo.fromRevision = pods->revision;
    auto watcher = m_store.watch("pods", wo);
    if (!watcher) {
        PS_LOG(Warning, "kubelet") << m_options.nodeName << ": cannot watch pods: " << watcher.error().message();
        return false;
    }
    std::set<std::string> seen;
    for (const auto &p : pods->items) {
        seen.insert(str((*p)["metadata"], "uid"));
        onPod(p);
    }
    // Pods deleted while nobody watched.
    for (auto &[uid, rec] : m_pods)
        if (!seen.count(uid) && !rec->gone) {
            rec->gone = true;
            markDirty(uid);
        }
    m_watcher = *watcher;
    m_watcher->setNotify([waker = m_waker] {
        {
            std::lock_guard g(waker->mutex);
            waker->wake = true;
        }
        waker->cv.notify_all();
    });
    return true;
}

void Kubelet::drainWatch()
{
    if (!m_watcher)
        return;
    for (auto &e : m_watcher->drain()) {
        switch (e.type) {
        case store::EventType::Added:
        case store::EventType::Modified:
            onPod(e.object);
            break;
        case store::EventType::Deleted:
            onPodDeleted(*e.object);
            break;
        case store::EventType::Error:
            // Fell behind or the history was compacted: list again.
            m_watcher.reset();
            {
                std::lock_guard g(m_waker->mutex);
                m_waker->wake = true;
            }
            return;
        case store::EventType::Bookmark:
            break;
        }
    }
}

void Kubelet::onPod(const store::ObjectPtr &pod)
{
    const json &meta = (*pod)["metadata"];
    std::string uid = str(meta, "uid");
    auto &slot = m_pods[uid];
    if (!slot) {
        slot = std::make_unique<PodRecord>();
        slot->uid = uid;
        slot->ns = str(meta, "namespace");
        slot->name = str(meta, "name");
    }
    // Our own status write coming back changes nothing.
    if (!slot->lastWrittenRv.empty() && slot->lastWrittenRv == str(meta, "resourceVersion")) {
        slot->pod = pod;
        return;
    }
    slot->pod = pod;
    markDirty(uid);
}

void Kubelet::onPodDeleted(const json &pod)
{
    std::string uid = str(pod["metadata"], "uid");
    auto it = m_pods.find(uid);
    if (it == m_pods.end())
        return;
    it->second->gone = true;
    markDirty(uid);
}

void Kubelet::markDirty(const std::string &uid) { m_dirty.insert(uid); }

void Kubelet::schedule(PodRecord &rec, std::optional<TimePoint> at)
{
    if (rec.scheduledAt) {
        if (at && *at == *rec.scheduledAt)
            return;
        m_timers.erase({*rec.scheduledAt, rec.uid});
        rec.scheduledAt.reset();
    }
    if (at) {
        // A wake-up that is already due would spin the loop; every due thing was just handled.
        const TimePoint floor = m_clock.now() + 1ms;
        if (*at < floor)
            at = floor;
        m_timers.insert({*at, rec.uid});
        rec.scheduledAt = at;
    }
}

// ---- the node ---------------------------------------------------------------------------------

json Kubelet::nodeStatus(const json *previous, TimePoint now) const
{
    const std::string nowText = formatRfc3339(now);
    const int64_t memory = *parseQuantity(m_options.memory, false);
    const int64_t storage = *parseQuantity(m_options.ephemeralStorage, false);
    const int64_t eviction = *parseQuantity(m_options.evictionMemory, false);
    const int64_t allocMemory = std::max<int64_t>(0, memory - eviction);
    const int64_t allocStorage = storage / 100 * (100 - std::clamp(m_options.evictionStoragePercent, 0, 100));
    const std::string cpu = model::Quantity::fromMilli(*parseQuantity(m_options.cpu, true)).toString();

    json status = previous && previous->is_object() ? *previous : json::object();
    // Memory and storage in Ki as the kubelet reads them from the machine; allocatable
    // storage in bytes, as it computes it.
    status["capacity"] = {{"cpu", cpu},
                          {"ephemeral-storage", std::to_string(storage / 1024) + "Ki"},
                          {"hugepages-1Gi", "0"},
                          {"hugepages-2Mi", "0"},
                          {"memory", std::to_string(memory / 1024) + "Ki"},
                          {"pods", std::to_string(m_options.maxPods)}};
    status["allocatable"] = {{"cpu", cpu},
                             {"ephemeral-storage", std::to_string(allocStorage)},
                             {"hugepages-1Gi", "0"},
                             {"hugepages-2Mi", "0"},
                             {"memory", std::to_string(allocMemory / 1024) + "Ki"},
                             {"pods", std::to_string(m_options.maxPods)}};
    json conditions = status.value("conditions", json::array());
    struct Want {
        const char *type, *status, *reason, *message;
    };
    const Want wants[] = {
        {"MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"},
        {"DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"},
        {"PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"},
        {"Ready", "True", "KubeletReady", "kubelet is posting ready status"},
    };
    std::vector<Want> all(std::begin(wants), std::end(wants));
    const auto extra = m_runtime->conditions();
    for (const auto &c : extra)
        all.push_back({c.type.c_str(), c.status.c_str(), c.reason.c_str(), c.message.c_str()});
    json out = json::array();
    for (const auto &w : all) {
        json c = {{"type", w.type}, {"status", w.status}, {"lastHeartbeatTime", nowText},
                  {"lastTransitionTime", nowText}, {"reason", w.reason}, {"message", w.message}};
        if (const json *old = findCondition(conditions, w.type); old && str(*old, "status") == w.status
                                                                 && old->contains("lastTransitionTime"))
            c["lastTransitionTime"] = (*old)["lastTransitionTime"];
        out.push_back(std::move(c));
    }
    status["conditions"] = std::move(out);
    status["addresses"] = json::array({{{"type", "InternalIP"}, {"address", m_nodeIP}},
                                       {{"type", "Hostname"}, {"address", m_options.nodeName}}});
    status["daemonEndpoints"] = {{"kubeletEndpoint", {{"Port", m_options.kubeletPort}}}};
    status["nodeInfo"] = {{"machineID", hexId("machine/" + m_options.nodeName, 32)},
                          {"systemUUID", uuidFrom("system/" + m_options.nodeName)},
                          {"bootID", uuidFrom("boot/" + m_options.nodeName + "/" + std::to_string(m_bootTime.time_since_epoch().count()))},
                          {"kernelVersion", m_options.kernelVersion},
                          {"osImage", m_options.osImage},
                          {"containerRuntimeVersion", m_runtime->versionString()},
                          {"kubeletVersion", m_options.kubeletVersion},
                          {"kubeProxyVersion", ""},
                          {"operatingSystem", m_options.operatingSystem},
                          {"architecture", m_options.architecture}};
    // The largest images, as the kubelet reports at most 50.
    auto images = m_runtime->listImages();
    std::sort(images.begin(), images.end(), [](const auto &a, const auto &b) { return a.sizeBytes > b.sizeBytes; });
    if (images.size() > kMaxNodeImages)
        images.resize(kMaxNodeImages);
    json list = json::array();
    for (const auto &i : images)
        list.push_back({{"names", i.names}, {"sizeBytes", i.sizeBytes}});
    if (list.empty())
        status.erase("images");
    else
        status["images"] = std::move(list);
    return status;
}

void Kubelet::recordNodeEvent(std::string_view type, std::string_view reason, const std::string &message)
{
    // Node events name the node by its name as uid, as the kubelet does.
    json ref = {{"kind", "Node"},
                {"apiVersion", "v1"},
                {"metadata", {{"name", m_options.nodeName}, {"uid", m_options.nodeName}}}};
    m_events(ref, type, reason, message);
}

Result<void> Kubelet::registerNode()
{
    // Another node with our pod CIDR would hand out the same IPs.
    if (auto nodes = m_store.list("nodes")) {
        for (const auto &n : nodes->items) {
            if (str((*n)["metadata"], "name") == m_options.nodeName)
                continue;
            if (str(n->value("spec", json::object()), "podCIDR") == m_podCIDR)
                return fail(Reason::AlreadyExists, "node " + quote(str((*n)["metadata"], "name")) + " already has pod CIDR "
                                                       + m_podCIDR + "; give node " + quote(m_options.nodeName)
                                                       + " another node index");
        }
    }
    const TimePoint now = m_clock.now();
    json labels = {{"beta.kubernetes.io/arch", m_options.architecture},
                   {"beta.kubernetes.io/os", m_options.operatingSystem},
                   {"kubernetes.io/arch", m_options.architecture},
                   {"kubernetes.io/hostname", m_options.nodeName},
                   {"kubernetes.io/os", m_options.operatingSystem}};
    for (const auto &[k, v] : m_options.labels)
        labels[k] = v;
    bool wasReady = false;
    auto existing = m_store.get("nodes", "", m_options.nodeName);
    if (existing) {
        wasReady = model::Node(**existing).isReady();
        auto updated = m_store.modify("nodes", "", m_options.nodeName, [&](json &node) -> Result<bool> {
            for (auto &[k, v] : labels.items())
                node["metadata"]["labels"][k] = v;
            node["spec"]["podCIDR"] = m_podCIDR;
            node["spec"]["podCIDRs"] = json::array({m_podCIDR});
            const json previous = node.value("status", json::object());
            node["status"] = nodeStatus(&previous, now);
            return true;
        });
        if (!updated)
            return updated.error();
    } else {
        json node = {{"apiVersion", "v1"},
                     {"kind", "Node"},
                     {"metadata",
                      {{"name", m_options.nodeName},
                       {"labels", labels},
                       {"annotations",
                        {{"node.alpha.kubernetes.io/ttl", "0"},
                         {"volumes.kubernetes.io/controller-managed-attach-detach", "true"}}}}},
                     {"spec", {{"podCIDR", m_podCIDR}, {"podCIDRs", json::array({m_podCIDR})}}},
                     {"status", nodeStatus(nullptr, now)}};
        auto created = m_store.create("nodes", node);
        if (!created)
            return created.error();
    }
    recordNodeEvent(kNormal, "Starting", "Starting kubelet.");
    recordNodeEvent(kNormal, "NodeHasSufficientMemory", "Node " + m_options.nodeName + " status is now: NodeHasSufficientMemory");
    recordNodeEvent(kNormal, "NodeHasNoDiskPressure", "Node " + m_options.nodeName + " status is now: NodeHasNoDiskPressure");
    recordNodeEvent(kNormal, "NodeHasSufficientPID", "Node " + m_options.nodeName + " status is now: NodeHasSufficientPID");
    recordNodeEvent(kNormal, "NodeAllocatableEnforced", "Updated Node Allocatable limit across pods");
    if (!wasReady)
        recordNodeEvent(kNormal, "NodeReady", "Node " + m_options.nodeName + " status is now: NodeReady");
    return {};
}

void Kubelet::heartbeat(TimePoint now)
{
    bool becameReady = false;
    auto r = m_store.modify("nodes", "", m_options.nodeName, [&](json &node) -> Result<bool> {
        const json previous = node.value("status", json::object());
        becameReady = !model::Node(node).isReady();
        node["status"] = nodeStatus(&previous, now);
        return true;
    });
    if (!r && r.error().reason() == Reason::NotFound) {
        // Someone deleted our Node: register again, as the kubelet does.
        if (auto again = registerNode(); !again) {
            PS_LOG(Warning, "kubelet") << m_options.nodeName << ": cannot register: " << again.error().message();
        }
        return;
    }
    if (!r) {
        PS_LOG(Warning, "kubelet") << m_options.nodeName << ": heartbeat failed: " << r.error().message();
        return;
    }
    if (becameReady)
        recordNodeEvent(kNormal, "NodeReady", "Node " + m_options.nodeName + " status is now: NodeReady");
}

// ---- events -----------------------------------------------------------------------------------

void Kubelet::podEvent(const PodRecord &rec, const ContainerRecord *, std::string_view type, std::string_view reason,
                       const std::string &message)
{
    if (rec.pod)
        m_events(*rec.pod, type, reason, message);
}

// ---- pods -------------------------------------------------------------------------------------

bool Kubelet::admit(PodRecord &rec, TimePoint)
{
    rec.cpuRequest = podRequestMilliCpu(rec.spec());
    rec.memoryRequest = podRequestMemory(rec.spec());
    int active = 0;
    int64_t cpuUsed = 0, memoryUsed = 0;
    for (const auto &[uid, other] : m_pods) {
        if (other.get() == &rec || !other->admitted || other->terminal || other->rejected || other->gone)
            continue;
        ++active;
        cpuUsed += other->cpuRequest;
        memoryUsed += other->memoryRequest;
    }
    const int64_t cpuCap = *parseQuantity(m_options.cpu, true);
    const int64_t memCap = std::max<int64_t>(0, *parseQuantity(m_options.memory, false) - *parseQuantity(m_options.evictionMemory, false));
    auto reject = [&](const std::string &resource, int64_t requested, int64_t used, int64_t capacity) {
        rec.rejected = true;
        rec.rejectReason = "OutOf" + resource;
        rec.rejectMessage = "Pod was rejected: Node didn't have enough resource: " + resource + ", requested: "
                            + std::to_string(requested) + ", used: " + std::to_string(used)
                            + ", capacity: " + std::to_string(capacity);
        podEvent(rec, nullptr, kWarning, rec.rejectReason, rec.rejectMessage);
        return false;
    };
    if (active >= m_options.maxPods)
        return reject("pods", 1, active, m_options.maxPods);
    if (rec.cpuRequest > 0 && cpuUsed + rec.cpuRequest > cpuCap)
        return reject("cpu", rec.cpuRequest, cpuUsed, cpuCap);
    if (rec.memoryRequest > 0 && memoryUsed + rec.memoryRequest > memCap)
        return reject("memory", rec.memoryRequest, memoryUsed, memCap);
    rec.admitted = true;
    return true;
}

bool Kubelet::ensureSandbox(PodRecord &rec, TimePoint now)
{
    if (!rec.sandboxId.empty())
        return rec.sandboxReady;
    if (rec.sandboxRetryAt && now < *rec.sandboxRetryAt) {
        rec.wakeAt(*rec.sandboxRetryAt);
        return false;
    }
    const bool hostNetwork = rec.spec().value("hostNetwork", false);
    std::string ip = m_nodeIP;
    if (!hostNetwork) {
        // A pod that already had an IP (the kubelet restarted) keeps it.
        std::string had = str(rec.pod->value("status", json::object()), "podIP");
        if (!had.empty() && m_ips->reserve(had, rec.uid)) {
            ip = had;
        } else {
            auto allocated = m_ips->allocate(rec.uid);
            if (!allocated) {
                podEvent(rec, nullptr, kWarning, "FailedCreatePodSandBox",
                         "Failed to create pod sandbox: plugin type=\"host-local\" failed (add): "
                             + allocated.error().message());
                rec.sandboxRetryAt = now + 10s;
                rec.wakeAt(*rec.sandboxRetryAt);
                return false;
            }
            ip = *allocated;
        }
    }
    runtime::PodSandboxConfig config;
    config.podUid = rec.uid;
    config.podName = rec.name;
    config.podNamespace = rec.ns;
    config.hostname = str(rec.spec(), "hostname").empty() ? rec.name : str(rec.spec(), "hostname");
    config.ip = ip;
    config.hostIP = m_nodeIP;
    config.hostNetwork = hostNetwork;
    model::Pod pod(*rec.pod);
    config.labels = pod.labels();
    config.annotations = pod.annotations();
    auto id = m_runtime->runPodSandbox(config);
    if (!id) {
        podEvent(rec, nullptr, kWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: " + id.error().message());
        if (!hostNetwork)
            m_ips->release(rec.uid);
        rec.sandboxRetryAt = now + 10s;
        rec.wakeAt(*rec.sandboxRetryAt);
        return false;
    }
    rec.sandboxId = *id;
    rec.sandboxReady = true;
    rec.podIP = ip;
    rec.sandboxRetryAt.reset();
    return true;
}

bool Kubelet::ensureImage(PodRecord &rec, ContainerRecord &c, TimePoint now)
{
    const json *spec = rec.containerSpec(c);
    const std::string image = spec ? str(*spec, "image") : std::string();
    auto ref = runtime::ImageReference::parse(image);
    if (!ref) {
        std::string msg = "Failed to apply default image tag " + quote(image) + ": " + ref.error().message();
        if (c.waitingReason != "InvalidImageName" || c.waitingMessage != msg) {
            podEvent(rec, &c, kWarning, "InspectFailed", msg);
            podEvent(rec, &c, kWarning, "Failed", "Error: InvalidImageName");
        }
        c.waitingReason = "InvalidImageName";
        c.waitingMessage = msg;
        return false;
    }
    std::string policy = spec ? str(*spec, "imagePullPolicy") : std::string();
    if (policy.empty())
        policy = model::defaultImagePullPolicy(image);
    const std::string instanceKey = std::to_string(c.instances);
    if (!c.pull) {
        const bool present = m_runtime->imageStatus(image).has_value();
        if (policy == "Never" || (policy == "IfNotPresent" && present)) {
            if (!present) {
                std::string msg = "Container image " + quote(image) + " is not present with pull policy of Never";
                if (c.waitingReason != "ErrImageNeverPull")
                    podEvent(rec, &c, kWarning, "ErrImageNeverPull", msg);
                c.waitingReason = "ErrImageNeverPull";
                c.waitingMessage = msg;
                return false;
            }
            if (c.pulledEventFor != instanceKey) {
                podEvent(rec, &c, kNormal, "Pulled", "Container image " + quote(image) + " already present on machine");
                c.pulledEventFor = instanceKey;
            }
            return true;
        }
        if (c.pullBackoff.isInBackoffSinceUpdate(now)) {
            const TimePoint until = *c.pullBackoff.lastUpdate() + c.pullBackoff.current();
            // Right after a failure the pod shows ErrImagePull; the next sync, ImagePullBackOff.
            if (c.pullFailedAt && now < *c.pullFailedAt + kErrorResync) {
                rec.wakeAt(*c.pullFailedAt + kErrorResync);
                return false;
            }
            std::string msg = "Back-off pulling image " + quote(image);
            if (c.pullBackoffEventFor != c.pullBackoff.lastUpdate()) {
                podEvent(rec, &c, kNormal, "BackOff", msg);
                podEvent(rec, &c, kWarning, "Failed", "Error: ImagePullBackOff");
                c.pullBackoffEventFor = c.pullBackoff.lastUpdate();
            }
            c.waitingReason = "ImagePullBackOff";
            c.waitingMessage = msg;
            rec.wakeAt(until);
            return false;
        }
        auto pull = m_runtime->pullImage(image);
        if (!pull) {
            c.waitingReason = "InvalidImageName";
            c.waitingMessage = pull.error().message();
            return false;
        }
        podEvent(rec, &c, kNormal, "Pulling", "Pulling image " + quote(image));
        c.pull = *pull;
        c.pullRequestedAt = now;
    }
    if (c.pull->doneAt > now) {
        // While pulling, a container that failed to pull before keeps showing why.
        if (c.waitingReason != "ErrImagePull" && c.waitingReason != "ImagePullBackOff")
            c.waitingReason = "ContainerCreating", c.waitingMessage.clear();
        rec.wakeAt(c.pull->doneAt);
        return false;
    }
    runtime::ImagePull done = std::move(*c.pull);
    c.pull.reset();
    if (done.failure) {
        std::string msg = "Failed to pull image " + quote(image) + ": rpc error: code = NotFound desc = " + done.failure->message();
        podEvent(rec, &c, kWarning, "Failed", msg);
        podEvent(rec, &c, kWarning, "Failed", "Error: ErrImagePull");
        c.pullBackoff.next(done.doneAt, done.doneAt);
        c.pullFailedAt = done.doneAt;
        c.waitingReason = "ErrImagePull";
        c.waitingMessage = "rpc error: code = NotFound desc = " + done.failure->message();
        rec.wakeAt(done.doneAt + kErrorResync);
        return false;
    }
    c.pullFailedAt.reset();
    c.pullBackoff.reset();
    podEvent(rec, &c, kNormal, "Pulled",
             "Successfully pulled image " + quote(image) + " in " + formatGoDuration(done.doneAt - done.startedAt) + " ("
                 + formatGoDuration(done.doneAt - c.pullRequestedAt) + " including waiting). Image size: "
                 + std::to_string(done.info.sizeBytes) + " bytes.");
    c.pulledEventFor = instanceKey;
    return true;
}

bool Kubelet::startContainer(PodRecord &rec, ContainerRecord &c, TimePoint now)
{
    if (!ensureImage(rec, c, now))
        return false;
    const json *spec = rec.containerSpec(c);
    if (!spec)
        return false;

    EnvResolver::PodContext context;
    context.podIP = rec.podIP;
    context.hostIP = m_nodeIP;
    context.nodeName = m_options.nodeName;
    context.nodeCpuMilli = *parseQuantity(m_options.cpu, true);
    context.nodeMemoryBytes = *parseQuantity(m_options.memory, false);
    auto env = EnvResolver(m_store).resolve(*rec.pod, *spec, context);
    if (!env) {
        const std::string &msg = env.error().message();
        if (c.configErrorEvent != msg) {
            podEvent(rec, &c, kWarning, "Failed", "Error: " + msg);
            c.configErrorEvent = msg;
        }
        c.waitingReason = "CreateContainerConfigError";
        c.waitingMessage = msg;
        rec.wakeAt(now + kConfigRetry);
        return false;
    }
    c.configErrorEvent.clear();
    std::map<std::string, std::string> vars(env->begin(), env->end());

    runtime::ContainerConfig config;
    config.name = c.name;
    config.image = str(*spec, "image");
    for (const auto &a : spec->value("command", json::array()))
        if (a.is_string())
            config.command.push_back(EnvResolver::expand(a.get<std::string>(), vars));
    for (const auto &a : spec->value("args", json::array()))
        if (a.is_string())
            config.args.push_back(EnvResolver::expand(a.get<std::string>(), vars));
    config.env = *env;
    config.workingDir = str(*spec, "workingDir");
    for (const auto &p : spec->value("ports", json::array()))
        if (int port = int(intField(p, "containerPort", 0)); port > 0)
            config.ports.push_back(port);
    config.stdinOpen = spec->value("stdin", false);
    config.tty = spec->value("tty", false);
    const json limits = spec->value("resources", json::object()).value("limits", json::object());
    if (auto cpu = parseQuantity(str(limits, "cpu"), true))
        config.cpuLimitMilli = *cpu;
    if (auto mem = parseQuantity(str(limits, "memory"), false))
        config.memoryLimitBytes = *mem;
    config.attempt = c.instances;
    config.annotations = model::Pod(*rec.pod).annotations();
    if (auto lc = spec->find("lifecycle"); lc != spec->end() && lc->is_object() && lc->contains("preStop")) {
        const json &hook = (*lc)["preStop"];
        if (hook.is_object() && hook.contains("sleep")) {
            config.preStop = runtime::ProbeSpec{};
            config.preStop->handler = runtime::ProbeSpec::Handler::Exec;
            config.preStop->command = {"sleep", std::to_string(intField(hook["sleep"], "seconds", 0))};
        } else {
            // A hook has a probe's handlers; named ports resolve against the container's.
            json holder = {{"preStop", hook}, {"ports", spec->value("ports", json::array())}};
            if (auto p = probeFrom(holder, "preStop", runtime::ProbeType::Liveness))
                config.preStop = p->spec;
        }
    }

    auto id = m_runtime->createContainer(rec.sandboxId, config);
    if (!id) {
        const std::string msg = id.error().message();
        if (c.waitingReason != "CreateContainerError" || c.waitingMessage != msg)
            podEvent(rec, &c, kWarning, "Failed", "Error: " + msg);
        c.waitingReason = "CreateContainerError";
        c.waitingMessage = msg;
        rec.wakeAt(now + kConfigRetry);
        return false;
    }
    // Keep the instance before this one for `logs --previous`; older ones go.
    if (!c.previousId.empty())
        (void)m_runtime->removeContainer(c.previousId);
    c.previousId = c.currentId;
    c.currentId = *id;
    if (c.instances > 0)
        ++c.restartCount;
    ++c.instances;
    c.startedEvent = false;
    c.exitSeen = false;
    c.ready = false;
    c.started = false;
    c.killRequested = false;
    c.probesFor.clear();
    c.waitingReason.clear();
    c.waitingMessage.clear();
    podEvent(rec, &c, kNormal, "Created", "Created container: " + c.name);
    if (auto started = m_runtime->startContainer(*id); !started) {
        podEvent(rec, &c, kWarning, "Failed", "Error: " + started.error().message());
        c.waitingReason = "RunContainerError";
        c.waitingMessage = started.error().message();
        return false;
    }
    return true;
}

void Kubelet::runProbes(PodRecord &rec, ContainerRecord &c, const runtime::ContainerStatus &status, TimePoint now)
{
    const json *spec = rec.containerSpec(c);
    if (!spec || !status.startedAt)
        return;
    const TimePoint startedAt = *status.startedAt;
    if (c.probesFor != c.currentId) {
        c.probesFor = c.currentId;
        auto configure = [&](ProbeState &state, const char *field, runtime::ProbeType type) {
            auto p = probeFrom(*spec, field, type);
            state = p ? *p : ProbeState{};
            if (state.configured)
                state.next = startedAt + state.initialDelay;
        };
        configure(c.startup, "startupProbe", runtime::ProbeType::Startup);
        configure(c.readiness, "readinessProbe", runtime::ProbeType::Readiness);
        configure(c.liveness, "livenessProbe", runtime::ProbeType::Liveness);
        c.started = !c.startup.configured;
        c.ready = false;
    }
    const int64_t podGrace = intField(rec.spec(), "terminationGracePeriodSeconds", 30);
    auto kill = [&](const ProbeState &state, const std::string &which) {
        podEvent(rec, &c, kNormal, "Killing", "Container " + c.name + " failed " + which + " probe, will be restarted");
        int64_t grace = state.terminationGrace.value_or(podGrace);
        (void)m_runtime->stopContainer(c.currentId, std::chrono::seconds(std::max<int64_t>(0, grace)));
        c.killRequested = true;
        c.ready = false;
    };
    // Runs a probe when due (once, however many periods were missed) and schedules the next.
    auto due = [&](ProbeState &state) -> std::optional<runtime::ProbeResult> {
        if (!state.configured || !state.next)
            return std::nullopt;
        if (*state.next > now) {
            rec.wakeAt(*state.next);
            return std::nullopt;
        }
        while (*state.next <= now)
            *state.next += state.period;
        rec.wakeAt(*state.next);
        auto r = m_runtime->probe(c.currentId, state.spec);
        if (!r)
            return std::nullopt;
        return *r;
    };
    auto unhealthy = [&](const ProbeState &state, const runtime::ProbeResult &r) {
        podEvent(rec, &c, kWarning, "Unhealthy",
                 std::string(runtime::probeTypeName(state.spec.type)) + " probe failed: " + r.message);
    };
    if (c.killRequested)
        return;

    if (!c.started) {
        if (auto r = due(c.startup)) {
            if (r->success) {
                c.started = true;
                c.startup.failures = 0;
            } else {
                unhealthy(c.startup, *r);
                if (++c.startup.failures >= c.startup.failureThreshold) {
                    kill(c.startup, "startup");
                    return;
                }
            }
        }
        if (!c.started)
            return;
        // Readiness and liveness begin once the startup probe passed.
        for (ProbeState *s : {&c.readiness, &c.liveness})
            if (s->configured && s->next && *s->next < now)
                s->next = now;
    }

    if (!c.readiness.configured) {
        c.ready = true;
    } else if (auto r = due(c.readiness)) {
        if (r->success) {
            c.readiness.failures = 0;
            if (++c.readiness.successes >= c.readiness.successThreshold)
                c.ready = true;
        } else {
            c.readiness.successes = 0;
            unhealthy(c.readiness, *r);
            if (++c.readiness.failures >= c.readiness.failureThreshold)
                c.ready = false;
        }
    }
    if (auto r = due(c.liveness)) {
        if (r->success) {
            c.liveness.failures = 0;
        } else {
            unhealthy(c.liveness, *r);
            if (++c.liveness.failures >= c.liveness.failureThreshold)
                kill(c.liveness, "liveness");
        }
    }
}

bool Kubelet::syncContainer(PodRecord &rec, ContainerRecord &c, TimePoint now, bool mayStart)
{
    c.waitingReason = c.waitingReason == "ErrImagePull" || c.waitingReason == "ImagePullBackOff" ? c.waitingReason : "";
    if (c.waitingReason.empty())
        c.waitingMessage.clear();
    const std::string policy = rec.restartPolicy();
    if (!c.currentId.empty()) {
        auto st = m_runtime->containerStatus(c.currentId);
        if (!st) {
            // The runtime lost it (it was restarted): start afresh.
            c.currentId.clear();
        } else if (st->state == runtime::ContainerState::Created) {
            c.waitingReason.clear();
            return false;
        } else if (st->state == runtime::ContainerState::Running) {
            c.waitingReason.clear();
            c.pullFailedAt.reset();
            if (!c.startedEvent) {
                podEvent(rec, &c, kNormal, "Started", "Started container " + c.name);
                c.startedEvent = true;
            }
            runProbes(rec, c, *st, now);
            return false;
        } else {
            c.waitingReason.clear();
            if (!c.startedEvent && st->startedAt) {
                podEvent(rec, &c, kNormal, "Started", "Started container " + c.name);
                c.startedEvent = true;
            }
            if (!c.exitSeen) {
                c.exitSeen = true;
                c.ready = false;
            }
            const bool success = st->exitCode == 0;
            bool restart = policy == "Always" || (policy == "OnFailure" && !success);
            if (c.init)
                restart = c.sidecar || (!success && policy != "Never");
            if (!restart || !mayStart)
                return false;
            const TimePoint finished = st->finishedAt.value_or(now);
            if (c.restartDecidedFor != finished && c.crashBackoff.isInBackoffSince(finished, now)) {
                const Duration wait = c.crashBackoff.current();
                if (now < finished + kErrorResync) {
                    // First the terminated state, then CrashLoopBackOff.
                    rec.wakeAt(finished + kErrorResync);
                    return false;
                }
                const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(wait).count();
                c.waitingReason = "CrashLoopBackOff";
                c.waitingMessage = "back-off " + formatGoDuration(std::chrono::seconds(seconds)) + " restarting failed container="
                                   + c.name + " pod=" + rec.name + "_" + rec.ns + "(" + rec.uid + ")";
                if (c.crashBackoffEventFor != finished) {
                    podEvent(rec, &c, kWarning, "BackOff",
                             "Back-off restarting failed container " + c.name + " in pod " + rec.name + "_" + rec.ns
                                 + "(" + rec.uid + ")");
                    c.crashBackoffEventFor = finished;
                }
                rec.wakeAt(finished + wait);
                return false;
            }
            if (c.restartDecidedFor != finished) {
                // Restarting now (perhaps after a pull): the next crash waits longer.
                c.crashBackoff.next(finished, now);
                c.restartDecidedFor = finished;
            }
        }
    }
    if (!mayStart)
        return false;
    return startContainer(rec, c, now);
}

void Kubelet::killPod(PodRecord &rec, TimePoint now)
{
    // The grace period counts from when the kubelet sees the deletion; a later delete with a
    // shorter one brings the end forward, never back.
    const json &meta = (*rec.pod)["metadata"];
    const int64_t grace = std::max<int64_t>(0, intField(meta, "deletionGracePeriodSeconds",
                                                        intField(rec.spec(), "terminationGracePeriodSeconds", 30)));
    if (!rec.killDeadline || grace != rec.killGrace) {
        TimePoint candidate = now + std::chrono::seconds(grace);
        rec.killDeadline = rec.killDeadline ? std::min(*rec.killDeadline, candidate) : candidate;
        rec.killGrace = grace;
    }
    for (auto *list : {&rec.inits, &rec.containers}) {
        for (auto &c : *list) {
            c->pull.reset();
            c->waitingReason.clear();
            if (c->currentId.empty())
                continue;
            auto st = m_runtime->containerStatus(c->currentId);
            if (!st || st->state == runtime::ContainerState::Exited)
                continue;
            if (c->stoppingFor != c->currentId) {
                podEvent(rec, c.get(), kNormal, "Killing", "Stopping container " + c->name);
                c->stoppingFor = c->currentId;
            }
            (void)m_runtime->stopContainer(c->currentId, std::max(Duration(0), *rec.killDeadline - now));
        }
    }
}

void Kubelet::teardown(PodRecord &rec)
{
    if (!rec.sandboxId.empty()) {
        (void)m_runtime->stopPodSandbox(rec.sandboxId);
        (void)m_runtime->removePodSandbox(rec.sandboxId);
        rec.sandboxId.clear();
    }
    rec.sandboxReady = false;
    rec.sandboxStopped = true;
    if (m_ips)
        m_ips->release(rec.uid);
}

void Kubelet::finishPod(PodRecord &rec, TimePoint now)
{
    rec.finishing = true;
    writeStatus(rec, now);
    store::DeleteOptions options;
    options.gracePeriodSeconds = 0;
    options.preconditionUid = rec.uid;
    auto r = m_store.remove("pods", rec.ns, rec.name, options);
    if (r || r.error().reason() == Reason::NotFound || r.error().reason() == Reason::Conflict) {
        rec.deleted = true;
        teardown(rec);
    } else {
        PS_LOG(Warning, "kubelet") << m_options.nodeName << ": cannot delete pod " << rec.ns << "/" << rec.name << ": "
                                   << r.error().message();
        rec.wakeAt(now + 1s);
    }
}

void Kubelet::syncPod(PodRecord &rec, TimePoint now)
{
    rec.wake.reset();
    if (rec.gone) {
        // Deleted from the API (by us after a graceful stop, or forcibly): nothing may keep
        // running, and the IP is free again.
        teardown(rec);
        schedule(rec, std::nullopt);
        return;
    }
    if (!rec.pod || rec.deleted)
        return;
    if (!rec.built) {
        rec.built = true;
        for (const char *list : {"initContainers", "containers"}) {
            for (const auto &s : rec.spec().value(list, json::array())) {
                auto c = std::make_unique<ContainerRecord>();
                c->name = str(s, "name");
                c->init = std::string_view(list) == "initContainers";
                c->sidecar = c->init && str(s, "restartPolicy") == "Always";
                (c->init ? rec.inits : rec.containers).push_back(std::move(c));
            }
        }
        // A pod that finished before we saw it (after a restart) stays finished.
        std::string phase = str(rec.pod->value("status", json::object()), "phase");
        if (phase == "Succeeded" || phase == "Failed") {
            rec.terminal = true;
            rec.admitted = true;
        }
        if (!rec.startTime) {
            auto had = str(rec.pod->value("status", json::object()), "startTime");
            if (auto t = parseRfc3339(had); !had.empty() && t)
                rec.startTime = *t;
            else
                rec.startTime = now;
        }
    }
    if (!rec.admitted && !rec.rejected)
        admit(rec, now);

    if (rec.deleting()) {
        killPod(rec, now);
        bool allStopped = true;
        for (auto *list : {&rec.inits, &rec.containers}) {
            for (auto &c : *list) {
                if (c->currentId.empty())
                    continue;
                if (auto st = m_runtime->containerStatus(c->currentId); st && st->state != runtime::ContainerState::Exited)
                    allStopped = false;
            }
        }
        if (allStopped) {
            finishPod(rec, now);
        } else {
            if (!rec.sandboxId.empty())
                if (auto next = m_runtime->nextChange(rec.sandboxId))
                    rec.wakeAt(*next);
            writeStatus(rec, now);
        }
        schedule(rec, rec.wake);
        return;
    }

    if (!rec.rejected && !rec.terminal) {
        for (int round = 0; round < 8; ++round) {
            if (!ensureSandbox(rec, now))
                break;
            bool progressed = false;
            // Init containers one at a time, in order; app containers once all succeeded.
            bool initialized = true;
            for (auto &c : rec.inits) {
                if (c->sidecar) {
                    // A sidecar: once it runs the next init container may start; it keeps
                    // running (and restarting) beside the app containers.
                    progressed = syncContainer(rec, *c, now, true) || progressed;
                    auto st = c->currentId.empty() ? Result<runtime::ContainerStatus>(Error(Reason::NotFound, ""))
                                                   : m_runtime->containerStatus(c->currentId);
                    if (st && st->state == runtime::ContainerState::Running)
                        continue;
                    initialized = false;
                    break;
                }
                bool succeeded = false;
                if (!c->currentId.empty())
                    if (auto st = m_runtime->containerStatus(c->currentId);
                        st && st->state == runtime::ContainerState::Exited && st->exitCode == 0)
                        succeeded = true;
                if (succeeded)
                    continue;
                initialized = false;
                progressed = syncContainer(rec, *c, now, true) || progressed;
                break;
            }
            for (auto &c : rec.containers) {
                progressed = syncContainer(rec, *c, now, initialized) || progressed;
                if (!initialized && c->currentId.empty() && c->waitingReason.empty())
                    c->waitingReason = "PodInitializing";
            }
            if (!progressed)
                break;
        }
        if (!rec.sandboxId.empty())
            if (auto next = m_runtime->nextChange(rec.sandboxId))
                rec.wakeAt(*next);
    }
    writeStatus(rec, now);
    schedule(rec, rec.wake);
}

// ---- status -----------------------------------------------------------------------------------

json Kubelet::computeStatus(PodRecord &rec, TimePoint now)
{
    const std::string prefix = m_runtime->name() + "://";
    auto fmt = [](TimePoint t) { return formatRfc3339(t); };
    auto terminated = [&](const runtime::ContainerStatus &s) {
        json t = {{"exitCode", s.exitCode}, {"reason", s.reason}, {"containerID", prefix + s.id}};
        if (s.startedAt)
            t["startedAt"] = fmt(*s.startedAt);
        if (s.finishedAt)
            t["finishedAt"] = fmt(*s.finishedAt);
        if (!s.message.empty())
            t["message"] = s.message;
        if (s.signal)
            t["signal"] = s.signal;
        return t;
    };
    // What each container looks like, plus what the phase needs to know.
    struct Shape {
        enum Kind { Waiting, Running, Terminated } kind = Waiting;
        int exitCode = 0;
        bool lastTerminated = false;
    };
    const bool podTerminal = rec.finishing || rec.rejected;
    auto containerStatus = [&](ContainerRecord &c, Shape &shape) {
        const json *spec = rec.containerSpec(c);
        json cs = {{"name", c.name}, {"image", spec ? str(*spec, "image") : std::string()}, {"imageID", ""},
                   {"ready", false}, {"restartCount", c.restartCount}, {"started", false},
                   {"state", json::object()}, {"lastState", json::object()}};
        c.stateId.clear();
        c.lastStateId.clear();
        std::optional<runtime::ContainerStatus> current, previous;
        if (!c.currentId.empty())
            if (auto s = m_runtime->containerStatus(c.currentId))
                current = *s;
        if (!c.previousId.empty())
            if (auto s = m_runtime->containerStatus(c.previousId))
                previous = *s;
        auto waiting = [&](const std::string &reason, const std::string &message) {
            json w = {{"reason", reason}};
            if (!message.empty())
                w["message"] = message;
            cs["state"] = {{"waiting", w}};
            shape.kind = Shape::Waiting;
        };
        if (current) {
            cs["imageID"] = current->imageId;
            cs["image"] = current->imageRef;
            cs["containerID"] = prefix + current->id;
        }
        if (current && current->state == runtime::ContainerState::Running) {
            cs["state"] = {{"running", {{"startedAt", fmt(*current->startedAt)}}}};
            cs["ready"] = c.ready && !podTerminal;
            cs["started"] = c.started;
            shape.kind = Shape::Running;
            c.stateId = current->id;
            if (previous) {
                cs["lastState"] = {{"terminated", terminated(*previous)}};
                c.lastStateId = previous->id;
            }
        } else if (current && current->state == runtime::ContainerState::Exited && c.waitingReason.empty()) {
            cs["state"] = {{"terminated", terminated(*current)}};
            shape.kind = Shape::Terminated;
            shape.exitCode = current->exitCode;
            c.stateId = current->id;
            if (previous) {
                cs["lastState"] = {{"terminated", terminated(*previous)}};
                c.lastStateId = previous->id;
            }
        } else if (current && current->state == runtime::ContainerState::Exited) {
            // Waiting to run again (CrashLoopBackOff, or pulling for the next instance).
            waiting(c.waitingReason, c.waitingMessage);
            cs["lastState"] = {{"terminated", terminated(*current)}};
            c.lastStateId = current->id;
            shape.lastTerminated = true;
        } else if (current) {
            waiting("ContainerCreating", {});
            if (previous) {
                cs["lastState"] = {{"terminated", terminated(*previous)}};
                c.lastStateId = previous->id;
                shape.lastTerminated = true;
            }
        } else {
            std::string reason = c.waitingReason.empty() ? (c.init ? "PodInitializing" : "ContainerCreating") : c.waitingReason;
            waiting(reason, c.waitingMessage);
        }
        if (podTerminal && shape.kind == Shape::Waiting) {
            // A finished pod has no waiting containers: the kubelet reports them as unknown.
            cs["state"] = {{"terminated",
                            {{"exitCode", 137},
                             {"reason", "ContainerStatusUnknown"},
                             {"message", "The container could not be located when the pod was terminated"}}}};
            shape.kind = Shape::Terminated;
            shape.exitCode = 137;
        }
        return cs;
    };

    json status = json::object();
    std::vector<std::string> notInitialized, notReady;
    json initStatuses = json::array(), statuses = json::array();
    bool initFailedForGood = false, initialized = true;
    for (auto &c : rec.inits) {
        Shape shape;
        json cs = containerStatus(*c, shape);
        bool done = c->sidecar ? shape.kind == Shape::Running || podTerminal || rec.terminal
                               : shape.kind == Shape::Terminated && shape.exitCode == 0;
        if (!done) {
            initialized = false;
            notInitialized.push_back(c->name);
        }
        if (!c->sidecar && shape.kind == Shape::Terminated && shape.exitCode != 0 && rec.restartPolicy() == "Never")
            initFailedForGood = true;
        if (!c->sidecar)
            cs["ready"] = done;
        initStatuses.push_back(std::move(cs));
    }
    int waiting = 0, running = 0, stopped = 0, succeeded = 0;
    std::vector<std::pair<std::string, json>> byName;
    for (auto &c : rec.containers) {
        Shape shape;
        json cs = containerStatus(*c, shape);
        if (!cs["ready"].get<bool>())
            notReady.push_back(c->name);
        switch (shape.kind) {
        case Shape::Running:
            ++running;
            break;
        case Shape::Terminated:
            ++stopped;
            if (shape.exitCode == 0)
                ++succeeded;
            break;
        case Shape::Waiting:
            if (shape.lastTerminated)
                ++stopped;
            else
                ++waiting;
            break;
        }
        byName.emplace_back(c->name, std::move(cs));
    }
    std::sort(byName.begin(), byName.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    for (auto &[n, cs] : byName)
        statuses.push_back(std::move(cs));

    // The phase, as the kubelet's getPhase works it out.
    std::string phase = "Pending";
    const std::string policy = rec.restartPolicy();
    if (rec.rejected || initFailedForGood) {
        phase = "Failed";
    } else if (!initialized) {
        phase = podTerminal ? "Failed" : "Pending";
    } else if (podTerminal) {
        phase = stopped == succeeded && waiting == 0 ? "Succeeded" : "Failed";
    } else if (waiting > 0) {
        phase = "Pending";
    } else if (running > 0) {
        phase = "Running";
    } else if (stopped > 0) {
        if (policy == "Always")
            phase = "Running";
        else if (stopped == succeeded)
            phase = "Succeeded";
        else if (policy == "Never")
            phase = "Failed";
        else
            phase = "Running";
    }
    std::string previousPhase = str(rec.pod->value("status", json::object()), "phase");
    if (previousPhase == "Succeeded" || previousPhase == "Failed")
        phase = previousPhase; // terminal phases are final
    if (!rec.finalPhase.empty())
        phase = rec.finalPhase;
    if (phase == "Succeeded" || phase == "Failed") {
        rec.terminal = true;
        rec.finalPhase = phase;
    }
    const bool terminal = phase == "Succeeded" || phase == "Failed";

    status["phase"] = phase;
    if (rec.rejected) {
        status["reason"] = rec.rejectReason;
        status["message"] = rec.rejectMessage;
        return status;
    }
    json conditions = json::array();
    auto cond = [&](const char *type, bool ok, std::string reason, std::string message) {
        json c = {{"type", type}, {"status", ok ? "True" : "False"}, {"lastProbeTime", nullptr}};
        if (!ok && !reason.empty())
            c["reason"] = reason;
        if (!ok && !message.empty())
            c["message"] = message;
        conditions.push_back(std::move(c));
    };
    cond("PodReadyToStartContainers", rec.sandboxReady, "", "");
    cond("Initialized", initialized, "ContainersNotInitialized", "containers with incomplete status: " + joinNames(notInitialized));
    bool containersReady = notReady.empty() && !terminal;
    std::string readyReason = terminal ? "PodCompleted" : "ContainersNotReady";
    std::string readyMessage = terminal ? "" : "containers with unready status: " + joinNames(notReady);
    // Readiness gates: conditions others set must be True too.
    bool gatesReady = true;
    std::string gateMessage;
    const json existingConditions = rec.pod->value("status", json::object()).value("conditions", json::array());
    for (const auto &gate : rec.spec().value("readinessGates", json::array())) {
        std::string type = str(gate, "conditionType");
        const json *c = findCondition(existingConditions, type);
        if (!c) {
            gatesReady = false;
            gateMessage = "corresponding condition of pod readiness gate " + quote(type) + " does not exist.";
        } else if (str(*c, "status") != "True") {
            gatesReady = false;
            gateMessage = "the status of pod readiness gate " + quote(type) + " is not \"True\", but " + str(*c, "status");
        }
    }
    if (containersReady && !gatesReady)
        cond("Ready", false, "ReadinessGatesNotReady", gateMessage);
    else
        cond("Ready", containersReady, readyReason, readyMessage);
    cond("ContainersReady", containersReady, readyReason, readyMessage);
    status["conditions"] = std::move(conditions);
    status["hostIP"] = m_nodeIP;
    status["hostIPs"] = json::array({{{"ip", m_nodeIP}}});
    std::string ip = rec.podIP.empty() ? str(rec.pod->value("status", json::object()), "podIP") : rec.podIP;
    if (!ip.empty()) {
        status["podIP"] = ip;
        status["podIPs"] = json::array({{{"ip", ip}}});
    }
    if (rec.startTime)
        status["startTime"] = fmt(*rec.startTime);
    if (!initStatuses.empty())
        status["initContainerStatuses"] = std::move(initStatuses);
    status["containerStatuses"] = std::move(statuses);
    status["qosClass"] = qosClass(rec.spec());
    (void)now;
    return status;
}

namespace {

// The kubelet's part of a pod's status laid over what is there: conditions keep their
// lastTransitionTime while unchanged, PodScheduled and conditions others own are kept.
json mergeStatus(const json &existing, const json &desired, const std::string &nowText)
{
    json merged = existing.is_object() ? existing : json::object();
    for (const char *key : {"phase", "reason", "message", "hostIP", "hostIPs", "podIP", "podIPs", "startTime",
                            "initContainerStatuses", "containerStatuses", "qosClass"}) {
        if (desired.contains(key))
            merged[key] = desired[key];
        else if (std::string_view(key) == "reason" || std::string_view(key) == "message")
            merged.erase(key);
    }
    const json old = existing.is_object() ? existing.value("conditions", json::array()) : json::array();
    json conditions = json::array();
    std::set<std::string> ours;
    for (const auto &c : desired.value("conditions", json::array())) {
        std::string type = str(c, "type");
        ours.insert(type);
        setCondition(conditions, type, str(c, "status"), str(c, "reason"), str(c, "message"), nowText, true);
        json &added = conditions.back();
        if (const json *prev = findCondition(old, type);
            prev && str(*prev, "status") == str(c, "status") && prev->contains("lastTransitionTime"))
            added["lastTransitionTime"] = (*prev)["lastTransitionTime"];
    }
    if (desired.contains("conditions")) {
        ours.insert("PodScheduled");
        if (const json *scheduled = findCondition(old, "PodScheduled"))
            conditions.push_back(*scheduled);
        else
            conditions.push_back({{"type", "PodScheduled"}, {"status", "True"}, {"lastProbeTime", nullptr},
                                  {"lastTransitionTime", nowText}});
        for (const auto &c : old)
            if (!ours.count(str(c, "type")))
                conditions.push_back(c);
        merged["conditions"] = std::move(conditions);
    }
    return merged;
}

} // namespace

void Kubelet::writeStatus(PodRecord &rec, TimePoint now)
{
    json desired = computeStatus(rec, now);
    if (rec.terminal && !rec.sandboxStopped && !rec.sandboxId.empty()) {
        // Finished: the sandbox stops and the IP is free (podIP stays in the status); the
        // containers stay until the pod is deleted, for `kubectl logs`.
        (void)m_runtime->stopPodSandbox(rec.sandboxId);
        rec.sandboxStopped = true;
        rec.sandboxReady = false;
        m_ips->release(rec.uid);
        desired = computeStatus(rec, now);
    }
    const std::string nowText = formatRfc3339(now);
    const json current = rec.pod->value("status", json::object());
    if (mergeStatus(current, desired, nowText) == current)
        return; // nothing changed: no write
    auto r = m_store.modify("pods", rec.ns, rec.name, [&](json &pod) -> Result<bool> {
        if (str(pod["metadata"], "uid") != rec.uid)
            return false; // a new pod with the same name
        const json existing = pod.value("status", json::object());
        json merged = mergeStatus(existing, desired, nowText);
        if (merged == existing)
            return false;
        pod["status"] = std::move(merged);
        return true;
    });
    if (r) {
        if (str((**r)["metadata"], "uid") == rec.uid) {
            rec.lastWrittenRv = str((**r)["metadata"], "resourceVersion");
            rec.pod = *r;
        }
    } else if (r.error().reason() != Reason::NotFound) {
        PS_LOG(Warning, "kubelet") << m_options.nodeName << ": cannot update status of pod " << rec.ns << "/" << rec.name
                                   << ": " << r.error().message();
        rec.wakeAt(now + 1s);
    }
}

// ---- API for the node's subresources ----------------------------------------------------------

Kubelet::PodRecord *Kubelet::findPod(const std::string &ns, const std::string &name) const
{
    PodRecord *best = nullptr;
    for (const auto &[uid, rec] : m_pods)
        if (rec->ns == ns && rec->name == name && !rec->gone)
            best = rec.get();
    return best;
}

Result<std::pair<std::string, std::string>> Kubelet::resolveContainer(const std::string &ns, const std::string &pod,
                                                                      const std::string &container, bool previous) const
{
    PodRecord *rec = findPod(ns, pod);
    if (!rec || !rec->built)
        return Error::notFound("pods", pod);
    std::vector<std::string> names;
    for (auto *list : {&rec->inits, &rec->containers})
        for (const auto &c : *list)
            names.push_back(c->name);
    std::string name = container;
    if (name.empty()) {
        if (rec->containers.size() + rec->inits.size() != 1)
            return fail(Reason::BadRequest, "a container name must be specified for pod " + pod + ", choose one of: "
                                                + joinNames(names));
        name = rec->containers.empty() ? rec->inits[0]->name : rec->containers[0]->name;
    }
    for (auto *list : {&rec->inits, &rec->containers}) {
        for (const auto &c : *list) {
            if (c->name != name)
                continue;
            if (previous) {
                if (c->lastStateId.empty())
                    return fail(Reason::BadRequest, "previous terminated container " + quote(name) + " in pod "
                                                        + quote(pod) + " not found");
                return std::make_pair(rec->sandboxId, c->lastStateId);
            }
            if (!c->stateId.empty())
                return std::make_pair(rec->sandboxId, c->stateId);
            if (!c->lastStateId.empty())
                return std::make_pair(rec->sandboxId, c->lastStateId);
            std::string reason = c->waitingReason.empty() ? (c->currentId.empty() ? "ContainerCreating" : "ContainerCreating")
                                                          : c->waitingReason;
            return fail(Reason::BadRequest, "container " + quote(name) + " in pod " + quote(pod)
                                                + " is waiting to start: " + reason);
        }
    }
    return fail(Reason::BadRequest, "container " + name + " is not valid for pod " + pod);
}

Result<std::vector<runtime::LogLine>> Kubelet::containerLogs(const std::string &ns, const std::string &pod,
                                                             const std::string &container,
                                                             const runtime::LogOptions &options) const
{
    std::lock_guard g(m_stateMutex);
    auto ids = resolveContainer(ns, pod, container, options.previous);
    if (!ids)
        return ids.error();
    return m_runtime->logs(ids->second, options);
}

Result<std::unique_ptr<runtime::LogStream>> Kubelet::followContainerLogs(const std::string &ns, const std::string &pod,
                                                                         const std::string &container,
                                                                         const runtime::LogOptions &options)
{
    std::lock_guard g(m_stateMutex);
    auto ids = resolveContainer(ns, pod, container, options.previous);
    if (!ids)
        return ids.error();
    return m_runtime->followLogs(ids->second, options);
}

Result<std::unique_ptr<runtime::StreamSession>> Kubelet::exec(const std::string &ns, const std::string &pod,
                                                              const std::string &container,
                                                              const runtime::ExecOptions &options)
{
    std::lock_guard g(m_stateMutex);
    auto ids = resolveContainer(ns, pod, container, false);
    if (!ids)
        return ids.error();
    return m_runtime->exec(ids->second, options);
}

Result<std::unique_ptr<runtime::StreamSession>> Kubelet::attach(const std::string &ns, const std::string &pod,
                                                                const std::string &container,
                                                                const runtime::AttachOptions &options)
{
    std::lock_guard g(m_stateMutex);
    auto ids = resolveContainer(ns, pod, container, false);
    if (!ids)
        return ids.error();
    return m_runtime->attach(ids->second, options);
}

Result<std::unique_ptr<runtime::StreamSession>> Kubelet::portForward(const std::string &ns, const std::string &pod, int port)
{
    std::lock_guard g(m_stateMutex);
    PodRecord *rec = findPod(ns, pod);
    if (!rec)
        return Error::notFound("pods", pod);
    if (rec->sandboxId.empty())
        return fail(Reason::BadRequest, "pod " + quote(pod) + " is not running");
    return m_runtime->portForward(rec->sandboxId, port);
}

std::vector<Kubelet::PodUsage> Kubelet::podUsage() const
{
    std::lock_guard g(m_stateMutex);
    std::vector<PodUsage> out;
    const TimePoint now = m_clock.now();
    for (const auto &[uid, rec] : m_pods) {
        if (rec->gone || rec->sandboxId.empty())
            continue;
        PodUsage usage{rec->ns, rec->name, now, {}};
        for (auto *list : {&rec->inits, &rec->containers})
            for (const auto &c : *list)
                if (!c->currentId.empty())
                    if (auto s = m_runtime->containerStats(c->currentId))
                        usage.containers.push_back({c->name, s->cpuMilli, s->memoryBytes});
        if (!usage.containers.empty())
            out.push_back(std::move(usage));
    }
    std::sort(out.begin(), out.end(), [](const PodUsage &a, const PodUsage &b) {
        return std::tie(a.ns, a.name) < std::tie(b.ns, b.name);
    });
    return out;
}

} // namespace podscape::core::kubelet
