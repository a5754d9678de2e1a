#include "simcluster.h"

#include "core/base/timeformat.h"
#include "core/model/object.h"

#include <QElapsedTimer>
#include <QtTest>

#include <set>

using namespace podscape::core;
using namespace podscape::core::kubelet;
using namespace podscape::tests;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

KubeletOptions node(const std::string &name, int index)
{
    KubeletOptions o;
    o.nodeName = name;
    o.nodeIndex = index;
    return o;
}

std::string fmt(Clock::TimePoint t) { return formatRfc3339(t); }

json conditionOf(const json &pod, const std::string &type)
{
    for (const auto &c : pod["status"]["conditions"])
        if (c["type"] == type)
            return c;
    return {};
}

json readinessProbe(int port, int initialDelay, int period = 10)
{
    return {{"readinessProbe",
             {{"httpGet", {{"path", "/"}, {"port", port}}}, {"initialDelaySeconds", initialDelay}, {"periodSeconds", period}}}};
}

bool hasEvent(const std::vector<std::string> &events, const std::string &prefix)
{
    return std::any_of(events.begin(), events.end(), [&](const std::string &e) { return e.rfind(prefix, 0) == 0; });
}

} // namespace

class TestKubelet : public QObject
{
    Q_OBJECT
private slots:
    void nodeRegistration()
    {
        SimCluster c;
        auto &k = c.addNode(node("node-1", 1));
        QVERIFY(k.start().ok());
        QVERIFY(c.settle());
        json n = **c.store().get("nodes", "", "node-1");
        QCOMPARE(n["metadata"]["labels"]["kubernetes.io/hostname"], "node-1");
        QCOMPARE(n["metadata"]["labels"]["kubernetes.io/os"], "linux");
        QCOMPARE(n["spec"]["podCIDR"], "127.244.1.0/24");
        const json &s = n["status"];
        QCOMPARE(s["capacity"]["cpu"], "4");
        QCOMPARE(s["capacity"]["memory"], "8388608Ki");
        QCOMPARE(s["capacity"]["pods"], "110");
        QCOMPARE(s["capacity"]["ephemeral-storage"], "104857600Ki");
        QCOMPARE(s["allocatable"]["memory"], "8286208Ki"); // minus the 100Mi eviction threshold
        QCOMPARE(s["allocatable"]["ephemeral-storage"], "96636764160");
        QCOMPARE(s["allocatable"]["pods"], "110");
        QCOMPARE(s["addresses"], json::parse(R"([{"type":"InternalIP","address":"127.243.1.1"},{"type":"Hostname","address":"node-1"}])"));
        QCOMPARE(s["nodeInfo"]["kubeletVersion"], "v1.32.0-podscape");
        QCOMPARE(s["nodeInfo"]["containerRuntimeVersion"], "sim://1.0");
        QCOMPARE(s["nodeInfo"]["architecture"], "amd64");
        QCOMPARE(s["nodeInfo"]["operatingSystem"], "linux");
        QVERIFY(!s["nodeInfo"]["osImage"].get<std::string>().empty());
        QCOMPARE(s["nodeInfo"]["machineID"].get<std::string>().size(), size_t(32));
        QCOMPARE(s["daemonEndpoints"]["kubeletEndpoint"]["Port"], 10250);
        std::vector<std::string> types;
        for (const auto &cond : s["conditions"]) {
            types.push_back(cond["type"]);
            QCOMPARE(cond["lastHeartbeatTime"], fmt(c.clock().now()));
        }
        QCOMPARE(types, (std::vector<std::string>{"MemoryPressure", "DiskPressure", "PIDPressure", "Ready"}));
        QCOMPARE(s["conditions"][3]["status"], "True");
        QCOMPARE(s["conditions"][3]["reason"], "KubeletReady");
        QCOMPARE(s["conditions"][0]["status"], "False");
        model::Node typed(n);
        QVERIFY(typed.isReady());
        QCOMPARE(typed.internalIP(), std::string("127.243.1.1"));
        auto events = c.eventReasons("node-1");
        QVERIFY(hasEvent(events, "Starting"));
        QVERIFY(hasEvent(events, "NodeReady"));

        // Another node with the same index would hand out the same pod IPs.
        auto &twin = c.addNode(node("node-2", 1));
        auto clash = twin.start();
        QVERIFY(!clash.ok());
        QCOMPARE(clash.error().reason(), Reason::AlreadyExists);
        KubeletOptions bad = node("node-3", 3);
        bad.memory = "lots";
        QCOMPARE(c.addNode(bad).start().error().reason(), Reason::Invalid);
    }

