#include "processruntime.h"

#include "core/base/logger.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char **environ;

namespace podscape::core::kubelet::runtime {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kAttachQueueBytes = 1024 * 1024;
constexpr size_t kProbeOutputBytes = 10 * 1024;
constexpr auto kShimStartTimeout = std::chrono::seconds(10);

TimePoint now() { return Clock::system().now(); }

std::string errnoText(int err = errno) { return std::strerror(err); }

// Descriptors handed to children are duplicated above 9, so that the child's dup2s into
// 0..4 can never overwrite one that is still to be passed.
int highFd(int fd)
{
    if (fd < 0 || fd >= 10)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
    ::close(fd);
    return high;
}

bool makePipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) != 0)
        return false;
    fds[0] = highFd(fds[0]);
    fds[1] = highFd(fds[1]);
    return true;
}

void closeFd(int &fd)
{
    if (fd >= 0)
        ::close(fd);
    fd = -1;
}

void setNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

std::string randomId()
{
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        for (auto &b : bytes)
            b = static_cast<unsigned char>(std::rand());
    static const char *hex = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    return out;
}

// Reads status lines from a shim until `done` says so or the deadline passes.
bool readShimLines(int fd, std::chrono::milliseconds timeout, const std::function<bool(const std::string &)> &line)
{
    std::string buf;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        size_t nl;
        while ((nl = buf.find('\n')) != std::string::npos) {
            std::string l = buf.substr(0, nl);
            buf.erase(0, nl + 1);
            if (line(l))
                return true;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return false;
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, int(left.count())) <= 0)
            continue;
        char tmp[512];
        ssize_t n = ::read(fd, tmp, sizeof tmp);
        if (n <= 0)
            return false;
        buf.append(tmp, size_t(n));
    }
}

std::set<std::string> parseNs(const std::string &line)
{
    std::set<std::string> out;
    std::istringstream in(line.substr(2));
    std::string word;
    while (in >> word)
        out.insert(word);
    return out;
}

// Connects to ip:port within `timeout`; -1 with `error` in Go's dial wording otherwise.
int connectTcp(const std::string &ip, int port, std::chrono::milliseconds timeout, std::string &error)
{
    const std::string where = ip + ":" + std::to_string(port);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(port));
    if (inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) {
        error = "dial tcp " + where + ": invalid address";
        return -1;
    }
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        error = "dial tcp " + where + ": socket: " + errnoText();
        return -1;
    }
    int rc = ::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr);
    if (rc != 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        rc = poll(&p, 1, int(timeout.count()));
        if (rc == 0) {
            ::close(fd);
            error = "dial tcp " + where + ": i/o timeout";
            return -1;
        }
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            ::close(fd);
            error = "dial tcp " + where + ": connect: " + errnoText(err);
            return -1;
        }
        rc = 0;
    }
    if (rc != 0) {
        error = "dial tcp " + where + ": connect: " + errnoText();
        ::close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

int exitCodeOf(int waitStatus, int *signal = nullptr)
{
    if (WIFSIGNALED(waitStatus)) {
        if (signal)
            *signal = WTERMSIG(waitStatus);
        return 128 + WTERMSIG(waitStatus);
    }
    return WIFEXITED(waitStatus) ? WEXITSTATUS(waitStatus) : 255;
}

uint64_t readCpuTicks(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    auto close = text.rfind(')');
    if (close == std::string::npos)
        return 0;
    std::istringstream rest(text.substr(close + 2));
    std::string field;
    uint64_t utime = 0, stime = 0;
    for (int i = 3; rest >> field; ++i) { // field 3 is the state
        if (i == 14)
            utime = std::strtoull(field.c_str(), nullptr, 10);
        if (i == 15) {
            stime = std::strtoull(field.c_str(), nullptr, 10);
            break;
        }
    }
    return utime + stime;
}

int64_t readRssBytes(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::strtoll(line.c_str() + 6, nullptr, 10) * 1024;
    return 0;
}

// A process and all its descendants, through /proc/<pid>/task/<tid>/children.
std::vector<pid_t> processTree(pid_t root)
{
    std::vector<pid_t> out{root};
    for (size_t i = 0; i < out.size() && out.size() < 4096; ++i) {
        std::error_code ec;
        for (const auto &task : fs::directory_iterator("/proc/" + std::to_string(out[i]) + "/task", ec)) {
            std::ifstream in(task.path() / "children");
            pid_t child;
            while (in >> child)
                out.push_back(child);
        }
    }
    return out;
}

// Writes all of `data` to a pipe, pty or socket (MSG_NOSIGNAL: a closed peer is an error, not
// a SIGPIPE); the error text says what failed.
Result<void> writeAll(int fd, std::string_view data, bool socket, const char *what)
{
    while (!data.empty()) {
        ssize_t n = socket ? ::send(fd, data.data(), data.size(), MSG_NOSIGNAL) : ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return Error::badRequest(std::string(what) + ": " + errnoText());
        data.remove_prefix(size_t(n));
    }
    return {};
}

// A pty pair for a `tty: true` container or an `exec -t`, both ends close-on-exec and above 9.
bool openPty(int &master, int &slave)
{
    if (openpty(&master, &slave, nullptr, nullptr, nullptr) != 0)
        return false;
    fcntl(master, F_SETFD, FD_CLOEXEC);
    fcntl(slave, F_SETFD, FD_CLOEXEC);
    master = highFd(master);
    slave = highFd(slave);
    return true;
}

void resizePty(int fd, uint16_t columns, uint16_t rows)
{
    winsize ws{};
    ws.ws_col = columns;
    ws.ws_row = rows;
    ioctl(fd, TIOCSWINSZ, &ws);
}

} // namespace

// ---- state ------------------------------------------------------------------------------------

struct ProcessRuntime::Sandbox {
    std::string id;
    PodSandboxConfig config;
    TimePoint createdAt;
    bool ready = true;
    std::string dir;
    std::string hostsFile;
    std::string hostnameFile;
    pid_t shimPid = 0; // holds the pod's UTS/IPC/user namespaces; 0 without
    int statusFd = -1;
};

// What an attached client receives: the container's output from the moment it attached.
class ProcessRuntime::AttachQueue
{
public:
    void push(int stream, std::string_view data)
    {
        std::lock_guard lock(mutex);
        // A client that does not read loses the oldest output rather than growing memory.
        while (bytes + data.size() > kAttachQueueBytes && !chunks.empty()) {
            bytes -= chunks.front().data.size();
            chunks.pop_front();
        }
        chunks.push_back({stream, std::string(data.substr(0, kAttachQueueBytes))});
        bytes += chunks.back().data.size();
        cv.notify_all();
    }
    void end()
    {
        std::lock_guard lock(mutex);
        ended = true;
        cv.notify_all();
    }

    std::mutex mutex;
    std::condition_variable cv;
    std::deque<StreamSession::Chunk> chunks;
    size_t bytes = 0;
    bool ended = false;
    bool closed = false;
};

