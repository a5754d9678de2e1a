#include "core/kubelet/runtime/imagereference.h"
#include "core/kubelet/runtime/simprogram.h"
#include "core/kubelet/runtime/simruntime.h"

#include <QtTest>

using namespace podscape::core;
using namespace podscape::core::kubelet::runtime;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    FakeClock clock;
    SimRuntime runtime;
    std::string sandbox;

    explicit Fixture(SimTiming timing = SimTiming::realistic(), size_t logLimit = 1000)
        : runtime(clock, SimRuntimeOptions{timing, "test", logLimit})
    {
        PodSandboxConfig config;
        config.podName = "kubia-abc";
        config.podNamespace = "default";
        config.ip = "127.244.0.7";
        config.hostIP = "127.243.0.1";
        sandbox = *runtime.runPodSandbox(config);
    }

    // Pulls (waiting out the pull), creates and starts; returns the container id.
    std::string run(ContainerConfig config)
    {
        auto pull = runtime.pullImage(config.image);
        if (!pull || pull->failure)
            return {};
        if (pull->doneAt > clock.now())
            clock.set(pull->doneAt);
        auto id = runtime.createContainer(sandbox, config);
        if (!id)
            return {};
        (void)runtime.startContainer(*id);
        return *id;
    }
    ContainerStatus status(const std::string &id) { return *runtime.containerStatus(id); }
    std::vector<std::string> lines(const std::string &id, LogOptions o = {})
    {
        std::vector<std::string> out;
        const auto logs = runtime.logs(id, o);
        for (const auto &l : *logs)
            out.push_back(l.text);
        return out;
    }
};

ContainerConfig config(std::string image, std::vector<std::string> command = {}, std::map<std::string, std::string> annotations = {})
{
    ContainerConfig c;
    c.name = "main";
    c.image = std::move(image);
    c.command = std::move(command);
    c.annotations = std::move(annotations);
    return c;
}

} // namespace

