#pragma once
// A container runtime without containers: every container is a SimProgram (simprogram.h)
// whose state is a function of the Clock. Nothing runs in the background; state is worked
// out when it is read (a container started at t with crash-after 30s is Exited at t+30s for
// whoever asks), and nextChange() tells the kubelet when to look again. So a FakeClock runs
// minutes of a cluster in milliseconds, and a thousand idle containers cost nothing.
//
// Images that exist in the simulation: every reference that parses (docker grammar) except
// those whose repository path contains "doesnotexist" or "invalid", or whose tag is
// "broken". Pulling one of those fails after the pull time, as a registry would answer.
//
// Logs are kept per container instance, the last `logLimit` lines; an exited instance keeps
// its log until the kubelet removes it (it keeps the previous one for `logs --previous`).

#include "containerruntime.h"
#include "imagereference.h"
#include "simprogram.h"

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>

namespace podscape::core::kubelet::runtime {

// How long the simulated steps take.
struct SimTiming {
    Duration pullMin{std::chrono::seconds(1)}; // first pull of an image: between min and max,
    Duration pullMax{std::chrono::seconds(3)}; // the same for the same image every time
    Duration repull{std::chrono::milliseconds(300)}; // pulling an image already present
    Duration create{std::chrono::milliseconds(500)}; // from start request to Running
    Duration stop{std::chrono::milliseconds(500)};   // from SIGTERM to exit, for programs that handle it
    // Everything stops at `stop` after SIGTERM, even programs that would ignore it.
    bool fastTermination = false;

    // Pulls of 1-3 s, creation in 0.5 s, SIGTERM honoured as the program would.
    static SimTiming realistic();
    // Everything at once: for scale tests.
    static SimTiming instant();
};

struct SimRuntimeOptions {
    SimTiming timing = SimTiming::realistic();
    std::string seed = "sim"; // keeps ids of runtimes on different nodes apart
    size_t logLimit = 1000;   // lines kept per container instance
};

class SimRuntime final : public ContainerRuntime
{
public:
    explicit SimRuntime(Clock &clock = Clock::system(), SimRuntimeOptions options = {});
    ~SimRuntime() override;

    std::string name() const override { return "sim"; }
    std::string version() const override { return "1.0"; }

    Result<std::string> runPodSandbox(const PodSandboxConfig &config) override;
    Result<void> stopPodSandbox(const std::string &sandboxId) override;
    Result<void> removePodSandbox(const std::string &sandboxId) override;
    Result<PodSandboxStatus> podSandboxStatus(const std::string &sandboxId) const override;

    Result<ImagePull> pullImage(const std::string &image) override;
    std::optional<ImageInfo> imageStatus(const std::string &image) const override;
    std::vector<ImageInfo> listImages() const override;

    Result<std::string> createContainer(const std::string &sandboxId, const ContainerConfig &config) override;
    Result<void> startContainer(const std::string &containerId) override;
    Result<void> stopContainer(const std::string &containerId, Duration gracePeriod) override;
    Result<void> removeContainer(const std::string &containerId) override;
    Result<ContainerStatus> containerStatus(const std::string &containerId) const override;
    Result<ProbeResult> probe(const std::string &containerId, const ProbeSpec &spec) override;

    std::optional<TimePoint> nextChange(const std::string &sandboxId) const override;
    void setChangeNotifier(std::function<void(const std::string &sandboxId)> notify) override;

    Result<std::vector<LogLine>> logs(const std::string &containerId, const LogOptions &options) const override;
    Result<std::unique_ptr<LogStream>> followLogs(const std::string &containerId, const LogOptions &options) override;

    // The simulated runtime has no processes to run commands in: these answer BadRequest.
    Result<std::unique_ptr<StreamSession>> exec(const std::string &containerId, const ExecOptions &options) override;
    Result<std::unique_ptr<StreamSession>> attach(const std::string &containerId, const AttachOptions &options) override;
    Result<std::unique_ptr<StreamSession>> portForward(const std::string &sandboxId, int port) override;

    Result<ContainerStats> containerStats(const std::string &containerId) const override;

    // Sim only: an HTTP request to a pod's port, as a Service would deliver it. The answer is
    // what the image would say (kubia: "You've hit <pod>"), and the program logs it.
    Result<SimProgram::Response> serveRequest(const std::string &sandboxId, int port, const std::string &fromIp,
                                              const std::string &path = "/");

    // Whether an image exists in the simulation; `why` gets the registry's answer if not.
    static bool imageExists(const ImageReference &ref, std::string *why = nullptr);
    const SimTiming &timing() const { return m_options.timing; }
    size_t containerCount() const;

private:
    struct Instance;
    struct Sandbox;
    struct Image;
    class FollowStream;
    struct Exit {
        TimePoint at;
        int code = 0;
        std::string reason;
        bool bySignal = false;
    };

    std::optional<Exit> exitOf(const Instance &instance) const;
    ContainerStatus statusOf(const Instance &instance, TimePoint now) const;
    // Brings the instance's log up to `now` (or its exit): lines are made when first needed.
    void catchUpLogs(Instance &instance, TimePoint now) const;
    void appendLog(Instance &instance, TimePoint at, std::string text, bool stderrStream) const;
    std::optional<TimePoint> nextLogTime(const Instance &instance) const;
    std::shared_ptr<Instance> find(const std::string &containerId) const;
    std::string newId();
    Duration pullTime(const ImageReference &ref) const;

    Clock &m_clock;
    SimRuntimeOptions m_options;
    mutable std::mutex m_mutex;
    mutable std::condition_variable m_changed; // log followers wait on it
    uint64_t m_nextId = 1;
    uint64_t m_seedHash = 0;
    std::map<std::string, std::unique_ptr<Sandbox>> m_sandboxes;
    std::map<std::string, std::shared_ptr<Instance>> m_containers;
    std::map<std::string, Image> m_images; // by normalised reference
    std::function<void(const std::string &)> m_notify;
};

} // namespace podscape::core::kubelet::runtime