struct ProcessRuntime::Container {
    ContainerStatus status; // id, state, times, exit: what containerStatus() returns
    std::string sandboxId;
    ContainerConfig config;
    CatalogImage image;
    std::vector<std::string> argv;
    bool startError = false;
    bool stopRequested = false; // SIGTERM sent (or the preStop hook started)
    bool pidns = false;
    pid_t shimPid = 0;
    pid_t pid = 0; // the program's host PID, once the shim reported it
    int outFd = -1;
    int errFd = -1;
    int statusFd = -1;
    int stdinFd = -1; // the write end of stdin, or the pty's master
    int ptyMaster = -1;
    std::string statusBuf;
    std::string lastError; // the last stderr line, for the termination message
    std::string cgroup;    // its cgroup v2 directory, when limits are enforced
    std::shared_ptr<ContainerLogFile> log;
    std::vector<std::weak_ptr<AttachQueue>> attached;
    // containerStats' previous sample, for the CPU rate
    mutable uint64_t lastTicks = 0;
    mutable TimePoint lastSample{};
};

// ---- sessions ---------------------------------------------------------------------------------

// Exec and port-forward: a process's pipes (or pty) or a socket, read with poll().
class ProcessRuntime::FdSession final : public StreamSession
{
public:
    FdSession(pid_t pid, int in, int out, int err, int master, bool socket)
        : m_pid(pid), m_in(in), m_out(out), m_err(err), m_master(master), m_socket(socket)
    {
    }
    ~FdSession() override { close(); }

    Result<void> write(std::string_view data) override
    {
        std::lock_guard lock(m_writeMutex);
        if (m_in < 0)
            return Error::badRequest("stdin is closed");
        return writeAll(m_in, data, m_socket, "write");
    }
    void closeWrite() override
    {
        std::lock_guard lock(m_writeMutex);
        if (m_socket) {
            if (m_in >= 0)
                ::shutdown(m_in, SHUT_WR);
        } else if (m_master >= 0) {
            // A terminal has no half-close: the line discipline's end of file is ^D.
            if (m_in >= 0)
                (void)!::write(m_in, "\x04", 1);
        } else {
            closeFd(m_in);
        }
    }
    std::optional<Chunk> read(Duration timeout) override
    {
        std::unique_lock lock(m_readMutex);
        auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (m_out < 0 && m_err < 0) {
                reap();
                return std::nullopt;
            }
            pollfd fds[2] = {{m_out, POLLIN, 0}, {m_err, POLLIN, 0}};
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            int n = poll(fds, 2, int(std::max<int64_t>(0, left.count())));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return std::nullopt;
            for (int i = 0; i < 2; ++i) {
                if (!fds[i].revents)
                    continue;
                int &fd = i == 0 ? m_out : m_err;
                char buf[kReadChunk];
                ssize_t got = ::read(fd, buf, sizeof buf);
                if (got > 0)
                    return Chunk{i + 1, std::string(buf, size_t(got))};
                if (got < 0 && errno == EINTR)
                    continue;
                // End of this stream (EIO: the terminal's last holder closed it).
                if (fd == m_master || (m_socket && fd == m_in)) {
                    fd = -1; // closed with m_master / m_in
                } else {
                    closeFd(fd);
                }
            }
        }
    }
    bool isEnded() const override { return m_ended; }
    void resize(uint16_t columns, uint16_t rows) override
    {
        if (m_master >= 0)
            resizePty(m_master, columns, rows);
    }
    std::optional<int> exitCode() const override { return m_exitCode; }
    void close() override
    {
        std::scoped_lock lock(m_readMutex, m_writeMutex);
        if (m_pid > 0 && !m_ended)
            ::kill(m_pid, SIGKILL); // the exec'd command dies with its shim (PDEATHSIG)
        reap();
        if (m_out != m_master && m_out != m_in)
            closeFd(m_out);
        if (m_err != m_master)
            closeFd(m_err);
        if (m_in != m_master)
            closeFd(m_in);
        closeFd(m_master);
        m_out = m_err = m_in = -1;
        m_ended = true;
    }

private:
    void reap()
    {
        if (m_pid > 0) {
            int st = 0;
            if (waitpid(m_pid, &st, 0) == m_pid)
                m_exitCode = exitCodeOf(st);
            m_pid = 0;
        }
        m_ended = true;
    }

    std::mutex m_readMutex;
    std::mutex m_writeMutex;
    pid_t m_pid;
    int m_in, m_out, m_err, m_master;
    bool m_socket;
    std::atomic<bool> m_ended{false};
    std::optional<int> m_exitCode;
};

class ProcessRuntime::AttachSession final : public StreamSession
{
public:
    AttachSession(std::shared_ptr<AttachQueue> queue, int stdinFd, bool tty)
        : m_queue(std::move(queue)), m_in(stdinFd), m_tty(tty)
    {
    }
    ~AttachSession() override { close(); }

    Result<void> write(std::string_view data) override
    {
        std::lock_guard lock(m_writeMutex);
        if (m_in < 0)
            return Error::badRequest("the container's stdin is not open");
        return writeAll(m_in, data, false, "write to the container's stdin");
    }
    void closeWrite() override
    {
        std::lock_guard lock(m_writeMutex);
        closeFd(m_in); // our duplicate: the container's stdin stays open for later attaches
    }
    std::optional<Chunk> read(Duration timeout) override
    {
        std::unique_lock lock(m_queue->mutex);
        m_queue->cv.wait_for(lock, timeout, [&] { return !m_queue->chunks.empty() || m_queue->ended || m_queue->closed; });
        if (m_queue->chunks.empty())
            return std::nullopt;
        Chunk c = std::move(m_queue->chunks.front());
        m_queue->chunks.pop_front();
        m_queue->bytes -= c.data.size();
        return c;
    }
    bool isEnded() const override
    {
        std::lock_guard lock(m_queue->mutex);
        return (m_queue->ended || m_queue->closed) && m_queue->chunks.empty();
    }
    void resize(uint16_t columns, uint16_t rows) override
    {
        if (m_tty && m_in >= 0)
            resizePty(m_in, columns, rows);
    }
    // Attach reports no exit code, as the kubelet's does: the stream just ends, and kubectl
    // reads how the container ended from the pod's status.
    std::optional<int> exitCode() const override { return std::nullopt; }
    void close() override
    {
        {
            std::lock_guard lock(m_queue->mutex);
            m_queue->closed = true;
            m_queue->cv.notify_all();
        }
        std::lock_guard lock(m_writeMutex);
        closeFd(m_in);
    }

private:
    std::shared_ptr<AttachQueue> m_queue;
    std::mutex m_writeMutex;
    int m_in;
    bool m_tty;
};

// ---- construction -----------------------------------------------------------------------------

Result<void> ProcessRuntime::checkPrograms(const std::string &programDir)
{
    for (const char *name : {"podscape-shim", "podscape-image"}) {
        fs::path p = fs::path(programDir) / name;
        if (access(p.c_str(), X_OK) != 0)
            return Error(Reason::Invalid, "the process runtime needs " + p.string() + " (" + errnoText() +
                                              "); install Podscape completely or use the simulated runtime");
    }
    return {};
}

