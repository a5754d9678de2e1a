#pragma once
// The container runtime as the kubelet sees it: CRI's shape (sandboxes, images, containers,
// status, logs, streams, stats), made asynchronous. Calls return at once; what takes time
// (a pull, a start, a graceful stop, a crash) happens later on the runtime's Clock. The
// kubelet learns about it level-triggered: it reads status, asks nextChange() when to look
// again (changes a runtime schedules itself, as the simulated one does) and is woken by the
// change notifier for changes nobody scheduled (a real process exiting).
//
// Policy lives in the kubelet, as in Kubernetes: restart policies, crash and pull back-off,
// the probes' schedule, image pull policy and IP allocation. A runtime only executes.
//
// Container and sandbox ids are the runtime's own (64 hex digits); the kubelet shows them as
// "<name()>://<id>" in containerID. Every call is thread-safe.

#include "core/base/clock.h"
#include "core/base/result.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podscape::core::kubelet::runtime {

using TimePoint = Clock::TimePoint;
using Duration = Clock::Duration;

// ---- sandboxes --------------------------------------------------------------------------------

struct PodSandboxConfig {
    std::string podUid;
    std::string podName;
    std::string podNamespace;
    std::string hostname; // what the pod's processes see as their host name
    std::string ip;       // the pod's IP, allocated by the kubelet (the host's with hostNetwork)
    std::string hostIP;   // the node's IP: where probes come from
    bool hostNetwork = false;
    std::map<std::string, std::string> labels;
    std::map<std::string, std::string> annotations;
};

enum class SandboxState { Ready, NotReady };

struct PodSandboxStatus {
    std::string id;
    SandboxState state = SandboxState::NotReady;
    std::string ip;
    TimePoint createdAt;
};

// ---- images -----------------------------------------------------------------------------------

struct ImageInfo {
    std::string ref;                // normalised name with tag: docker.io/library/nginx:latest
    std::string id;                 // repository digest: docker.io/library/nginx@sha256:...
    std::vector<std::string> names; // as node.status.images lists them (digest first)
    int64_t sizeBytes = 0;
};

// A pull in progress or done. It completes at doneAt: with `failure` set it fails then (the
// message is the runtime's, as kubectl describe shows after "Failed to pull image").
struct ImagePull {
    std::string image; // as requested
    TimePoint startedAt;
    TimePoint doneAt;
    std::optional<Error> failure;
    ImageInfo info; // what is present once it succeeded
};

// ---- probes -----------------------------------------------------------------------------------

enum class ProbeType { Readiness, Liveness, Startup };
std::string_view probeTypeName(ProbeType type); // "Readiness", as events print it

struct ProbeSpec {
    enum class Handler { Exec, HttpGet, TcpSocket, Grpc };
    ProbeType type = ProbeType::Readiness;
    Handler handler = Handler::HttpGet;
    std::vector<std::string> command; // Exec
    std::string scheme = "HTTP";      // HttpGet
    std::string path = "/";           // HttpGet
    int port = 0;                     // HttpGet, TcpSocket, Grpc: resolved from a port name
    Duration timeout = std::chrono::seconds(1);
};

struct ProbeResult {
    bool success = false;
    std::string message; // on failure: the part after "Readiness probe failed: "
};

// ---- containers -------------------------------------------------------------------------------

struct ContainerConfig {
    std::string name;
    std::string image;
    std::vector<std::string> command; // $(VAR) references already expanded by the kubelet
    std::vector<std::string> args;
    std::vector<std::pair<std::string, std::string>> env; // resolved values, in order
    std::string workingDir;
    std::vector<int> ports; // containerPort numbers
    bool stdinOpen = false;
    bool tty = false;
    int64_t cpuLimitMilli = 0;    // 0: no limit
    int64_t memoryLimitBytes = 0; // 0: no limit
    int attempt = 0;              // how many instances of this container ran before
    std::map<std::string, std::string> annotations; // the pod's annotations
    // lifecycle.preStop (exec or httpGet; `sleep` comes as an exec of sleep): run by
    // stopContainer() before SIGTERM, within the grace period. Runtimes may ignore it.
    std::optional<ProbeSpec> preStop;
};

enum class ContainerState { Created, Running, Exited };

struct ContainerStatus {
    std::string id;
    std::string name;
    ContainerState state = ContainerState::Created;
    TimePoint createdAt;
    std::optional<TimePoint> startedAt;
    std::optional<TimePoint> finishedAt;
    int exitCode = 0;
    int signal = 0;
    std::string reason;  // Exited: Completed, Error, OOMKilled
    std::string message; // Exited: details, if any
    std::string imageRef; // normalised image name
    std::string imageId;  // repository digest
};

// ---- logs -------------------------------------------------------------------------------------

struct LogLine {
    TimePoint time;
    bool stderrStream = false;
    std::string text; // without the newline

    // "text", or "2024-05-01T10:00:00.123456789Z text" as kubectl logs --timestamps prints it.
    std::string format(bool timestamps) const;
};

struct LogOptions {
    bool follow = false;   // for the kubelet's API; the runtime has followLogs()
    bool previous = false; // for the kubelet's API: the previous instance's logs
    bool timestamps = false;
    std::optional<int64_t> tailLines;
    std::optional<TimePoint> since; // lines at or after this time
    std::optional<int64_t> limitBytes;
};

// Keeps every line of the filtered window of LogOptions (since, tail, limitBytes), in order.
std::vector<LogLine> applyLogOptions(std::vector<LogLine> lines, const LogOptions &options);

