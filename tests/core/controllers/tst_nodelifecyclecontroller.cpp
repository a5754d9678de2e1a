#include "core/base/timeformat.h"
#include "core/controllers/nodelifecycle/nodelifecyclecontroller.h"
#include "core/controllers/nodelifecycle/taintevictioncontroller.h"
#include "core/controllers/nodelifecycle/tolerations.h"

#include <QtTest>

using namespace podscape::core;
using namespace podscape::core::controllers;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

json condition(const json &o, const std::string &type)
{
    if (o.contains("status") && o["status"].contains("conditions"))
        for (const auto &c : o["status"]["conditions"])
            if (c["type"] == type)
                return c;
    return json::object();
}

struct Fixture {
    FakeClock clock;
    store::Store store{clock};
    SharedInformers informers{store, clock};
    NodeLifecycleController lifecycle{informers};
    TaintEvictionController eviction{informers};

    Fixture(std::vector<std::string> nodes)
    {
        for (const auto &n : nodes)
            createNode(n);
        informers.start();
        lifecycle.start();
        eviction.start();
        // Every node seen once: from here on, a node's silence is timed from now.
        QTRY_COMPARE_WITH_TIMEOUT(events("RegisteredNode"), int(nodes.size()), 5000);
        // The event goes out before the node's health is first noted: wait for a whole pass.
        settle();
    }
    ~Fixture()
    {
        eviction.stop();
        lifecycle.stop();
        informers.stop();
    }

    std::string now() { return formatRfc3339(clock.now()); }

    void createNode(const std::string &name)
    {
        json conditions = json::array();
        for (const char *type : {"MemoryPressure", "DiskPressure", "PIDPressure"})
            conditions.push_back({{"type", type}, {"status", "False"}, {"lastHeartbeatTime", now()}, {"lastTransitionTime", now()}});
        conditions.push_back({{"type", "Ready"},
                              {"status", "True"},
                              {"reason", "KubeletReady"},
                              {"message", "kubelet is posting ready status"},
                              {"lastHeartbeatTime", now()},
                              {"lastTransitionTime", now()}});
        QVERIFY(store.create("nodes", {{"apiVersion", "v1"},
                                       {"kind", "Node"},
                                       {"metadata", {{"name", name}}},
                                       {"spec", json::object()},
                                       {"status", {{"conditions", conditions}}}})
                    .ok());
    }

    // What a kubelet posts every few seconds.
    void heartbeat(const std::string &name, const std::string &status = "True")
    {
        QVERIFY(store.modify("nodes", "", name, [&](json &n) -> Result<bool> {
                    for (auto &c : n["status"]["conditions"]) {
                        std::string wanted = c["type"] == "Ready" ? status : "False";
                        if (c["status"] != wanted) {
                            c["status"] = wanted;
                            c["lastTransitionTime"] = now();
                            c["reason"] = c["type"] == "Ready" ? (status == "True" ? "KubeletReady" : "KubeletNotReady") : "KubeletHasSufficientMemory";
                        }
                        c["lastHeartbeatTime"] = now();
                    }
                    return true;
                }).ok());
    }

    // Moves time on in steps, the healthy nodes heartbeating at each.
    void advance(std::chrono::seconds total, const std::vector<std::string> &healthy, std::chrono::seconds step = 10s)
    {
        while (total > 0s) {
            auto d = std::min(step, total);
            clock.advance(d);
            total -= d;
            for (const auto &n : healthy)
                heartbeat(n);
        }
    }

    // Waits until both controllers have nothing left to do at the current (fake) time.
    void settle()
    {
        QTRY_VERIFY_WITH_TIMEOUT(lifecycle.queue().len() == 0 && eviction.queue().len() == 0, 5000);
        const auto l = lifecycle.syncCount(), e = eviction.syncCount();
        // One more look: a key being processed right now is not in len().
        lifecycle.queue().add(NodeLifecycleController::MonitorKey);
        QTRY_VERIFY_WITH_TIMEOUT(lifecycle.syncCount() > l && lifecycle.queue().len() == 0, 5000);
        (void)e;
    }

    json node(const std::string &name) { return **store.get("nodes", "", name); }
    json pod(const std::string &name)
    {
        auto p = store.get("pods", "default", name);
        return p ? **p : json::object();
    }
    bool deleting(const std::string &podName) { return pod(podName)["metadata"].contains("deletionTimestamp"); }

    std::vector<std::string> taints(const std::string &name)
    {
        std::vector<std::string> out;
        for (const auto &t : node(name)["spec"].value("taints", json::array()))
            out.push_back(t["key"].get<std::string>() + ":" + t["effect"].get<std::string>());
        std::sort(out.begin(), out.end());
        return out;
    }

    int events(const std::string &reason, const std::string &object = {})
    {
        int n = 0;
        auto list = store.list("events");
        for (const auto &e : list->items)
            if ((*e)["reason"] == reason && (object.empty() || (*e)["involvedObject"]["name"] == object))
                n += (*e)["count"].get<int>();
        return n;
    }