ProcessRuntime::ProcessRuntime(ProcessRuntimeOptions options) : m_options(std::move(options))
{
    m_id = randomId().substr(0, 8);
    m_dataDir = m_options.dataDir;
    if (m_dataDir.empty()) {
        std::string tmpl = (fs::temp_directory_path() / "podscape-runtime-XXXXXX").string();
        if (char *made = mkdtemp(tmpl.data())) {
            m_dataDir = made;
            m_ownsDataDir = true;
        }
    }
    // Pod folders left by an engine that was killed: nothing runs in them any more, and the
    // kubelet starts every pod anew (in the same folders, whose logs it truncates).
    std::error_code ec;
    fs::remove_all(fs::path(m_dataDir) / "pods", ec);
    fs::create_directories(fs::path(m_dataDir) / "pods", ec);
    int lifeline[2];
    if (makePipe(lifeline)) {
        m_lifelineRead = lifeline[0];
        m_lifelineWrite = lifeline[1];
    }
    if (auto cgroups = CgroupManager::open(m_options.nodeName.empty() ? m_id : m_options.nodeName))
        m_cgroups = std::move(*cgroups);
    else
        m_cgroupError = cgroups.error().message();
    m_epoll = epoll_create1(EPOLL_CLOEXEC);
    m_wakeFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = m_wakeFd;
    epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wakeFd, &ev);
    m_ioThread = std::thread([this] { ioLoop(); });
}

ProcessRuntime::~ProcessRuntime()
{
    std::vector<std::shared_ptr<Container>> running;
    {
        std::lock_guard lock(m_mutex);
        for (auto &[id, c] : m_containers)
            if (c->status.state == ContainerState::Running)
                signalContainer(*c, SIGKILL);
    }
    // Closing the lifeline is what kills whatever the shims still run.
    closeFd(m_lifelineWrite);
    m_stopping = true;
    wakeIo();
    std::vector<Hook> hooks;
    {
        std::lock_guard lock(m_mutex);
        hooks.swap(m_hooks);
    }
    for (auto &h : hooks)
        h.thread.join();
    if (m_ioThread.joinable())
        m_ioThread.join();
    std::lock_guard lock(m_mutex);
    // Containers removed while still being reaped live on only through their watched fds.
    std::set<std::shared_ptr<Container>> all;
    for (auto &[fd, c] : m_fdOwners) {
        ::close(fd);
        all.insert(c);
    }
    m_fdOwners.clear();
    for (auto &[id, c] : m_containers)
        all.insert(c);
    for (const auto &c : all) {
        if (c->shimPid > 0)
            waitpid(c->shimPid, nullptr, 0);
        // A pty's master is also the stdin fd, and was closed above while still watched.
        if (c->stdinFd != c->ptyMaster)
            closeFd(c->stdinFd);
        if (c->ptyMaster >= 0 && c->ptyMaster != c->outFd)
            closeFd(c->ptyMaster);
        if (c->log)
            c->log->close(now());
    }
    for (auto &[id, s] : m_sandboxes) {
        if (s->shimPid > 0)
            waitpid(s->shimPid, nullptr, 0);
        closeFd(s->statusFd);
    }
    closeFd(m_lifelineRead);
    closeFd(m_epoll);
    closeFd(m_wakeFd);
    if (m_ownsDataDir) {
        std::error_code ec;
        fs::remove_all(m_dataDir, ec);
    }
}

std::string ProcessRuntime::programPath(const std::string &argv0) const
{
    if (argv0 == "podscape-image" || argv0 == "podscape-shim")
        return (fs::path(m_options.programDir) / argv0).string();
    return argv0;
}

Result<pid_t> ProcessRuntime::spawn(const std::vector<std::string> &argv, const std::vector<std::string> &env,
                                    const std::vector<std::pair<int, int>> &fds) const
{
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (auto [from, to] : fds)
        posix_spawn_file_actions_adddup2(&actions, from, to);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // The engine's blocked and ignored signals (SIGPIPE) must not reach the programs.
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::vector<char *> args, envp;
    for (const auto &a : argv)
        args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    for (const auto &e : env)
        envp.push_back(const_cast<char *>(e.c_str()));
    envp.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, args[0], &actions, &attr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        return Error::internal("cannot start " + argv[0] + ": " + errnoText(rc));
    return pid;
}

// ---- isolation --------------------------------------------------------------------------------

ProcessRuntime::Isolation ProcessRuntime::probeIsolation() const
{
    Isolation iso;
    const std::string shim = programPath("podscape-shim");
    int life[2], status[2];
    if (m_options.namespaces && makePipe(life) && makePipe(status)) {
        std::vector<std::string> argv = {shim, "sandbox", "--lifeline", "3", "--status", "4", "--hostname", "probe"};
        if (geteuid() != 0)
            argv.push_back("--userns");
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        auto pid = spawn(argv, {}, {{null, 0}, {null, 1}, {null, 2}, {life[0], 3}, {status[1], 4}});
        closeFd(status[1]);
        pid_t sandboxPid = 0;
        if (pid) {
            readShimLines(status[0], std::chrono::seconds(5), [&](const std::string &l) {
                if (l.rfind("ns", 0) == 0)
                    for (const auto &n : parseNs(l))
                        iso.namespaces.insert(n);
                if (l.rfind("pid ", 0) == 0)
                    sandboxPid = std::atoi(l.c_str() + 4);
                return sandboxPid > 0 || l.rfind("error", 0) == 0;
            });
        }
        closeFd(status[0]);
        if (sandboxPid > 0 && makePipe(status)) {
            auto cpid = spawn({shim, "container", "--lifeline", "3", "--status", "4", "--sandbox",
                               std::to_string(sandboxPid), "--", "/bin/true"},
                              {"PATH=/usr/bin:/bin"}, {{null, 0}, {null, 1}, {null, 2}, {life[0], 3}, {status[1], 4}});
            closeFd(status[1]);
            if (cpid) {
                readShimLines(status[0], std::chrono::seconds(5), [&](const std::string &l) {
                    if (l.rfind("ns", 0) == 0)
                        for (const auto &n : parseNs(l))
                            iso.namespaces.insert(n);
                    return l.rfind("exit", 0) == 0 || l.rfind("error", 0) == 0;
                });
                waitpid(*cpid, nullptr, 0);
            }
            closeFd(status[0]);
        }
        closeFd(life[1]); // ends the probe's sandbox
        closeFd(life[0]);
        if (pid)
            waitpid(*pid, nullptr, 0);
        closeFd(null);
    }
    std::vector<std::string> missing;
    for (const char *ns : {"user", "uts", "ipc", "mnt", "pid"})
        if (!iso.namespaces.count(ns) && !(std::string(ns) == "user" && geteuid() == 0))
            missing.push_back(ns);
    if (!missing.empty()) {
        std::string list;
        for (const auto &m : missing)
            list += (list.empty() ? "" : ", ") + m;
        iso.missing = "namespaces not available: " + list +
                      (m_options.namespaces ? " (the kernel refused them unprivileged)" : " (turned off)");
    }
    // resources.limits need a cgroup v2 subtree this user may write (CgroupManager).
    iso.cgroups = m_cgroups != nullptr;
    if (!iso.cgroups)
        iso.missing += (iso.missing.empty() ? "" : "; ") + m_cgroupError + ": resources.limits are not enforced";
    return iso;
}

ProcessRuntime::Isolation ProcessRuntime::isolation() const
{
    std::call_once(m_isolationOnce, [&] { m_isolation = probeIsolation(); });
    return m_isolation;
}

std::vector<RuntimeCondition> ProcessRuntime::conditions() const
{
    Isolation iso = isolation();
    // Like the pressure conditions, False is the healthy state.
    if (iso.missing.empty())
        return {{"IsolationDegraded", "False", "ContainersIsolated",
                 "containers run in their own user, UTS, IPC, mount and PID namespaces with cgroup limits"}};
    return {{"IsolationDegraded", "True", "IsolationMissing", iso.missing}};
}