    void heartbeatsAndStop()
    {
        SimCluster c;
        auto &k = c.addNode(node("node-1", 0));
        QVERIFY(k.start().ok());
        const auto t0 = c.clock().now();
        auto heartbeat = [&] { return model::Node(**c.store().get("nodes", "", "node-1")).doc()["status"]["conditions"][3]; };
        QVERIFY(c.advance(10s));
        QCOMPARE(heartbeat()["lastHeartbeatTime"], fmt(t0 + 10s));
        QVERIFY(c.advance(25s));
        QCOMPARE(heartbeat()["lastHeartbeatTime"], fmt(t0 + 30s));
        QCOMPARE(heartbeat()["lastTransitionTime"], fmt(t0));

        // A stopped kubelet is a failed node: no heartbeats, no pod syncs.
        k.stop();
        QVERIFY(!k.isRunning());
        QVERIFY(c.store().create("pods", SimCluster::makePod("late", "node-1", "nginx:1.27")).ok());
        QVERIFY(c.advance(60s));
        QCOMPARE(heartbeat()["lastHeartbeatTime"], fmt(t0 + 30s));
        QVERIFY(!c.pod("late").contains("status"));
        // What the node lifecycle controller would do meanwhile.
        QVERIFY(c.store().modify("nodes", "", "node-1", [&](json &n) -> Result<bool> {
            n["status"]["conditions"][3] = {{"type", "Ready"}, {"status", "Unknown"}, {"reason", "NodeStatusUnknown"},
                                            {"message", "Kubelet stopped posting node status."},
                                            {"lastHeartbeatTime", fmt(t0 + 30s)}, {"lastTransitionTime", fmt(c.clock().now())}};
            return true;
        }).ok());

        QVERIFY(k.start().ok());
        const auto t1 = c.clock().now();
        QVERIFY(c.settle());
        QCOMPARE(heartbeat()["status"], "True");
        QCOMPARE(heartbeat()["lastHeartbeatTime"], fmt(t1));
        QCOMPARE(heartbeat()["lastTransitionTime"], fmt(t1));
        QVERIFY(c.within(10s, [&] { return c.phase("late") == "Running"; }));
        QVERIFY(c.eventCount("node-1", "NodeReady") >= 2);
    }

