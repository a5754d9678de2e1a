// The node-proxied pod subresources and metrics.k8s.io, judged by the real kubectl: logs
// (tail, timestamps, limit-bytes, follow), top, exec over WebSocket (v5.channel.k8s.io) and
// port-forward (SPDY in a WebSocket for kubectl, the channel protocol for python3-kubernetes)
// against a fake exec session, since the simulated runtime has no processes to run.
#include "apiharness.h"
#include "portforwardclient.h"
#include "core/apiserver/remotecommandsession.h"
#include "core/apiserver/spdyportforward.h"

#include <QtTest>

#include <condition_variable>
#include <deque>

using namespace podscape::core;
using namespace podscape::core::apiserver;
using nlohmann::json;
namespace rt = podscape::core::kubelet::runtime;

namespace {

// A command with scripted behaviour: echo ARGS, hostname, cat (stdin to stdout until stdin
// closes), upper (cat, upper-cased: a forwarded port's "server"), fail (stderr, exit 3).
class FakeSession final : public rt::StreamSession
{
public:
    FakeSession(const std::vector<std::string> &command, const std::string &pod)
    {
        const std::string &c = command.front();
        if (c == "echo") {
            std::string text;
            for (size_t i = 1; i < command.size(); ++i)
                text += (i > 1 ? " " : "") + command[i];
            push(1, text + "\n");
            end(0);
        } else if (c == "hostname") {
            push(1, pod + "\n");
            end(0);
        } else if (c == "fail") {
            push(2, "boom\n");
            end(3);
        } else if (c == "cat") {
            m_echo = true;
        } else if (c == "upper") {
            m_echo = m_upper = true;
        } else {
            push(2, "sh: " + c + ": not found\n");
            end(127);
        }
    }
    Result<void> write(std::string_view data) override
    {
        std::lock_guard g(m_mutex);
        if (m_echo && !m_ended) {
            std::string text(data);
            if (m_upper)
                std::transform(text.begin(), text.end(), text.begin(), [](unsigned char ch) { return char(std::toupper(ch)); });
            m_out.push_back({1, std::move(text)});
        }
        m_cv.notify_all();
        return {};
    }
    void closeWrite() override
    {
        std::lock_guard g(m_mutex);
        if (m_echo)
            m_ended = true;
        m_cv.notify_all();
    }
    std::optional<Chunk> read(rt::Duration timeout) override
    {
        std::unique_lock lock(m_mutex);
        m_cv.wait_for(lock, timeout, [&] { return !m_out.empty() || m_ended; });
        if (m_out.empty())
            return std::nullopt;
        Chunk c = std::move(m_out.front());
        m_out.pop_front();
        return c;
    }
    bool isEnded() const override
    {
        std::lock_guard g(m_mutex);
        return m_ended && m_out.empty();
    }
    void resize(uint16_t, uint16_t) override {}
    std::optional<int> exitCode() const override
    {
        std::lock_guard g(m_mutex);
        return m_ended ? std::optional<int>(m_code) : std::nullopt;
    }
    void close() override
    {
        std::lock_guard g(m_mutex);
        m_ended = true;
        m_cv.notify_all();
    }

private:
    void push(int stream, std::string data) { m_out.push_back({stream, std::move(data)}); }
    void end(int code)
    {
        m_ended = true;
        m_code = code;
    }
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<Chunk> m_out;
    bool m_echo = false, m_upper = false, m_ended = false;
    int m_code = 0;
};

// The cluster's kubelets for everything but exec and port-forward, which the fake answers
// (except for the pod named "simulated", which goes to the real simulated node). Port 8080
// of a pod answers in upper case; other ports refuse the connection.
class FakeExecNodes final : public cluster::NodeAccess
{
public:
    cluster::Cluster *cluster = nullptr;
    Result<std::vector<rt::LogLine>> containerLogs(const std::string &node, const std::string &ns, const std::string &pod,
                                                   const std::string &container, const rt::LogOptions &o) override
    {
        return cluster->containerLogs(node, ns, pod, container, o);
    }
    Result<std::unique_ptr<rt::LogStream>> followContainerLogs(const std::string &node, const std::string &ns,
                                                               const std::string &pod, const std::string &container,
                                                               const rt::LogOptions &o) override
    {
        return cluster->followContainerLogs(node, ns, pod, container, o);
    }
    Result<std::unique_ptr<rt::StreamSession>> exec(const std::string &node, const std::string &ns, const std::string &pod,
                                                    const std::string &container, const rt::ExecOptions &o) override
    {
        if (pod == "simulated")
            return cluster->exec(node, ns, pod, container, o);
        return std::unique_ptr<rt::StreamSession>(std::make_unique<FakeSession>(o.command, pod));
    }
    Result<std::unique_ptr<rt::StreamSession>> attach(const std::string &node, const std::string &ns, const std::string &pod,
                                                      const std::string &container, const rt::AttachOptions &o) override
    {
        return cluster->attach(node, ns, pod, container, o);
    }
    Result<std::unique_ptr<rt::StreamSession>> portForward(const std::string &node, const std::string &ns,
                                                           const std::string &pod, int port) override
    {
        if (pod == "simulated")
            return cluster->portForward(node, ns, pod, port);
        if (port != 8080)
            return Error(Reason::ServiceUnavailable, "dial tcp 127.0.0.1:" + std::to_string(port) + ": connection refused");
        ++dials;
        return std::unique_ptr<rt::StreamSession>(std::make_unique<FakeSession>(std::vector<std::string>{"upper"}, pod));
    }
    std::atomic<int> dials{0};
    std::vector<cluster::PodUsage> podUsage() override { return cluster->podUsage(); }
    std::vector<cluster::NodeUsage> nodeUsage() override { return cluster->nodeUsage(); }
};

std::string pod(const std::string &name, const std::string &image, const std::string &extra = {})
{
    return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name
        + "\n  annotations:\n    sim.podscape.io/cpu: 250m\n    sim.podscape.io/memory: 64Mi\nspec:\n  containers:\n  - name: main\n    image: "
        + image + "\n" + extra;
}

bool haveKubectl() { return !QStandardPaths::findExecutable("kubectl").isEmpty(); }


} // namespace