// ---- sandboxes --------------------------------------------------------------------------------

Result<std::string> ProcessRuntime::runPodSandbox(const PodSandboxConfig &config)
{
    auto sb = std::make_unique<Sandbox>();
    sb->id = randomId();
    sb->config = config;
    sb->createdAt = now();
    sb->dir = (fs::path(m_dataDir) / "pods" / (config.podNamespace + "_" + config.podName + "_" + config.podUid)).string();
    std::error_code ec;
    fs::create_directories(sb->dir, ec);
    if (ec)
        return Error::internal("cannot create the pod folder " + sb->dir + ": " + ec.message());
    // The files the kubelet manages in a pod: its hosts file names the pod at its IP.
    sb->hostsFile = sb->dir + "/etc-hosts";
    sb->hostnameFile = sb->dir + "/etc-hostname";
    {
        std::ofstream hosts(sb->hostsFile, std::ios::trunc);
        hosts << "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
              << "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n";
        if (!config.hostNetwork)
            hosts << config.ip << "\t" << config.hostname << "\n";
        std::ofstream(sb->hostnameFile, std::ios::trunc) << config.hostname << "\n";
        if (!hosts)
            return Error::internal("cannot write " + sb->hostsFile);
    }
    const Isolation iso = isolation();
    if (m_options.namespaces && !config.hostNetwork && (iso.namespaces.count("uts") || iso.namespaces.count("user"))) {
        int status[2];
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (!makePipe(status))
            return Error::internal("pipe: " + errnoText());
        std::vector<std::string> argv = {programPath("podscape-shim"), "sandbox", "--lifeline", "3", "--status", "4",
                                         "--hostname", config.hostname};
        if (geteuid() != 0 && iso.namespaces.count("user"))
            argv.push_back("--userns");
        auto pid = spawn(argv, {}, {{null, 0}, {null, 1}, {null, 2}, {m_lifelineRead, 3}, {status[1], 4}});
        closeFd(status[1]);
        closeFd(null);
        if (!pid) {
            closeFd(status[0]);
            return pid.error();
        }
        sb->shimPid = *pid;
        pid_t reported = 0;
        readShimLines(status[0], kShimStartTimeout, [&](const std::string &l) {
            if (l.rfind("pid ", 0) == 0)
                reported = std::atoi(l.c_str() + 4);
            return reported > 0 || l.rfind("error", 0) == 0;
        });
        sb->statusFd = status[0];
        if (reported != sb->shimPid) {
            ::kill(sb->shimPid, SIGKILL);
            waitpid(sb->shimPid, nullptr, 0);
            closeFd(sb->statusFd);
            return Error::internal("the pod sandbox did not start (podscape-shim sandbox)");
        }
    }
    std::lock_guard lock(m_mutex);
    std::string id = sb->id;
    m_sandboxes[id] = std::move(sb);
    return id;
}

Result<void> ProcessRuntime::stopPodSandbox(const std::string &sandboxId)
{
    std::lock_guard lock(m_mutex);
    auto it = m_sandboxes.find(sandboxId);
    if (it == m_sandboxes.end())
        return Error::notFound("podsandbox", sandboxId);
    for (auto &[id, c] : m_containers)
        if (c->sandboxId == sandboxId && c->status.state == ContainerState::Running)
            signalContainer(*c, SIGKILL);
    Sandbox &sb = *it->second;
    sb.ready = false;
    if (sb.shimPid > 0) {
        ::kill(sb.shimPid, SIGTERM);
        waitpid(sb.shimPid, nullptr, 0);
        sb.shimPid = 0;
        closeFd(sb.statusFd);
    }
    return {};
}

Result<void> ProcessRuntime::removePodSandbox(const std::string &sandboxId)
{
    if (auto stopped = stopPodSandbox(sandboxId); !stopped)
        return stopped;
    std::lock_guard lock(m_mutex);
    auto it = m_sandboxes.find(sandboxId);
    std::string dir = it->second->dir;
    for (auto c = m_containers.begin(); c != m_containers.end();) {
        // A killed container still being reaped stays alive through its watched fds.
        if (c->second->sandboxId == sandboxId)
            c = m_containers.erase(c);
        else
            ++c;
    }
    m_sandboxes.erase(it);
    std::error_code ec;
    fs::remove_all(dir, ec);
    return {};
}

Result<PodSandboxStatus> ProcessRuntime::podSandboxStatus(const std::string &sandboxId) const
{
    std::lock_guard lock(m_mutex);
    auto it = m_sandboxes.find(sandboxId);
    if (it == m_sandboxes.end())
        return Error::notFound("podsandbox", sandboxId);
    PodSandboxStatus st;
    st.id = sandboxId;
    st.state = it->second->ready ? SandboxState::Ready : SandboxState::NotReady;
    st.ip = it->second->config.ip;
    st.createdAt = it->second->createdAt;
    return st;
}

// ---- images -----------------------------------------------------------------------------------

Result<ImagePull> ProcessRuntime::pullImage(const std::string &image)
{
    auto ref = ImageReference::parse(image);
    if (!ref)
        return ref.error();
    ImagePull pull;
    pull.image = image;
    pull.startedAt = pull.doneAt = now();
    auto resolved = ImageCatalog::resolve(*ref);
    if (!resolved) {
        pull.failure = resolved.error();
        return pull;
    }
    ImageInfo info;
    info.ref = resolved->ref;
    info.id = ref->repository() + "@" + resolved->digest;
    info.names = {info.id, info.ref};
    info.sizeBytes = resolved->sizeBytes;
    pull.info = info;
    std::lock_guard lock(m_mutex);
    m_images[info.ref] = info;
    return pull;
}

std::optional<ImageInfo> ProcessRuntime::imageStatus(const std::string &image) const
{
    auto ref = ImageReference::parse(image);
    if (!ref)
        return std::nullopt;
    std::lock_guard lock(m_mutex);
    auto it = m_images.find(ref->normalized());
    if (it == m_images.end())
        return std::nullopt;
    return it->second;
}

std::vector<ImageInfo> ProcessRuntime::listImages() const
{
    std::lock_guard lock(m_mutex);
    std::vector<ImageInfo> out;
    for (const auto &[ref, info] : m_images)
        out.push_back(info);
    return out;
}

// ---- containers -------------------------------------------------------------------------------

std::shared_ptr<ProcessRuntime::Container> ProcessRuntime::find(const std::string &id) const
{
    auto it = m_containers.find(id);
    return it == m_containers.end() ? nullptr : it->second;
}