    void podLifecycle()
    {
        SimCluster c;
        auto &k = c.addNode(node("node-1", 0));
        QVERIFY(k.start().ok());
        const auto t0 = c.clock().now();
        json container = readinessProbe(8080, 5);
        container["ports"] = json::array({{{"containerPort", 8080}}});
        QVERIFY(c.store().create("pods", SimCluster::makePod("kubia", "node-1", "luksa/kubia", {}, {}, container)).ok());
        QVERIFY(c.settle());

        json p = c.pod("kubia");
        QCOMPARE(p["status"]["phase"], "Pending");
        QCOMPARE(c.waitingReason("kubia"), std::string("ContainerCreating"));
        QCOMPARE(p["status"]["hostIP"], "127.243.0.1");
        QCOMPARE(p["status"]["podIP"], "127.244.0.2");
        QCOMPARE(p["status"]["podIPs"], json::parse(R"([{"ip":"127.244.0.2"}])"));
        QCOMPARE(p["status"]["startTime"], fmt(t0));
        QCOMPARE(p["status"]["qosClass"], "BestEffort");
        std::vector<std::string> types;
        for (const auto &cond : p["status"]["conditions"])
            types.push_back(cond["type"]);
        QCOMPARE(types, (std::vector<std::string>{"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                                  "PodScheduled"}));
        QCOMPARE(conditionOf(p, "PodScheduled")["status"], "True");
        QCOMPARE(conditionOf(p, "Initialized")["status"], "True");
        QCOMPARE(conditionOf(p, "Ready")["status"], "False");
        QCOMPARE(conditionOf(p, "Ready")["reason"], "ContainersNotReady");
        QCOMPARE(conditionOf(p, "Ready")["message"], "containers with unready status: [main]");
        QCOMPARE(c.container("kubia")["image"], "luksa/kubia");
        QCOMPARE(c.container("kubia")["started"], false);
        QCOMPARE(c.eventReasons("kubia"), std::vector<std::string>{"Pulling"});

        // The pull takes 1-3 s, creating the container 0.5 s.
        QVERIFY(c.within(5s, [&] { return c.phase("kubia") == "Running"; }));
        const auto running = c.clock().now();
        QVERIFY(running - t0 >= 1500ms && running - t0 <= 3500ms);
        json cs = c.container("kubia");
        QVERIFY(cs["state"].contains("running"));
        QCOMPARE(cs["ready"], false);
        QCOMPARE(cs["started"], true);
        QCOMPARE(cs["restartCount"], 0);
        QCOMPARE(cs["image"], "docker.io/luksa/kubia:latest");
        QVERIFY(cs["imageID"].get<std::string>().rfind("docker.io/luksa/kubia@sha256:", 0) == 0);
        QVERIFY(cs["containerID"].get<std::string>().rfind("sim://", 0) == 0);
        QCOMPARE(c.eventReasons("kubia"), (std::vector<std::string>{"Pulling", "Pulled", "Created", "Started"}));
        auto events = c.events("kubia");
        QVERIFY(events[1].rfind("Pulled: Successfully pulled image \"luksa/kubia\" in ", 0) == 0);
        QCOMPARE(events[2], std::string("Created: Created container: main"));
        QCOMPARE(events[3], std::string("Started: Started container main"));

        // Ready at the first readiness probe, initialDelaySeconds after the start.
        QVERIFY(c.within(30s, [&] { return c.condition("kubia", "Ready") == "True"; }));
        QCOMPARE(c.clock().now(), running + 5s);
        p = c.pod("kubia");
        QCOMPARE(conditionOf(p, "Ready")["lastTransitionTime"], fmt(running + 5s));
        QCOMPARE(conditionOf(p, "ContainersReady")["status"], "True");
        QCOMPARE(conditionOf(p, "PodScheduled")["lastTransitionTime"], fmt(t0));
        QCOMPARE(c.container("kubia")["ready"], true);

        // Nothing changes: probes keep succeeding and the pod is not written again.
        const std::string rv = p["metadata"]["resourceVersion"];
        QVERIFY(c.advance(60s));
        QCOMPARE(c.pod("kubia")["metadata"]["resourceVersion"].get<std::string>(), rv);

        auto logs = k.containerLogs("default", "kubia", "main", {});
        QVERIFY(logs.ok());
        QCOMPARE(logs->front().text, std::string("Kubia server starting..."));
        QCOMPARE(logs->size(), size_t(1 + 7)); // a request per probe: at 5 s, 15 s ... 65 s
        QCOMPARE((*logs)[1].text, std::string("Received request from ::ffff:127.243.0.1"));
        QCOMPARE(k.containerLogs("default", "kubia", "", {})->size(), size_t(8));
        runtime::LogOptions previous;
        previous.previous = true;
        QCOMPARE(QString::fromStdString(k.containerLogs("default", "kubia", "main", previous).error().message()),
                 QStringLiteral("previous terminated container \"main\" in pod \"kubia\" not found"));
        QCOMPARE(k.containerLogs("default", "kubia", "other", {}).error().reason(), Reason::BadRequest);
        QCOMPARE(k.containerLogs("default", "nope", "main", {}).error().reason(), Reason::NotFound);
        QCOMPARE(k.exec("default", "kubia", "main", {}).error().reason(), Reason::BadRequest);
        auto usage = k.podUsage();
        QCOMPARE(usage.size(), size_t(1));
        QVERIFY(usage[0].containers[0].memoryBytes > 0);
    }

    void imagePullBackOff()
    {
        SimCluster c;
        QVERIFY(c.addNode(node("node-1", 0)).start().ok());
        QVERIFY(c.store().create("pods", SimCluster::makePod("broken", "node-1", "nginx:broken")).ok());
        QVERIFY(c.settle());
        QCOMPARE(c.waitingReason("broken"), std::string("ContainerCreating"));

        QVERIFY(c.within(5s, [&] { return c.waitingReason("broken") == "ErrImagePull"; }));
        const auto failed1 = c.clock().now();
        QVERIFY(c.container("broken")["state"]["waiting"]["message"].get<std::string>().find("nginx:broken: not found")
                != std::string::npos);
        auto events = c.events("broken");
        QVERIFY(hasEvent(events, "Failed: Failed to pull image \"nginx:broken\": rpc error: code = NotFound desc = failed to pull"));
        QVERIFY(hasEvent(events, "Failed: Error: ErrImagePull"));

        QVERIFY(c.within(5s, [&] { return c.waitingReason("broken") == "ImagePullBackOff"; }));
        QCOMPARE(c.clock().now(), failed1 + 1s);
        QCOMPARE(c.container("broken")["state"]["waiting"]["message"], "Back-off pulling image \"nginx:broken\"");
        QCOMPARE(c.phase("broken"), std::string("Pending"));
        events = c.events("broken");
        QVERIFY(hasEvent(events, "BackOff: Back-off pulling image \"nginx:broken\""));
        QVERIFY(hasEvent(events, "Failed: Error: ImagePullBackOff"));

        // Back-off: the next pull 10 s after the failure, then 20 s, then 40 s.
        QVERIFY(c.within(60s, [&] { return c.eventCount("broken", "Pulling") == 2; }));
        QCOMPARE(c.clock().now(), failed1 + 10s);
        QCOMPARE(c.waitingReason("broken"), std::string("ImagePullBackOff")); // while it pulls again
        QVERIFY(c.within(5s, [&] { return c.waitingReason("broken") == "ErrImagePull"; }));
        const auto failed2 = c.clock().now();
        QVERIFY(c.within(60s, [&] { return c.eventCount("broken", "Pulling") == 3; }));
        QCOMPARE(c.clock().now(), failed2 + 20s);
        QVERIFY(c.within(5s, [&] { return c.waitingReason("broken") == "ErrImagePull"; }));
        const auto failed3 = c.clock().now();
        QVERIFY(c.within(60s, [&] { return c.eventCount("broken", "Pulling") == 4; }));
        QCOMPARE(c.clock().now(), failed3 + 40s);

        QVERIFY(c.store().create("pods", SimCluster::makePod("bad-name", "node-1", "Not/A Valid:image")).ok());
        QVERIFY(c.within(1s, [&] { return c.waitingReason("bad-name") == "InvalidImageName"; }));
        QVERIFY(hasEvent(c.events("bad-name"), "InspectFailed: Failed to apply default image tag"));
    }

    void crashLoopBackOff()
    {
        SimCluster c;
        QVERIFY(c.addNode(node("node-1", 0)).start().ok());
        json pod = SimCluster::makePod("crasher", "node-1", "busybox:1.36", {}, {{"sim.podscape.io/crash-after", "30s"}},
                                       {{"command", {"sleep", "3600"}}});
        QVERIFY(c.store().create("pods", pod).ok());
        auto running = [&](int restarts) {
            return [&c, restarts] {
                json cs = c.container("crasher");
                return cs.is_object() && cs["state"].contains("running") && cs["restartCount"] == restarts;
            };
        };
        auto terminated = [&] { return c.container("crasher")["state"].contains("terminated"); };
        auto backingOff = [&] { return c.waitingReason("crasher") == "CrashLoopBackOff"; };

        QVERIFY(c.within(10s, running(0)));
        const auto s1 = c.clock().now();
        // The first crash restarts at once.
        QVERIFY(c.within(60s, running(1)));
        QCOMPARE(c.clock().now(), s1 + 30s + 500ms);
        json cs = c.container("crasher");
        QCOMPARE(cs["lastState"]["terminated"]["exitCode"], 1);
        QCOMPARE(cs["lastState"]["terminated"]["reason"], "Error");
        QCOMPARE(c.phase("crasher"), std::string("Running"));

        // Later ones wait: 10 s, 20 s, 40 s after the exit (plus the 0.5 s to start).
        std::vector<std::string> messages;
        for (int restarts = 2, wait = 10; restarts <= 4; ++restarts, wait *= 2) {
            QVERIFY(c.within(60s, terminated));
            const auto exited = c.clock().now();
            QCOMPARE(c.container("crasher")["state"]["terminated"]["exitCode"], 1);
            QVERIFY(c.within(5s, backingOff));
            QCOMPARE(c.clock().now(), exited + 1s);
            cs = c.container("crasher");
            messages.push_back(cs["state"]["waiting"]["message"]);
            QCOMPARE(cs["lastState"]["terminated"]["exitCode"], 1);
            QCOMPARE(cs["ready"], false);
            QCOMPARE(c.phase("crasher"), std::string("Running"));
            QCOMPARE(c.condition("crasher", "Ready"), std::string("False"));
            QVERIFY(c.within(std::chrono::seconds(wait + 5), running(restarts)));
            QCOMPARE(c.clock().now(), exited + std::chrono::seconds(wait) + 500ms);
        }
        const std::string uid = c.pod("crasher")["metadata"]["uid"];
        QCOMPARE(messages[0], "back-off 10s restarting failed container=main pod=crasher_default(" + uid + ")");
        QVERIFY(messages[1].rfind("back-off 20s", 0) == 0);
        QVERIFY(messages[2].rfind("back-off 40s", 0) == 0);
        QCOMPARE(c.eventCount("crasher", "BackOff"), 3);
        QVERIFY(hasEvent(c.events("crasher"), "BackOff: Back-off restarting failed container main in pod crasher_default("));
    }

    void restartPolicyNever()
    {
        SimCluster c;
        auto &k = c.addNode(node("node-1", 0));
        QVERIFY(k.start().ok());
        QVERIFY(c.store().create("pods", SimCluster::makePod("once", "node-1", "busybox:1.36", {{"restartPolicy", "Never"}}, {},
                                                             {{"command", {"sh", "-c", "echo bye; exit 3"}}}))
                    .ok());
        QVERIFY(c.within(10s, [&] { return c.phase("once") == "Failed"; }));
        json cs = c.container("once");
        QCOMPARE(cs["state"]["terminated"]["exitCode"], 3);
        QCOMPARE(cs["state"]["terminated"]["reason"], "Error");
        QCOMPARE(cs["restartCount"], 0);
        QCOMPARE(conditionOf(c.pod("once"), "Ready")["reason"], "PodCompleted");
        QCOMPARE(k.containerLogs("default", "once", "main", {})->at(0).text, std::string("bye"));
        QVERIFY(c.advance(60s));
        QCOMPARE(c.container("once")["restartCount"], 0);

        QVERIFY(c.store().create("pods", SimCluster::makePod("job", "node-1", "busybox:1.36", {{"restartPolicy", "OnFailure"}}, {},
                                                             {{"command", {"echo", "done"}}}))
                    .ok());
        QVERIFY(c.within(10s, [&] { return c.phase("job") == "Succeeded"; }));
        QCOMPARE(c.container("job")["state"]["terminated"]["reason"], "Completed");
    }

    void oomKilled()
    {
        SimCluster c;
        QVERIFY(c.addNode(node("node-1", 0)).start().ok());
        json resources = {{"resources", {{"limits", {{"memory", "64Mi"}}}}}};
        QVERIFY(c.store().create("pods", SimCluster::makePod("hog", "node-1", "nginx:1.27", {}, {{"sim.podscape.io/memory", "128Mi"}},
                                                             resources))
                    .ok());
        QVERIFY(c.within(30s, [&] { return c.container("hog")["lastState"].contains("terminated"); }));
        json last = c.container("hog")["lastState"]["terminated"];
        QCOMPARE(last["reason"], "OOMKilled");
        QCOMPARE(last["exitCode"], 137);
        QCOMPARE(c.pod("hog")["status"]["qosClass"], "Burstable");
        QVERIFY(c.within(30s, [&] { return c.container("hog")["state"].contains("terminated"); }));
        QCOMPARE(c.container("hog")["state"]["terminated"]["reason"], "OOMKilled");
        QVERIFY(c.within(5s, [&] { return c.waitingReason("hog") == "CrashLoopBackOff"; }));
    }

    void gracefulDeletion()
    {
        SimCluster c;
        auto &k = c.addNode(node("node-1", 0));
        QVERIFY(k.start().ok());
        QVERIFY(c.store().create("pods", SimCluster::makePod("web", "node-1", "nginx:1.27")).ok());
        QVERIFY(c.store().create("pods", SimCluster::makePod("slow", "node-1", "luksa/kubia")).ok());
        QVERIFY(c.within(10s, [&] { return c.phase("web") == "Running" && c.phase("slow") == "Running"; }));
        auto watch = c.store().watch("pods");
        QVERIFY(watch.ok());

        // nginx stops soon after its signal; the kubelet then deletes the pod for good.
        const auto deleted = c.clock().now();
        auto removed = c.store().remove("pods", "default", "web");
        QVERIFY(removed.ok());
        QVERIFY((**removed)["metadata"].contains("deletionTimestamp"));
        QVERIFY(c.settle());
        QVERIFY(c.exists("web")); // Terminating
        QVERIFY(hasEvent(c.events("web"), "Killing: Stopping container main"));
        QVERIFY(c.within(10s, [&] { return !c.exists("web"); }));
        QCOMPARE(c.clock().now(), deleted + 500ms);
        json final;
        for (auto &e : (*watch)->drain())
            if (e.type == store::EventType::Modified && (*e.object)["metadata"]["name"] == "web")
                final = *e.object;
        QCOMPARE(final["status"]["phase"], "Succeeded"); // nginx exits 0
        QCOMPARE(final["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 0);

        // kubia ignores SIGTERM (node as PID 1): it is killed when the 30 s grace period ends.
        const auto deleted2 = c.clock().now();
        QVERIFY(c.store().remove("pods", "default", "slow").ok());
        QVERIFY(c.advance(29s));
        QVERIFY(c.exists("slow"));
        QCOMPARE(c.container("slow")["state"].contains("running"), true);
        QVERIFY(c.within(5s, [&] { return !c.exists("slow"); }));
        QCOMPARE(c.clock().now(), deleted2 + 30s);
        for (auto &e : (*watch)->drain())
            if (e.type == store::EventType::Modified && (*e.object)["metadata"]["name"] == "slow")
                final = *e.object;
        QCOMPARE(final["status"]["phase"], "Failed");
        QCOMPARE(final["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 137);

        // A shorter grace period of one's own.
        QVERIFY(c.store().create("pods", SimCluster::makePod("quick", "node-1", "luksa/kubia")).ok());
        QVERIFY(c.within(10s, [&] { return c.phase("quick") == "Running"; }));
        const auto deleted3 = c.clock().now();
        store::DeleteOptions five;
        five.gracePeriodSeconds = 5;
        QVERIFY(c.store().remove("pods", "default", "quick", five).ok());
        QVERIFY(c.within(10s, [&] { return !c.exists("quick"); }));
        QCOMPARE(c.clock().now(), deleted3 + 5s);
        QVERIFY(c.within(1s, [&] { return k.podCount() == 0; }));
    }

    void ipsAreReleasedAndExhaustionWaits()
    {
        SimCluster c;
        KubeletOptions o = node("node-1", 0);
        o.podCIDR = "127.250.0.0/30"; // one pod address: 127.250.0.2
        QVERIFY(c.addNode(o).start().ok());
        QVERIFY(c.store().create("pods", SimCluster::makePod("a", "node-1", "nginx:1.27")).ok());
        QVERIFY(c.within(10s, [&] { return c.phase("a") == "Running"; }));
        QCOMPARE(c.pod("a")["status"]["podIP"], "127.250.0.2");
        QVERIFY(c.store().create("pods", SimCluster::makePod("b", "node-1", "nginx:1.27")).ok());
        QVERIFY(c.settle());
        QVERIFY(hasEvent(c.events("b"), "FailedCreatePodSandBox: Failed to create pod sandbox: plugin type=\"host-local\" failed (add): "
                                        "failed to allocate for range 0: no IP addresses available in range set: "
                                        "127.250.0.2-127.250.0.2"));
        QCOMPARE(c.waitingReason("b"), std::string("ContainerCreating"));
        QVERIFY(!c.pod("b")["status"].contains("podIP"));
        QVERIFY(c.store().remove("pods", "default", "a").ok());
        QVERIFY(c.within(30s, [&] { return c.phase("b") == "Running"; }));
        QCOMPARE(c.pod("b")["status"]["podIP"], "127.250.0.2");
    }

    void podIPsUniqueAcrossNodes()
    {
        SimCluster c;
        for (int i = 0; i < 3; ++i)
            QVERIFY(c.addNode(node("node-" + std::to_string(i), i), runtime::SimTiming::instant()).start().ok());
        for (int i = 0; i < 90; ++i)
            QVERIFY(c.store().create("pods", SimCluster::makePod("p" + std::to_string(i), "node-" + std::to_string(i % 3), "nginx:1.27"))
                        .ok());
        QVERIFY(c.settle());
        std::set<std::string> ips;
        for (int i = 0; i < 90; ++i) {
            json p = c.pod("p" + std::to_string(i));
            QCOMPARE(p["status"]["phase"], "Running");
            std::string ip = p["status"]["podIP"];
            QVERIFY2(ip.rfind("127.244." + std::to_string(i % 3) + ".", 0) == 0, ip.c_str());
            QCOMPARE(p["status"]["hostIP"].get<std::string>(), "127.243." + std::to_string(i % 3) + ".1");
            ips.insert(ip);
        }
        QCOMPARE(ips.size(), size_t(90));
    }

    void admission()
    {
        SimCluster c;
        KubeletOptions o = node("node-1", 0);
        o.maxPods = 2;
        QVERIFY(c.addNode(o, runtime::SimTiming::instant()).start().ok());
        for (const char *name : {"a", "b"})
            QVERIFY(c.store().create("pods", SimCluster::makePod(name, "node-1", "nginx:1.27")).ok());
        QVERIFY(c.settle());
        QVERIFY(c.store().create("pods", SimCluster::makePod("c", "node-1", "nginx:1.27")).ok());
        QVERIFY(c.settle());
        json p = c.pod("c");
        QCOMPARE(p["status"]["phase"], "Failed");
        QCOMPARE(p["status"]["reason"], "OutOfpods");
        QCOMPARE(p["status"]["message"], "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2");
        QVERIFY(hasEvent(c.events("c"), "OutOfpods"));

        json big = SimCluster::makePod("big", "node-1", "nginx:1.27", {}, {}, {{"resources", {{"requests", {{"cpu", "8"}}}}}});
        QVERIFY(c.store().remove("pods", "default", "a").ok());
        QVERIFY(c.settle());
        QVERIFY(c.store().create("pods", big).ok());
        QVERIFY(c.settle());
        QCOMPARE(c.pod("big")["status"]["reason"], "OutOfcpu");
    }

    void initContainersAndEnvironment()
    {
        SimCluster c;
        auto &k = c.addNode(node("node-1", 0));
        QVERIFY(k.start().ok());
        json pod = SimCluster::makePod(
            "app", "node-1", "busybox:1.36", {}, {},
            {{"command", {"sh", "-c", "echo $(GREETING) from $(POD_NAME) at $(POD_IP) with $(COLOR); sleep 3600"}},
             {"env",
              {{{"name", "GREETING"}, {"value", "hello"}},
               {{"name", "POD_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
               {{"name", "POD_IP"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "status.podIP"}}}}}},
               {{"name", "COLOR"}, {"valueFrom", {{"configMapKeyRef", {{"name", "settings"}, {"key", "color"}}}}}}}}});
        pod["spec"]["initContainers"] = json::array(
            {{{"name", "wait"}, {"image", "busybox:1.36"}, {"command", {"sh", "-c", "echo waiting; sleep 5"}}}});
        QVERIFY(c.store().create("pods", pod).ok());
        QVERIFY(c.within(2500ms, [&] { return c.pod("app")["status"]["initContainerStatuses"][0]["state"].contains("running"); }));
        json p = c.pod("app");
        QCOMPARE(conditionOf(p, "Initialized")["status"], "False");
        QCOMPARE(conditionOf(p, "Initialized")["message"], "containers with incomplete status: [wait]");
        QCOMPARE(c.waitingReason("app"), std::string("PodInitializing"));
        QCOMPARE(p["status"]["phase"], "Pending");

        // The init container ends after 5 s; the app then needs a ConfigMap that is missing.
        QVERIFY(c.within(10s, [&] { return c.waitingReason("app") == "CreateContainerConfigError"; }));
        QCOMPARE(conditionOf(c.pod("app"), "Initialized")["status"], "True");
        QCOMPARE(c.pod("app")["status"]["initContainerStatuses"][0]["state"]["terminated"]["reason"], "Completed");
        QCOMPARE(c.container("app")["state"]["waiting"]["message"], "configmap \"settings\" not found");
        QVERIFY(hasEvent(c.events("app"), "Failed: Error: configmap \"settings\" not found"));
        json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "settings"}, {"namespace", "default"}}},
                   {"data", {{"color", "blue"}}}};
        QVERIFY(c.store().create("configmaps", cm).ok());
        QVERIFY(c.within(15s, [&] { return c.phase("app") == "Running"; }));
        auto logs = k.containerLogs("default", "app", "main", {});
        QVERIFY(logs.ok());
        QCOMPARE(logs->at(0).text, std::string("hello from app at 127.244.0.2 with blue"));
        QCOMPARE(k.containerLogs("default", "app", "wait", {})->at(0).text, std::string("waiting"));
        QCOMPARE(k.containerLogs("default", "app", "", {}).error().reason(), Reason::BadRequest);
    }

    void sidecarRunsBesideTheApp()
    {
        SimCluster c;
        auto &k = c.addNode(node("node-1", 0));
        QVERIFY(k.start().ok());
        json pod = SimCluster::makePod("job", "node-1", "busybox:1.36", {{"restartPolicy", "Never"}}, {},
                                       {{"command", {"sh", "-c", "echo working; sleep 5"}}});
        pod["spec"]["initContainers"] = json::array({{{"name", "proxy"},
                                                      {"image", "busybox:1.36"},
                                                      {"restartPolicy", "Always"},
                                                      {"command", {"sh", "-c", "while true; do echo proxying; sleep 1; done"}}}});
        QVERIFY(c.store().create("pods", pod).ok());
        QVERIFY(c.within(10s, [&] { return c.phase("job") == "Running"; }));
        json p = c.pod("job");
        QCOMPARE(conditionOf(p, "Initialized")["status"], "True");
        QVERIFY(p["status"]["initContainerStatuses"][0]["state"].contains("running"));
        QVERIFY(c.within(10s, [&] { return c.phase("job") == "Succeeded"; }));
        p = c.pod("job");
        QCOMPARE(conditionOf(p, "Initialized")["status"], "True");
        QCOMPARE(p["status"]["initContainerStatuses"][0]["state"]["terminated"]["exitCode"], 137); // stopped with the pod
        QVERIFY(k.containerLogs("default", "job", "proxy", {})->size() >= 5);
    }

    void livenessProbeRestarts()
    {
        SimCluster c;
        auto &k = c.addNode(node("node-1", 0));
        QVERIFY(k.start().ok());
        json probe = {{"livenessProbe", {{"httpGet", {{"path", "/"}, {"port", 8080}}}, {"periodSeconds", 10}}}};
        QVERIFY(c.store().create("pods", SimCluster::makePod("sick", "node-1", "luksa/kubia-unhealthy", {}, {}, probe)).ok());
        QVERIFY(c.within(10s, [&] { return c.phase("sick") == "Running"; }));
        const auto started = c.clock().now();
        // Five good answers (0 s ... 40 s), then 500s at 50, 60 and 70 s: killed then, and as
        // node ignores SIGTERM, gone when the 30 s grace period ends. The untagged image is
        // pulled again (0.3 s) before the new container is created.
        QVERIFY(c.within(3min, [&] { return c.container("sick")["restartCount"] == 1; }));
        QCOMPARE(c.clock().now(), started + 100s + 300ms);
        QCOMPARE(c.eventCount("sick", "Unhealthy"), 3);
        QVERIFY(hasEvent(c.events("sick"), "Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 500"));
        QVERIFY(hasEvent(c.events("sick"), "Killing: Container main failed liveness probe, will be restarted"));
        QCOMPARE(c.container("sick")["lastState"]["terminated"]["exitCode"], 137);
        runtime::LogOptions previous;
        previous.previous = true;
        auto logs = k.containerLogs("default", "sick", "main", previous);
        QVERIFY(logs.ok());
        QCOMPARE(logs->size(), size_t(1 + 8)); // startup line, 8 probe requests
    }

    void thousandPodsInstant()
    {
        SimCluster c;
        KubeletOptions o = node("node-1", 0);
        o.maxPods = 1000;
        o.podCIDR = "127.245.0.0/16";
        auto &k = c.addNode(o, runtime::SimTiming::instant());
        QVERIFY(k.start().ok());
        QElapsedTimer timer;
        timer.start();
        for (int i = 0; i < 1000; ++i)
            QVERIFY(c.store().create("pods", SimCluster::makePod("p" + std::to_string(i), "node-1", "nginx:1.27")).ok());
        QVERIFY(c.settle());
        store::ListOptions all;
        all.ns = "default";
        auto pods = c.store().list("pods", all);
        QCOMPARE(pods->items.size(), size_t(1000));
        std::set<std::string> ips;
        for (const auto &p : pods->items) {
            QCOMPARE((*p)["status"]["phase"], "Running");
            QCOMPARE(model::Pod(*p).isReady(), true);
            ips.insert((*p)["status"]["podIP"].get<std::string>());
        }
        QCOMPARE(ips.size(), size_t(1000));
        qInfo() << "1000 pods running in" << timer.elapsed() << "ms";
        for (int i = 0; i < 1000; ++i)
            QVERIFY(c.store().remove("pods", "default", "p" + std::to_string(i)).ok());
        QVERIFY(c.settle());
        QCOMPARE(c.store().list("pods", all)->items.size(), size_t(0));
        QCOMPARE(k.podCount(), size_t(0));
        qInfo() << "and deleted after" << timer.elapsed() << "ms";
    }
};

QTEST_GUILESS_MAIN(TestKubelet)
#include "tst_kubelet.moc"
