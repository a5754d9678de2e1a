// End to end on real processes: podscape-agent with the process runtime, driven by the real
// kubectl through the seed notes' story — a kubia pod, its logs, port-forward, exec (with a
// terminal), a ReplicationController healing itself, a NodePort Service spreading requests, a
// Deployment rolled from v1 to v2 without a failed request, v3 blocked by its readiness probe
// and undone, a liveness probe restarting a container, and SIGKILL of the engine leaving no
// process behind.
#include "../core/apiserver/portforwardclient.h"
#include "e2ehelpers.h"

#include <QDir>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

namespace {

using podscape::tests::freePort;
using podscape::tests::Run;

const QString kManifests = QStringLiteral(PODSCAPE_SOURCE_DIR "/tests/e2e/manifests/");

// One HTTP GET with a 5 s limit; the response body, or "" when the request failed.
std::string httpGet(const std::string &ip, int port)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    std::string resp;
    if (::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0) {
        std::string req = "GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == ssize_t(req.size())) {
            char buf[4096];
            ssize_t n;
            while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0)
                resp.append(buf, size_t(n));
        }
    }
    ::close(fd);
    if (resp.rfind("HTTP/1.1 200", 0) != 0)
        return {};
    auto body = resp.find("\r\n\r\n");
    return body == std::string::npos ? std::string() : resp.substr(body + 4);
}

// Processes whose command line runs one of the build's programs (shims and images).
std::vector<std::string> programProcesses(const std::string &programDir)
{
    std::vector<std::string> out;
    for (const auto &entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        std::ifstream in(entry.path() / "cmdline");
        std::string cmd((std::istreambuf_iterator<char>(in)), {});
        if (cmd.rfind(programDir + "/podscape-image", 0) == 0 || cmd.rfind(programDir + "/podscape-shim", 0) == 0) {
            std::replace(cmd.begin(), cmd.end(), '\0', ' ');
            out.push_back(name + ": " + cmd);
        }
    }
    return out;
}

} // namespace

class TestEndToEndProcess : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_data;
    QString m_listen;
    QProcess m_agent;
    const std::string m_programDir = std::filesystem::path(PODSCAPE_AGENT).parent_path().string();

    bool startAgent()
    {
        m_agent.setProcessChannelMode(QProcess::MergedChannels);
        m_agent.setStandardOutputFile(m_dir.filePath("agent.log"), QIODevice::Append);
        // Should this test crash, the agent (and with it every container) goes too.
        m_agent.setChildProcessModifier([] { prctl(PR_SET_PDEATHSIG, SIGKILL); });
        m_agent.start(QStringLiteral(PODSCAPE_AGENT),
                      {"--data-dir", m_data, "--listen", m_listen, "--nodes", "2", "--runtime", "process"});
        if (!m_agent.waitForStarted())
            return false;
        for (int i = 0; i < 200; ++i) {
            if (kubectl({"get", "--raw", "/readyz"}).out == "ok")
                return true;
            QTest::qWait(50);
        }
        return false;
    }

    Run kubectl(const QStringList &args, const std::string &stdinText = {})
    {
        QProcess p;
        p.start(QStandardPaths::findExecutable("kubectl"), QStringList{"--kubeconfig", m_data + "/kubeconfig"} + args);
        if (!stdinText.empty())
            p.write(stdinText.c_str());
        p.closeWriteChannel();
        p.waitForFinished(180000);
        return {p.exitCode(), p.readAllStandardOutput().toStdString(), p.readAllStandardError().toStdString()};
    }

    std::string jsonpath(const QString &what, const QString &path)
    {
        return kubectl({"get", what, "-o", "jsonpath={" + path + "}"}).out;
    }

    QStringList podNames(const QString &selector)
    {
        QStringList out;
        for (const auto &line : QString::fromStdString(kubectl({"get", "pods", "-l", selector, "-o",
                                                                "jsonpath={range .items[*]}{.metadata.name} "
                                                                "{.status.phase} {.metadata.deletionTimestamp}{\"\\n\"}{end}"})
                                                           .out)
                                    .split('\n', Qt::SkipEmptyParts)) {
            auto fields = line.split(' ', Qt::SkipEmptyParts);
            if (fields.size() == 2 && fields[1] == "Running") // running, not terminating
                out << fields[0];
        }
        return out;
    }

    std::string agentLog()
    {
        QFile f(m_dir.filePath("agent.log"));
        f.open(QIODevice::ReadOnly);
        return f.readAll().right(4000).toStdString();
    }

