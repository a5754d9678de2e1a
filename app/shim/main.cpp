// podscape-shim: the small single-threaded process the process runtime puts between the
// engine and every container (containerd-shim's place, runc's work). Namespaces can only be
// joined by a single-threaded process, and the engine has many threads, so each sandbox, each
// container and each exec gets a shim started with posix_spawn.
//
//   podscape-shim sandbox   --lifeline FD --status FD --hostname NAME [--userns]
//   podscape-shim container --lifeline FD --status FD --sandbox PID [--hosts FILE]
//                           [--hostname-file FILE] [--workdir DIR] [--tty] [--plain]
//                           [--cgroup DIR] -- ARGV...
//   podscape-shim exec      --lifeline FD --target PID [--tty] [--workdir DIR] -- ARGV...
//
// The lifeline is the read end of a pipe whose write end only the engine holds: when the
// engine exits or is killed, the pipe reports EOF and the shim kills what it runs. So no
// container outlives its engine, even after SIGKILL. The status fd carries one line per
// event to the engine: "ns uts ipc user" (what could be made), "pid N", "exit STATUS", or
// "error TEXT".
//
// The environment of the container is the shim's own (the engine sets it at spawn).

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace {

int g_statusFd = -1;

void report(const std::string &line)
{
    if (g_statusFd < 0)
        return;
    std::string out = line + "\n";
    (void)!write(g_statusFd, out.data(), out.size());
}

[[noreturn]] void fail(const std::string &what)
{
    report("error " + what + ": " + std::strerror(errno));
    std::fprintf(stderr, "podscape-shim: %s: %s\n", what.c_str(), std::strerror(errno));
    _exit(125);
}

bool writeFile(const std::string &path, const std::string &text)
{
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = write(fd, text.data(), text.size()) == ssize_t(text.size());
    close(fd);
    return ok;
}

struct Args {
    std::string mode;
    int lifeline = -1;
    int status = -1;
    std::string hostname;
    bool userns = false;
    int sandbox = 0;
    int target = 0;
    std::string hosts;
    std::string hostnameFile;
    std::string workdir;
    bool tty = false;
    bool plain = false; // no namespaces of its own (the runtime's isolation is turned off)
    std::string cgroup; // the cgroup v2 directory the program runs in (resources.limits)
    std::vector<std::string> argv;
};

bool parse(int argc, char **argv, Args &a)
{
    if (argc < 2)
        return false;
    a.mode = argv[1];
    for (int i = 2; i < argc; ++i) {
        std::string arg = argv[i];
        auto next = [&](std::string &out) {
            if (i + 1 >= argc)
                return false;
            out = argv[++i];
            return true;
        };
        std::string v;
        if (arg == "--") {
            for (++i; i < argc; ++i)
                a.argv.emplace_back(argv[i]);
            break;
        } else if (arg == "--lifeline" && next(v)) {
            a.lifeline = std::atoi(v.c_str());
        } else if (arg == "--status" && next(v)) {
            a.status = std::atoi(v.c_str());
        } else if (arg == "--hostname" && next(v)) {
            a.hostname = v;
        } else if (arg == "--userns") {
            a.userns = true;
        } else if (arg == "--sandbox" && next(v)) {
            a.sandbox = std::atoi(v.c_str());
        } else if (arg == "--target" && next(v)) {
            a.target = std::atoi(v.c_str());
        } else if (arg == "--hosts" && next(v)) {
            a.hosts = v;
        } else if (arg == "--hostname-file" && next(v)) {
            a.hostnameFile = v;
        } else if (arg == "--workdir" && next(v)) {
            a.workdir = v;
        } else if (arg == "--tty") {
            a.tty = true;
        } else if (arg == "--plain") {
            a.plain = true;
        } else if (arg == "--cgroup" && next(v)) {
            a.cgroup = v;
        } else {
            std::fprintf(stderr, "podscape-shim: unknown argument %s\n", arg.c_str());
            return false;
        }
    }
    return a.lifeline >= 0;
}

// Closes every descriptor above the lifeline and status fds (the engine passes them as 3 and
// 4), so a container never inherits the engine's sockets or another pod's pipes: not every
// library the engine links opens its descriptors close-on-exec.
void closeOthers(int last)
{
    if (syscall(SYS_close_range, unsigned(last + 1), ~0U, 0) != 0)
        for (int fd = last + 1; fd < 65536; ++fd)
            close(fd);
}

bool joinNamespace(int pid, const char *name, int type)
{
    std::string path = "/proc/" + std::to_string(pid) + "/ns/" + name;
    std::string self = std::string("/proc/self/ns/") + name;
    // Joining the namespace one is already in is an error for user namespaces: skip it.
    char a[64] = {}, b[64] = {};
    if (readlink(path.c_str(), a, sizeof a - 1) > 0 && readlink(self.c_str(), b, sizeof b - 1) > 0 &&
        std::strcmp(a, b) == 0)
        return true;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = setns(fd, type) == 0;
    close(fd);
    return ok;
}

// Waits for the child while watching the lifeline; returns the child's wait status.
int superviseChild(pid_t child, int lifeline)
{
    int pidfd = int(syscall(SYS_pidfd_open, child, 0));
    for (;;) {
        pollfd fds[2] = {{lifeline, POLLIN, 0}, {pidfd, POLLIN, 0}};
        int n = poll(fds, pidfd >= 0 ? 2 : 1, pidfd >= 0 ? -1 : 200);
        if (n < 0 && errno != EINTR)
            break;
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char c;
            if (read(lifeline, &c, 1) <= 0) { // the engine is gone: so is everything it ran
                kill(child, SIGKILL);
                int st = 0;
                waitpid(child, &st, 0);
                _exit(137);
            }
        }
        int st = 0;
        pid_t r = waitpid(child, &st, WNOHANG);
        if (r == child)
            return st;
    }
    int st = 0;
    waitpid(child, &st, 0);
    return st;
}