class TestNodeProxy : public QObject
{
    Q_OBJECT
private slots:
    void logsThroughKubectl()
    {
        if (!haveKubectl())
            QSKIP("kubectl is not on PATH");
        podscape::tests::ApiHarness h(true);
        const std::string script = "    command: [sh, -c, 'echo hello; echo world; echo third']\n  restartPolicy: Never\n";
        QCOMPARE(h.kubectl({"create", "-f", "-"}, pod("printer", "busybox", script)).code, 0);
        QTRY_COMPARE_WITH_TIMEOUT(h.kubectl({"get", "pod", "printer", "-o", "jsonpath={.status.phase}"}).out,
                                  std::string("Succeeded"), 30000);
        auto all = h.kubectl({"logs", "printer"});
        QCOMPARE(all.code, 0);
        QCOMPARE(all.out, std::string("hello\nworld\nthird\n"));
        QCOMPARE(h.kubectl({"logs", "printer", "--tail=1"}).out, std::string("third\n"));
        QCOMPARE(h.kubectl({"logs", "printer", "--limit-bytes=8"}).out, std::string("hello\nwo"));
        auto stamped = h.kubectl({"logs", "printer", "--timestamps"});
        QVERIFY2(QRegularExpression("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d+Z hello\\n")
                     .match(QString::fromStdString(stamped.out))
                     .hasMatch(),
                 stamped.out.c_str());
        // Following an exited container gives everything and ends, as kubectl expects.
        auto followed = h.kubectl({"logs", "-f", "printer", "-c", "main"});
        QCOMPARE(followed.code, 0);
        QCOMPARE(followed.out, all.out);

        // Following a running one streams lines as they come.
        const std::string loop = "    command: [sh, -c, 'echo start; while true; do echo tick; sleep 1; done']\n";
        QCOMPARE(h.kubectl({"create", "-f", "-"}, pod("ticker", "busybox", loop)).code, 0);
        QTRY_COMPARE_WITH_TIMEOUT(h.kubectl({"get", "pod", "ticker", "-o", "jsonpath={.status.phase}"}).out,
                                  std::string("Running"), 30000);
        QProcess follow;
        follow.setProcessChannelMode(QProcess::MergedChannels);
        follow.start(QStandardPaths::findExecutable("kubectl"),
                     {"--kubeconfig", QString::fromStdString(h.kubeconfig), "logs", "-f", "ticker"});
        QString seen;
        QTRY_VERIFY_WITH_TIMEOUT((seen += follow.readAll(), seen.count("tick") >= 2), 30000);
        QVERIFY(seen.startsWith("start\n"));
        follow.kill();
        follow.waitForFinished();

        // Errors in the API server's words.
        auto missing = h.kubectl({"logs", "nosuchpod"});
        QVERIFY(missing.code != 0);
        QVERIFY2(missing.err.find("pods \"nosuchpod\" not found") != std::string::npos, missing.err.c_str());
        const std::string nowhere = "  nodeSelector:\n    disk: none\n";
        QCOMPARE(h.kubectl({"create", "-f", "-"}, pod("stuck", "luksa/kubia", nowhere)).code, 0);
        auto unscheduled = h.kubectl({"logs", "stuck"});
        QVERIFY(unscheduled.code != 0);
        QVERIFY2(unscheduled.err.find("not scheduled to a node yet") != std::string::npos, unscheduled.err.c_str());
        auto badTail = h.call("GET", "/api/v1/namespaces/default/pods/printer/log?tailLines=x");
        QCOMPARE(badTail.status, 400);
        QVERIFY(json::parse(badTail.body)["message"].get<std::string>().find("tailLines") != std::string::npos);
        QCOMPARE(h.call("GET", "/api/v1/namespaces/default/pods/printer/log?sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z").status,
                 400);
    }

