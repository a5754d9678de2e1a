#include "simruntime.h"

#include <algorithm>
#include <cstdio>

namespace podscape::core::kubelet::runtime {

using namespace std::chrono_literals;

namespace {

uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t hashOf(std::string_view s)
{
    uint64_t h = 1469598103934665603ULL; // FNV-1a, then mixed
    for (unsigned char c : s)
        h = (h ^ c) * 1099511628211ULL;
    return mix(h);
}

std::string hex64(uint64_t a)
{
    std::string out;
    char buf[17];
    for (int i = 0; i < 4; ++i) {
        a = mix(a + uint64_t(i));
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(a));
        out += buf;
    }
    return out;
}

Error notFound(std::string_view what, const std::string &id)
{
    return Error(Reason::NotFound, std::string(what) + " \"" + id + "\" not found");
}

int64_t imageSize(ImageKind kind, const ImageReference &ref)
{
    switch (kind) {
    case ImageKind::Kubia:
        return 264'592'104;
    case ImageKind::Nginx:
        return 72'955'450;
    case ImageKind::HttpEcho:
        return 3'616'128;
    case ImageKind::Httpd:
        return 58'172'806;
    case ImageKind::Fortune:
        return 71'263'458;
    case ImageKind::Shell:
        return ref.name() == "busybox" ? 2'166'802 : (ref.name() == "alpine" ? 3'653'068 : 29'754'422);
    case ImageKind::Generic:
        break;
    }
    return int64_t(8'000'000 + hashOf(ref.normalized()) % 200'000'000);
}

ImageKind kindForSize(const ImageReference &ref)
{
    // The program's own classification needs a config; a bare reference is enough here.
    ContainerConfig c;
    c.image = ref.normalized();
    c.name = "x";
    auto p = SimProgram::build(c, {});
    return p ? p->kind() : ImageKind::Generic;
}

} // namespace

SimTiming SimTiming::realistic() { return {}; }

SimTiming SimTiming::instant()
{
    SimTiming t;
    t.pullMin = t.pullMax = t.repull = t.create = t.stop = Duration(0);
    t.fastTermination = true;
    return t;
}

struct SimRuntime::Image {
    ImageInfo info;
    std::optional<TimePoint> presentAt;
    std::optional<ImagePull> lastPull;
};

struct SimRuntime::Sandbox {
    PodSandboxStatus status;
    PodSandboxConfig config;
    std::vector<std::string> containers;
};

struct SimRuntime::Instance {
    std::string id;
    std::string sandboxId;
    ContainerConfig config;
    SimProgram program;
    ImageInfo image;
    TimePoint createdAt;
    std::optional<TimePoint> startAt; // Running from then on
    std::optional<TimePoint> termAt;  // SIGTERM
    std::optional<TimePoint> killAt;  // SIGKILL
    uint64_t seed = 0;
    int requests = 0;
    bool removed = false;
    // The log, generated lazily up to `loggedUntil`.
    std::deque<LogLine> log;
    uint64_t logSeq = 0; // lines ever logged: the seq of log.back() is logSeq - 1
    size_t startupDone = 0;
    uint64_t loopIteration = 0;
    size_t loopLine = 0;
    bool termLogged = false;
    std::optional<TimePoint> loggedUntil;
};

// ---- follow -----------------------------------------------------------------------------------

class SimRuntime::FollowStream final : public LogStream
{
public:
    FollowStream(const SimRuntime &runtime, std::shared_ptr<Instance> instance, LogOptions options)
        : m_runtime(runtime), m_instance(std::move(instance)), m_options(std::move(options))
    {}

