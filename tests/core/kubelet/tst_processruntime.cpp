// The process runtime on real processes: podscape-shim and podscape-image from the build
// (PODSCAPE_PROGRAM_DIR), the host's sh for the base images.
#include "core/kubelet/runtime/processruntime.h"

#include <QtTest>

#include <fstream>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace podscape::core;
using namespace podscape::core::kubelet::runtime;
using namespace std::chrono_literals;

namespace {

// Waits (with a deadline) until `done` holds; the runtime's work happens on its own threads.
template <typename F>
bool waitFor(F done, std::chrono::milliseconds timeout = 10s)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        QTest::qWait(10);
    }
    return true;
}

ContainerConfig container(std::string image, std::vector<std::string> command = {}, std::vector<std::string> args = {})
{
    ContainerConfig c;
    c.name = "main";
    c.image = std::move(image);
    c.command = std::move(command);
    c.args = std::move(args);
    return c;
}

struct Pod {
    ProcessRuntime &runtime;
    std::string sandbox;

    Pod(ProcessRuntime &rt, const std::string &name, const std::string &ip) : runtime(rt)
    {
        PodSandboxConfig config;
        config.podName = name;
        config.podNamespace = "default";
        config.podUid = "uid-" + name;
        config.hostname = name;
        config.ip = ip;
        config.hostIP = "127.243.9.1";
        auto id = runtime.runPodSandbox(config);
        if (id)
            sandbox = *id;
    }
    std::string run(ContainerConfig config)
    {
        auto pull = runtime.pullImage(config.image);
        if (!pull || pull->failure)
            return {};
        auto id = runtime.createContainer(sandbox, config);
        if (!id) {
            qWarning() << "create:" << id.error().message().c_str();
            return {};
        }
        if (!runtime.startContainer(*id))
            return {};
        return *id;
    }
    ContainerStatus status(const std::string &id) { return *runtime.containerStatus(id); }
    bool exited(const std::string &id) { return status(id).state == ContainerState::Exited; }
    std::string log(const std::string &id, bool stderrOnly = false)
    {
        std::string out;
        if (auto lines = runtime.logs(id, {}))
            for (const auto &l : *lines)
                if (!stderrOnly || l.stderrStream)
                    out += l.text + "\n";
        return out;
    }
};

// Everything a session says until it ends (or the deadline).
struct Output {
    std::string out, err;
};
Output drain(StreamSession &s, std::chrono::milliseconds timeout = 10s)
{
    Output o;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!s.isEnded() && std::chrono::steady_clock::now() < deadline)
        if (auto c = s.read(200ms))
            (c->stream == 2 ? o.err : o.out) += c->data;
    return o;
}

std::string httpGet(const std::string &ip, int port)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
        ::close(fd);
        return {};
    }
    std::string req = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    (void)!::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    std::string resp;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0)
        resp.append(buf, size_t(n));
    ::close(fd);
    return resp;
}

bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

} // namespace

class TestProcessRuntime : public QObject
{
    Q_OBJECT

    std::unique_ptr<ProcessRuntime> m_runtime;
    bool m_pidns = false;

private slots:
    void initTestCase()
    {
        QVERIFY(ProcessRuntime::checkPrograms(PODSCAPE_PROGRAM_DIR));
        ProcessRuntimeOptions options;
        options.programDir = PODSCAPE_PROGRAM_DIR;
        options.nodeName = "node-9";
        m_runtime = std::make_unique<ProcessRuntime>(options);
        auto iso = m_runtime->isolation();
        m_pidns = iso.namespaces.count("pid") && iso.namespaces.count("mnt");
        if (!iso.missing.empty())
            qInfo("isolation: %s", iso.missing.c_str());
        qInfo("running as uid %u", unsigned(geteuid()));
        // Without root, the isolation comes from a user namespace (where the kernel allows one).
        if (geteuid() != 0 && std::ifstream("/proc/sys/user/max_user_namespaces").good())
            QVERIFY2(iso.namespaces.count("user"), iso.missing.c_str());
    }
    void cleanupTestCase() { m_runtime.reset(); }

