// The scheduling algorithm over a set of nodes: filter order, the FitError message word for
// word (with the preemption part), PreFilter narrowing, scoring and tie-breaking, and how
// many nodes a big cluster is searched for.

#include "schedulertestutil.h"

#include "core/scheduler/fiterror.h"
#include "core/scheduler/framework.h"

#include <QtTest>

using namespace schedtest;

namespace {

// Nodes from a compact description: {"name", "cpu", "pods", "patch", "bound": [{"cpu", "priority"}]}.
struct Cluster {
    std::vector<std::unique_ptr<NodeInfo>> infos;
    std::vector<const NodeInfo *> nodes;

    explicit Cluster(const json &spec)
    {
        int n = 0;
        for (const auto &s : spec) {
            auto info = nodeInfo(node(s["name"].get<std::string>(), s.value("cpu", "4"), s.value("memory", "8Gi"),
                                      s.value("pods", 110), s.value("patch", json())));
            for (const auto &b : s.value("bound", json::array())) {
                json p = pod("bound-" + std::to_string(n++), b.value("cpu", ""), b.value("memory", ""));
                if (b.contains("priority"))
                    p["spec"]["priority"] = b["priority"];
                addBoundPod(*info, p);
            }
            nodes.push_back(info.get());
            infos.push_back(std::move(info));
        }
    }
};

json nodes(int count, const json &patch = json::object(), const std::string &prefix = "node-")
{
    json out = json::array();
    for (int i = 1; i <= count; ++i)
        out.push_back(patched({{"name", prefix + std::to_string(i)}}, patch));
    return out;
}

json concat(json a, const json &b)
{
    for (const auto &x : b)
        a.push_back(x);
    return a;
}

const json cordoned = {{"patch", {{"spec", {{"unschedulable", true}}}}}};
const json full = {{"bound", json::array({{{"cpu", "3500m"}}})}};

} // namespace