    Chunk read(Duration timeout) override
    {
        std::unique_lock lock(m_runtime.m_mutex);
        const TimePoint deadline = m_runtime.m_clock.now() + timeout;
        while (true) {
            Chunk chunk;
            if (m_closed)
                return {{}, true};
            TimePoint now = m_runtime.m_clock.now();
            Instance &inst = *m_instance;
            m_runtime.catchUpLogs(inst, now);
            const uint64_t first = inst.logSeq - inst.log.size();
            if (!m_started) {
                // The first read: the existing log, filtered as asked.
                std::vector<LogLine> existing(inst.log.begin(), inst.log.end());
                chunk.lines = applyLogOptions(std::move(existing), m_options);
                m_cursor = inst.logSeq;
                m_started = true;
            } else {
                for (uint64_t seq = std::max(m_cursor, first); seq < inst.logSeq; ++seq)
                    chunk.lines.push_back(inst.log[size_t(seq - first)]);
                m_cursor = inst.logSeq;
            }
            auto exit = m_runtime.exitOf(inst);
            chunk.ended = inst.removed || (exit && exit->at <= now);
            if (!chunk.lines.empty() || chunk.ended || now >= deadline)
                return chunk;
            TimePoint wake = deadline;
            if (auto next = m_runtime.nextLogTime(inst))
                wake = std::min(wake, *next);
            if (exit)
                wake = std::min(wake, exit->at);
            const uint64_t seq = inst.logSeq;
            m_runtime.m_clock.waitUntil(lock, m_runtime.m_changed, wake,
                                        [&] { return m_closed || m_instance->logSeq != seq || m_instance->removed; });
        }
    }

    void close() override
    {
        std::lock_guard g(m_runtime.m_mutex);
        m_closed = true;
        m_runtime.m_changed.notify_all();
    }

private:
    const SimRuntime &m_runtime;
    std::shared_ptr<Instance> m_instance;
    LogOptions m_options;
    uint64_t m_cursor = 0;
    bool m_started = false;
    bool m_closed = false;
};

// ---- runtime ----------------------------------------------------------------------------------

SimRuntime::SimRuntime(Clock &clock, SimRuntimeOptions options)
    : m_clock(clock), m_options(std::move(options)), m_seedHash(hashOf(m_options.seed))
{
    if (m_options.logLimit == 0)
        m_options.logLimit = 1;
}

SimRuntime::~SimRuntime()
{
    std::lock_guard g(m_mutex);
    for (auto &[id, c] : m_containers)
        c->removed = true;
    m_changed.notify_all();
}

std::string SimRuntime::newId() { return hex64(m_seedHash ^ mix(m_nextId++)); }

bool SimRuntime::imageExists(const ImageReference &ref, std::string *why)
{
    const std::string path = ref.path();
    const bool missingRepo = path.find("doesnotexist") != std::string::npos || path.find("invalid") != std::string::npos;
    if (!missingRepo && ref.tag() != "broken")
        return true;
    if (why) {
        std::string n = ref.normalized();
        if (missingRepo)
            *why = "failed to pull and unpack image \"" + n + "\": failed to resolve reference \"" + n
                   + "\": pull access denied, repository does not exist or may require authorization: server "
                     "message: insufficient_scope: authorization failed";
        else
            *why = "failed to pull and unpack image \"" + n + "\": failed to resolve reference \"" + n + "\": " + n
                   + ": not found";
    }
    return false;
}

Duration SimRuntime::pullTime(const ImageReference &ref) const
{
    const auto &t = m_options.timing;
    if (t.pullMax <= t.pullMin)
        return t.pullMin;
    auto span = (t.pullMax - t.pullMin).count();
    return t.pullMin + Duration(int64_t(hashOf(ref.repository()) % uint64_t(span + 1)));
}

std::shared_ptr<SimRuntime::Instance> SimRuntime::find(const std::string &containerId) const
{
    auto it = m_containers.find(containerId);
    return it == m_containers.end() ? nullptr : it->second;
}

size_t SimRuntime::containerCount() const
{
    std::lock_guard g(m_mutex);
    return m_containers.size();
}

// ---- sandboxes --------------------------------------------------------------------------------