std::vector<std::string> ProcessRuntime::containerEnv(const Sandbox &sandbox, const ContainerConfig &config) const
{
    // What every container has before its own env: the image's PATH and HOME, HOSTNAME as
    // the runtime sets it, and the pod's identity (also available through the downward API).
    std::map<std::string, std::string> base = {
        {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
        {"HOME", "/root"},
        {"HOSTNAME", sandbox.config.hostname},
        {"POD_IP", sandbox.config.ip},
        {"POD_NAME", sandbox.config.podName},
        {"POD_NAMESPACE", sandbox.config.podNamespace},
        {"NODE_NAME", m_options.nodeName},
    };
    if (config.tty)
        base["TERM"] = "xterm";
    std::vector<std::string> out;
    std::set<std::string> own;
    for (const auto &[k, v] : config.env)
        own.insert(k);
    for (const auto &[k, v] : base)
        if (!own.count(k))
            out.push_back(k + "=" + v);
    for (const auto &[k, v] : config.env)
        out.push_back(k + "=" + v);
    return out;
}

Result<std::string> ProcessRuntime::createContainer(const std::string &sandboxId, const ContainerConfig &config)
{
    auto ref = ImageReference::parse(config.image);
    if (!ref)
        return ref.error();
    auto image = ImageCatalog::resolve(*ref);
    if (!image)
        return image.error();
    std::vector<std::string> argv = ImageCatalog::argv(*image, config.command, config.args);
    if (argv.empty())
        return Error::badRequest("no command specified");
    argv[0] = programPath(argv[0]);
    // Ports below the unprivileged start fail at bind time with a bare EACCES; say it before.
    if (geteuid() != 0 && config.command.empty() && config.args.empty()) {
        int start = 1024;
        std::ifstream("/proc/sys/net/ipv4/ip_unprivileged_port_start") >> start;
        for (int port : image->ports)
            if (port < start)
                return Error::badRequest(ref->name() + " listens on port " + std::to_string(port) +
                                         ", which needs privilege on this host (ports below " + std::to_string(start) +
                                         "): allow it with `sudo sysctl net.ipv4.ip_unprivileged_port_start=" +
                                         std::to_string(port) + "`, or give the container args that pick a port of " +
                                         "1024 or more");
    }
    if (!config.workingDir.empty() && !fs::is_directory(config.workingDir))
        return Error::badRequest("workingDir " + config.workingDir +
                                 " does not exist on this host (containers of the process runtime see the host's "
                                 "files)");
    std::lock_guard lock(m_mutex);
    auto sb = m_sandboxes.find(sandboxId);
    if (sb == m_sandboxes.end() || !sb->second->ready)
        return Error::badRequest("pod sandbox " + sandboxId + " is not ready");
    if (!m_images.count(image->ref))
        return Error::badRequest("image " + image->ref + " is not present: pull it first");
    auto c = std::make_shared<Container>();
    c->status.id = randomId();
    c->sandboxId = sandboxId;
    c->config = config;
    c->image = *image;
    c->argv = std::move(argv);
    c->status.createdAt = now();
    c->status.name = config.name;
    c->status.imageRef = image->ref;
    c->status.imageId = ref->repository() + "@" + image->digest;
    std::string dir = sb->second->dir + "/" + config.name;
    std::error_code ec;
    fs::create_directories(dir, ec);
    auto log = ContainerLogFile::create(dir + "/" + std::to_string(config.attempt) + ".log", m_options.logs);
    if (!log)
        return log.error();
    c->log = *log;
    m_containers[c->status.id] = c;
    return c->status.id;
}

Result<void> ProcessRuntime::startContainer(const std::string &containerId)
{
    std::unique_lock lock(m_mutex);
    auto c = find(containerId);
    if (!c)
        return Error::notFound("container", containerId);
    if (c->status.state != ContainerState::Created)
        return Error::badRequest("container " + containerId + " was started already");
    auto sb = m_sandboxes.find(c->sandboxId);
    if (sb == m_sandboxes.end())
        return Error::badRequest("pod sandbox " + c->sandboxId + " is gone");
    const Sandbox &sandbox = *sb->second;

    int out[2] = {-1, -1}, err[2] = {-1, -1}, status[2] = {-1, -1}, in[2] = {-1, -1};
    int master = -1, slave = -1;
    if (!makePipe(status))
        return Error::internal("pipe: " + errnoText());
    if (c->config.tty) {
        if (!openPty(master, slave)) {
            closeFd(status[0]);
            closeFd(status[1]);
            return Error::internal("openpty: " + errnoText());
        }
    } else {
        makePipe(out);
        makePipe(err);
        if (c->config.stdinOpen)
            makePipe(in);
    }
    int null = highFd(open("/dev/null", O_RDWR | O_CLOEXEC));
    std::vector<std::string> argv = {programPath("podscape-shim"), "container", "--lifeline", "3", "--status", "4"};
    if (sandbox.shimPid > 0)
        argv.insert(argv.end(), {"--sandbox", std::to_string(sandbox.shimPid)});
    if (m_options.namespaces)
        argv.insert(argv.end(), {"--hosts", sandbox.hostsFile, "--hostname-file", sandbox.hostnameFile});
    else
        argv.push_back("--plain");
    if (!c->config.workingDir.empty())
        argv.insert(argv.end(), {"--workdir", c->config.workingDir});
    if (c->config.tty)
        argv.push_back("--tty");
    if (m_cgroups) {
        auto cgroup = m_cgroups->create(c->status.id, c->config.memoryLimitBytes, c->config.cpuLimitMilli);
        if (!cgroup) {
            for (int *fd : {&master, &slave, &out[0], &out[1], &err[0], &err[1], &in[0], &in[1], &status[0], &status[1], &null})
                closeFd(*fd);
            return cgroup.error();
        }
        c->cgroup = *cgroup;
        argv.insert(argv.end(), {"--cgroup", c->cgroup});
    }
    argv.push_back("--");
    argv.insert(argv.end(), c->argv.begin(), c->argv.end());
    std::vector<std::pair<int, int>> fds;
    if (c->config.tty)
        fds = {{slave, 0}, {slave, 1}, {slave, 2}};
    else
        fds = {{in[0] >= 0 ? in[0] : null, 0}, {out[1], 1}, {err[1], 2}};
    fds.push_back({m_lifelineRead, 3});
    fds.push_back({status[1], 4});
    auto pid = spawn(argv, containerEnv(sandbox, c->config), fds);
    for (int *fd : {&slave, &out[1], &err[1], &in[0], &status[1], &null})
        closeFd(*fd);
    if (!pid) {
        for (int *fd : {&master, &out[0], &err[0], &in[1], &status[0]})
            closeFd(*fd);
        return pid.error();
    }
    c->shimPid = *pid;
    c->status.state = ContainerState::Running;
    c->status.startedAt = now();
    c->statusFd = status[0];
    if (c->config.tty) {
        c->ptyMaster = master;
        c->outFd = master;
        c->stdinFd = master;
    } else {
        c->outFd = out[0];
        c->errFd = err[0];
        c->stdinFd = in[1];
    }
    for (int fd : {c->outFd, c->errFd, c->statusFd}) {
        if (fd < 0)
            continue;
        setNonBlocking(fd);
        m_fdOwners[fd] = c;
        watchFd(fd);
    }
    return {};
}

void ProcessRuntime::signalContainer(const Container &c, int sig) const
{
    if (c.pid <= 0) {
        // Not reported yet: the shim is still setting up; killing it takes the program along.
        if (c.shimPid > 0 && sig == SIGKILL)
            ::kill(c.shimPid, SIGKILL);
        return;
    }
    // Without a PID namespace the program leads its own process group: signal all of it.
    if (c.pidns || ::kill(-c.pid, sig) != 0)
        ::kill(c.pid, sig);
}

Result<void> ProcessRuntime::stopContainer(const std::string &containerId, Duration gracePeriod)
{
    std::lock_guard lock(m_mutex);
    auto c = find(containerId);
    if (!c)
        return Error::notFound("container", containerId);
    if (c->status.state != ContainerState::Running)
        return {};
    if (gracePeriod <= Duration::zero()) {
        signalContainer(*c, SIGKILL);
        return {};
    }
    if (!c->stopRequested && c->config.preStop) {
        // The hook runs first and SIGTERM follows it, as the kubelet does; both share the grace
        // period. Finished hook threads are joined here, the rest by the destructor.
        for (auto it = m_hooks.begin(); it != m_hooks.end();) {
            if (*it->done) {
                it->thread.join();
                it = m_hooks.erase(it);
            } else {
                ++it;
            }
        }
        ProbeSpec hook = *c->config.preStop;
        hook.timeout = gracePeriod;
        auto done = std::make_shared<std::atomic<bool>>(false);
        m_hooks.push_back({std::thread([this, containerId, hook, done] {
                               runPreStop(containerId, hook);
                               *done = true;
                           }),
                           done});
    } else if (!c->stopRequested) {
        signalContainer(*c, SIGTERM); // once: the kubelet asks again on every sync
    }
    c->stopRequested = true;
    TimePoint at = now() + gracePeriod;
    for (auto it = m_kills.begin(); it != m_kills.end(); ++it)
        if (it->second == containerId) {
            if (it->first <= at)
                return {}; // an earlier kill is due already
            m_kills.erase(it);
            break;
        }
    m_kills.emplace(at, containerId);
    wakeIo();
    return {};
}

Result<void> ProcessRuntime::removeContainer(const std::string &containerId)
{
    std::lock_guard lock(m_mutex);
    auto c = find(containerId);
    if (!c)
        return Error::notFound("container", containerId);
    if (c->status.state == ContainerState::Running)
        return Error::badRequest("container " + containerId + " is running: stop it first");
    if (c->log) {
        std::error_code ec;
        const std::string path = c->log->path();
        for (int i = 0; i <= m_options.logs.maxFiles; ++i)
            fs::remove(i == 0 ? path : path + "." + std::to_string(i), ec);
    }
    m_containers.erase(containerId);
    return {};
}

Result<ContainerStatus> ProcessRuntime::containerStatus(const std::string &containerId) const
{
    std::lock_guard lock(m_mutex);
    auto c = find(containerId);
    if (!c)
        return Error::notFound("container", containerId);
    return c->status;
}

// ---- the I/O thread ---------------------------------------------------------------------------

void ProcessRuntime::watchFd(int fd)
{
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev);
}