    void conditionSaysWhatIsMissing()
    {
        auto conditions = m_runtime->conditions();
        QCOMPARE(conditions.size(), size_t(1));
        QCOMPARE(conditions[0].type, std::string("IsolationDegraded"));
        auto iso = m_runtime->isolation();
        QCOMPARE(conditions[0].status, std::string(iso.missing.empty() ? "False" : "True"));
        if (!iso.missing.empty())
            QCOMPARE(conditions[0].message, iso.missing);
    }

    void shellContainerRunsInItsNamespaces()
    {
        Pod pod(*m_runtime, "kubia-shell", "127.244.9.2");
        QVERIFY(!pod.sandbox.empty());
        ContainerConfig c = container("busybox", {"sh", "-c",
                                                  "echo out-line; echo err-line >&2; hostname; echo pid=$$; "
                                                  "echo ip=$POD_IP ns=$POD_NAMESPACE node=$NODE_NAME; "
                                                  "grep kubia-shell /etc/hosts; echo $GREETING; exit 3"});
        c.env = {{"GREETING", "hello from env"}};
        std::string id = pod.run(c);
        QVERIFY(!id.empty());
        QVERIFY(waitFor([&] { return pod.exited(id); }));
        auto st = pod.status(id);
        QCOMPARE(st.exitCode, 3);
        QCOMPARE(st.reason, std::string("Error"));
        QVERIFY(st.finishedAt >= st.startedAt);
        const std::string log = pod.log(id);
        QVERIFY2(log.find("out-line\n") != std::string::npos, log.c_str());
        QCOMPARE(pod.log(id, true), std::string("err-line\n"));
        QVERIFY2(log.find("ip=127.244.9.2 ns=default node=node-9") != std::string::npos, log.c_str());
        QVERIFY2(log.find("hello from env") != std::string::npos, log.c_str());
        if (m_runtime->isolation().namespaces.count("uts"))
            QVERIFY2(log.find("\nkubia-shell\n") != std::string::npos, log.c_str());
        if (m_pidns) {
            QVERIFY2(log.find("pid=1\n") != std::string::npos, log.c_str());
            QVERIFY2(log.find("127.244.9.2\tkubia-shell") != std::string::npos, log.c_str());
        }
        QVERIFY(m_runtime->removeContainer(id));
        QVERIFY(m_runtime->removePodSandbox(pod.sandbox));
    }

    void unknownImageListsWhatExists()
    {
        auto pull = m_runtime->pullImage("quay.io/someone/webapp:1.0");
        QVERIFY(pull);
        QVERIFY(pull->failure);
        QVERIFY2(pull->failure->message().find("luksa/kubia") != std::string::npos, pull->failure->message().c_str());
        QVERIFY(!m_runtime->pullImage("luksa/Kubia")); // InvalidImageName
        auto v9 = m_runtime->pullImage("luksa/kubia:v9");
        QVERIFY(v9 && v9->failure);
        auto ok = m_runtime->pullImage("luksa/kubia:v2");
        QVERIFY(ok && !ok->failure);
        QVERIFY(m_runtime->imageStatus("docker.io/luksa/kubia:v2"));
        QVERIFY(!m_runtime->imageStatus("luksa/kubia:v3"));
    }

    void missingCommandIsAStartError()
    {
        Pod pod(*m_runtime, "typo", "127.244.9.3");
        std::string id = pod.run(container("busybox", {"no-such-program-here"}));
        QVERIFY(!id.empty());
        QVERIFY(waitFor([&] { return pod.exited(id); }));
        auto st = pod.status(id);
        QCOMPARE(st.reason, std::string("StartError"));
        QCOMPARE(st.exitCode, 128);
        QVERIFY2(st.message.find("executable file not found in $PATH") != std::string::npos, st.message.c_str());
        QVERIFY(m_runtime->removePodSandbox(pod.sandbox));
    }