Result<std::string> SimRuntime::runPodSandbox(const PodSandboxConfig &config)
{
    std::lock_guard g(m_mutex);
    auto sandbox = std::make_unique<Sandbox>();
    sandbox->config = config;
    sandbox->status.id = newId();
    sandbox->status.state = SandboxState::Ready;
    sandbox->status.ip = config.ip;
    sandbox->status.createdAt = m_clock.now();
    std::string id = sandbox->status.id;
    m_sandboxes[id] = std::move(sandbox);
    return id;
}

Result<void> SimRuntime::stopPodSandbox(const std::string &sandboxId)
{
    std::lock_guard g(m_mutex);
    auto it = m_sandboxes.find(sandboxId);
    if (it == m_sandboxes.end())
        return notFound("sandbox", sandboxId);
    const TimePoint now = m_clock.now();
    for (const auto &cid : it->second->containers) {
        auto inst = find(cid);
        if (!inst)
            continue;
        auto exit = exitOf(*inst);
        if (exit && exit->at <= now)
            continue;
        catchUpLogs(*inst, now);
        if (!inst->termAt)
            inst->termAt = now;
        inst->killAt = now;
    }
    it->second->status.state = SandboxState::NotReady;
    m_changed.notify_all();
    return {};
}

Result<void> SimRuntime::removePodSandbox(const std::string &sandboxId)
{
    std::lock_guard g(m_mutex);
    auto it = m_sandboxes.find(sandboxId);
    if (it == m_sandboxes.end())
        return {}; // removing is idempotent, as in CRI
    for (const auto &cid : it->second->containers) {
        if (auto inst = find(cid)) {
            inst->removed = true;
            m_containers.erase(cid);
        }
    }
    m_sandboxes.erase(it);
    m_changed.notify_all();
    return {};
}

Result<PodSandboxStatus> SimRuntime::podSandboxStatus(const std::string &sandboxId) const
{
    std::lock_guard g(m_mutex);
    auto it = m_sandboxes.find(sandboxId);
    if (it == m_sandboxes.end())
        return notFound("sandbox", sandboxId);
    return it->second->status;
}

// ---- images -----------------------------------------------------------------------------------

Result<ImagePull> SimRuntime::pullImage(const std::string &image)
{
    auto ref = ImageReference::parse(image);
    if (!ref)
        return ref.error();
    std::lock_guard g(m_mutex);
    const TimePoint now = m_clock.now();
    Image &img = m_images[ref->normalized()];
    if (img.lastPull && img.lastPull->doneAt > now) {
        ImagePull joined = *img.lastPull;
        joined.image = image;
        return joined; // one pull per image at a time; later callers wait for it
    }
    ImagePull pull;
    pull.image = image;
    pull.startedAt = now;
    const bool present = img.presentAt && *img.presentAt <= now;
    pull.doneAt = now + (present ? m_options.timing.repull : pullTime(*ref));
    std::string why;
    if (!imageExists(*ref, &why)) {
        pull.failure = Error(Reason::NotFound, why);
    } else {
        if (img.info.id.empty()) {
            std::string digest = "sha256:" + hex64(hashOf(ref->normalized()));
            img.info.ref = ref->normalized();
            img.info.id = ref->repository() + "@" + digest;
            img.info.names = {img.info.id, ref->normalized()};
            img.info.sizeBytes = imageSize(kindForSize(*ref), *ref);
        }
        pull.info = img.info;
        if (!present)
            img.presentAt = pull.doneAt;
    }
    img.lastPull = pull;
    return pull;
}

std::optional<ImageInfo> SimRuntime::imageStatus(const std::string &image) const
{
    auto ref = ImageReference::parse(image);
    if (!ref)
        return std::nullopt;
    std::lock_guard g(m_mutex);
    auto it = m_images.find(ref->normalized());
    if (it == m_images.end() || !it->second.presentAt || *it->second.presentAt > m_clock.now())
        return std::nullopt;
    return it->second.info;
}