    void createPod(const std::string &name, json tolerations, bool defaults)
    {
        json p = {{"apiVersion", "v1"},
                  {"kind", "Pod"},
                  {"metadata", {{"name", name}, {"namespace", "default"}}},
                  {"spec", {{"nodeName", "node-1"}, {"containers", json::array({{{"name", "c"}, {"image", "x"}}})}}},
                  {"status", {{"phase", "Running"}, {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
        if (!tolerations.empty())
            p["spec"]["tolerations"] = tolerations;
        if (defaults)
            addDefaultTolerations(p);
        QVERIFY(store.create("pods", p).ok());
    }
};

const std::vector<std::string> kUnreachable = {"node.kubernetes.io/unreachable:NoExecute",
                                               "node.kubernetes.io/unreachable:NoSchedule"};

} // namespace

class TestNodeLifecycleController : public QObject
{
    Q_OBJECT
private slots:
    void toleratesTaint_data()
    {
        QTest::addColumn<QString>("toleration");
        QTest::addColumn<QString>("taint");
        QTest::addColumn<bool>("tolerates");
        const QString unreachable = R"({"key":"node.kubernetes.io/unreachable","effect":"NoExecute"})";
        QTest::newRow("exists on the key") << R"({"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute"})" << unreachable << true;
        QTest::newRow("other key") << R"({"key":"node.kubernetes.io/not-ready","operator":"Exists"})" << unreachable << false;
        QTest::newRow("other effect") << R"({"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoSchedule"})" << unreachable << false;
        QTest::newRow("empty key with Exists tolerates everything") << R"({"operator":"Exists"})" << unreachable << true;
        QTest::newRow("equal needs the value") << R"({"key":"dedicated","value":"gpu","effect":"NoSchedule"})"
                                               << R"({"key":"dedicated","value":"gpu","effect":"NoSchedule"})" << true;
        QTest::newRow("equal with another value") << R"({"key":"dedicated","operator":"Equal","value":"cpu"})"
                                                  << R"({"key":"dedicated","value":"gpu","effect":"NoSchedule"})" << false;
    }

    void toleratesTaint()
    {
        QFETCH(QString, toleration);
        QFETCH(QString, taint);
        QFETCH(bool, tolerates);
        QCOMPARE(controllers::toleratesTaint(json::parse(toleration.toStdString()), json::parse(taint.toStdString())), tolerates);
    }

    void defaultTolerations_data()
    {
        QTest::addColumn<QString>("tolerations");
        QTest::addColumn<QStringList>("added"); // keys added, in order
        QTest::newRow("none") << "[]" << QStringList{"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"};
        QTest::newRow("unreachable already tolerated")
            << R"([{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":6000}])"
            << QStringList{"node.kubernetes.io/not-ready"};
        QTest::newRow("a wildcard toleration covers both") << R"([{"operator":"Exists"}])" << QStringList{};
        QTest::newRow("a NoSchedule toleration does not count")
            << R"([{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoSchedule"}])"
            << QStringList{"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"};
    }

    void defaultTolerations()
    {
        QFETCH(QString, tolerations);
        QFETCH(QStringList, added);
        json given = json::parse(tolerations.toStdString());
        json pod = {{"spec", {{"tolerations", given}}}};
        addDefaultTolerations(pod);
        const json &all = pod["spec"]["tolerations"];
        QCOMPARE(int(all.size()), int(given.size()) + added.size());
        for (int i = 0; i < added.size(); ++i) {
            const json &t = all[given.size() + size_t(i)];
            QCOMPARE(QString::fromStdString(t["key"]), added[i]);
            QCOMPARE(t["operator"], json("Exists"));
            QCOMPARE(t["effect"], json("NoExecute"));
            QCOMPARE(t["tolerationSeconds"], json(300));
        }
    }

    void heartbeatLossTaintsEvictsAndRecovers()
    {
        Fixture f({"node-1", "node-2"});
        f.createPod("p1", json::array(), true); // the default 300 s tolerations
        f.createPod("p2", json::array({{{"key", "node.kubernetes.io/unreachable"}, {"operator", "Exists"}, {"effect", "NoExecute"}}}),
                    true); // tolerates unreachable for ever
        f.createPod("p3", json::array(), false); // tolerates nothing
        const auto start = f.clock.now();

        // 40 s without a heartbeat from node-1 is still within the grace period.
        f.advance(40s, {"node-2"});
        f.settle();
        QCOMPARE(condition(f.node("node-1"), "Ready")["status"], json("True"));
        QVERIFY(f.taints("node-1").empty());

        // One more second and node-1 is Unknown, tainted, and its pods are not ready.
        f.advance(1s, {"node-2"});
        QTRY_COMPARE_WITH_TIMEOUT(condition(f.node("node-1"), "Ready").value("status", std::string()), std::string("Unknown"), 5000);
        json ready = condition(f.node("node-1"), "Ready");
        QCOMPARE(ready["reason"], json("NodeStatusUnknown"));
        QCOMPARE(ready["message"], json("Kubelet stopped posting node status."));
        QCOMPARE(ready["lastTransitionTime"], json(formatRfc3339(start + 41s)));
        QCOMPARE(condition(f.node("node-1"), "MemoryPressure")["status"], json("Unknown"));
        QTRY_COMPARE_WITH_TIMEOUT(f.taints("node-1"), kUnreachable, 5000);
        QCOMPARE(f.events("NodeNotReady", "node-1"), 1);
        QTRY_COMPARE_WITH_TIMEOUT(condition(f.pod("p1"), "Ready").value("status", std::string()), std::string("False"), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(f.events("NodeNotReady", "p1"), 1, 5000);
        QCOMPARE(condition(f.node("node-2"), "Ready")["status"], json("True"));
        QVERIFY(f.taints("node-2").empty());

        // p3 tolerates nothing: evicted at once. p1 gets its 300 s.
        QTRY_VERIFY_WITH_TIMEOUT(f.deleting("p3"), 5000);
        QCOMPARE(condition(f.pod("p3"), "DisruptionTarget")["reason"], json("DeletionByTaintManager"));
        QTRY_VERIFY_WITH_TIMEOUT(f.eviction.scheduledEviction("default/p1").has_value(), 5000);
        QCOMPARE(*f.eviction.scheduledEviction("default/p1"), start + 41s + 300s);
        QVERIFY(!f.eviction.scheduledEviction("default/p2").has_value());

        f.advance(299s, {"node-2"});
        f.settle();
        QVERIFY(!f.deleting("p1"));
        QCOMPARE(f.taints("node-1"), kUnreachable);
        QCOMPARE(condition(f.node("node-2"), "Ready")["status"], json("True"));

        f.advance(1s, {"node-2"});
        QTRY_VERIFY_WITH_TIMEOUT(f.deleting("p1"), 5000);
        QCOMPARE(condition(f.pod("p1"), "DisruptionTarget")["status"], json("True"));
        QTRY_COMPARE_WITH_TIMEOUT(f.events("TaintManagerEviction", "p1"), 1, 5000);
        QVERIFY(!f.deleting("p2"));

        // node-1's kubelet is back: the taints go and Ready is the kubelet's again.
        f.clock.advance(10s);
        f.heartbeat("node-1");
        f.heartbeat("node-2");
        QTRY_VERIFY_WITH_TIMEOUT(f.taints("node-1").empty(), 5000);
        f.settle();
        QCOMPARE(condition(f.node("node-1"), "Ready")["status"], json("True"));
        QVERIFY(!f.deleting("p2"));

        // A kubelet reporting NotReady itself: not-ready taints instead of unreachable ones.
        f.clock.advance(10s);
        f.heartbeat("node-1", "False");
        f.heartbeat("node-2");
        QTRY_COMPARE_WITH_TIMEOUT(f.taints("node-1"), (std::vector<std::string>{"node.kubernetes.io/not-ready:NoExecute",
                                                                                 "node.kubernetes.io/not-ready:NoSchedule"}),
                                  5000);
    }

    void allNodesDownEvictsNothing()
    {
        // One node, silent: Kubernetes cannot tell a dead node from its own lost connectivity
        // (master disruption mode), so it marks and fences the node but evicts nothing.
        Fixture f({"node-1"});
        f.createPod("p3", json::array(), false);
        f.advance(60s, {});
        QTRY_COMPARE_WITH_TIMEOUT(condition(f.node("node-1"), "Ready").value("status", std::string()), std::string("Unknown"), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(f.taints("node-1"), (std::vector<std::string>{"node.kubernetes.io/unreachable:NoSchedule"}), 5000);
        f.settle();
        QCOMPARE(f.taints("node-1"), (std::vector<std::string>{"node.kubernetes.io/unreachable:NoSchedule"}));
        QVERIFY(!f.deleting("p3"));
        QCOMPARE(f.events("NodeNotReady", "node-1"), 1);
    }

    void taintingIsRateLimitedPerZone()
    {
        // Three nodes stop at once beside three healthy ones (a normal zone): one NoExecute
        // taint now, the next ones 10 s apart (0.1 nodes per second).
        Fixture f({"a", "b", "c", "d", "e", "f"});
        f.advance(41s, {"d", "e", "f"});
        auto tainted = [&] {
            int n = 0;
            for (const char *name : {"a", "b", "c"})
                n += f.taints(name) == kUnreachable ? 1 : 0;
            return n;
        };
        QTRY_COMPARE_WITH_TIMEOUT(tainted(), 1, 5000);
        f.settle();
        QCOMPARE(tainted(), 1);
        f.advance(10s, {"d", "e", "f"});
        QTRY_COMPARE_WITH_TIMEOUT(tainted(), 2, 5000);
        f.advance(10s, {"d", "e", "f"});
        auto describe = [&] {
            std::string out;
            for (const char *name : {"a", "b", "c", "d", "e", "f"}) {
                out += std::string(name) + ": " + condition(f.node(name), "Ready").value("status", std::string()) + " ";
                for (const auto &t : f.taints(name))
                    out += t + " ";
                out += "\n";
            }
            return out;
        };
        QTRY_VERIFY2_WITH_TIMEOUT(tainted() == 3, describe().c_str(), 5000);
    }
};

QTEST_GUILESS_MAIN(TestNodeLifecycleController)
#include "tst_nodelifecyclecontroller.moc"