void becomeTerminalSession(bool tty)
{
    if (!tty)
        return;
    setsid();
    ioctl(0, TIOCSCTTY, 0);
}

[[noreturn]] void execArgv(const std::vector<std::string> &args)
{
    std::vector<char *> argv;
    for (const auto &a : args)
        argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    // As runc words it, so the kubelet's StartError reads like Kubernetes'.
    int err = errno;
    std::string text = std::string("exec: \"") + argv[0] + "\": " +
                       (err == ENOENT ? "executable file not found in $PATH" : std::strerror(err));
    report("starterror " + text);
    std::fprintf(stderr, "%s\n", text.c_str());
    _exit(err == ENOENT ? 127 : 126);
}

int runSandbox(const Args &a)
{
    // Which namespaces could be made; each missing one is reported, never fatal.
    bool user = false, uts = false, ipc = false;
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (a.userns && unshare(CLONE_NEWUSER) == 0) {
        user = true;
        writeFile("/proc/self/setgroups", "deny");
        writeFile("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
        writeFile("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
    }
    uts = unshare(CLONE_NEWUTS) == 0;
    ipc = unshare(CLONE_NEWIPC) == 0;
    if (uts && !a.hostname.empty())
        uts = sethostname(a.hostname.data(), a.hostname.size()) == 0;
    report(std::string("ns") + (uts ? " uts" : "") + (ipc ? " ipc" : "") + (user ? " user" : ""));
    report("pid " + std::to_string(getpid()));
    // The pause container's life: hold the namespaces until the engine goes or asks.
    signal(SIGTERM, [](int) { _exit(0); });
    char c;
    while (read(a.lifeline, &c, 1) > 0 || errno == EINTR) {
    }
    return 0;
}

bool bindFile(const std::string &source, const char *target)
{
    return source.empty() || mount(source.c_str(), target, nullptr, MS_BIND, nullptr) == 0;
}

int runContainer(const Args &a)
{
    if (a.argv.empty()) {
        errno = EINVAL;
        fail("no command");
    }
    bool joined = a.sandbox <= 0 || ((joinNamespace(a.sandbox, "user", CLONE_NEWUSER) || errno == EPERM) &&
                                     joinNamespace(a.sandbox, "uts", CLONE_NEWUTS) &&
                                     joinNamespace(a.sandbox, "ipc", CLONE_NEWIPC));
    if (!joined)
        fail("joining the pod's namespaces");
    // Own mount and PID namespaces: the container sees its own /proc, hosts and hostname,
    // and its first process is PID 1. Either may be refused by the kernel: run without.
    bool mnt = !a.plain && unshare(CLONE_NEWNS) == 0 && mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
    bool pidns = !a.plain && unshare(CLONE_NEWPID) == 0;
    if (mnt) {
        bindFile(a.hosts, "/etc/hosts");
        bindFile(a.hostnameFile, "/etc/hostname");
    }
    report(std::string("ns") + (mnt ? " mnt" : "") + (pidns ? " pid" : ""));
    pid_t child = fork();
    if (child < 0)
        fail("fork");
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); // the shim's death is the container's
        if (pidns && mnt)
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
        if (!a.cgroup.empty() && !writeFile(a.cgroup + "/cgroup.procs", "0")) {
            // Limits were asked for and could not be applied: do not run without them.
            report("starterror cannot join the cgroup " + a.cgroup + ": " + std::strerror(errno));
            _exit(128);
        }
        // Without a PID namespace, a process group lets the shim kill the whole tree.
        if (!pidns && !a.tty)
            setpgid(0, 0);
        becomeTerminalSession(a.tty);
        if (!a.workdir.empty() && chdir(a.workdir.c_str()) != 0) {
            std::fprintf(stderr, "chdir to cwd (\"%s\") set in config.json failed: %s\n", a.workdir.c_str(),
                         std::strerror(errno));
            _exit(128);
        }
        close(a.lifeline);
        fcntl(a.status, F_SETFD, FD_CLOEXEC); // open only to report a failed exec
        signal(SIGPIPE, SIG_DFL);
        execArgv(a.argv);
    }
    report("pid " + std::to_string(child));
    int st = superviseChild(child, a.lifeline);
    report("exit " + std::to_string(st));
    return 0;
}