private slots:
    void initTestCase()
    {
        if (QStandardPaths::findExecutable("kubectl").isEmpty())
            QSKIP("kubectl is not on PATH; the end-to-end suite needs it");
        m_data = m_dir.filePath("data");
        m_listen = "127.0.0.1:" + QString::number(freePort());
        QVERIFY2(startAgent(), agentLog().c_str());
        auto nodes = kubectl({"get", "nodes", "-o", "wide"});
        QVERIFY2(nodes.out.find("podscape-process://1.0") != std::string::npos, nodes.out.c_str());
    }

    void podLogsPortForwardAndExec()
    {
        auto created = kubectl({"create", "-f", kManifests + "kubia-manual.yaml"});
        QCOMPARE(created.out, std::string("pod/kubia-manual created\n"));
        QTRY_COMPARE_WITH_TIMEOUT(jsonpath("pod/kubia-manual", ".status.containerStatuses[0].ready"), std::string("true"),
                                  30000);
        QTRY_COMPARE_WITH_TIMEOUT(kubectl({"logs", "kubia-manual"}).out, std::string("Kubia server starting...\n"), 10000);

        // kubectl port-forward kubia-manual :8080, then an HTTP request through it.
        QProcess forward;
        auto ports = podscape::tests::startPortForward(forward, (m_data + "/kubeconfig").toStdString(),
                                                       {"kubia-manual", ":8080"}, 1);
        QCOMPARE(ports.size(), size_t(1));
        QCOMPARE(httpGet("127.0.0.1", ports[0]), std::string("You've hit kubia-manual\n"));
        // Several connections at once.
        std::vector<std::thread> clients;
        std::atomic<int> good{0};
        for (int i = 0; i < 8; ++i)
            clients.emplace_back([&] { good += httpGet("127.0.0.1", ports[0]) == "You've hit kubia-manual\n"; });
        for (auto &t : clients)
            t.join();
        QCOMPARE(good.load(), 8);
        forward.terminate();
        forward.waitForFinished();
        QTRY_VERIFY_WITH_TIMEOUT(kubectl({"logs", "kubia-manual"}).has("Received request from ::ffff:127."), 10000);
        auto logs = kubectl({"logs", "kubia-manual", "--timestamps", "--tail", "1"});
        QVERIFY2(QRegularExpression("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d+Z Received request from ::ffff:")
                     .match(QString::fromStdString(logs.out))
                     .hasMatch(),
                 logs.out.c_str());

        // exec: the pod's hostname, only the pod's processes, exit codes.
        QCOMPARE(kubectl({"exec", "kubia-manual", "--", "hostname"}).out, std::string("kubia-manual\n"));
        auto ps = kubectl({"exec", "kubia-manual", "--", "ps", "-e", "-o", "pid=,args="});
        QVERIFY2(QRegularExpression("^\\s*1 \\S*podscape-image kubia\\n").match(QString::fromStdString(ps.out)).hasMatch(),
                 ps.out.c_str());
        QCOMPARE(QString::fromStdString(ps.out).count('\n'), 2); // the program and ps itself
        auto exit3 = kubectl({"exec", "kubia-manual", "--", "sh", "-c", "exit 3"});
        QVERIFY2(exit3.code == 3, (std::to_string(exit3.code) + ": " + exit3.out + exit3.err).c_str());
        auto hosts = kubectl({"exec", "kubia-manual", "--", "cat", "/etc/hosts"});
        QVERIFY2(hosts.out.find(jsonpath("pod/kubia-manual", ".status.podIP") + "\tkubia-manual") != std::string::npos,
                 hosts.out.c_str());
        auto input = kubectl({"exec", "-i", "kubia-manual", "--", "sh", "-c", "tr a-z A-Z"}, "through stdin\n");
        QCOMPARE(input.out, std::string("THROUGH STDIN\n"));

        // kubectl exec -it needs a terminal on its side: `script` gives it one.
        QProcess tty;
        tty.start("script", {"-qec",
                             "kubectl --kubeconfig " + m_data + "/kubeconfig exec -it kubia-manual -- sh -c "
                             "'tty; hostname; exit 4'",
                             "/dev/null"});
        QVERIFY(tty.waitForFinished(60000));
        const QString ttyOut = tty.readAllStandardOutput();
        QVERIFY2(ttyOut.contains("/dev/pts/") && ttyOut.contains("kubia-manual"), qPrintable(ttyOut));
        QCOMPARE(tty.exitCode(), 4);
    }

    void replicationControllerAndNodePort()
    {
        QCOMPARE(kubectl({"create", "-f", kManifests + "kubia-rc.yaml"}).out,
                 std::string("replicationcontroller/kubia created\n"));
        QTRY_COMPARE_WITH_TIMEOUT(jsonpath("rc/kubia", ".status.readyReplicas"), std::string("3"), 60000);
        auto exposed = kubectl({"expose", "rc", "kubia", "--type=NodePort", "--name", "kubia-http", "--port", "80",
                                "--target-port", "8080"});
        QCOMPARE(exposed.out, std::string("service/kubia-http exposed\n"));
        const int nodePort = std::stoi(jsonpath("svc/kubia-http", ".spec.ports[0].nodePort"));
        const std::string clusterIP = jsonpath("svc/kubia-http", ".spec.clusterIP");
        // The endpoints are there; the proxy takes them within 100 ms.
        QTRY_COMPARE_WITH_TIMEOUT(httpGet("127.0.0.1", nodePort).rfind("You've hit kubia-", 0), size_t(0), 10000);
        std::set<std::string> answered;
        for (int i = 0; i < 20; ++i) {
            std::string body = httpGet("127.0.0.1", nodePort);
            QVERIFY2(body.rfind("You've hit kubia-", 0) == 0, body.c_str());
            answered.insert(body);
        }
        QVERIFY2(answered.size() >= 2, std::to_string(answered.size()).c_str());
        // The ClusterIP answers on the Service's port too.
        QVERIFY(httpGet(clusterIP, 80).rfind("You've hit kubia-", 0) == 0);

        // Delete one pod: the ReplicationController replaces it.
        const QStringList before = podNames("app=kubia");
        QCOMPARE(before.size(), 3);
        QCOMPARE(kubectl({"delete", "pod", before[0], "--wait=false"}).code, 0);
        QTRY_VERIFY_WITH_TIMEOUT(podNames("app=kubia").size() == 3 && !podNames("app=kubia").contains(before[0]), 60000);
        QString fresh;
        for (const auto &p : podNames("app=kubia"))
            if (!before.contains(p))
                fresh = p;
        QVERIFY(!fresh.isEmpty());
        // A pod created after the Service sees it in its environment (the seed notes' contrast with DNS).
        QTRY_COMPARE_WITH_TIMEOUT(jsonpath("pod/" + fresh, ".status.containerStatuses[0].ready"), std::string("true"),
                                  30000);
        auto env = kubectl({"exec", fresh, "--", "env"});
        QVERIFY2(env.out.find("KUBIA_HTTP_SERVICE_HOST=" + clusterIP + "\n") != std::string::npos, env.out.c_str());
        QVERIFY(env.out.find("KUBIA_HTTP_SERVICE_PORT=80\n") != std::string::npos);
        QVERIFY(env.out.find("HOSTNAME=" + fresh.toStdString() + "\n") != std::string::npos);

        QCOMPARE(kubectl({"delete", "svc", "kubia-http"}).code, 0);
        QCOMPARE(kubectl({"delete", "rc", "kubia", "--cascade=foreground", "--wait=false"}).code, 0);
        QCOMPARE(kubectl({"delete", "pods", "-l", "app=kubia", "--grace-period=1", "--wait=false"}).code, 0);
        QTRY_VERIFY_WITH_TIMEOUT(kubectl({"get", "pods", "-l", "app=kubia", "-o", "name"}).out.empty(), 60000);
    }

    void deploymentRolloutWithoutFailedRequests()
    {
        QCOMPARE(kubectl({"apply", "-f", kManifests + "process/kubia-deployment.yaml"}).code, 0);
        QCOMPARE(kubectl({"apply", "-f", kManifests + "process/kubia-service.yaml"}).code, 0);
        auto status = kubectl({"rollout", "status", "deployment/kubia", "--timeout=120s"});
        QVERIFY2(status.code == 0, (status.out + status.err).c_str());
        const int nodePort = std::stoi(jsonpath("svc/kubia", ".spec.ports[0].nodePort"));
        QTRY_COMPARE_WITH_TIMEOUT(httpGet("127.0.0.1", nodePort).rfind("You've hit kubia-", 0), size_t(0), 10000);

        // 10 requests a second while the rollout runs: none may fail.
        std::atomic<bool> stop{false};
        std::atomic<int> failed{0}, v1{0}, v2{0};
        std::thread load([&] {
            while (!stop) {
                std::string body = httpGet("127.0.0.1", nodePort);
                if (body.rfind("You've hit ", 0) == 0)
                    ++v1;
                else if (body.rfind("This is v2 running in pod ", 0) == 0)
                    ++v2;
                else
                    ++failed;
                std::this_thread::sleep_for(std::chrono::milliseconds(100)); // the load's pace
            }
        });
        auto set = kubectl({"set", "image", "deployment/kubia", "nodejs=luksa/kubia:v2"});
        auto done = kubectl({"rollout", "status", "deployment/kubia", "--timeout=180s"});
        // Requests keep flowing a little after the last old pod left the endpoints.
        const int afterRollout = v1 + v2 + failed + 20;
        QTRY_VERIFY_WITH_TIMEOUT(v1 + v2 + failed >= afterRollout, 10000);
        stop = true;
        load.join();
        QCOMPARE(set.out, std::string("deployment.apps/kubia image updated\n"));
        QVERIFY2(done.code == 0, (done.out + done.err).c_str());
        QCOMPARE(failed.load(), 0);
        QVERIFY(v1 > 0);
        QVERIFY(v2 > 0);
        QCOMPARE(httpGet("127.0.0.1", nodePort).rfind("This is v2 running in pod kubia-", 0), size_t(0));

        // v3 fails after five requests: its first pod never stays ready for minReadySeconds.
        QCOMPARE(kubectl({"set", "image", "deployment/kubia", "nodejs=luksa/kubia:v3"}).code, 0);
        auto blocked = kubectl({"rollout", "status", "deployment/kubia", "--timeout=25s"});
        QVERIFY2(blocked.code != 0, (blocked.out + blocked.err).c_str());
        QVERIFY2(blocked.has("Waiting for deployment \"kubia\" rollout to finish: 1 out of 3 new replicas have been updated"),
                 blocked.out.c_str());
        auto v3pods = kubectl({"get", "pods", "-l", "app=kubia", "-o",
                               "jsonpath={range .items[*]}{.spec.containers[0].image} "
                               "{.status.containerStatuses[0].ready}{\"\\n\"}{end}"});
        QVERIFY2(v3pods.out.find("luksa/kubia:v3 false") != std::string::npos, v3pods.out.c_str());
        QCOMPARE(kubectl({"rollout", "undo", "deployment/kubia"}).out, std::string("deployment.apps/kubia rolled back\n"));
        auto undone = kubectl({"rollout", "status", "deployment/kubia", "--timeout=120s"});
        QVERIFY2(undone.code == 0, (undone.out + undone.err).c_str());
        QCOMPARE(jsonpath("deployment/kubia", ".spec.template.spec.containers[0].image"), std::string("luksa/kubia:v2"));
    }

    void livenessProbeRestartsTheContainer()
    {
        QCOMPARE(kubectl({"create", "-f", kManifests + "process/kubia-liveness.yaml"}).code, 0);
        auto restarts = [&] {
            return std::atoi(jsonpath("pod/kubia-liveness", ".status.containerStatuses[0].restartCount").c_str());
        };
        QTRY_VERIFY_WITH_TIMEOUT(restarts() >= 1, 60000);
        auto described = kubectl({"describe", "pod", "kubia-liveness"});
        QVERIFY2(described.has("Liveness probe failed: HTTP probe failed with statuscode: 500"), described.out.c_str());
        QVERIFY2(described.has("Container kubia failed liveness probe, will be restarted"), described.out.c_str());
        auto previous = kubectl({"logs", "kubia-liveness", "--previous"});
        QVERIFY2(previous.out.rfind("Kubia server starting...\nReceived request from ", 0) == 0, previous.out.c_str());
        QCOMPARE(kubectl({"delete", "pod", "kubia-liveness", "--grace-period=0", "--force"}).code, 0);
    }

    void memoryLimitOomKills()
    {
        const std::string message = jsonpath("node/node-1", ".status.conditions[?(@.type==\"IsolationDegraded\")].message");
        if (message.find("resources.limits are not enforced") != std::string::npos)
            QSKIP(("cannot run here, the node says: " + message).c_str());
        const std::string pod = R"(apiVersion: v1
kind: Pod
metadata:
  name: hog
spec:
  restartPolicy: Never
  containers:
  - name: hog
    image: busybox
    command: ["sh", "-c", "x=$(head -c 300000000 /dev/zero | tr '\\0' x); echo survived"]
    resources:
      limits:
        memory: 32Mi
)";
        QCOMPARE(kubectl({"apply", "-f", "-"}, pod).code, 0);
        QTRY_COMPARE_WITH_TIMEOUT(jsonpath("pod/hog", ".status.containerStatuses[0].state.terminated.reason"),
                                  std::string("OOMKilled"), 60000);
        QCOMPARE(jsonpath("pod/hog", ".status.containerStatuses[0].state.terminated.exitCode"), std::string("137"));
    }

    // SIGKILL of the engine: its containers die with it; started again, it runs them again.
    void killedEngineLeavesNoProcess()
    {
        QVERIFY(!programProcesses(m_programDir).empty());
        m_agent.kill();
        QVERIFY(m_agent.waitForFinished(10000));
        QTRY_VERIFY2_WITH_TIMEOUT(programProcesses(m_programDir).empty(),
                                  programProcesses(m_programDir).empty() ? "" : programProcesses(m_programDir)[0].c_str(),
                                  10000);
        QVERIFY2(startAgent(), agentLog().c_str());
        const int nodePort = std::stoi(jsonpath("svc/kubia", ".spec.ports[0].nodePort"));
        QTRY_COMPARE_WITH_TIMEOUT(httpGet("127.0.0.1", nodePort).rfind("This is v2 running in pod kubia-", 0), size_t(0),
                                  60000);
        QTRY_COMPARE_WITH_TIMEOUT(kubectl({"logs", "kubia-manual"}).out.rfind("Kubia server starting...\n", 0), size_t(0),
                                  30000);
        QCOMPARE(kubectl({"exec", "kubia-manual", "--", "hostname"}).out, std::string("kubia-manual\n"));
    }

    void cleanupTestCase()
    {
        if (m_agent.state() != QProcess::NotRunning) {
            m_agent.terminate();
            m_agent.waitForFinished(60000);
        }
        // A clean stop leaves nothing either.
        QTRY_VERIFY_WITH_TIMEOUT(programProcesses(m_programDir).empty(), 10000);
    }
};

QTEST_GUILESS_MAIN(TestEndToEndProcess)
#include "tst_e2e_process.moc"
