// End to end: the podscape-agent executable on a free loopback port, driven by the real
// kubectl through every command of the seed notes, and by Debian's python3-kubernetes
// (pyclient.py). Checks what the tools print and the state that results, not exit codes alone.
#include "core/base/result.h"
#include "../core/apiserver/portforwardclient.h"
#include "e2ehelpers.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <regex>

using nlohmann::json;

namespace {

using podscape::tests::freePort;
using podscape::tests::Run;

const QString kManifests = QStringLiteral(PODSCAPE_SOURCE_DIR "/tests/e2e/manifests/");

} // namespace

class TestEndToEnd : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_data;
    QString m_listen;
    QProcess m_agent;

    bool startAgent()
    {
        m_agent.setProcessChannelMode(QProcess::MergedChannels);
        m_agent.setStandardOutputFile(m_dir.filePath("agent.log"), QIODevice::Append); // never a full pipe
        m_agent.start(QStringLiteral(PODSCAPE_AGENT),
                      {"--data-dir", m_data, "--listen", m_listen, "--nodes", "2", "--runtime", "sim", "--timing", "instant"});
        if (!m_agent.waitForStarted())
            return false;
        // Serving once /readyz answers through kubectl.
        for (int i = 0; i < 200; ++i) {
            if (kubectl({"get", "--raw", "/readyz"}).out == "ok")
                return true;
            QTest::qWait(50);
        }
        return false;
    }

    Run kubectl(const QStringList &args, const std::string &stdinText = {}, const QString &kubeconfig = {})
    {
        QProcess p;
        QStringList all = {"--kubeconfig", kubeconfig.isEmpty() ? m_data + "/kubeconfig" : kubeconfig};
        all += args;
        p.start(QStandardPaths::findExecutable("kubectl"), all);
        if (!stdinText.empty())
            p.write(stdinText.c_str());
        p.closeWriteChannel();
        p.waitForFinished(90000);
        return {p.exitCode(), p.readAllStandardOutput().toStdString(), p.readAllStandardError().toStdString()};
    }

    std::string jsonpath(const QString &what, const QString &path)
    {
        return kubectl({"get", what, "-o", "jsonpath={" + path + "}"}).out;
    }