    void kubiaServesOnThePodIp()
    {
        Pod a(*m_runtime, "kubia-a", "127.244.9.4");
        Pod b(*m_runtime, "kubia-b", "127.244.9.5");
        std::string ida = a.run(container("luksa/kubia"));
        std::string idb = b.run(container("luksa/kubia"));
        QVERIFY(!ida.empty() && !idb.empty());
        // Both listen on 8080, each on its own pod IP.
        ProbeSpec http;
        http.handler = ProbeSpec::Handler::HttpGet;
        http.port = 8080;
        QVERIFY(waitFor([&] { return m_runtime->probe(ida, http)->success && m_runtime->probe(idb, http)->success; }));
        QVERIFY(httpGet("127.244.9.4", 8080).find("You've hit kubia-a") != std::string::npos);
        QVERIFY(httpGet("127.244.9.5", 8080).find("You've hit kubia-b") != std::string::npos);
        QVERIFY(waitFor([&] { return a.log(ida).find("Received request from ::ffff:") != std::string::npos; }));

        ProbeSpec tcp = http;
        tcp.handler = ProbeSpec::Handler::TcpSocket;
        QVERIFY(m_runtime->probe(ida, tcp)->success);
        tcp.port = 8081;
        auto refused = m_runtime->probe(ida, tcp);
        QVERIFY(!refused->success);
        QCOMPARE(refused->message, std::string("dial tcp 127.244.9.4:8081: connect: Connection refused"));
        http.port = 8081;
        QVERIFY(m_runtime->probe(ida, http)->message.find("Get \"http://127.244.9.4:8081/\": dial tcp") == 0);

        // Port-forward reaches the pod's port.
        auto pf = m_runtime->portForward(a.sandbox, 8080);
        QVERIFY(pf);
        QVERIFY((*pf)->write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        QVERIFY(drain(**pf).out.find("You've hit kubia-a") != std::string::npos);
        QVERIFY(!m_runtime->portForward(a.sandbox, 9));

        // Stats of a running program.
        auto stats = m_runtime->containerStats(ida);
        QVERIFY(stats);
        QVERIFY(stats->memoryBytes > 0);

        // kubia ignores SIGTERM (PID 1 without a handler): killed when the grace period ends.
        QVERIFY(m_runtime->stopContainer(ida, 300ms));
        QVERIFY(waitFor([&] { return a.exited(ida); }));
        QCOMPARE(a.status(ida).exitCode, m_pidns ? 137 : 143);
        QVERIFY(m_runtime->removePodSandbox(a.sandbox));
        QVERIFY(m_runtime->removePodSandbox(b.sandbox));
    }

    void gracefulStopRunsTheTrap()
    {
        Pod pod(*m_runtime, "trap", "127.244.9.6");
        std::string id = pod.run(container(
            "busybox", {"sh", "-c", "trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.05; done"}));
        QVERIFY(waitFor([&] { return pod.log(id).find("ready") != std::string::npos; }));
        QVERIFY(m_runtime->stopContainer(id, 30s));
        QVERIFY(waitFor([&] { return pod.exited(id); }, 5s)); // well before the grace period
        QCOMPARE(pod.status(id).exitCode, 0);
        QCOMPARE(pod.status(id).reason, std::string("Completed"));
        QVERIFY(pod.log(id).find("got TERM") != std::string::npos);
        QVERIFY(m_runtime->removePodSandbox(pod.sandbox));
    }

    void preStopHookRunsBeforeSigterm()
    {
        Pod pod(*m_runtime, "hooked", "127.244.9.13");
        ContainerConfig c = container(
            "busybox", {"sh", "-c", "trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.05; done"});
        c.preStop = ProbeSpec{};
        c.preStop->handler = ProbeSpec::Handler::Exec;
        // The hook writes into the container's own output, through PID 1's stdout.
        c.preStop->command = {"sh", "-c", "echo prestop ran > /proc/1/fd/1; sleep 0.3"};
        std::string id = pod.run(c);
        QVERIFY(waitFor([&] { return pod.log(id).find("ready") != std::string::npos; }));
        QVERIFY(m_runtime->stopContainer(id, 10s));
        QVERIFY(m_runtime->stopContainer(id, 9s)); // the kubelet asks again: nothing runs twice
        QVERIFY(waitFor([&] { return pod.exited(id); }));
        const std::string log = pod.log(id);
        QVERIFY2(log.find("prestop ran\ngot TERM\n") != std::string::npos || !m_pidns, log.c_str());
        QCOMPARE(pod.status(id).exitCode, 0);
        QVERIFY(m_runtime->removePodSandbox(pod.sandbox));
    }

    void execRunsInTheContainer()
    {
        Pod pod(*m_runtime, "kubia-exec", "127.244.9.7");
        std::string id = pod.run(container("busybox", {"sleep", "1000"}));
        QVERIFY(waitFor([&] { return !m_runtime->containerPids().empty(); }));

        ExecOptions exit3;
        exit3.command = {"sh", "-c", "echo to-out; echo to-err >&2; exit 3"};
        auto s = m_runtime->exec(id, exit3);
        QVERIFY(s);
        auto o = drain(**s);
        QCOMPARE(o.out, std::string("to-out\n"));
        QCOMPARE(o.err, std::string("to-err\n"));
        QCOMPARE((*s)->exitCode(), std::optional<int>(3));

        ExecOptions ps;
        ps.command = {"sh", "-c", "hostname; ps -e -o pid=,comm="};
        auto p = m_runtime->exec(id, ps);
        auto po = drain(**p);
        QVERIFY2(po.out.rfind("kubia-exec\n", 0) == 0, po.out.c_str());
        if (m_pidns)
            QVERIFY2(po.out.find("1 sleep") != std::string::npos, po.out.c_str()); // only the pod's processes
        QCOMPARE((*p)->exitCode(), std::optional<int>(0));

        ExecOptions cat;
        cat.command = {"cat"};
        cat.stdinOpen = true;
        auto c = m_runtime->exec(id, cat);
        QVERIFY((*c)->write("echoed back\n"));
        (*c)->closeWrite();
        QCOMPARE(drain(**c).out, std::string("echoed back\n"));
        QCOMPARE((*c)->exitCode(), std::optional<int>(0));

        // A terminal: resize is seen by the program, and exit codes still come through.
        ExecOptions tty;
        tty.command = {"sh"};
        tty.stdinOpen = true;
        tty.tty = true;
        auto t = m_runtime->exec(id, tty);
        QVERIFY(t);
        (*t)->resize(100, 40);
        QVERIFY((*t)->write("stty size; exit 5\n"));
        auto to = drain(**t);
        QVERIFY2(to.out.find("40 100") != std::string::npos, to.out.c_str());
        QCOMPARE((*t)->exitCode(), std::optional<int>(5));

        ExecOptions missing;
        missing.command = {"no-such-tool"};
        auto m = m_runtime->exec(id, missing);
        auto mo = drain(**m);
        QCOMPARE((*m)->exitCode(), std::optional<int>(127));
        QVERIFY(mo.err.find("executable file not found") != std::string::npos);

        // Exec probes.
        ProbeSpec probe;
        probe.handler = ProbeSpec::Handler::Exec;
        probe.command = {"sh", "-c", "echo not yet; exit 1"};
        auto failed = m_runtime->probe(id, probe);
        QVERIFY(!failed->success);
        QCOMPARE(failed->message, std::string("not yet"));
        probe.command = {"true"};
        QVERIFY(m_runtime->probe(id, probe)->success);
        probe.command = {"sleep", "5"};
        probe.timeout = 200ms;
        auto slow = m_runtime->probe(id, probe);
        QVERIFY(!slow->success);
        QCOMPARE(slow->message, std::string("command \"sleep 5\" timed out"));

        QVERIFY(m_runtime->removePodSandbox(pod.sandbox));
    }

    void attachReachesStdin()
    {
        Pod pod(*m_runtime, "attach", "127.244.9.8");
        ContainerConfig c = container("busybox", {"sh", "-c", "while read line; do echo \"got $line\"; done; echo eof"});
        c.stdinOpen = true;
        std::string id = pod.run(c);
        QVERIFY(!id.empty());
        AttachOptions options;
        options.stdinOpen = true;
        auto s = m_runtime->attach(id, options);
        QVERIFY(s);
        QVERIFY((*s)->write("one\n"));
        std::string seen;
        QVERIFY(waitFor([&] {
            if (auto chunk = (*s)->read(50ms))
                seen += chunk->data;
            return seen.find("got one") != std::string::npos;
        }));
        QVERIFY(waitFor([&] { return pod.log(id).find("got one") != std::string::npos; }));
        QVERIFY(m_runtime->stopContainer(id, 0s));
        QVERIFY(waitFor([&] { return pod.exited(id); }));
        QVERIFY(waitFor([&] {
            (void)(*s)->read(10ms);
            return (*s)->isEnded();
        }));
        QVERIFY(m_runtime->removePodSandbox(pod.sandbox));

        Pod other(*m_runtime, "no-stdin", "127.244.9.9");
        std::string plain = other.run(container("busybox", {"sleep", "100"}));
        auto refused = m_runtime->attach(plain, options);
        QVERIFY(!refused);
        QVERIFY(refused.error().message().find("stdin: true") != std::string::npos);
        QVERIFY(m_runtime->removePodSandbox(other.sandbox));
    }

    void followLogsSeesNewLines()
    {
        Pod pod(*m_runtime, "counter", "127.244.9.10");
        std::string id =
            pod.run(container("busybox", {"sh", "-c", "i=0; while [ $i -lt 5 ]; do echo line $i; i=$((i+1)); sleep 0.05; done"}));
        auto follow = m_runtime->followLogs(id, {});
        QVERIFY(follow);
        std::vector<std::string> lines;
        bool ended = false;
        QVERIFY(waitFor([&] {
            auto chunk = (*follow)->read(100ms);
            for (const auto &l : chunk.lines)
                lines.push_back(l.text);
            ended = chunk.ended;
            return ended;
        }));
        QCOMPARE(lines, (std::vector<std::string>{"line 0", "line 1", "line 2", "line 3", "line 4"}));
        LogOptions tail;
        tail.tailLines = 2;
        QCOMPARE(m_runtime->logs(id, tail)->size(), size_t(2));
        QVERIFY(m_runtime->removePodSandbox(pod.sandbox));
    }

    void stoppingTheSandboxKillsEverything()
    {
        Pod pod(*m_runtime, "tree", "127.244.9.11");
        // A process tree: the shell, a background child and a grandchild.
        std::string id = pod.run(container("busybox", {"sh", "-c", "sleep 1001 & (sleep 1002 &) ; sleep 1003"}));
        QVERIFY(waitFor([&] { return !m_runtime->containerPids().empty(); }));
        pid_t init = m_runtime->containerPids().front();
        QVERIFY(alive(init));
        QVERIFY(m_runtime->stopPodSandbox(pod.sandbox));
        QVERIFY(waitFor([&] { return pod.exited(id); }));
        QVERIFY(!alive(init));
        if (m_pidns) {
            // PID 1's death takes the whole namespace: no sleep 100x survives.
            QVERIFY(waitFor([] { return std::system("pgrep -f 'sleep 100[123]' >/dev/null") != 0; }));
        }
        QVERIFY(m_runtime->removePodSandbox(pod.sandbox));
    }

    void memoryLimitOomKills()
    {
        auto iso = m_runtime->isolation();
        if (!iso.cgroups)
            QSKIP(("no cgroup limits on this machine, as the node reports: " + iso.missing).c_str());
        Pod pod(*m_runtime, "hog", "127.244.9.14");
        ContainerConfig c = container("busybox", {"sh", "-c", "x=$(head -c 300000000 /dev/zero | tr '\\0' x); echo survived"});
        c.memoryLimitBytes = 32 * 1024 * 1024;
        std::string id = pod.run(c);
        QVERIFY(!id.empty());
        QVERIFY(waitFor([&] { return pod.exited(id); }, 30s));
        QCOMPARE(pod.status(id).reason, std::string("OOMKilled"));
        QVERIFY(pod.log(id).find("survived") == std::string::npos);
        QVERIFY(m_runtime->removePodSandbox(pod.sandbox));
    }

    void plainProcessesWithoutNamespaces()
    {
        ProcessRuntimeOptions options;
        options.programDir = PODSCAPE_PROGRAM_DIR;
        options.namespaces = false;
        ProcessRuntime plain(options);
        auto conditions = plain.conditions();
        QCOMPARE(conditions[0].status, std::string("True"));
        QVERIFY2(conditions[0].message.find("turned off") != std::string::npos, conditions[0].message.c_str());
        Pod pod(plain, "plain", "127.244.9.12");
        std::string id = pod.run(container("busybox", {"sh", "-c", "echo pid=$$; sleep 1000"}));
        QVERIFY(waitFor([&] { return pod.log(id).find("pid=") != std::string::npos; }));
        QVERIFY(pod.log(id).find("pid=1\n") == std::string::npos);
        QVERIFY(plain.stopContainer(id, 0s));
        QVERIFY(waitFor([&] { return pod.exited(id); }));
        QCOMPARE(pod.status(id).exitCode, 137);
    }
};

QTEST_GUILESS_MAIN(TestProcessRuntime)
#include "tst_processruntime.moc"