std::vector<ImageInfo> SimRuntime::listImages() const
{
    std::lock_guard g(m_mutex);
    const TimePoint now = m_clock.now();
    std::vector<ImageInfo> out;
    for (const auto &[ref, img] : m_images)
        if (img.presentAt && *img.presentAt <= now)
            out.push_back(img.info);
    return out;
}

// ---- containers -------------------------------------------------------------------------------

Result<std::string> SimRuntime::createContainer(const std::string &sandboxId, const ContainerConfig &config)
{
    auto info = imageStatus(config.image);
    std::lock_guard g(m_mutex);
    auto sb = m_sandboxes.find(sandboxId);
    if (sb == m_sandboxes.end() || sb->second->status.state != SandboxState::Ready)
        return Error(Reason::NotFound, "sandbox \"" + sandboxId + "\" is not ready");
    if (!info)
        return Error(Reason::NotFound, "failed to get image \"" + config.image + "\": image not present on the node");
    const auto &sc = sb->second->config;
    auto program = SimProgram::build(config, {sc.podName, sc.podNamespace, sc.ip, sc.hostIP});
    if (!program)
        return program.error();
    auto inst = std::make_shared<Instance>(Instance{});
    inst->id = newId();
    inst->sandboxId = sandboxId;
    inst->config = config;
    inst->program = std::move(*program);
    inst->image = *info;
    inst->createdAt = m_clock.now();
    inst->seed = hashOf(inst->id);
    m_containers[inst->id] = inst;
    sb->second->containers.push_back(inst->id);
    return inst->id;
}

Result<void> SimRuntime::startContainer(const std::string &containerId)
{
    std::lock_guard g(m_mutex);
    auto inst = find(containerId);
    if (!inst)
        return notFound("container", containerId);
    if (inst->startAt || inst->termAt)
        return Error(Reason::BadRequest, "container \"" + containerId + "\" was already started");
    inst->startAt = m_clock.now() + m_options.timing.create;
    m_changed.notify_all();
    return {};
}

Result<void> SimRuntime::stopContainer(const std::string &containerId, Duration gracePeriod)
{
    std::lock_guard g(m_mutex);
    auto inst = find(containerId);
    if (!inst)
        return notFound("container", containerId);
    const TimePoint now = m_clock.now();
    auto exit = exitOf(*inst);
    if (exit && exit->at <= now)
        return {};
    catchUpLogs(*inst, now);
    if (gracePeriod < Duration(0))
        gracePeriod = Duration(0);
    if (!inst->termAt)
        inst->termAt = now;
    TimePoint kill = now + gracePeriod;
    if (!inst->killAt || kill < *inst->killAt)
        inst->killAt = kill;
    m_changed.notify_all();
    return {};
}

Result<void> SimRuntime::removeContainer(const std::string &containerId)
{
    std::lock_guard g(m_mutex);
    auto inst = find(containerId);
    if (!inst)
        return {};
    inst->removed = true;
    if (auto sb = m_sandboxes.find(inst->sandboxId); sb != m_sandboxes.end())
        std::erase(sb->second->containers, containerId);
    m_containers.erase(containerId);
    m_changed.notify_all();
    return {};
}