class TestSchedulerFramework : public QObject
{
    Q_OBJECT
private slots:
    void fitErrorMessage_data()
    {
        QTest::addColumn<QString>("cluster");
        QTest::addColumn<QString>("pod"); // patch over a pod requesting 1 cpu
        QTest::addColumn<QString>("message");

        auto j = [](const json &v) { return QString::fromStdString(v.dump()); };
        // The example of the brief: one cordoned node (also full: the first filter that fails
        // is the one reported), two without the cpu.
        QTest::newRow("cordoned and short of cpu")
            << j(json::array({patched(patched({{"name", "node-1"}}, cordoned), full), patched({{"name", "node-2"}}, full),
                              patched({{"name", "node-3"}}, full)}))
            << ""
            << "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. preemption: 0/3 nodes are "
               "available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.";
        QTest::newRow("every reason of a node counts")
            << j(nodes(2, {{"bound", json::array({{{"cpu", "3500m"}, {"memory", "7Gi"}}})}}))
            << j(json{{"spec", {{"containers", json::array({{{"name", "a"}, {"resources", {{"requests", {{"cpu", "1"}, {"memory", "2Gi"}}}}}}})}}}})
            << "0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory. preemption: 0/2 nodes are available: "
               "2 No preemption victims found for incoming pod.";
        QTest::newRow("counts sort as strings, as in Go")
            << j(concat(nodes(10, {{"patch", {{"spec", {{"taints", json::array({{{"key", "k"}, {"effect", "NoSchedule"}}})}}}}}}, "t-"),
                        nodes(2, cordoned, "c-")))
            << ""
            << "0/12 nodes are available: 10 node(s) had untolerated taint(s), 2 node(s) were unschedulable. preemption: "
               "0/12 nodes are available: 12 Preemption is not helpful for scheduling.";
        QTest::newRow("node selector")
            << j(nodes(3)) << R"({"spec":{"nodeSelector":{"disktype":"ssd"}}})"
            << "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are "
               "available: 3 Preemption is not helpful for scheduling.";
        QTest::newRow("larger than any node: preemption cannot help")
            << j(nodes(1, {{"cpu", "500m"}})) << ""
            << "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Preemption is not "
               "helpful for scheduling.";
        QTest::newRow("preemptionPolicy Never")
            << j(nodes(1, full)) << R"({"spec":{"preemptionPolicy":"Never"}})"
            << "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.";
        QTest::newRow("evicting the lower-priority pods would not be enough")
            << j(nodes(1, {{"bound", json::array({{{"cpu", "1"}, {"priority", 0}}, {{"cpu", "2500m"}, {"priority", 1000}}})}}))
            << R"({"spec":{"priority":100,"containers":[{"name":"a","resources":{"requests":{"cpu":"2"}}}]}})"
            << "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Insufficient cpu.";
        QTest::newRow("evicting would help, but Podscape does not preempt")
            << j(nodes(1, {{"bound", json::array({{{"cpu", "3500m"}, {"priority", 0}}})}})) << R"({"spec":{"priority":100}})"
            << "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Preemption would "
               "help but is not implemented.";
        QTest::newRow("pinned to a full node (DaemonSet)")
            << j(json::array({{{"name", "node-1"}}, patched({{"name", "node-2"}}, full), {{"name", "node-3"}}}))
            << R"({"spec":{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":["node-2"]}]}]}}}}})"
            << "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
               "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not "
               "helpful for scheduling.";
        QTest::newRow("conflicting node names: rejected in PreFilter")
            << j(nodes(3))
            << R"({"spec":{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":["node-1"]},{"key":"metadata.name","operator":"In","values":["node-2"]}]}]}}}}})"
            << "0/3 nodes are available: pod affinity terms conflict. preemption: 0/3 nodes are available: 3 Preemption "
               "is not helpful for scheduling.";
        QTest::newRow("not ready and too many pods")
            << j(json::array({{{"name", "node-1"}, {"patch", {{"status", {{"conditions", json::array({{{"type", "Ready"}, {"status", "Unknown"}}})}}}}}},
                              {{"name", "node-2"}, {"pods", 1}, {"bound", json::array({json::object()})}}}))
            << ""
            << "0/2 nodes are available: 1 Too many pods, 1 node(s) had untolerated taint(s). preemption: 0/2 nodes are "
               "available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.";
        QTest::newRow("no nodes at all") << "[]" << "" << "no nodes available to schedule pods";
    }
    void fitErrorMessage()
    {
        QFETCH(QString, cluster);
        QFETCH(QString, pod);
        QFETCH(QString, message);
        Cluster c(parse(cluster));
        Framework f = Framework::withDefaultPlugins();
        const auto r = f.schedule(*podInfo(schedtest::pod("p", "1", {}, parse(pod))), c.nodes);
        QVERIFY(!r.selected);
        QCOMPARE(QString::fromStdString(r.message), message);
    }

    void withoutPreemptionMessage()
    {
        Cluster c(json::array({patched({{"name", "node-1"}}, cordoned), patched({{"name", "node-2"}}, full),
                               patched({{"name", "node-3"}}, full)}));
        FrameworkOptions options;
        options.preemptionMessage = false;
        Framework f = Framework::withDefaultPlugins(options);
        const auto r = f.schedule(*podInfo(pod("p", "1")), c.nodes);
        QCOMPARE(QString::fromStdString(r.message),
                 QString("0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu."));
        QCOMPARE(r.failureCode, Status::Code::Unschedulable);
        // The plugins that said no decide what may help: a node added, a pod gone...
        QVERIFY(r.retryEvents & NodeAdd);
        QVERIFY(r.retryEvents & AssignedPodDelete);
        QVERIFY(r.retryEvents & NodeTaintChange);
        QVERIFY(!(r.retryEvents & NodeConditionChange));
    }

    void histogram()
    {
        std::vector<Status> statuses{Status(Status::Code::Unschedulable, {"Insufficient cpu", "Insufficient memory"}),
                                     Status::unschedulable("Insufficient cpu"),
                                     Status::unresolvable("node(s) were unschedulable")};
        QCOMPARE(QString::fromStdString(FitError::histogram(statuses)),
                 QString("1 Insufficient memory, 1 node(s) were unschedulable, 2 Insufficient cpu")); // byte order
        FitError fe{3, {}, statuses, {}};
        QCOMPARE(QString::fromStdString(fe.message()),
                 QString("0/3 nodes are available: 1 Insufficient memory, 1 node(s) were unschedulable, 2 Insufficient cpu."));
        FitError pre{3, "pod affinity terms conflict", statuses, "preemption: x."};
        QCOMPARE(QString::fromStdString(pre.message()),
                 QString("0/3 nodes are available: pod affinity terms conflict. preemption: x."));
    }

    void firstRejectionWins()
    {
        // Cordoned, tainted and full: only NodeUnschedulable speaks.
        Cluster c(json::array({patched(patched({{"name", "node-1"}}, cordoned),
                                       patched(full, {{"patch", {{"spec", {{"unschedulable", true}, {"taints", json::array({{{"key", "k"}, {"effect", "NoSchedule"}}})}}}}}}))}));
        Framework f = Framework::withDefaultPlugins();
        const auto r = f.schedule(*podInfo(pod("p", "1")), c.nodes);
        QCOMPARE(r.rejected.size(), size_t(1));
        QCOMPARE(QString::fromStdString(r.rejected[0].second.plugin()), QString("NodeUnschedulable"));
        QCOMPARE(r.rejected[0].second.reasons(), std::vector<std::string>{"node(s) were unschedulable"});
    }

    void picksLeastAllocated()
    {
        Cluster c(json::array({{{"name", "node-1"}, {"bound", json::array({{{"cpu", "2"}}})}},
                               {{"name", "node-2"}, {"bound", json::array({{{"cpu", "1"}}})}},
                               {{"name", "node-3"}, {"bound", json::array({{{"cpu", "3"}}})}}}));
        Framework f = Framework::withDefaultPlugins();
        const auto r = f.schedule(*podInfo(pod("p", "500m", "1Gi")), c.nodes);
        QVERIFY(r.selected);
        QCOMPARE(QString::fromStdString(r.selected->name()), QString("node-2"));
        QCOMPARE(r.feasible.size(), size_t(3));
        QCOMPARE(r.totals.size(), size_t(3));
        // Plugins in profile order: LeastAllocated, NodeAffinity, TaintToleration, SelectorSpread.
        QCOMPARE(r.pluginScores.size(), size_t(4));
        QVERIFY(r.pluginSkipped[1]); // no preferred affinity
        QVERIFY(r.pluginSkipped[3]); // no controller
        QVERIFY(!r.pluginSkipped[2]);
        // node-2: cpu (4000-1500)/4000 -> 62, memory (8Gi-1Gi-200Mi)/8Gi -> 85: 73; taints 100 x 3.
        QCOMPARE(r.pluginScores[0][1], int64_t(73));
        QCOMPARE(r.totals[1], int64_t(73 + 300));
    }

    void oneFeasibleNodeIsNotScored()
    {
        Cluster c(json::array({patched({{"name", "node-1"}}, full), {{"name", "node-2"}}}));
        Framework f = Framework::withDefaultPlugins();
        const auto r = f.schedule(*podInfo(pod("p", "1")), c.nodes);
        QCOMPARE(QString::fromStdString(r.selected->name()), QString("node-2"));
        QVERIFY(r.totals.empty());
        QCOMPARE(r.evaluatedNodes, 2);
    }

    void tieBreak()
    {
        Cluster c(nodes(4));
        {
            Framework f = Framework::withDefaultPlugins();
            for (int i = 0; i < 3; ++i)
                QCOMPARE(QString::fromStdString(f.schedule(*podInfo(pod("p")), c.nodes).selected->name()), QString("node-1"));
        }
        auto picks = [&](uint64_t seed) {
            FrameworkOptions o;
            o.tieBreakSeed = seed;
            Framework f = Framework::withDefaultPlugins(o);
            QStringList out;
            for (int i = 0; i < 24; ++i)
                out << QString::fromStdString(f.schedule(*podInfo(pod("p")), c.nodes).selected->name());
            return out;
        };
        const QStringList a = picks(7);
        QCOMPARE(picks(7), a); // reproducible
        QCOMPARE(QSet<QString>(a.begin(), a.end()).size(), 4); // and spread over all equals
    }

    void numFeasibleNodesToFind_data()
    {
        QTest::addColumn<int>("percentage");
        QTest::addColumn<int>("nodes");
        QTest::addColumn<int>("expected");
        QTest::newRow("small clusters whole") << 0 << 50 << 50;
        QTest::newRow("100 nodes whole") << 0 << 100 << 100;
        QTest::newRow("adaptive at 1000: 42%") << 0 << 1000 << 420;
        QTest::newRow("adaptive at 5000: 10%") << 0 << 5000 << 500;
        QTest::newRow("adaptive floor 5%") << 0 << 10000 << 500;
        QTest::newRow("never fewer than 100") << 10 << 200 << 100;
        QTest::newRow("configured 30%") << 30 << 1000 << 300;
        QTest::newRow("configured 100%") << 100 << 1000 << 1000;
    }
    void numFeasibleNodesToFind()
    {
        QFETCH(int, percentage);
        QFETCH(int, nodes);
        QFETCH(int, expected);
        FrameworkOptions o;
        o.percentageOfNodesToScore = percentage;
        QCOMPARE(Framework(o).numFeasibleNodesToFind(nodes), expected);
    }

    void bigClustersAreSearchedInTurn()
    {
        // 200 equal nodes: 100 are looked at per pod, starting where the last pod stopped.
        Cluster c(nodes(200));
        Framework f = Framework::withDefaultPlugins();
        auto r1 = f.schedule(*podInfo(pod("a")), c.nodes);
        QCOMPARE(r1.evaluatedNodes, 100);
        QCOMPARE(r1.feasible.front()->name(), std::string("node-1"));
        auto r2 = f.schedule(*podInfo(pod("b")), c.nodes);
        QCOMPARE(r2.feasible.front()->name(), c.nodes[100]->name());
        QCOMPARE(r2.evaluatedNodes, 100);
    }
};

QTEST_GUILESS_MAIN(TestSchedulerFramework)
#include "tst_schedulerframework.moc"