private slots:
    void initTestCase()
    {
        if (QStandardPaths::findExecutable("kubectl").isEmpty())
            QSKIP("kubectl is not on PATH; the end-to-end suite needs it");
        m_data = m_dir.filePath("data");
        m_listen = "127.0.0.1:" + QString::number(freePort());
        // A read-only token first: the agent creates its credentials on the way.
        QProcess add;
        add.start(QStringLiteral(PODSCAPE_AGENT), {"--data-dir", m_data, "--listen", m_listen, "--add-token", "viewer", "--read-only"});
        QVERIFY(add.waitForFinished(30000));
        QCOMPARE(add.exitCode(), 0);
        QVERIFY(add.readAllStandardOutput().contains("added read-only token \"viewer\""));
        QVERIFY2(startAgent(), "the agent did not start serving");
    }

    void podCommands()
    {
        auto none = kubectl({"get", "pods"});
        QCOMPARE(none.code, 0);
        QCOMPARE(none.err, std::string("No resources found in default namespace.\n"));

        auto created = kubectl({"create", "-f", kManifests + "kubia-manual.yaml"});
        QCOMPARE(created.out, std::string("pod/kubia-manual created\n"));
        QTRY_COMPARE_WITH_TIMEOUT(jsonpath("pod/kubia-manual", ".status.phase"), std::string("Running"), 30000);

        auto pods = kubectl({"get", "pods"});
        QVERIFY2(QRegularExpression("^NAME\\s+READY\\s+STATUS\\s+RESTARTS\\s+AGE\\nkubia-manual\\s+1/1\\s+Running\\s+0\\s+\\d+s\\n$")
                     .match(QString::fromStdString(pods.out)).hasMatch(), pods.out.c_str());
        auto wide = kubectl({"get", "pods", "-o", "wide"});
        const std::string ip = jsonpath("pod/kubia-manual", ".status.podIP");
        const std::string node = jsonpath("pod/kubia-manual", ".spec.nodeName");
        QVERIFY(!ip.empty() && node.rfind("node-", 0) == 0);
        QVERIFY2(wide.out.find("NOMINATED NODE   READINESS GATES") != std::string::npos && wide.out.find(ip) != std::string::npos
                     && wide.out.find(node) != std::string::npos, wide.out.c_str());
        // The seed notes spell kinds capitalised: kubectl resolves them all the same.
        auto yaml = kubectl({"get", "Pods", "kubia-manual", "-o", "yaml"});
        QVERIFY2(yaml.out.rfind("apiVersion: v1\nkind: Pod\nmetadata:\n", 0) == 0, yaml.out.c_str());
        QVERIFY(yaml.out.find("podIP: " + ip) != std::string::npos);
        QVERIFY(yaml.out.find("containerPort: 8080") != std::string::npos);

        auto described = kubectl({"describe", "Pods", "kubia-manual"});
        QVERIFY2(QRegularExpression("Name:\\s+kubia-manual").match(QString::fromStdString(described.out)).hasMatch(),
                 described.out.c_str());
        QVERIFY(described.out.find("Successfully assigned default/kubia-manual to " + node) != std::string::npos);
        QVERIFY(described.out.find("Started container kubia") != std::string::npos);

        QCOMPARE(kubectl({"logs", "kubia-manual"}).out, std::string("Kubia server starting...\n"));
        QCOMPARE(kubectl({"logs", "kubia-manual", "-c", "kubia"}).out, std::string("Kubia server starting...\n"));
        {
            // The seed notes' `kubectl log`, through the plugin Podscape ships for it.
            QProcess p;
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert("PATH", QStringLiteral(PODSCAPE_SOURCE_DIR "/packaging/kubectl-plugins:") + env.value("PATH"));
            env.insert("KUBECONFIG", m_data + "/kubeconfig");
            p.setProcessEnvironment(env);
            p.start(QStandardPaths::findExecutable("kubectl"), {"log", "kubia-manual", "-c", "kubia"});
            QVERIFY(p.waitForFinished(60000));
            QCOMPARE(p.readAllStandardOutput().toStdString(), std::string("Kubia server starting...\n"));
        }
        auto wrongContainer = kubectl({"logs", "kubia-manual", "-c", "nope"});
        QVERIFY(wrongContainer.code != 0 && wrongContainer.has("container nope is not valid for pod kubia-manual"));

        auto explain = kubectl({"explain", "pods"});
        QVERIFY2(explain.out.find("KIND:       Pod") != std::string::npos && explain.out.find("spec\t<PodSpec>") != std::string::npos,
                 explain.out.c_str());
        auto explainSpec = kubectl({"explain", "pods.spec"});
        QVERIFY(explainSpec.out.find("containers\t<[]Container> -required-") != std::string::npos);

        // apply on an object create made: kubectl warns about the missing annotation and patches.
        std::string labelled;
        QFile f(kManifests + "kubia-manual.yaml");
        QVERIFY(f.open(QIODevice::ReadOnly));
        labelled = f.readAll().toStdString();
        labelled.replace(labelled.find("app: kubia-manual"), 17, "app: kubia-manual\n    env: test");
        auto applied = kubectl({"apply", "-f", "-"}, labelled);
        QVERIFY2(applied.code == 0 && applied.out == "pod/kubia-manual configured\n", (applied.out + applied.err).c_str());
        QVERIFY(applied.err.find("missing the kubectl.kubernetes.io/last-applied-configuration annotation") != std::string::npos);
        QCOMPARE(jsonpath("pod/kubia-manual", ".metadata.labels.env"), std::string("test"));

        QTRY_VERIFY_WITH_TIMEOUT(kubectl({"top", "pod", "kubia-manual"}).code == 0, 30000);
        auto top = kubectl({"top", "pod", "--no-headers"});
        QVERIFY2(QRegularExpression("^kubia-manual\\s+1\\d\\dm\\s+4\\dMi").match(QString::fromStdString(top.out)).hasMatch(),
                 top.out.c_str()); // 120m, 48Mi give or take the simulation's few %
    }

    void replicationControllersAndServices()
    {
        QCOMPARE(kubectl({"create", "-f", kManifests + "kubia-rc.yaml"}).out, std::string("replicationcontroller/kubia created\n"));
        QTRY_COMPARE_WITH_TIMEOUT(jsonpath("rc/kubia", ".status.readyReplicas"), std::string("3"), 30000);
        auto rcs = kubectl({"get", "ReplicationControllers"});
        QVERIFY2(QRegularExpression("kubia\\s+3\\s+3\\s+3\\s+\\d+s").match(QString::fromStdString(rcs.out)).hasMatch(), rcs.out.c_str());

        QCOMPARE(kubectl({"apply", "-f", kManifests + "kubia-rs.yaml"}).out, std::string("replicaset.apps/kubia-rs created\n"));
        QTRY_COMPARE_WITH_TIMEOUT(jsonpath("rs/kubia-rs", ".status.readyReplicas"), std::string("2"), 30000);
        auto rs = kubectl({"get", "rs"});
        QVERIFY2(QRegularExpression("kubia-rs\\s+2\\s+2\\s+2\\s+\\d+s").match(QString::fromStdString(rs.out)).hasMatch(), rs.out.c_str());

        auto exposed = kubectl({"expose", "rc", "kubia", "--type=NodePort", "--name", "kubia-http", "--port=80", "--target-port=8080"});
        QCOMPARE(exposed.out, std::string("service/kubia-http exposed\n"));
        auto services = kubectl({"get", "services"});
        QVERIFY2(QRegularExpression("kubia-http\\s+NodePort\\s+[\\d.]+\\s+<none>\\s+80:3\\d{4}/TCP").match(QString::fromStdString(services.out)).hasMatch(),
                 services.out.c_str());
        // The API server's own Service, as every cluster has it, with the server as its endpoint.
        QVERIFY2(QRegularExpression("kubernetes\\s+ClusterIP\\s+127\\.96\\.0\\.1\\s+<none>\\s+443/TCP").match(QString::fromStdString(services.out)).hasMatch(),
                 services.out.c_str());
        QCOMPARE(jsonpath("endpoints/kubernetes", ".subsets[0].ports[0].port"), m_listen.section(':', 1).toStdString());
        // Endpoints: the three ready pods on 8080.
        QTRY_COMPARE_WITH_TIMEOUT(QString::fromStdString(jsonpath("endpoints/kubia-http", ".subsets[*].addresses[*].ip")).split(' ').size(),
                                  3, 30000);
    }

    void deploymentRollouts()
    {
        QCOMPARE(kubectl({"apply", "-f", kManifests + "kubia-deployment.yaml"}).out, std::string("deployment.apps/kubia created\n"));
        auto status = kubectl({"rollout", "status", "deployment", "kubia", "--timeout=60s"});
        QVERIFY2(status.code == 0 && status.out.find("deployment \"kubia\" successfully rolled out") != std::string::npos, status.out.c_str());
        auto image = kubectl({"set", "image", "deployment", "kubia", "nodejs=luksa/kubia:v2"});
        QCOMPARE(image.out, std::string("deployment.apps/kubia image updated\n"));
        QCOMPARE(kubectl({"rollout", "status", "deployment", "kubia", "--timeout=60s"}).code, 0);
        auto history = kubectl({"rollout", "history", "deployment", "kubia"});
        QVERIFY2(QRegularExpression("REVISION\\s+CHANGE-CAUSE\\n1\\s+<none>\\n2\\s+<none>").match(QString::fromStdString(history.out)).hasMatch(),
                 history.out.c_str());
        QCOMPARE(kubectl({"rollout", "undo", "deployment", "kubia"}).out, std::string("deployment.apps/kubia rolled back\n"));
        QCOMPARE(kubectl({"rollout", "status", "deployment", "kubia", "--timeout=60s"}).code, 0);
        QCOMPARE(jsonpath("deployment/kubia", ".spec.template.spec.containers[0].image"), std::string("luksa/kubia:v1"));
        QCOMPARE(jsonpath("deployment/kubia", ".metadata.annotations.deployment\\.kubernetes\\.io/revision"), std::string("3"));

        QCOMPARE(kubectl({"rollout", "pause", "deployment", "kubia"}).out, std::string("deployment.apps/kubia paused\n"));
        QCOMPARE(jsonpath("deployment/kubia", ".spec.paused"), std::string("true"));
        QCOMPARE(kubectl({"rollout", "resume", "deployment", "kubia"}).out, std::string("deployment.apps/kubia resumed\n"));
        QCOMPARE(jsonpath("deployment/kubia", ".spec.paused"), std::string());
        QCOMPARE(kubectl({"rollout", "restart", "deployment", "kubia"}).out, std::string("deployment.apps/kubia restarted\n"));
        QVERIFY(!jsonpath("deployment/kubia", ".spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt").empty());
        QCOMPARE(kubectl({"rollout", "status", "deployment", "kubia", "--timeout=60s"}).code, 0);

        QCOMPARE(kubectl({"scale", "deployment", "kubia", "--replicas=5"}).out, std::string("deployment.apps/kubia scaled\n"));
        QTRY_COMPARE_WITH_TIMEOUT(jsonpath("deployment/kubia", ".status.availableReplicas"), std::string("5"), 30000);
        auto all = kubectl({"get", "all"});
        QVERIFY(all.out.find("deployment.apps/kubia   5/5") != std::string::npos);
        QVERIFY(all.out.find("replicationcontroller/kubia") != std::string::npos);
    }

    void watchAndDelete()
    {
        QProcess watch;
        watch.setProcessChannelMode(QProcess::MergedChannels);
        watch.start(QStandardPaths::findExecutable("kubectl"), {"--kubeconfig", m_data + "/kubeconfig", "get", "pods", "-w", "-l", "app=kubia-manual"});
        QString seen;
        QTRY_VERIFY_WITH_TIMEOUT((seen += watch.readAll(), seen.contains("kubia-manual")), 20000);
        auto deleted = kubectl({"delete", "pod", "kubia-manual"});
        QCOMPARE(deleted.out, std::string("pod \"kubia-manual\" deleted\n"));
        QTRY_VERIFY_WITH_TIMEOUT((seen += watch.readAll(), seen.contains("Terminating") || seen.count("kubia-manual") >= 2), 20000);
        watch.kill();
        watch.waitForFinished();
        auto gone = kubectl({"get", "pod", "kubia-manual"});
        QVERIFY(gone.code != 0 && gone.has("pods \"kubia-manual\" not found"));

        // Deleting the ReplicationController takes its pods along (background propagation).
        QCOMPARE(kubectl({"delete", "rc", "kubia"}).out, std::string("replicationcontroller \"kubia\" deleted\n"));
        QTRY_COMPARE_WITH_TIMEOUT(kubectl({"get", "pods", "-l", "app=kubia", "-o", "name"}).out, std::string(), 30000);
    }

    void badManifestsCreateNothing()
    {
        auto tabs = kubectl({"create", "-f", kManifests + "seed-tabs.yaml"});
        QVERIFY(tabs.code != 0);
        QVERIFY2(tabs.has("seed-tabs.yaml") && tabs.has("yaml: line 4: found character that cannot start any token"), tabs.err.c_str());
        auto typo = kubectl({"create", "-f", kManifests + "images-typo.yaml"});
        QVERIFY(typo.code != 0);
        QVERIFY2(typo.has("strict decoding error: unknown field \"spec.containers[0].images\""), typo.err.c_str());
        auto name = kubectl({"create", "-f", kManifests + "invalid-name.yaml"});
        QVERIFY(name.code != 0);
        QVERIFY2(name.has("The Pod \"Kubia_Manual\" is invalid: metadata.name: Invalid value: \"Kubia_Manual\""), name.err.c_str());
        auto unknown = kubectl({"apply", "-f", kManifests + "unknown-field.yaml"});
        QVERIFY(unknown.code != 0);
        QVERIFY2(unknown.has("unknown field \"spec.replica\""), unknown.err.c_str());
        // A body over 3 MiB: refused before it is parsed.
        const std::string huge = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n  blob: " + std::string(4 << 20, 'x') + "\n";
        auto big = kubectl({"create", "-f", "-"}, huge);
        QVERIFY(big.code != 0);
        QVERIFY2(big.has("larger than the limit of 3 MiB"), big.err.substr(0, 400).c_str());
        for (const char *what : {"pod/kubia-biz", "pod/Kubia_Manual", "deployment/typo", "configmap/huge"})
            QVERIFY2(kubectl({"get", what}).code != 0, what);
    }

    void streamsOnSimulatedNodes()
    {
        QTRY_COMPARE_WITH_TIMEOUT(kubectl({"get", "pods", "-l", "app=kubia-d", "-o", "name"}).out.empty(), false, 10000);
        const QString pod = QString::fromStdString(kubectl({"get", "pods", "-l", "app=kubia-d", "-o", "name"}).out).split('\n').first();
        auto exec = kubectl({"exec", pod, "--", "hostname"});
        QVERIFY(exec.code != 0);
        QVERIFY2(exec.has("exec is not available with the simulated runtime"), exec.err.c_str());
        // port-forward listens, and each connection is refused with the runtime's reason.
        QProcess forward;
        auto ports = podscape::tests::startPortForward(forward, (m_data + "/kubeconfig").toStdString(), {pod, ":8080"}, 1);
        QCOMPARE(ports.size(), size_t(1));
        {
            podscape::tests::Tcp c(ports[0]);
            QVERIFY(c.connected());
            QCOMPARE(c.receive(1), std::string()); // closed without a byte
        }
        QByteArray err;
        QTRY_VERIFY_WITH_TIMEOUT((err += forward.readAllStandardError()).contains("port-forward is not available with the simulated runtime"),
                                 20000);
        forward.kill();
        forward.waitForFinished();
    }

    // The typed create commands send protobuf bodies.
    void typedCreateCommands()
    {
        auto ns = kubectl({"create", "namespace", "team-a"});
        QVERIFY2(ns.code == 0, ns.err.c_str());
        QCOMPARE(ns.out, std::string("namespace/team-a created\n"));
        QCOMPARE(jsonpath("namespace/team-a", ".status.phase"), std::string("Active"));
        auto deploy = kubectl({"create", "deployment", "typed", "--image=luksa/kubia", "--port=8080", "--replicas=2", "-n", "team-a"});
        QVERIFY2(deploy.code == 0, deploy.err.c_str());
        QTRY_COMPARE_WITH_TIMEOUT(kubectl({"get", "deployment", "typed", "-n", "team-a", "-o", "jsonpath={.status.readyReplicas}"}).out,
                                  std::string("2"), 30000);
        QCOMPARE(kubectl({"get", "deployment", "typed", "-n", "team-a", "-o", "jsonpath={.spec.template.spec.containers[0].ports[0].containerPort}"}).out,
                 std::string("8080"));
        auto cm = kubectl({"create", "configmap", "greeting", "--from-literal=text=héllo", "-n", "team-a"});
        QVERIFY2(cm.code == 0, cm.err.c_str());
        QCOMPARE(kubectl({"get", "configmap", "greeting", "-n", "team-a", "-o", "jsonpath={.data.text}"}).out, std::string("héllo"));
        auto secret = kubectl({"create", "secret", "generic", "pw", "--from-literal=password=s3cr3t", "-n", "team-a"});
        QVERIFY2(secret.code == 0, secret.err.c_str());
        QCOMPARE(kubectl({"get", "secret", "pw", "-n", "team-a", "-o", "jsonpath={.data.password}"}).out, std::string("czNjcjN0"));
        auto svc = kubectl({"create", "service", "nodeport", "typed", "--tcp=80:8080", "--node-port=30123", "-n", "team-a"});
        QVERIFY2(svc.code == 0, svc.err.c_str());
        QCOMPARE(kubectl({"get", "service", "typed", "-n", "team-a", "-o", "jsonpath={.spec.ports[0].nodePort}"}).out, std::string("30123"));
        QTRY_VERIFY_WITH_TIMEOUT(!kubectl({"get", "endpoints", "typed", "-n", "team-a", "-o", "jsonpath={.subsets[0].addresses}"}).out.empty(),
                                 30000);
        // Server-side validation still applies to protobuf bodies.
        auto invalid = kubectl({"create", "deployment", "Bad_Name", "--image=x", "-n", "team-a"});
        QVERIFY(invalid.code != 0);
        QVERIFY2(invalid.has("Bad_Name"), invalid.err.c_str());
        QCOMPARE(kubectl({"delete", "namespace", "team-a"}).code, 0);
    }

    void security()
    {
        // Every file with a secret in it is private.
        for (const char *file : {"kubeconfig", "kubeconfig-viewer", "tokens", "ca.key", "server.key", "store.db"}) {
            struct stat st {};
            QVERIFY2(::stat((m_data + "/" + file).toLocal8Bit().constData(), &st) == 0, file);
            QVERIFY2((st.st_mode & 0777) == 0600, file);
        }
        // The read-only token reads and cannot write.
        const QString viewer = m_data + "/kubeconfig-viewer";
        QCOMPARE(kubectl({"get", "deployments", "-o", "name"}, {}, viewer).out, std::string("deployment.apps/kubia\n"));
        auto write = kubectl({"scale", "deployment", "kubia", "--replicas=1"}, {}, viewer);
        QVERIFY(write.code != 0);
        QVERIFY2(write.has("Forbidden") && write.has("read-only"), write.err.c_str());
        // No token: 401, which kubectl words as a login problem.
        QFile admin(m_data + "/kubeconfig");
        QVERIFY(admin.open(QIODevice::ReadOnly));
        std::string config = admin.readAll().toStdString();
        std::string tokenless = std::regex_replace(config, std::regex("token: .*"), "token: not-a-token");
        QFile bad(m_dir.filePath("bad-token"));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write(tokenless.c_str());
        bad.close();
        auto unauthorized = kubectl({"get", "pods"}, {}, bad.fileName());
        QVERIFY(unauthorized.code != 0);
        QVERIFY2(unauthorized.has("You must be logged in to the server (Unauthorized)"), unauthorized.err.c_str());
        // Another agent's CA: the client refuses the server's certificate.
        QProcess other;
        other.start(QStringLiteral(PODSCAPE_AGENT), {"--data-dir", m_dir.filePath("other"), "--listen", m_listen, "--print-kubeconfig"});
        QVERIFY(other.waitForFinished(30000));
        QFile otherConfig(m_dir.filePath("other-kubeconfig"));
        QVERIFY(otherConfig.open(QIODevice::WriteOnly));
        otherConfig.write(other.readAllStandardOutput());
        otherConfig.close();
        auto wrongCa = kubectl({"get", "pods"}, {}, otherConfig.fileName());
        QVERIFY(wrongCa.code != 0);
        QVERIFY2(wrongCa.has("certificate signed by unknown authority"), wrongCa.err.c_str());
        // A non-loopback address is refused unless asked for explicitly.
        QProcess remote;
        remote.setProcessChannelMode(QProcess::MergedChannels);
        remote.start(QStringLiteral(PODSCAPE_AGENT), {"--data-dir", m_dir.filePath("remote"), "--listen", "0.0.0.0:0"});
        QVERIFY(remote.waitForFinished(30000));
        QVERIFY(remote.exitCode() != 0);
        const QString said = QString::fromUtf8(remote.readAll());
        QVERIFY2(said.contains("not a loopback address") && said.contains("--allow-remote"), qPrintable(said));
    }

    void pythonClient()
    {
        if (QStandardPaths::findExecutable("python3", {"/usr/bin"}).isEmpty())
            QSKIP("/usr/bin/python3 is missing (packaging/install-deps.sh installs python3-kubernetes)");
        QProcess py;
        py.setProcessChannelMode(QProcess::MergedChannels);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("KUBECONFIG", m_data + "/kubeconfig");
        py.setProcessEnvironment(env);
        py.start("/usr/bin/python3", {QStringLiteral(PODSCAPE_SOURCE_DIR "/tests/e2e/pyclient.py")});
        QVERIFY(py.waitForFinished(180000));
        const QByteArray out = py.readAll();
        QVERIFY2(py.exitCode() == 0, out.constData());
        QVERIFY2(out.contains("python client: all steps passed"), out.constData());
    }

    // Last: SIGTERM stops the agent cleanly; started again on the same data it has everything.
    void restartKeepsState()
    {
        const std::string uid = jsonpath("deployment/kubia", ".metadata.uid");
        QVERIFY(!uid.empty());
        m_agent.terminate();
        QVERIFY(m_agent.waitForFinished(20000));
        QCOMPARE(m_agent.exitStatus(), QProcess::NormalExit);
        QCOMPARE(m_agent.exitCode(), 0);
        QVERIFY2(startAgent(), "the agent did not start again");
        QCOMPARE(jsonpath("deployment/kubia", ".metadata.uid"), uid);
        QTRY_COMPARE_WITH_TIMEOUT(jsonpath("deployment/kubia", ".status.availableReplicas"), std::string("5"), 30000);
        QCOMPARE(jsonpath("service/kubia-http", ".spec.type"), std::string("NodePort"));
    }

    void cleanupTestCase()
    {
        if (m_agent.state() != QProcess::NotRunning) {
            m_agent.terminate();
            m_agent.waitForFinished(20000);
        }
    }
};

QTEST_GUILESS_MAIN(TestEndToEnd)
#include "tst_e2e.moc"