std::optional<SimRuntime::Exit> SimRuntime::exitOf(const Instance &inst) const
{
    std::optional<Exit> best;
    auto consider = [&](TimePoint at, int code, std::string reason, bool bySignal) {
        if (!best || at < best->at)
            best = Exit{at, code, std::move(reason), bySignal};
    };
    // Stopped before it ever ran.
    if (inst.termAt && (!inst.startAt || *inst.termAt < *inst.startAt)) {
        consider(*inst.termAt, 137, "Error", true);
        return best;
    }
    if (!inst.startAt)
        return std::nullopt;
    if (auto after = inst.program.exitAfter())
        consider(*inst.startAt + *after, inst.program.exitCode(), inst.program.exitReason(), false);
    if (inst.termAt) {
        const auto &t = m_options.timing;
        if (t.fastTermination || !inst.program.ignoresSigterm()) {
            Duration stop = inst.program.stopAfter().value_or(t.stop);
            if (t.fastTermination)
                stop = std::min(stop, t.stop);
            TimePoint at = *inst.termAt + stop;
            if (!inst.killAt || at < *inst.killAt) {
                int code = inst.program.termExitCode();
                consider(at, code, code == 0 ? "Completed" : "Error", code != 0);
            }
        }
        if (inst.killAt)
            consider(*inst.killAt, 137, "Error", true);
    }
    return best;
}

ContainerStatus SimRuntime::statusOf(const Instance &inst, TimePoint now) const
{
    ContainerStatus s;
    s.id = inst.id;
    s.name = inst.config.name;
    s.createdAt = inst.createdAt;
    s.imageRef = inst.image.ref;
    s.imageId = inst.image.id;
    auto exit = exitOf(inst);
    if (exit && exit->at <= now) {
        s.state = ContainerState::Exited;
        if (inst.startAt && *inst.startAt <= exit->at)
            s.startedAt = *inst.startAt;
        s.finishedAt = exit->at;
        s.exitCode = exit->code;
        s.reason = exit->reason;
        s.signal = 0;
    } else if (inst.startAt && *inst.startAt <= now) {
        s.state = ContainerState::Running;
        s.startedAt = *inst.startAt;
    } else {
        s.state = ContainerState::Created;
    }
    return s;
}

Result<ContainerStatus> SimRuntime::containerStatus(const std::string &containerId) const
{
    std::lock_guard g(m_mutex);
    auto inst = find(containerId);
    if (!inst)
        return notFound("container", containerId);
    return statusOf(*inst, m_clock.now());
}

std::optional<TimePoint> SimRuntime::nextChange(const std::string &sandboxId) const
{
    std::lock_guard g(m_mutex);
    auto sb = m_sandboxes.find(sandboxId);
    if (sb == m_sandboxes.end())
        return std::nullopt;
    const TimePoint now = m_clock.now();
    std::optional<TimePoint> next;
    auto consider = [&](TimePoint t) {
        if (t > now && (!next || t < *next))
            next = t;
    };
    for (const auto &cid : sb->second->containers) {
        auto inst = find(cid);
        if (!inst)
            continue;
        if (inst->startAt)
            consider(*inst->startAt);
        if (auto exit = exitOf(*inst))
            consider(exit->at);
    }
    return next;
}

void SimRuntime::setChangeNotifier(std::function<void(const std::string &)> notify)
{
    // Every change of the simulation is scheduled (nextChange); nothing happens unannounced.
    std::lock_guard g(m_mutex);
    m_notify = std::move(notify);
}

Result<ProbeResult> SimRuntime::probe(const std::string &containerId, const ProbeSpec &spec)
{
    std::lock_guard g(m_mutex);
    auto inst = find(containerId);
    if (!inst)
        return notFound("container", containerId);
    const TimePoint now = m_clock.now();
    ContainerStatus s = statusOf(*inst, now);
    if (s.state != ContainerState::Running)
        return Error(Reason::BadRequest, "container \"" + containerId + "\" is not running");
    catchUpLogs(*inst, now);
    const Duration since = now - *inst->startAt;
    ProbeResult r = inst->program.probe(spec, since, inst->requests);
    // An HTTP probe that reached the program is a request it answers and logs.
    const bool reached = spec.handler == ProbeSpec::Handler::HttpGet && r.message.find("connection refused") == std::string::npos;
    if (reached) {
        auto response = inst->program.respond(spec.path, since, inst->requests);
        ++inst->requests;
        int status = r.success ? response.status : std::atoi(r.message.substr(r.message.rfind(' ') + 1).c_str());
        const auto &sc = m_sandboxes.count(inst->sandboxId) ? m_sandboxes.at(inst->sandboxId)->config : PodSandboxConfig{};
        if (auto line = inst->program.requestLine(sc.hostIP, spec.path, status, response.body.size(), true))
            appendLog(*inst, now, SimProgram::render(*line, now), false);
    }
    return r;
}