    void topThroughKubectl()
    {
        if (!haveKubectl())
            QSKIP("kubectl is not on PATH");
        podscape::tests::ApiHarness h(true);
        QCOMPARE(h.kubectl({"create", "-f", "-"}, pod("busy", "luksa/kubia")).code, 0);
        // Usage exists once the container runs; top prints cpu in millicores and memory in Mi.
        QTRY_VERIFY_WITH_TIMEOUT(h.kubectl({"top", "pod", "busy"}).code == 0, 30000);
        auto top = h.kubectl({"top", "pod", "busy", "--no-headers"});
        QRegularExpressionMatch m = QRegularExpression("^busy\\s+(\\d+)m\\s+(\\d+)Mi").match(QString::fromStdString(top.out));
        QVERIFY2(m.hasMatch(), top.out.c_str());
        QVERIFY2(m.captured(1).toInt() >= 200 && m.captured(1).toInt() <= 300, top.out.c_str()); // 250m with a few % noise
        QVERIFY2(m.captured(2).toInt() >= 55 && m.captured(2).toInt() <= 72, top.out.c_str());  // 64Mi likewise
        auto nodes = h.kubectl({"top", "nodes", "--no-headers"});
        QCOMPARE(nodes.code, 0);
        QVERIFY2(nodes.out.rfind("node-1 ", 0) == 0, nodes.out.c_str());
        // Directly: a NodeMetrics object, and discovery names the group.
        json nm = json::parse(h.call("GET", "/apis/metrics.k8s.io/v1beta1/nodes/node-1").body);
        QCOMPARE(nm["kind"], json("NodeMetrics"));
        QVERIFY(nm["usage"]["cpu"].get<std::string>().back() == 'n');
        QVERIFY(h.call("GET", "/apis").body.find("metrics.k8s.io") != std::string::npos);
        QCOMPARE(h.call("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope").status, 404);
        QCOMPARE(h.call("DELETE", "/apis/metrics.k8s.io/v1beta1/nodes/node-1").status, 405);
    }

    void execOverWebSocket()
    {
        if (!haveKubectl())
            QSKIP("kubectl is not on PATH");
        FakeExecNodes nodes;
        podscape::tests::ApiHarness h(false, &nodes);
        nodes.cluster = h.cluster.get();
        for (const char *name : {"kubia", "simulated"})
            QCOMPARE(h.kubectl({"create", "-f", "-"}, pod(name, "luksa/kubia")).code, 0);
        QTRY_COMPARE_WITH_TIMEOUT(h.kubectl({"get", "pod", "kubia", "-o", "jsonpath={.status.phase}"}).out,
                                  std::string("Running"), 30000);

        auto echoed = h.kubectl({"exec", "kubia", "--", "echo", "hi", "there"});
        QCOMPARE(echoed.code, 0);
        QCOMPARE(echoed.out, std::string("hi there\n"));
        QCOMPARE(h.kubectl({"exec", "kubia", "--", "hostname"}).out, std::string("kubia\n"));
        // stdin reaches the command and its end (v5's close signal) ends it.
        auto cat = h.kubectl({"exec", "-i", "kubia", "--", "cat"}, "line one\nline two\n");
        QCOMPARE(cat.code, 0);
        QCOMPARE(cat.out, std::string("line one\nline two\n"));
        // A non-zero exit becomes kubectl's exit code, stderr stays stderr.
        auto failed = h.kubectl({"exec", "kubia", "--", "fail"});
        QCOMPARE(failed.code, 3);
        QVERIFY2(failed.err.find("boom") != std::string::npos, failed.err.c_str());
        QVERIFY2(failed.err.find("command terminated with exit code 3") != std::string::npos, failed.err.c_str());
        QVERIFY(failed.out.empty());
        // The simulated runtime says what to do instead of failing obscurely.
        auto simulated = h.kubectl({"exec", "simulated", "--", "hostname"});
        QVERIFY(simulated.code != 0);
        QVERIFY2(simulated.err.find("not available with the simulated runtime") != std::string::npos, simulated.err.c_str());

        // Requests kubectl does not make.
        auto readOnly = h.call("GET", "/api/v1/namespaces/default/pods/kubia/exec?command=ls&stdout=true", {}, {}, Role::ReadOnly);
        QCOMPARE(readOnly.status, 403);
        QCOMPARE(h.call("GET", "/api/v1/namespaces/default/pods/kubia/exec?stdout=true").status, 400);
        QCOMPARE(h.call("GET", "/api/v1/namespaces/default/pods/kubia/exec?command=ls").status, 400);
        auto spdy = h.call("POST", "/api/v1/namespaces/default/pods/kubia/exec?command=ls&stdout=true");
        QCOMPARE(spdy.status, 400);
        QVERIFY(json::parse(spdy.body)["message"].get<std::string>().find("WebSocket") != std::string::npos);
        auto upgraded = h.call("GET", "/api/v1/namespaces/default/pods/kubia/exec?command=ls&stdout=true", {},
                               {{"sec-websocket-protocol", "v4.channel.k8s.io"}});
        QCOMPARE(upgraded.status, 101);
        QCOMPARE(upgraded.webSocketProtocol, std::string("v4.channel.k8s.io"));
    }