// A followed log: the lines logged so far (after the options' filters), then new ones.
class LogStream
{
public:
    struct Chunk {
        std::vector<LogLine> lines;
        bool ended = false; // the container has exited and every line was returned
    };
    virtual ~LogStream() = default;
    // Waits up to `timeout` on the runtime's clock for lines; an empty chunk that has not
    // ended means the time ran out.
    virtual Chunk read(Duration timeout) = 0;
    // Ends a read() in progress and every later one.
    virtual void close() = 0;
};

// ---- streams (exec, attach, port-forward) -----------------------------------------------------

struct ExecOptions {
    std::vector<std::string> command;
    bool stdinOpen = false;
    bool stdoutOpen = true;
    bool stderrOpen = true;
    bool tty = false;
};

struct AttachOptions {
    bool stdinOpen = false;
    bool stdoutOpen = true;
    bool stderrOpen = true;
    bool tty = false;
};

// A bidirectional session. For exec and attach, write() feeds stdin and read() returns
// stdout (stream 1) and stderr (stream 2); for port-forward, write() sends bytes to the port
// and read() returns the port's bytes (stream 1) or an error text (stream 2).
class StreamSession
{
public:
    struct Chunk {
        int stream = 1;
        std::string data;
    };
    virtual ~StreamSession() = default;
    virtual Result<void> write(std::string_view data) = 0;
    virtual void closeWrite() = 0;
    // Up to `timeout` on the runtime's clock; nullopt when the time ran out or the session ended.
    virtual std::optional<Chunk> read(Duration timeout) = 0;
    virtual bool isEnded() const = 0;
    virtual void resize(uint16_t columns, uint16_t rows) = 0;
    // The exit code of an exec'd command, once it ended.
    virtual std::optional<int> exitCode() const = 0;
    virtual void close() = 0;
};

// ---- stats ------------------------------------------------------------------------------------

struct ContainerStats {
    TimePoint timestamp;
    int64_t cpuMilli = 0;            // usage now, in millicores
    uint64_t cpuCoreNanoseconds = 0; // cumulative, as metrics-server turns into a rate
    int64_t memoryBytes = 0;         // working set
};

// ---- node conditions --------------------------------------------------------------------------

// Something about the runtime the Node should show (the process runtime says which isolation
// the kernel refused), as a condition type, "True"/"False", reason and message.
struct RuntimeCondition {
    std::string type;
    std::string status;
    std::string reason;
    std::string message;
};

// ---- the interface ----------------------------------------------------------------------------

class ContainerRuntime
{
public:
    virtual ~ContainerRuntime() = default;

    virtual std::string name() const = 0;    // "sim"
    virtual std::string version() const = 0; // "1.0"
    // As node.status.nodeInfo.containerRuntimeVersion shows it: "sim://1.0".
    std::string versionString() const { return name() + "://" + version(); }

    // A sandbox holds a pod's network identity; its containers die with it.
    virtual Result<std::string> runPodSandbox(const PodSandboxConfig &config) = 0;
    // Kills the sandbox's containers that still run, at once.
    virtual Result<void> stopPodSandbox(const std::string &sandboxId) = 0;
    // Removes the sandbox and its containers (and their logs).
    virtual Result<void> removePodSandbox(const std::string &sandboxId) = 0;
    virtual Result<PodSandboxStatus> podSandboxStatus(const std::string &sandboxId) const = 0;

    // Starts a pull, or joins the one in progress for the same image. An image the runtime
    // cannot even parse is an immediate Invalid error.
    virtual Result<ImagePull> pullImage(const std::string &image) = 0;
    // The image if it is present now.
    virtual std::optional<ImageInfo> imageStatus(const std::string &image) const = 0;
    virtual std::vector<ImageInfo> listImages() const = 0;

    // Creates a container in a sandbox (state Created); its image must be present.
    virtual Result<std::string> createContainer(const std::string &sandboxId, const ContainerConfig &config) = 0;
    // Starts it; it is Running once the runtime has started it (immediately, or later).
    virtual Result<void> startContainer(const std::string &containerId) = 0;
    // SIGTERM now, SIGKILL when `gracePeriod` has passed. Calling again with a shorter
    // period brings the kill forward; a longer one changes nothing.
    virtual Result<void> stopContainer(const std::string &containerId, Duration gracePeriod) = 0;
    // Forgets an exited container and its logs.
    virtual Result<void> removeContainer(const std::string &containerId) = 0;
    virtual Result<ContainerStatus> containerStatus(const std::string &containerId) const = 0;
    // Runs one probe against a running container now.
    virtual Result<ProbeResult> probe(const std::string &containerId, const ProbeSpec &spec) = 0;

    // The earliest future time at which something in the sandbox changes by itself (a
    // container starts, exits or is killed), if the runtime knows one.
    virtual std::optional<TimePoint> nextChange(const std::string &sandboxId) const = 0;
    // Called, on any thread, when something in a sandbox changed without a scheduled time.
    virtual void setChangeNotifier(std::function<void(const std::string &sandboxId)> notify) = 0;

    // The container's log (bounded by the runtime), filtered by since/tail/limitBytes.
    virtual Result<std::vector<LogLine>> logs(const std::string &containerId, const LogOptions &options) const = 0;
    virtual Result<std::unique_ptr<LogStream>> followLogs(const std::string &containerId, const LogOptions &options) = 0;

    virtual Result<std::unique_ptr<StreamSession>> exec(const std::string &containerId, const ExecOptions &options) = 0;
    virtual Result<std::unique_ptr<StreamSession>> attach(const std::string &containerId, const AttachOptions &options) = 0;
    virtual Result<std::unique_ptr<StreamSession>> portForward(const std::string &sandboxId, int port) = 0;

    virtual Result<ContainerStats> containerStats(const std::string &containerId) const = 0;

    // Extra conditions for the Node's status; none by default.
    virtual std::vector<RuntimeCondition> conditions() const { return {}; }
};

} // namespace podscape::core::kubelet::runtime