void ProcessRuntime::unwatchFd(int fd)
{
    epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, nullptr);
    m_fdOwners.erase(fd);
}

void ProcessRuntime::wakeIo()
{
    uint64_t one = 1;
    (void)!::write(m_wakeFd, &one, sizeof one);
}

void ProcessRuntime::setChangeNotifier(std::function<void(const std::string &)> notify)
{
    std::lock_guard lock(m_mutex);
    m_notify = std::move(notify);
}

void ProcessRuntime::ioLoop()
{
    epoll_event events[64];
    while (!m_stopping) {
        int timeoutMs = -1;
        {
            std::lock_guard lock(m_mutex);
            if (!m_kills.empty()) {
                auto left = std::chrono::duration_cast<std::chrono::milliseconds>(m_kills.begin()->first - now());
                timeoutMs = int(std::clamp<int64_t>(left.count() + 1, 0, 60'000));
            }
        }
        int n = epoll_wait(m_epoll, events, 64, timeoutMs);
        std::vector<std::string> notify;
        std::function<void(const std::string &)> notifier;
        {
            std::lock_guard lock(m_mutex);
            for (int i = 0; i < n; ++i) {
                int fd = events[i].data.fd;
                if (fd == m_wakeFd) {
                    uint64_t v;
                    (void)!::read(m_wakeFd, &v, sizeof v);
                    continue;
                }
                auto owner = m_fdOwners.find(fd);
                if (owner == m_fdOwners.end())
                    continue;
                std::shared_ptr<Container> c = owner->second;
                if (fd == c->statusFd)
                    onStatus(*c, notify);
                else if (fd == c->outFd || fd == c->errFd)
                    onOutput(*c, fd, fd == c->errFd, notify);
            }
            const TimePoint t = now();
            while (!m_kills.empty() && m_kills.begin()->first <= t) {
                if (auto c = find(m_kills.begin()->second); c && c->status.state == ContainerState::Running)
                    signalContainer(*c, SIGKILL);
                m_kills.erase(m_kills.begin());
            }
            notifier = m_notify;
        }
        if (notifier)
            for (const auto &sandbox : notify)
                notifier(sandbox);
    }
}

void ProcessRuntime::onOutput(Container &c, int fd, bool stderrStream, std::vector<std::string> &)
{
    char buf[kReadChunk];
    for (int round = 0; round < 16; ++round) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            std::string_view data(buf, size_t(n));
            if (c.log) {
                c.log->append(stderrStream, data, now());
                // A prompt or progress output without its newline shows at once (as a partial record).
                if (data.back() != '\n')
                    c.log->flush(now());
            }
            if (stderrStream) {
                // The last stderr line becomes the termination message of a failed start.
                std::string_view text = data;
                while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
                    text.remove_suffix(1);
                if (auto nl = text.rfind('\n'); nl != std::string_view::npos)
                    text.remove_prefix(nl + 1);
                if (!text.empty())
                    c.lastError = std::string(text.substr(0, 1024));
            }
            for (auto it = c.attached.begin(); it != c.attached.end();) {
                if (auto q = it->lock()) {
                    q->push(stderrStream ? 2 : 1, data);
                    ++it;
                } else {
                    it = c.attached.erase(it);
                }
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        // End of the stream (EIO on a pty whose last holder closed it).
        unwatchFd(fd);
        if (fd == c.ptyMaster) {
            c.outFd = -1; // the master is closed when the container finishes
        } else {
            ::close(fd);
            (fd == c.outFd ? c.outFd : c.errFd) = -1;
        }
        return;
    }
}

void ProcessRuntime::onStatus(Container &c, std::vector<std::string> &notify)
{
    char buf[1024];
    for (;;) {
        ssize_t n = ::read(c.statusFd, buf, sizeof buf);
        if (n > 0) {
            c.statusBuf.append(buf, size_t(n));
            size_t nl;
            while ((nl = c.statusBuf.find('\n')) != std::string::npos) {
                std::string line = c.statusBuf.substr(0, nl);
                c.statusBuf.erase(0, nl + 1);
                if (line.rfind("pid ", 0) == 0) {
                    c.pid = std::atoi(line.c_str() + 4);
                    // Asked to stop before the program existed: do it now.
                    if (c.stopRequested && !c.config.preStop)
                        signalContainer(c, SIGTERM);
                } else if (line.rfind("ns", 0) == 0) {
                    c.pidns = parseNs(line).count("pid") > 0;
                } else if (line.rfind("starterror ", 0) == 0) {
                    c.startError = true;
                    c.status.message = line.substr(11);
                } else if (line.rfind("error ", 0) == 0) {
                    c.startError = true;
                    c.status.message = "podscape-shim: " + line.substr(6);
                } else if (line.rfind("exit ", 0) == 0) {
                    finish(c, std::atoi(line.c_str() + 5), notify);
                    return;
                }
            }
            if (c.statusBuf.size() > 4096)
                c.statusBuf.clear();
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        // The shim ended without reporting an exit: it failed to set up, or was killed.
        int st = 0;
        if (c.shimPid > 0 && waitpid(c.shimPid, &st, 0) == c.shimPid)
            c.shimPid = 0;
        finish(c, st, notify);
        return;
    }
}

void ProcessRuntime::finish(Container &c, int waitStatus, std::vector<std::string> &notify)
{
    if (c.status.state == ContainerState::Exited)
        return;
    // What the program wrote before it exited is still in the pipes: keep it.
    for (int fd : {c.outFd, c.errFd})
        if (fd >= 0)
            onOutput(c, fd, fd == c.errFd, notify);
    for (int *fd : {&c.outFd, &c.errFd, &c.statusFd}) {
        if (*fd >= 0 && *fd != c.ptyMaster) {
            unwatchFd(*fd);
            ::close(*fd);
        } else if (*fd >= 0) {
            unwatchFd(*fd);
        }
        *fd = -1;
    }
    if (c.stdinFd != c.ptyMaster)
        closeFd(c.stdinFd);
    c.stdinFd = -1;
    closeFd(c.ptyMaster);
    if (c.shimPid > 0) {
        waitpid(c.shimPid, nullptr, 0);
        c.shimPid = 0;
    }
    int sig = 0;
    c.status.exitCode = exitCodeOf(waitStatus, &sig);
    c.status.signal = sig;
    c.status.state = ContainerState::Exited;
    c.status.finishedAt = now();
    if (c.startError) {
        // As containerd reports a program that could not be started.
        c.status.reason = "StartError";
        c.status.exitCode = 128;
        if (!c.lastError.empty())
            c.status.message = "failed to create containerd task: failed to create shim task: OCI runtime create failed: " +
                        c.lastError;
    } else if (c.status.exitCode == 127 && c.lastError.rfind("exec: ", 0) == 0) {
        c.status.reason = "StartError";
        c.status.message = "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
                    "runc create failed: unable to start container process: " + c.lastError;
        c.status.exitCode = 128;
    } else if (!c.cgroup.empty() && c.status.exitCode != 0 && CgroupManager::oomKilled(c.cgroup)) {
        c.status.reason = "OOMKilled";
    } else {
        c.status.reason = c.status.exitCode == 0 ? "Completed" : "Error";
    }
    if (!c.cgroup.empty())
        CgroupManager::remove(c.cgroup);
    if (c.log)
        c.log->close(*c.status.finishedAt);
    for (auto &w : c.attached)
        if (auto q = w.lock())
            q->end();
    c.attached.clear();
    for (auto it = m_kills.begin(); it != m_kills.end();)
        it = it->second == c.status.id ? m_kills.erase(it) : std::next(it);
    notify.push_back(c.sandboxId);
}

// ---- probes -----------------------------------------------------------------------------------

Result<ProbeResult> ProcessRuntime::probe(const std::string &containerId, const ProbeSpec &spec)
{
    std::shared_ptr<Container> c;
    std::string ip;
    {
        std::lock_guard lock(m_mutex);
        c = find(containerId);
        if (!c)
            return Error::notFound("container", containerId);
        if (c->status.state != ContainerState::Running)
            return ProbeResult{false, "container is not running"};
        auto sb = m_sandboxes.find(c->sandboxId);
        ip = sb == m_sandboxes.end() ? "" : sb->second->config.ip;
    }
    auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(spec.timeout);
    if (timeout.count() <= 0)
        timeout = std::chrono::seconds(1);
    switch (spec.handler) {
    case ProbeSpec::Handler::Exec:
        return execProbe(*c, spec);
    case ProbeSpec::Handler::Grpc:
        return ProbeResult{false, "gRPC probes are not supported by the process runtime"};
    case ProbeSpec::Handler::TcpSocket: {
        std::string error;
        int fd = connectTcp(ip, spec.port, timeout, error);
        if (fd < 0)
            return ProbeResult{false, error};
        ::close(fd);
        return ProbeResult{true, {}};
    }
    case ProbeSpec::Handler::HttpGet:
        break;
    }
    const std::string url = "http://" + ip + ":" + std::to_string(spec.port) + spec.path;
    if (spec.scheme == "HTTPS")
        return ProbeResult{false, "HTTPS probes are not supported by the process runtime"};
    std::string error;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int fd = connectTcp(ip, spec.port, timeout, error);
    if (fd < 0)
        return ProbeResult{false, "Get \"" + url + "\": " + error};
    // The request the kubelet sends; the status line is all a probe reads.
    std::string request = "GET " + (spec.path.empty() ? std::string("/") : spec.path) + " HTTP/1.1\r\nHost: " + ip +
                          ":" + std::to_string(spec.port) +
                          "\r\nUser-Agent: kube-probe/1.32\r\nAccept: */*\r\nConnection: close\r\n\r\n";
    (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string response;
    while (response.find("\r\n") == std::string::npos && response.size() < 4096) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        if (left.count() <= 0 || poll(&p, 1, int(left.count())) <= 0) {
            ::close(fd);
            return ProbeResult{false, "Get \"" + url +
                                          "\": context deadline exceeded (Client.Timeout exceeded while awaiting "
                                          "headers)"};
        }
        char buf[1024];
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        response.append(buf, size_t(n));
    }
    ::close(fd);
    int code = 0;
    if (response.rfind("HTTP/", 0) == 0) {
        auto sp = response.find(' ');
        if (sp != std::string::npos)
            code = std::atoi(response.c_str() + sp + 1);
    }
    if (code == 0)
        return ProbeResult{false, "Get \"" + url + "\": EOF"};
    if (code >= 200 && code < 400)
        return ProbeResult{true, {}};
    return ProbeResult{false, "HTTP probe failed with statuscode: " + std::to_string(code)};
}

Result<ProbeResult> ProcessRuntime::execProbe(const Container &c, const ProbeSpec &spec)
{
    ExecOptions options;
    options.command = spec.command;
    auto session = exec(c.status.id, options);
    if (!session)
        return ProbeResult{false, session.error().message()};
    std::string output;
    auto deadline = std::chrono::steady_clock::now() + spec.timeout;
    while (!(*session)->isEnded()) {
        auto left = deadline - std::chrono::steady_clock::now();
        if (left <= Duration::zero()) {
            (*session)->close();
            std::string cmd;
            for (const auto &a : spec.command)
                cmd += (cmd.empty() ? "" : " ") + a;
            return ProbeResult{false, "command \"" + cmd + "\" timed out"};
        }
        if (m_stopping) {
            (*session)->close();
            return ProbeResult{false, "the runtime is stopping"};
        }
        if (auto chunk = (*session)->read(std::min<Duration>(std::chrono::duration_cast<Duration>(left), 100ms)))
            if (output.size() < kProbeOutputBytes)
                output += chunk->data.substr(0, kProbeOutputBytes - output.size());
    }
    int code = (*session)->exitCode().value_or(1);
    if (code == 0)
        return ProbeResult{true, {}};
    while (!output.empty() && (output.back() == '\n' || output.back() == '\r'))
        output.pop_back();
    return ProbeResult{false, output};
}

void ProcessRuntime::runPreStop(const std::string &containerId, ProbeSpec hook)
{
    auto result = probe(containerId, hook);
    if (result && !result->success)
        PS_LOG(Warning, "runtime") << "PreStopHook failed for container " << containerId.substr(0, 12) << ": "
                                   << result->message;
    std::lock_guard lock(m_mutex);
    if (auto c = find(containerId); c && c->status.state == ContainerState::Running)
        signalContainer(*c, SIGTERM);
}

// ---- logs -------------------------------------------------------------------------------------

Result<std::vector<LogLine>> ProcessRuntime::logs(const std::string &containerId, const LogOptions &options) const
{
    std::shared_ptr<ContainerLogFile> log;
    {
        std::lock_guard lock(m_mutex);
        auto c = find(containerId);
        if (!c)
            return Error::notFound("container", containerId);
        log = c->log;
    }
    return log->read(options);
}

Result<std::unique_ptr<LogStream>> ProcessRuntime::followLogs(const std::string &containerId, const LogOptions &options)
{
    std::shared_ptr<ContainerLogFile> log;
    {
        std::lock_guard lock(m_mutex);
        auto c = find(containerId);
        if (!c)
            return Error::notFound("container", containerId);
        log = c->log;
    }
    return log->follow(options, Clock::system());
}

// ---- streams ----------------------------------------------------------------------------------

Result<std::unique_ptr<StreamSession>> ProcessRuntime::exec(const std::string &containerId, const ExecOptions &options)
{
    if (options.command.empty())
        return Error::badRequest("you must specify at least one command for the container");
    std::unique_lock lock(m_mutex);
    auto c = find(containerId);
    if (!c)
        return Error::notFound("container", containerId);
    if (c->status.state != ContainerState::Running || c->pid <= 0)
        return Error::badRequest("container " + c->config.name + " is not running");
    auto sb = m_sandboxes.find(c->sandboxId);
    if (sb == m_sandboxes.end())
        return Error::badRequest("pod sandbox " + c->sandboxId + " is gone");
    ContainerConfig envConfig = c->config;
    envConfig.tty = options.tty;
    std::vector<std::string> env = containerEnv(*sb->second, envConfig);
    std::vector<std::string> argv = {programPath("podscape-shim"), "exec", "--lifeline", "3", "--target",
                                     std::to_string(c->pid)};
    if (!c->config.workingDir.empty())
        argv.insert(argv.end(), {"--workdir", c->config.workingDir});
    if (options.tty)
        argv.push_back("--tty");
    argv.push_back("--");
    argv.insert(argv.end(), options.command.begin(), options.command.end());
    lock.unlock();

    int null = highFd(open("/dev/null", O_RDWR | O_CLOEXEC));
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    int master = -1, slave = -1;
    std::vector<std::pair<int, int>> fds;
    if (options.tty) {
        if (!openPty(master, slave)) {
            closeFd(null);
            return Error::internal("openpty: " + errnoText());
        }
        fds = {{slave, 0}, {slave, 1}, {slave, 2}};
    } else {
        if (options.stdinOpen)
            makePipe(in);
        makePipe(out);
        makePipe(err);
        fds = {{in[0] >= 0 ? in[0] : null, 0}, {options.stdoutOpen ? out[1] : null, 1},
               {options.stderrOpen ? err[1] : null, 2}};
    }
    fds.push_back({m_lifelineRead, 3});
    auto pid = spawn(argv, env, fds);
    for (int *fd : {&slave, &in[0], &out[1], &err[1], &null})
        closeFd(*fd);
    if (!pid) {
        for (int *fd : {&master, &in[1], &out[0], &err[0]})
            closeFd(*fd);
        return pid.error();
    }
    if (options.tty)
        return std::unique_ptr<StreamSession>(std::make_unique<FdSession>(*pid, master, master, -1, master, false));
    return std::unique_ptr<StreamSession>(std::make_unique<FdSession>(*pid, in[1], out[0], err[0], -1, false));
}

Result<std::unique_ptr<StreamSession>> ProcessRuntime::attach(const std::string &containerId, const AttachOptions &options)
{
    std::lock_guard lock(m_mutex);
    auto c = find(containerId);
    if (!c)
        return Error::notFound("container", containerId);
    if (c->status.state != ContainerState::Running)
        return Error::badRequest("container " + c->config.name + " is not running");
    if (options.stdinOpen && c->stdinFd < 0)
        return Error::badRequest("stdin is not open for container " + c->config.name +
                                 ": set stdin: true in the container spec to attach to its input");
    auto queue = std::make_shared<AttachQueue>();
    c->attached.push_back(queue);
    int in = options.stdinOpen || c->config.tty ? fcntl(c->stdinFd, F_DUPFD_CLOEXEC, 10) : -1;
    return std::unique_ptr<StreamSession>(std::make_unique<AttachSession>(queue, in, c->config.tty));
}

Result<std::unique_ptr<StreamSession>> ProcessRuntime::portForward(const std::string &sandboxId, int port)
{
    std::string ip;
    {
        std::lock_guard lock(m_mutex);
        auto sb = m_sandboxes.find(sandboxId);
        if (sb == m_sandboxes.end())
            return Error::notFound("podsandbox", sandboxId);
        ip = sb->second->config.ip;
    }
    std::string error;
    int fd = connectTcp(ip, port, std::chrono::seconds(5), error);
    if (fd < 0)
        return Error::badRequest(error);
    return std::unique_ptr<StreamSession>(std::make_unique<FdSession>(0, fd, fd, -1, -1, true));
}

// ---- stats ------------------------------------------------------------------------------------

Result<ContainerStats> ProcessRuntime::containerStats(const std::string &containerId) const
{
    std::lock_guard lock(m_mutex);
    auto c = find(containerId);
    if (!c)
        return Error::notFound("container", containerId);
    ContainerStats st;
    st.timestamp = now();
    if (c->status.state != ContainerState::Running || c->pid <= 0)
        return Error::badRequest("container " + c->config.name + " is not running"); // no usage to report
    uint64_t ticks = 0;
    for (pid_t p : processTree(c->pid)) {
        ticks += readCpuTicks(p);
        st.memoryBytes += readRssBytes(p);
    }
    if (!c->cgroup.empty())
        if (int64_t current = CgroupManager::memoryCurrent(c->cgroup); current >= 0)
            st.memoryBytes = current; // what the limit is checked against
    const long hz = sysconf(_SC_CLK_TCK);
    st.cpuCoreNanoseconds = ticks * (1'000'000'000ull / uint64_t(hz > 0 ? hz : 100));
    if (c->lastSample != TimePoint{} && st.timestamp > c->lastSample && ticks >= c->lastTicks) {
        double seconds = std::chrono::duration<double>(st.timestamp - c->lastSample).count();
        st.cpuMilli = int64_t(double(ticks - c->lastTicks) / double(hz) / seconds * 1000.0);
    }
    c->lastTicks = ticks;
    c->lastSample = st.timestamp;
    return st;
}

std::vector<pid_t> ProcessRuntime::containerPids() const
{
    std::lock_guard lock(m_mutex);
    std::vector<pid_t> out;
    for (const auto &[id, c] : m_containers)
        if (c->status.state == ContainerState::Running && c->pid > 0)
            out.push_back(c->pid);
    return out;
}

} // namespace podscape::core::kubelet::runtime