    // kubectl port-forward: SPDY/3.1 inside a WebSocket. Several connections at once, a
    // megabyte each way, a half-close, a refused port, and the simulated runtime's message.
    void portForwardThroughKubectl()
    {
        if (!haveKubectl())
            QSKIP("kubectl is not on PATH");
        FakeExecNodes nodes;
        podscape::tests::ApiHarness h(false, &nodes);
        nodes.cluster = h.cluster.get();
        for (const char *name : {"kubia", "simulated"})
            QCOMPARE(h.kubectl({"create", "-f", "-"}, pod(name, "luksa/kubia")).code, 0);
        for (const char *name : {"kubia", "simulated"})
            QTRY_COMPARE_WITH_TIMEOUT(h.kubectl({"get", "pod", name, "-o", "jsonpath={.status.phase}"}).out,
                                      std::string("Running"), 30000);

        QProcess pf;
        auto ports = podscape::tests::startPortForward(pf, h.kubeconfig, {"pod/kubia", ":8080", ":9999"}, 2);
        QCOMPARE(ports.size(), size_t(2));
        {
            // Five connections open at once, each with its own bytes.
            std::vector<std::unique_ptr<podscape::tests::Tcp>> conns;
            for (int i = 0; i < 5; ++i) {
                conns.push_back(std::make_unique<podscape::tests::Tcp>(ports[0]));
                QVERIFY(conns.back()->connected());
            }
            for (int i = 0; i < 5; ++i)
                QVERIFY(conns[size_t(i)]->send("hello " + std::to_string(i) + "\n"));
            for (int i = 0; i < 5; ++i)
                QCOMPARE(conns[size_t(i)]->receive(8), "HELLO " + std::to_string(i) + "\n");
        }
        {
            // A megabyte through one connection, then the client's half-close ends it cleanly.
            std::string big(1024 * 1024, 'a');
            for (size_t i = 0; i < big.size(); i += 7)
                big[i] = char('a' + i % 26);
            std::string upper = big;
            std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return char(std::toupper(c)); });
            podscape::tests::Tcp c(ports[0]);
            QVERIFY(c.connected());
            std::thread writer([&] {
                c.send(big);
                c.shutdownWrite();
            });
            const std::string back = c.receive(big.size() + 1); // +1: returns only once the far end closed
            writer.join();
            QCOMPARE(back.size(), upper.size());
            QVERIFY(back == upper);
        }
        QVERIFY(nodes.dials >= 6);
        {
            // The refused port: kubectl reports the node's error for that connection.
            podscape::tests::Tcp c(ports[1]);
            QVERIFY(c.connected());
            QCOMPARE(c.receive(1), std::string());
            QByteArray err;
            QTRY_VERIFY_WITH_TIMEOUT((err += pf.readAllStandardError()).contains("connection refused"), 20000);
            QVERIFY2(err.contains("error forwarding port 9999 to pod default/kubia"), err.constData());
        }
        pf.kill();
        pf.waitForFinished();

        // The simulated runtime says why, on the connection's error stream.
        QProcess sim;
        auto simPorts = podscape::tests::startPortForward(sim, h.kubeconfig, {"pod/simulated", ":8080"}, 1);
        QCOMPARE(simPorts.size(), size_t(1));
        {
            podscape::tests::Tcp c(simPorts[0]);
            QVERIFY(c.connected());
            QCOMPARE(c.receive(1), std::string());
        }
        QByteArray simErr;
        QTRY_VERIFY_WITH_TIMEOUT((simErr += sim.readAllStandardError()).contains("simulated runtime"), 20000);
        sim.kill();
        sim.waitForFinished();
    }

    // The WebSocket channel protocol (v4.channel.k8s.io with ?ports=) as python3-kubernetes
    // speaks it.
    void portForwardThroughPython()
    {
        const QString python = QFile::exists("/usr/bin/python3") ? "/usr/bin/python3" : QStandardPaths::findExecutable("python3");
        QProcess probe;
        probe.start(python, {"-c", "import kubernetes"});
        probe.waitForFinished();
        if (probe.exitCode() != 0)
            QSKIP("python3-kubernetes is not installed");
        FakeExecNodes nodes;
        podscape::tests::ApiHarness h(false, &nodes);
        nodes.cluster = h.cluster.get();
        QCOMPARE(h.kubectl({"create", "-f", "-"}, pod("kubia", "luksa/kubia")).code, 0);
        QTRY_COMPARE_WITH_TIMEOUT(h.kubectl({"get", "pod", "kubia", "-o", "jsonpath={.status.phase}"}).out,
                                  std::string("Running"), 30000);
        const char *script = R"(
import sys
from kubernetes import client, config
from kubernetes.stream import portforward
config.load_kube_config(sys.argv[1])
api = client.CoreV1Api()
pf = portforward(api.connect_get_namespaced_pod_portforward, "kubia", "default", ports="8080,9999")
s = pf.socket(8080)
s.sendall(b"hello from python")
got = b""
while len(got) < 17:
    got += s.recv(100)
print(got.decode())
s.close()
bad = pf.socket(9999)
bad.recv(1)
print("error:", pf.error(9999))
pf.close()
)";
        QProcess py;
        py.start(python, {"-c", script, QString::fromStdString(h.kubeconfig)});
        QVERIFY(py.waitForFinished(60000));
        const QString out = QString::fromUtf8(py.readAllStandardOutput());
        QVERIFY2(py.exitCode() == 0, qPrintable(out + py.readAllStandardError()));
        QVERIFY2(out.contains("HELLO FROM PYTHON"), qPrintable(out));
        QVERIFY2(out.contains("error: error forwarding port 9999 to pod default/kubia: dial tcp 127.0.0.1:9999: connection refused"),
                 qPrintable(out));
        // Requests the clients above do not make.
        QCOMPARE(h.call("GET", "/api/v1/namespaces/default/pods/kubia/portforward", {}, {{"sec-websocket-protocol", "v4.channel.k8s.io"}}).status, 400);
        QCOMPARE(h.call("GET", "/api/v1/namespaces/default/pods/kubia/portforward?ports=70000", {}, {{"sec-websocket-protocol", "v4.channel.k8s.io"}}).status, 400);
        QCOMPARE(h.call("POST", "/api/v1/namespaces/default/pods/kubia/portforward", {}, {{"upgrade", "SPDY/3.1"}}).status, 400);
        QCOMPARE(h.call("GET", "/api/v1/namespaces/default/pods/kubia/portforward", {}, {{"sec-websocket-protocol", SpdyPortForward::kProtocol}}, Role::ReadOnly).status, 403);
    }

    void protocolNegotiation()
    {
        QCOMPARE(RemoteCommandSession::negotiate("v4.channel.k8s.io, v5.channel.k8s.io"), std::string("v5.channel.k8s.io"));
        QCOMPARE(RemoteCommandSession::negotiate("v4.channel.k8s.io"), std::string("v4.channel.k8s.io"));
        QCOMPARE(RemoteCommandSession::negotiate("channel.k8s.io,base64.channel.k8s.io"), std::string());
        QCOMPARE(RemoteCommandSession::negotiate(""), std::string());
    }

    void withoutNodes()
    {
        podscape::tests::ApiHarness h(false);
        QCOMPARE(h.call("GET", "/api/v1/namespaces/default/pods/x/log").status, 503);
        QVERIFY(h.call("GET", "/apis").body.find("metrics.k8s.io") == std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestNodeProxy)
#include "tst_nodeproxy.moc"