int runExec(const Args &a)
{
    if (a.argv.empty() || a.target <= 0) {
        errno = EINVAL;
        fail("exec needs --target and a command");
    }
    // Every namespace is opened before any is joined: once in the container's mount namespace,
    // /proc is the container's and the host PID no longer resolves. The user namespace is
    // joined first: it grants the right to join the others.
    const char *names[] = {"user", "uts", "ipc", "mnt", "pid"};
    const int types[] = {CLONE_NEWUSER, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNS, CLONE_NEWPID};
    int fds[5];
    for (int i = 0; i < 5; ++i) {
        fds[i] = -1;
        std::string path = "/proc/" + std::to_string(a.target) + "/ns/" + names[i];
        std::string self = std::string("/proc/self/ns/") + names[i];
        char x[64] = {}, y[64] = {};
        if (readlink(path.c_str(), x, sizeof x - 1) > 0 && readlink(self.c_str(), y, sizeof y - 1) > 0 &&
            std::strcmp(x, y) == 0)
            continue; // already there (joining one's own user namespace is an error)
        fds[i] = open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0)
            fail(std::string("opening the container's ") + names[i] + " namespace");
    }
    for (int i = 0; i < 5; ++i)
        if (fds[i] >= 0 && setns(fds[i], types[i]) != 0)
            fail(std::string("joining the container's ") + names[i] + " namespace");
    pid_t child = fork(); // the fork is what enters the PID namespace
    if (child < 0)
        fail("fork");
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        becomeTerminalSession(a.tty);
        std::string dir = a.workdir.empty() ? "/" : a.workdir;
        if (chdir(dir.c_str()) != 0)
            (void)!chdir("/");
        close(a.lifeline);
        signal(SIGPIPE, SIG_DFL);
        execArgv(a.argv);
    }
    int st = superviseChild(child, a.lifeline);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

} // namespace

int main(int argc, char **argv)
{
    Args a;
    if (!parse(argc, argv, a)) {
        std::fprintf(stderr, "usage: podscape-shim sandbox|container|exec --lifeline FD ... (started by the "
                             "Podscape process runtime, not by hand)\n");
        return 2;
    }
    g_statusFd = a.status;
    closeOthers(std::max(a.lifeline, a.status));
    signal(SIGPIPE, SIG_IGN);
    if (a.mode == "sandbox")
        return runSandbox(a);
    if (a.mode == "container")
        return runContainer(a);
    if (a.mode == "exec")
        return runExec(a);
    std::fprintf(stderr, "podscape-shim: unknown mode %s\n", a.mode.c_str());
    return 2;
}