class TestSimRuntime : public QObject
{
    Q_OBJECT
private slots:
    void imageReferences_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("normalized");
        QTest::addColumn<QString>("familiar");
        QTest::newRow("bare") << "nginx" << "docker.io/library/nginx:latest" << "nginx:latest";
        QTest::newRow("user") << "luksa/kubia" << "docker.io/luksa/kubia:latest" << "luksa/kubia:latest";
        QTest::newRow("tag") << "luksa/kubia:v2" << "docker.io/luksa/kubia:v2" << "luksa/kubia:v2";
        QTest::newRow("registry port") << "registry.local:5000/team/app:1.2" << "registry.local:5000/team/app:1.2"
                                       << "registry.local:5000/team/app:1.2";
        QTest::newRow("localhost") << "localhost/app" << "localhost/app:latest" << "localhost/app:latest";
        QTest::newRow("separators") << "my_org/web-app.x__y" << "docker.io/my_org/web-app.x__y:latest" << "my_org/web-app.x__y:latest";
        QTest::newRow("uppercase") << "Nginx" << "" << "";
        QTest::newRow("empty tag") << "nginx:" << "" << "";
        QTest::newRow("double slash") << "a//b" << "" << "";
        QTest::newRow("space") << "ng inx" << "" << "";
        QTest::newRow("bad digest") << "nginx@sha256:123" << "" << "";
    }
    void imageReferences()
    {
        QFETCH(QString, text);
        QFETCH(QString, normalized);
        QFETCH(QString, familiar);
        auto ref = ImageReference::parse(text.toStdString());
        if (normalized.isEmpty()) {
            QVERIFY(!ref.ok());
            QCOMPARE(ref.error().reason(), Reason::Invalid);
            QVERIFY(ref.error().message().find("couldn't parse image name") != std::string::npos);
            return;
        }
        QVERIFY2(ref.ok(), ref.ok() ? "" : ref.error().message().c_str());
        QCOMPARE(QString::fromStdString(ref->normalized()), normalized);
        QCOMPARE(QString::fromStdString(ref->familiar()), familiar);
    }

    void whichImagesExist_data()
    {
        QTest::addColumn<QString>("image");
        QTest::addColumn<bool>("exists");
        QTest::newRow("nginx") << "nginx" << true;
        QTest::newRow("kubia") << "luksa/kubia:v1" << true;
        QTest::newRow("private") << "registry.local:5000/team/app" << true;
        QTest::newRow("doesnotexist") << "doesnotexist" << false;
        QTest::newRow("in path") << "myorg/app-doesnotexist-2:1.0" << false;
        QTest::newRow("invalid") << "example/invalid-image" << false;
        QTest::newRow("broken tag") << "nginx:broken" << false;
        QTest::newRow("broken elsewhere") << "broken/nginx" << true;
    }
    void whichImagesExist()
    {
        QFETCH(QString, image);
        QFETCH(bool, exists);
        std::string why;
        QCOMPARE(SimRuntime::imageExists(*ImageReference::parse(image.toStdString()), &why), exists);
        QCOMPARE(why.empty(), exists);
    }

    void durations_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("millis");
        QTest::newRow("seconds") << "5s" << qint64(5000);
        QTest::newRow("bare") << "30" << qint64(30000);
        QTest::newRow("millis") << "500ms" << qint64(500);
        QTest::newRow("compound") << "1m30s" << qint64(90000);
        QTest::newRow("hours") << "1.5h" << qint64(5400000);
        QTest::newRow("bad") << "soon" << qint64(-1);
        QTest::newRow("bad unit") << "5x" << qint64(-1);
    }
    void durations()
    {
        QFETCH(QString, text);
        QFETCH(qint64, millis);
        auto d = SimProgram::parseDuration(text.toStdString());
        if (millis < 0) {
            QVERIFY(!d.ok());
            return;
        }
        QCOMPARE(qint64(std::chrono::duration_cast<std::chrono::milliseconds>(*d).count()), millis);
    }

    void pullsTakeTimeAndFail()
    {
        Fixture f;
        const auto t0 = f.clock.now();
        auto pull = f.runtime.pullImage("nginx:1.27");
        QVERIFY(pull.ok());
        QVERIFY(!pull->failure);
        QVERIFY(pull->doneAt - t0 >= 1s && pull->doneAt - t0 <= 3s);
        QVERIFY(!f.runtime.imageStatus("nginx:1.27")); // not there until the pull is done
        // A second pull while the first runs joins it.
        f.clock.advance(200ms);
        QCOMPARE(f.runtime.pullImage("docker.io/library/nginx:1.27")->doneAt, pull->doneAt);
        f.clock.set(pull->doneAt);
        auto info = f.runtime.imageStatus("nginx:1.27");
        QVERIFY(info);
        QCOMPARE(info->ref, std::string("docker.io/library/nginx:1.27"));
        QVERIFY(info->id.rfind("docker.io/library/nginx@sha256:", 0) == 0);
        QCOMPARE(info->id.size(), std::string("docker.io/library/nginx@sha256:").size() + 64);
        // Pulling what is present is quick.
        auto again = f.runtime.pullImage("nginx:1.27");
        QCOMPARE(again->doneAt - f.clock.now(), Clock::Duration(300ms));
        QCOMPARE(f.runtime.listImages().size(), size_t(1));

        auto bad = f.runtime.pullImage("nginx:broken");
        QVERIFY(bad.ok());
        QVERIFY(bad->failure);
        QVERIFY(bad->doneAt > f.clock.now()); // the registry answers after a while
        QVERIFY(bad->failure->message().find("docker.io/library/nginx:broken: not found") != std::string::npos);
        auto missing = f.runtime.pullImage("doesnotexist");
        QVERIFY(missing->failure->message().find("pull access denied, repository does not exist") != std::string::npos);
        QCOMPARE(f.runtime.pullImage("Not Valid").error().reason(), Reason::Invalid);
    }

    void containerStartsAfterCreateDelay()
    {
        Fixture f;
        std::string id = f.run(config("luksa/kubia"));
        QVERIFY(!id.empty());
        QCOMPARE(id.size(), size_t(64));
        QVERIFY(f.status(id).state == ContainerState::Created);
        auto next = f.runtime.nextChange(f.sandbox);
        QVERIFY(next);
        QCOMPARE(*next - f.clock.now(), Clock::Duration(500ms));
        f.clock.set(*next);
        auto s = f.status(id);
        QVERIFY(s.state == ContainerState::Running);
        QCOMPARE(*s.startedAt, *next);
        QCOMPARE(s.imageRef, std::string("docker.io/luksa/kubia:latest"));
        QVERIFY(!f.runtime.nextChange(f.sandbox)); // a server runs until told otherwise
        QCOMPARE(f.lines(id), std::vector<std::string>{"Kubia server starting..."});
        // A container whose image is not there cannot be created.
        QCOMPARE(f.runtime.createContainer(f.sandbox, config("busybox")).error().reason(), Reason::NotFound);
    }

    void crashAfterWithExitCode()
    {
        Fixture f;
        std::string id = f.run(config("luksa/kubia", {}, {{"sim.podscape.io/crash-after", "30s"}, {"sim.podscape.io/exit-code", "3"}}));
        f.clock.advance(500ms);
        const auto started = f.clock.now();
        QCOMPARE(*f.runtime.nextChange(f.sandbox), started + 30s);
        f.clock.advance(29s);
        QVERIFY(f.status(id).state == ContainerState::Running);
        f.clock.advance(1s);
        auto s = f.status(id);
        QVERIFY(s.state == ContainerState::Exited);
        QCOMPARE(s.exitCode, 3);
        QCOMPARE(s.reason, std::string("Error"));
        QCOMPARE(*s.finishedAt, started + 30s);
    }

    void perContainerAnnotationWins()
    {
        Fixture f;
        auto c = config("nginx", {}, {{"sim.podscape.io/run-for", "10s"}, {"sim.podscape.io/run-for.main", "5s"}});
        std::string id = f.run(c);
        f.clock.advance(5500ms);
        auto s = f.status(id);
        QVERIFY(s.state == ContainerState::Exited);
        QCOMPARE(s.exitCode, 0);
        QCOMPARE(s.reason, std::string("Completed"));
    }

    void badAnnotationIsAnError()
    {
        Fixture f;
        (void)f.run(config("nginx"));
        auto id = f.runtime.createContainer(f.sandbox, config("nginx", {}, {{"sim.podscape.io/crash-after", "soon"}}));
        QVERIFY(!id.ok());
        QCOMPARE(id.error().reason(), Reason::Invalid);
        QCOMPARE(QString::fromStdString(id.error().message()),
                 QStringLiteral("annotation sim.podscape.io/crash-after: \"soon\" is not a duration such as 500ms, 5s or 1m30s"));
    }

    void oomKilled()
    {
        Fixture f;
        auto c = config("nginx", {}, {{"sim.podscape.io/memory", "128Mi"}});
        c.memoryLimitBytes = 64 << 20;
        std::string id = f.run(c);
        f.clock.advance(2s);
        auto s = f.status(id);
        QVERIFY(s.state == ContainerState::Exited);
        QCOMPARE(s.exitCode, 137);
        QCOMPARE(s.reason, std::string("OOMKilled"));

        Fixture g;
        std::string later = g.run(config("nginx", {}, {{"sim.podscape.io/oom-after", "20s"}}));
        g.clock.advance(20s);
        QVERIFY(g.status(later).state == ContainerState::Running);
        g.clock.advance(500ms);
        QCOMPARE(g.status(later).reason, std::string("OOMKilled"));
    }

    void gracefulStop()
    {
        // nginx handles its stop signal: it exits cleanly soon after.
        Fixture f;
        std::string nginx = f.run(config("nginx"));
        f.clock.advance(1s);
        QVERIFY(f.runtime.stopContainer(nginx, 30s).ok());
        QVERIFY(f.status(nginx).state == ContainerState::Running);
        f.clock.advance(500ms);
        auto s = f.status(nginx);
        QVERIFY(s.state == ContainerState::Exited);
        QCOMPARE(s.exitCode, 0);
        auto log = f.lines(nginx);
        QVERIFY(log.back().find("[notice] 1#1: exit") != std::string::npos);
        QVERIFY(std::any_of(log.begin(), log.end(), [](const std::string &l) { return l.find("SIGQUIT") != std::string::npos; }));

        // A shell as PID 1 ignores SIGTERM: killed when the grace period ends.
        std::string sleeper = f.run(config("busybox", {"sleep", "3600"}));
        f.clock.advance(1s);
        QVERIFY(f.runtime.stopContainer(sleeper, 30s).ok());
        f.clock.advance(29s);
        QVERIFY(f.status(sleeper).state == ContainerState::Running);
        // A second stop with a shorter grace period brings the kill forward.
        QVERIFY(f.runtime.stopContainer(sleeper, 0s).ok());
        s = f.status(sleeper);
        QVERIFY(s.state == ContainerState::Exited);
        QCOMPARE(s.exitCode, 137);

        // stop-after: the program shuts down that long after SIGTERM.
        std::string slow = f.run(config("busybox", {"sleep", "3600"}, {{"sim.podscape.io/stop-after", "5s"}}));
        f.clock.advance(1s);
        QVERIFY(f.runtime.stopContainer(slow, 30s).ok());
        f.clock.advance(5s);
        QCOMPARE(f.status(slow).exitCode, 0);

        // instant timing: everything stops at once.
        Fixture i(SimTiming::instant());
        std::string fast = i.run(config("busybox", {"sleep", "3600"}));
        QVERIFY(i.runtime.stopContainer(fast, 30s).ok());
        QVERIFY(i.status(fast).state == ContainerState::Exited);
    }

    void shellScripts_data()
    {
        QTest::addColumn<QStringList>("command");
        QTest::addColumn<QStringList>("lines");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<bool>("exits");
        QTest::newRow("echo") << QStringList{"echo", "hello", "world"} << QStringList{"hello world"} << 0 << true;
        QTest::newRow("sh -c") << QStringList{"sh", "-c", "echo \"Hello from $(hostname)\"; exit 3"}
                               << QStringList{"Hello from kubia-abc"} << 3 << true;
        QTest::newRow("and or") << QStringList{"sh", "-c", "false && echo no || echo yes"} << QStringList{"yes"} << 0 << true;
        QTest::newRow("for") << QStringList{"sh", "-c", "for i in 1 2 3; do echo n=$i; done"}
                             << QStringList{"n=1", "n=2", "n=3"} << 0 << true;
        QTest::newRow("arith") << QStringList{"sh", "-c", "X=4; echo $((X * 2 + 1))"} << QStringList{"9"} << 0 << true;
        QTest::newRow("redirect") << QStringList{"sh", "-c", "echo hidden > /tmp/f; echo shown"} << QStringList{"shown"} << 0 << true;
        QTest::newRow("plain shell exits") << QStringList{} << QStringList{} << 0 << true;
        QTest::newRow("sleep forever") << QStringList{"sh", "-c", "echo up; sleep infinity"} << QStringList{"up"} << 0 << false;
        QTest::newRow("tail -f") << QStringList{"sh", "-c", "tail -f /dev/null"} << QStringList{} << 0 << false;
        QTest::newRow("server at end") << QStringList{"sh", "-c", "echo starting; exec my-server --port 80"}
                                       << QStringList{"starting"} << 0 << false;
    }
    void shellScripts()
    {
        QFETCH(QStringList, command);
        QFETCH(QStringList, lines);
        QFETCH(int, exitCode);
        QFETCH(bool, exits);
        Fixture f;
        std::vector<std::string> argv;
        for (const auto &a : command)
            argv.push_back(a.toStdString());
        std::string id = f.run(config("busybox", argv));
        f.clock.advance(1s);
        auto s = f.status(id);
        QCOMPARE(s.state == ContainerState::Exited, exits);
        if (exits)
            QCOMPARE(s.exitCode, exitCode);
        QStringList got;
        for (const auto &l : f.lines(id))
            got << QString::fromStdString(l);
        QCOMPARE(got, lines);
    }

    void loopLogsLazilyAndBounded()
    {
        Fixture f(SimTiming::instant(), 50);
        const auto started = f.clock.now();
        std::string id = f.run(config("busybox", {"sh", "-c", "echo start; while true; do echo \"$(date +%H:%M:%S) tick\"; sleep 5; done"}));
        f.clock.advance(12s);
        auto lines = *f.runtime.logs(id, {});
        QCOMPARE(lines.size(), size_t(4)); // start, ticks at 0 s, 5 s, 10 s
        QCOMPARE(lines[0].text, std::string("start"));
        QCOMPARE(lines[2].time, started + 5s);
        QCOMPARE(lines[1].text, std::string("22:13:20 tick")); // the fake clock starts at 22:13:20 UTC
        QCOMPARE(lines[2].text, std::string("22:13:25 tick"));
        // An hour later only the last 50 lines are kept, generated without replaying the hour.
        f.clock.advance(1h);
        auto all = *f.runtime.logs(id, {});
        QCOMPARE(all.size(), size_t(50));
        QCOMPARE(all.back().time, started + 5s * ((12 + 3600) / 5));
        LogOptions tail;
        tail.tailLines = 2;
        tail.timestamps = true;
        auto last = *f.runtime.logs(id, tail);
        QCOMPARE(last.size(), size_t(2));
        QVERIFY(last[1].format(true).rfind("2023-11-14T23:13:30.000000000Z ", 0) == 0);
        LogOptions since;
        since.since = f.clock.now() - 11s;
        QCOMPARE(f.runtime.logs(id, since)->size(), size_t(2));
        LogOptions bytes;
        bytes.limitBytes = 20;
        auto cut = *f.runtime.logs(id, bytes);
        QCOMPARE(cut.size(), size_t(2)); // 14 bytes, then 6 of the next line
        QCOMPARE(cut[1].text.size(), size_t(6));
    }

    void followLogs()
    {
        Fixture f;
        std::string id = f.run(config("busybox", {"sh", "-c", "while true; do echo hello; sleep 2; done"}));
        f.clock.advance(500ms);
        auto stream = f.runtime.followLogs(id, {});
        QVERIFY(stream.ok());
        auto first = (*stream)->read(0s);
        QCOMPARE(first.lines.size(), size_t(1));
        QVERIFY(!first.ended);
        QVERIFY((*stream)->read(0s).lines.empty());
        f.clock.advance(4s);
        QCOMPARE((*stream)->read(0s).lines.size(), size_t(2));
        QVERIFY(f.runtime.stopContainer(id, 0s).ok());
        auto end = (*stream)->read(0s);
        QVERIFY(end.ended);
    }

    void probesAndRequests()
    {
        Fixture f;
        std::string id = f.run(config("luksa/kubia", {}, {{"sim.podscape.io/ready-after", "5s"}}));
        f.clock.advance(500ms);
        ProbeSpec http;
        http.type = ProbeType::Readiness;
        http.port = 8080;
        auto early = f.runtime.probe(id, http);
        QVERIFY(!early->success);
        QCOMPARE(QString::fromStdString(early->message),
                 QStringLiteral("Get \"http://127.244.0.7:8080/\": dial tcp 127.244.0.7:8080: connect: connection refused"));
        f.clock.advance(5s);
        QVERIFY(f.runtime.probe(id, http)->success);
        ProbeSpec wrongPort = http;
        wrongPort.port = 80;
        QVERIFY(!f.runtime.probe(id, wrongPort)->success);
        auto response = f.runtime.serveRequest(f.sandbox, 8080, "127.244.1.5");
        QVERIFY(response.ok());
        QCOMPARE(response->body, std::string("You've hit kubia-abc\n"));
        QCOMPARE(f.lines(id), (std::vector<std::string>{"Kubia server starting...", "Received request from ::ffff:127.243.0.1",
                                                        "Received request from ::ffff:127.244.1.5"}));

        // kubia-unhealthy answers 500 from the sixth request on, as in the book.
        std::string sick = f.run(config("luksa/kubia-unhealthy"));
        f.clock.advance(500ms);
        ProbeSpec live = http;
        live.type = ProbeType::Liveness;
        for (int i = 0; i < 5; ++i)
            QVERIFY(f.runtime.probe(sick, live)->success);
        auto failed = f.runtime.probe(sick, live);
        QVERIFY(!failed->success);
        QCOMPARE(failed->message, std::string("HTTP probe failed with statuscode: 500"));

        std::string shy = f.run(config("nginx", {}, {{"sim.podscape.io/fail-readiness", "true"}}));
        f.clock.advance(500ms);
        ProbeSpec exec;
        exec.handler = ProbeSpec::Handler::Exec;
        exec.command = {"cat", "/tmp/healthy"};
        QCOMPARE(f.runtime.probe(shy, exec)->message, std::string("cat: can't open '/tmp/healthy': No such file or directory"));
        ProbeSpec nginxPath = http;
        nginxPath.port = 80;
        nginxPath.type = ProbeType::Liveness;
        nginxPath.path = "/healthz";
        QCOMPARE(f.runtime.probe(shy, nginxPath)->message, std::string("HTTP probe failed with statuscode: 404"));
    }

    void streamsAreNotSimulated()
    {
        Fixture f;
        std::string id = f.run(config("nginx"));
        auto e = f.runtime.exec(id, {});
        QCOMPARE(e.error().reason(), Reason::BadRequest);
        QCOMPARE(QString::fromStdString(e.error().message()),
                 QStringLiteral("exec is not available with the simulated runtime; run the node with the process runtime"));
        QCOMPARE(f.runtime.attach(id, {}).error().reason(), Reason::BadRequest);
        QCOMPARE(f.runtime.portForward(f.sandbox, 80).error().reason(), Reason::BadRequest);
    }

    void usage()
    {
        Fixture f;
        std::string id = f.run(config("nginx", {}, {{"sim.podscape.io/cpu", "250m"}, {"sim.podscape.io/memory", "64Mi"}}));
        QCOMPARE(f.runtime.containerStats(id).error().reason(), Reason::NotFound); // not running yet
        f.clock.advance(10s);
        auto s = f.runtime.containerStats(id);
        QVERIFY(s.ok());
        QVERIFY(s->cpuMilli >= 225 && s->cpuMilli <= 275);
        QVERIFY(s->memoryBytes >= (62 << 20) && s->memoryBytes <= (66 << 20));
        QVERIFY(s->cpuCoreNanoseconds > 0);
        auto bad = f.runtime.createContainer(f.sandbox, config("nginx", {}, {{"sim.podscape.io/memory", "lots"}}));
        QCOMPARE(bad.error().reason(), Reason::Invalid);
    }

    void sandboxStopKillsAndRemoveForgets()
    {
        Fixture f;
        std::string id = f.run(config("nginx"));
        f.clock.advance(1s);
        QVERIFY(f.runtime.stopPodSandbox(f.sandbox).ok());
        QCOMPARE(f.status(id).exitCode, 137);
        QCOMPARE(f.runtime.podSandboxStatus(f.sandbox)->state, SandboxState::NotReady);
        QVERIFY(f.runtime.removePodSandbox(f.sandbox).ok());
        QCOMPARE(f.runtime.containerStatus(id).error().reason(), Reason::NotFound);
        QCOMPARE(f.runtime.containerCount(), size_t(0));
    }
};

QTEST_GUILESS_MAIN(TestSimRuntime)
#include "tst_simruntime.moc"