Result<SimProgram::Response> SimRuntime::serveRequest(const std::string &sandboxId, int port, const std::string &fromIp,
                                                      const std::string &path)
{
    std::lock_guard g(m_mutex);
    auto sb = m_sandboxes.find(sandboxId);
    if (sb == m_sandboxes.end())
        return notFound("sandbox", sandboxId);
    const TimePoint now = m_clock.now();
    const std::string target = sb->second->config.ip + ":" + std::to_string(port);
    for (const auto &cid : sb->second->containers) {
        auto inst = find(cid);
        if (!inst || statusOf(*inst, now).state != ContainerState::Running || !inst->program.listensOn(port))
            continue;
        catchUpLogs(*inst, now);
        const Duration since = now - *inst->startAt;
        auto response = inst->program.respond(path, since, inst->requests);
        ++inst->requests;
        if (auto line = inst->program.requestLine(fromIp, path, response.status, response.body.size(), false))
            appendLog(*inst, now, SimProgram::render(*line, now), false);
        return response;
    }
    return Error(Reason::ServiceUnavailable, "dial tcp " + target + ": connect: connection refused");
}

// ---- logs -------------------------------------------------------------------------------------

void SimRuntime::appendLog(Instance &inst, TimePoint at, std::string text, bool stderrStream) const
{
    inst.log.push_back({at, stderrStream, std::move(text)});
    ++inst.logSeq;
    while (inst.log.size() > m_options.logLimit)
        inst.log.pop_front();
    m_changed.notify_all();
}

std::optional<TimePoint> SimRuntime::nextLogTime(const Instance &inst) const
{
    if (!inst.startAt)
        return std::nullopt;
    const auto &startup = inst.program.startup();
    if (inst.startupDone < startup.size())
        return *inst.startAt + startup[inst.startupDone].at;
    if (const auto &loop = inst.program.loop(); loop && !loop->body.empty())
        return *inst.startAt + loop->firstAt + loop->period * int64_t(inst.loopIteration) + loop->body[inst.loopLine].at;
    return std::nullopt;
}

void SimRuntime::catchUpLogs(Instance &inst, TimePoint now) const
{
    if (!inst.startAt || *inst.startAt > now)
        return;
    TimePoint until = now;
    auto exit = exitOf(inst);
    if (exit)
        until = std::min(until, exit->at);
    const TimePoint start = *inst.startAt;
    const auto &program = inst.program;
    // The program's termination lines come when SIGTERM arrives, if it handles it.
    const bool termLines = inst.termAt && !program.ignoresSigterm() && !inst.termLogged && *inst.termAt >= start;
    if (inst.loggedUntil && *inst.loggedUntil >= until && !(termLines && *inst.termAt <= until))
        return;

    auto generate = [&](TimePoint limit) {
        const auto &startup = program.startup();
        while (inst.startupDone < startup.size() && start + startup[inst.startupDone].at <= limit) {
            const auto &l = startup[inst.startupDone++];
            appendLog(inst, start + l.at, SimProgram::render(l.text, start + l.at), l.stderrStream);
        }
        if (inst.startupDone < startup.size())
            return;
        const auto &loop = program.loop();
        if (!loop || loop->body.empty())
            return;
        const TimePoint loopStart = start + loop->firstAt;
        if (limit < loopStart)
            return;
        // Far behind (nobody read this log for a while): skip the iterations the bounded
        // log would drop anyway, keeping the line count so followers stay in step.
        const uint64_t perIteration = loop->body.size();
        const uint64_t due = uint64_t((limit - loopStart) / loop->period) + 1;
        const uint64_t keepIterations = m_options.logLimit / perIteration + 2;
        if (inst.loopLine == 0 && due > inst.loopIteration + keepIterations) {
            uint64_t skip = due - keepIterations - inst.loopIteration;
            inst.loopIteration += skip;
            inst.logSeq += skip * perIteration;
            inst.log.clear();
        }
        while (true) {
            TimePoint at = loopStart + loop->period * int64_t(inst.loopIteration) + loop->body[inst.loopLine].at;
            if (at > limit)
                break;
            const auto &l = loop->body[inst.loopLine];
            appendLog(inst, at, SimProgram::render(l.text, at), l.stderrStream);
            if (++inst.loopLine == loop->body.size()) {
                inst.loopLine = 0;
                ++inst.loopIteration;
            }
        }
    };

    if (termLines && *inst.termAt <= until) {
        generate(*inst.termAt);
        for (const auto &l : program.termLines())
            appendLog(inst, *inst.termAt, SimProgram::render(l.text, *inst.termAt), l.stderrStream);
        inst.termLogged = true;
    }
    generate(until);
    inst.loggedUntil = until;
}

