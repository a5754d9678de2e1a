#pragma once
// A container runtime with real processes, for the small embedded cluster on a laptop: no
// root, no Docker, no network. Each container is a process tree started through podscape-shim
// (app/shim), which puts it into Linux namespaces where the kernel allows them unprivileged:
//
//   engine ──posix_spawn──> shim "sandbox"   (holds the pod's user, UTS and IPC namespaces:
//      │                                     hostname = pod name, like the pause container)
//      ├──posix_spawn──> shim "container" ──fork──> the program: PID 1 of its own PID
//      │                   (joins the pod's      namespace, own mount namespace with its own
//      │                    namespaces)          /proc, /etc/hosts and /etc/hostname
//      └──posix_spawn──> shim "exec" ──> a command inside a running container's namespaces
//
// Every shim holds the read end of one "lifeline" pipe whose write end only this process
// has: when the engine exits or is killed, the pipe reports EOF and every shim kills what it
// runs, so no container outlives its engine. A new engine starts from nothing and the kubelet
// starts what should run.
//
// Pods share the host's network stack: the pod IP (127.244.x.y) is a loopback address the
// programs bind, so replicas on the same port never collide. The filesystem is the host's
// (base images run the host's tools); only /proc, /etc/hosts and /etc/hostname are the pod's.
//
// stdout/stderr go through pipes (or a pty for `tty: true`) to one I/O thread that writes
// them to per-container log files (ContainerLogFile, CRI format, rotated) under the data
// directory and to attached clients. Exits are noticed there too and reported through the
// change notifier, so the kubelet syncs at once; nextChange() is never needed.

#include "cgroupmanager.h"
#include "containerlogfile.h"
#include "containerruntime.h"
#include "imagecatalog.h"

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

namespace podscape::core::kubelet::runtime {

struct ProcessRuntimeOptions {
    // Pod folders (hosts files, container logs) go under <dataDir>/pods. Empty: a private
    // temporary folder, removed with the runtime.
    std::string dataDir;
    // Where podscape-shim and podscape-image are (next to the executable in an installation).
    std::string programDir;
    std::string nodeName;
    // Use Linux namespaces where the kernel allows; false runs plain processes.
    bool namespaces = true;
    ContainerLogFileOptions logs;
};

class ProcessRuntime final : public ContainerRuntime
{
public:
    explicit ProcessRuntime(ProcessRuntimeOptions options);
    ~ProcessRuntime() override; // kills every container

    // Whether podscape-shim and podscape-image exist in programDir (Invalid otherwise, naming
    // the missing file): the agent checks before choosing this runtime.
    static Result<void> checkPrograms(const std::string &programDir);

    std::string name() const override { return "podscape-process"; }
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

    std::optional<TimePoint> nextChange(const std::string &) const override { return std::nullopt; }
    void setChangeNotifier(std::function<void(const std::string &sandboxId)> notify) override;

    Result<std::vector<LogLine>> logs(const std::string &containerId, const LogOptions &options) const override;
    Result<std::unique_ptr<LogStream>> followLogs(const std::string &containerId, const LogOptions &options) override;

    Result<std::unique_ptr<StreamSession>> exec(const std::string &containerId, const ExecOptions &options) override;
    Result<std::unique_ptr<StreamSession>> attach(const std::string &containerId, const AttachOptions &options) override;
    Result<std::unique_ptr<StreamSession>> portForward(const std::string &sandboxId, int port) override;

    Result<ContainerStats> containerStats(const std::string &containerId) const override;
    std::vector<RuntimeCondition> conditions() const override;

    // Which isolation this kernel gives (found out once, by starting a shim).
    struct Isolation {
        std::set<std::string> namespaces; // of user, uts, ipc, mnt, pid
        bool cgroups = false;             // a writable cgroup v2 with the memory and cpu controllers
        std::string missing;              // what is missing, in words; empty when nothing
    };
    Isolation isolation() const;
    // Host PIDs of the running containers' first processes (tests check none is left).
    std::vector<pid_t> containerPids() const;
    const std::string &dataDir() const { return m_dataDir; }

private:
    struct Sandbox;
    struct Container;
    class AttachQueue;
    class AttachSession;
    class FdSession;

    std::shared_ptr<Container> find(const std::string &id) const;
    Result<pid_t> spawn(const std::vector<std::string> &argv, const std::vector<std::string> &env,
                        const std::vector<std::pair<int, int>> &fds) const;
    std::vector<std::string> containerEnv(const Sandbox &sandbox, const ContainerConfig &config) const;
    std::string programPath(const std::string &argv0) const;
    void ioLoop();
    void watchFd(int fd);
    void unwatchFd(int fd);
    void wakeIo();
    // The I/O thread's handlers (m_mutex held).
    void onOutput(Container &c, int fd, bool stderrStream, std::vector<std::string> &notify);
    void onStatus(Container &c, std::vector<std::string> &notify);
    void finish(Container &c, int waitStatus, std::vector<std::string> &notify);
    void signalContainer(const Container &c, int sig) const;
    Result<ProbeResult> execProbe(const Container &c, const ProbeSpec &spec);
    // lifecycle.preStop, on a thread of its own: the hook, then SIGTERM (the kill at the end
    // of the grace period is scheduled already).
    void runPreStop(const std::string &containerId, ProbeSpec hook);
    Isolation probeIsolation() const;

    ProcessRuntimeOptions m_options;
    std::string m_dataDir;
    bool m_ownsDataDir = false;
    std::string m_id; // keeps container ids of runtimes on different nodes apart
    int m_lifelineRead = -1;
    int m_lifelineWrite = -1;
    int m_epoll = -1;
    int m_wakeFd = -1;

    mutable std::mutex m_mutex;
    std::map<std::string, std::unique_ptr<Sandbox>> m_sandboxes;
    std::map<std::string, std::shared_ptr<Container>> m_containers;
    std::map<int, std::shared_ptr<Container>> m_fdOwners; // watched fd -> its container (kept alive until reaped)
    std::multimap<TimePoint, std::string> m_kills;       // SIGKILL deadlines (grace periods)
    std::map<std::string, ImageInfo> m_images;           // pulled, by normalised reference
    std::function<void(const std::string &)> m_notify;
    uint64_t m_nextId = 1;
    std::unique_ptr<CgroupManager> m_cgroups; // null: limits are not enforced
    std::string m_cgroupError;                // why not
    mutable std::once_flag m_isolationOnce;
    mutable Isolation m_isolation;
    std::atomic<bool> m_stopping{false};
    std::thread m_ioThread;
    struct Hook {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    std::vector<Hook> m_hooks; // under m_mutex; joined by the destructor
};

} // namespace podscape::core::kubelet::runtime