Result<std::vector<LogLine>> SimRuntime::logs(const std::string &containerId, const LogOptions &options) const
{
    std::lock_guard g(m_mutex);
    auto inst = find(containerId);
    if (!inst)
        return notFound("container", containerId);
    catchUpLogs(*inst, m_clock.now());
    return applyLogOptions(std::vector<LogLine>(inst->log.begin(), inst->log.end()), options);
}

Result<std::unique_ptr<LogStream>> SimRuntime::followLogs(const std::string &containerId, const LogOptions &options)
{
    std::lock_guard g(m_mutex);
    auto inst = find(containerId);
    if (!inst)
        return notFound("container", containerId);
    return std::unique_ptr<LogStream>(std::make_unique<FollowStream>(*this, inst, options));
}

// ---- streams and stats ------------------------------------------------------------------------

Result<std::unique_ptr<StreamSession>> SimRuntime::exec(const std::string &, const ExecOptions &)
{
    return Error(Reason::BadRequest, "exec is not available with the simulated runtime; run the node with the process runtime");
}

Result<std::unique_ptr<StreamSession>> SimRuntime::attach(const std::string &, const AttachOptions &)
{
    return Error(Reason::BadRequest, "attach is not available with the simulated runtime; run the node with the process runtime");
}

Result<std::unique_ptr<StreamSession>> SimRuntime::portForward(const std::string &, int)
{
    return Error(Reason::BadRequest,
                 "port-forward is not available with the simulated runtime; run the node with the process runtime");
}

Result<ContainerStats> SimRuntime::containerStats(const std::string &containerId) const
{
    std::lock_guard g(m_mutex);
    auto inst = find(containerId);
    if (!inst)
        return notFound("container", containerId);
    const TimePoint now = m_clock.now();
    if (statusOf(*inst, now).state != ContainerState::Running)
        return Error(Reason::NotFound, "container \"" + containerId + "\" is not running");
    const Duration since = now - *inst->startAt;
    ContainerStats s;
    s.timestamp = now;
    s.cpuMilli = inst->program.cpuMilli(since, inst->seed);
    s.memoryBytes = inst->program.memoryBytes(since, inst->seed);
    if (inst->config.cpuLimitMilli > 0)
        s.cpuMilli = std::min(s.cpuMilli, inst->config.cpuLimitMilli); // throttled at the limit
    // millicores x nanoseconds / 1000 = core-nanoseconds
    s.cpuCoreNanoseconds = uint64_t(inst->program.baseCpuMilli()) * uint64_t(std::max<int64_t>(0, since.count())) / 1000;
    return s;
}

} // namespace podscape::core::kubelet::runtime
