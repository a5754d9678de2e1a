// Every filter and score plugin on its own, table-driven, plus the pieces they rest on: a
// pod's effective requests and node selector terms.

#include "schedulertestutil.h"

#include "core/scheduler/plugins/leastallocated.h"
#include "core/scheduler/plugins/nodeaffinity.h"
#include "core/scheduler/plugins/nodename.h"
#include "core/scheduler/plugins/nodeready.h"
#include "core/scheduler/plugins/noderesourcesfit.h"
#include "core/scheduler/plugins/nodeunschedulable.h"
#include "core/scheduler/plugins/selectorspread.h"
#include "core/scheduler/plugins/tainttoleration.h"

#include <QtTest>

using namespace schedtest;
using namespace podscape::core::scheduler::plugins;

namespace {

std::shared_ptr<Plugin> pluginNamed(const QString &name)
{
    if (name == "NodeName")
        return std::make_shared<NodeName>();
    if (name == "NodeUnschedulable")
        return std::make_shared<NodeUnschedulable>();
    if (name == "TaintToleration")
        return std::make_shared<TaintToleration>();
    if (name == "NodeReady")
        return std::make_shared<NodeReady>();
    if (name == "NodeAffinity")
        return std::make_shared<NodeAffinity>();
    if (name == "NodeResourcesFit")
        return std::make_shared<NodeResourcesFit>();
    if (name == "LeastAllocated")
        return std::make_shared<LeastAllocated>();
    if (name == "SelectorSpread")
        return std::make_shared<SelectorSpread>();
    return nullptr;
}

QString codeName(Status::Code c)
{
    switch (c) {
    case Status::Code::Success: return "";
    case Status::Code::Unschedulable: return "Unschedulable";
    case Status::Code::UnschedulableAndUnresolvable: return "UnschedulableAndUnresolvable";
    case Status::Code::Error: return "Error";
    }
    return "?";
}

QString joined(const std::vector<std::string> &v)
{
    QStringList out;
    for (const auto &s : v)
        out << QString::fromStdString(s);
    return out.join("; ");
}

// A pod spec with one container requesting `resources` (a ResourceList).
json containerRequests(const json &resources)
{
    return {{"spec", {{"containers", json::array({{{"name", "app"}, {"image", "x"}, {"resources", {{"requests", resources}}}}})}}}};
}

const char *tolerate(const char *key, const char *op, const char *effect, const char *value = nullptr)
{
    static std::string text;
    json t = {{"operator", op}};
    if (key)
        t["key"] = key;
    if (effect)
        t["effect"] = effect;
    if (value)
        t["value"] = value;
    text = json{{"spec", {{"tolerations", json::array({t})}}}}.dump();
    return text.c_str();
}

const char *taints(const json &list)
{
    static std::string text;
    text = json{{"spec", {{"taints", list}}}}.dump();
    return text.c_str();
}

const char *requiredTerms(const json &terms)
{
    static std::string text;
    text = json{{"spec",
                 {{"affinity",
                   {{"nodeAffinity", {{"requiredDuringSchedulingIgnoredDuringExecution", {{"nodeSelectorTerms", terms}}}}}}}}}}
               .dump();
    return text.c_str();
}

json expr(const char *key, const char *op, json values = json::array())
{
    json e = {{"key", key}, {"operator", op}};
    if (!values.empty())
        e["values"] = values;
    return e;
}

} // namespace

class TestSchedulerPlugins : public QObject
{
    Q_OBJECT
private slots:
    void podRequests_data()
    {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<qlonglong>("milliCpu");
        QTest::addColumn<qlonglong>("memoryMi");
        QTest::addColumn<qlonglong>("nonZeroMilliCpu");
        QTest::addColumn<qlonglong>("nonZeroMemoryMi");

        auto c = [](const char *name, json requests, json extra = json::object()) {
            json container = {{"name", name}, {"image", "x"}};
            if (!requests.is_null())
                container["resources"] = {{"requests", requests}};
            container.update(extra);
            return container;
        };
        auto spec = [](json containers, json init = json(), json more = json::object()) {
            json s = {{"containers", containers}};
            if (!init.is_null())
                s["initContainers"] = init;
            s.update(more);
            return QString::fromStdString(json{{"spec", s}}.dump());
        };
        QTest::newRow("containers are summed")
            << spec(json::array({c("a", {{"cpu", "100m"}, {"memory", "64Mi"}}), c("b", {{"cpu", "200m"}, {"memory", "128Mi"}})}))
            << 300LL << 192LL << 300LL << 192LL;
        QTest::newRow("the largest init container wins")
            << spec(json::array({c("a", {{"cpu", "100m"}})}), json::array({c("i1", {{"cpu", "500m"}}), c("i2", {{"cpu", "300m"}})}))
            << 500LL << 0LL << 500LL << 200LL;
        QTest::newRow("a sidecar adds to the pod")
            << spec(json::array({c("a", {{"cpu", "300m"}})}),
                    json::array({c("side", {{"cpu", "100m"}}, {{"restartPolicy", "Always"}}), c("init", {{"cpu", "200m"}})}))
            << 400LL << 0LL << 400LL << 400LL;
        QTest::newRow("an init step before the sidecar can dominate")
            << spec(json::array({c("a", {{"cpu", "300m"}})}),
                    json::array({c("init", {{"cpu", "1"}}), c("side", {{"cpu", "100m"}}, {{"restartPolicy", "Always"}})}))
            << 1000LL << 0LL << 1000LL << 400LL;
        QTest::newRow("an init step after the sidecar runs beside it")
            << spec(json::array({c("a", {{"cpu", "100m"}})}),
                    json::array({c("side", {{"cpu", "200m"}}, {{"restartPolicy", "Always"}}), c("init", {{"cpu", "900m"}})}))
            << 1100LL << 0LL << 1100LL << 400LL;
        QTest::newRow("limits stand for missing requests")
            << QString::fromStdString(json{{"spec", {{"containers", json::array({{{"name", "a"}, {"resources", {{"limits", {{"cpu", "1"}, {"memory", "1Gi"}}}}}}})}}}}.dump())
            << 1000LL << 1024LL << 1000LL << 1024LL;
        QTest::newRow("overhead is added")
            << spec(json::array({c("a", {{"cpu", "100m"}, {"memory", "100Mi"}})}), json(), {{"overhead", {{"cpu", "50m"}, {"memory", "10Mi"}}}})
            << 150LL << 110LL << 150LL << 110LL;
        QTest::newRow("no requests: zero, scored as 100m/200Mi")
            << spec(json::array({c("a", json())})) << 0LL << 0LL << 100LL << 200LL;
        QTest::newRow("stand-ins per container")
            << spec(json::array({c("a", {{"cpu", "300m"}}), c("b", json())})) << 300LL << 0LL << 400LL << 400LL;
        QTest::newRow("fractional cpu rounds up to the milli") << spec(json::array({c("a", {{"cpu", "0.0001"}}) })) << 1LL << 0LL << 1LL << 200LL;
    }
    void podRequests()
    {
        QFETCH(QString, spec);
        QFETCH(qlonglong, milliCpu);
        QFETCH(qlonglong, memoryMi);
        QFETCH(qlonglong, nonZeroMilliCpu);
        QFETCH(qlonglong, nonZeroMemoryMi);
        const auto r = PodRequests::compute(parse(spec));
        QCOMPARE(r.requests.milliCpu, milliCpu);
        QCOMPARE(r.requests.memory, memoryMi * 1024 * 1024);
        QCOMPARE(r.nonZeroMilliCpu, nonZeroMilliCpu);
        QCOMPARE(r.nonZeroMemory, nonZeroMemoryMi * 1024 * 1024);
    }

    void extendedResources()
    {
        const auto r = PodRequests::compute(containerRequests({{"example.com/gpu", "2"}, {"hugepages-2Mi", "4Mi"}, {"storage", "1Gi"}}));
        QCOMPARE(r.requests.scalar("example.com/gpu"), int64_t(2));
        QCOMPARE(r.requests.scalar("hugepages-2Mi"), int64_t(4 * 1024 * 1024));
        QCOMPARE(r.requests.scalars.size(), size_t(2)); // "storage" is not a schedulable resource
        const auto alloc = Resources::fromResourceList({{"cpu", "3500m"}, {"pods", "110"}, {"example.com/gpu", "1"}, {"memory", "bad"}});
        QCOMPARE(alloc.milliCpu, int64_t(3500));
        QCOMPARE(alloc.pods, int64_t(110));
        QCOMPARE(alloc.memory, int64_t(0)); // unparsable counts as nothing
    }

    void filter_data()
    {
        QTest::addColumn<QString>("plugin");
        QTest::addColumn<QString>("podCpu");
        QTest::addColumn<QString>("podPatch");
        QTest::addColumn<QString>("nodeCpu");
        QTest::addColumn<int>("nodePods");
        QTest::addColumn<QString>("nodePatch");
        QTest::addColumn<QStringList>("boundCpu"); // pods already on the node
        QTest::addColumn<QString>("reasons");
        QTest::addColumn<QString>("code");

        const QString none;
        const QStringList empty;
        const QString unres = "UnschedulableAndUnresolvable";
        const QString taint = "node(s) had untolerated taint(s)";
        const QString affinity = "node(s) didn't match Pod's node affinity/selector";
        auto row = [&](const char *name, const char *plugin, QString podPatch, QString nodePatch, QString reasons,
                       QString code, QString podCpu = {}, QString nodeCpu = "4", int nodePods = 110,
                       QStringList bound = {}) {
            QTest::newRow(name) << QString(plugin) << podCpu << podPatch << nodeCpu << nodePods << nodePatch << bound
                                << reasons << code;
        };

        // NodeName
        row("nodeName: none asked", "NodeName", none, none, "", "");
        row("nodeName: this node", "NodeName", R"({"spec":{"nodeName":"node-1"}})", none, "", "");
        row("nodeName: another node", "NodeName", R"({"spec":{"nodeName":"node-9"}})", none,
            "node(s) didn't match the requested node name", unres);

        // NodeUnschedulable
        const QString cordoned = R"({"spec":{"unschedulable":true}})";
        row("cordon: schedulable node", "NodeUnschedulable", none, none, "", "");
        row("cordon: cordoned", "NodeUnschedulable", none, cordoned, "node(s) were unschedulable", unres);
        row("cordon: tolerated", "NodeUnschedulable", tolerate("node.kubernetes.io/unschedulable", "Exists", "NoSchedule"),
            cordoned, "", "");
        row("cordon: toleration for another effect", "NodeUnschedulable",
            tolerate("node.kubernetes.io/unschedulable", "Exists", "NoExecute"), cordoned, "node(s) were unschedulable", unres);
        row("cordon: tolerate everything", "NodeUnschedulable", tolerate(nullptr, "Exists", nullptr), cordoned, "", "");

        // TaintToleration
        const json dedicated = {{"key", "dedicated"}, {"value", "gpu"}, {"effect", "NoSchedule"}};
        row("taints: none", "TaintToleration", none, none, "", "");
        row("taints: NoSchedule", "TaintToleration", none, taints(json::array({dedicated})), taint, unres);
        row("taints: NoExecute", "TaintToleration", none,
            taints(json::array({{{"key", "k"}, {"effect", "NoExecute"}}})), taint, unres);
        row("taints: PreferNoSchedule only scores", "TaintToleration", none,
            taints(json::array({{{"key", "k"}, {"effect", "PreferNoSchedule"}}})), "", "");
        row("taints: Equal with the value", "TaintToleration", tolerate("dedicated", "Equal", "NoSchedule", "gpu"),
            taints(json::array({dedicated})), "", "");
        row("taints: Equal with another value", "TaintToleration", tolerate("dedicated", "Equal", "NoSchedule", "cpu"),
            taints(json::array({dedicated})), taint, unres);
        row("taints: empty operator is Equal", "TaintToleration", tolerate("dedicated", "", nullptr, "gpu"),
            taints(json::array({dedicated})), "", "");
        row("taints: Exists on the key, any effect", "TaintToleration", tolerate("dedicated", "Exists", nullptr),
            taints(json::array({dedicated})), "", "");
        row("taints: Exists for another effect", "TaintToleration", tolerate("dedicated", "Exists", "NoExecute"),
            taints(json::array({dedicated})), taint, unres);
        row("taints: one of two tolerated", "TaintToleration", tolerate("dedicated", "Exists", nullptr),
            taints(json::array({dedicated, {{"key", "other"}, {"effect", "NoSchedule"}}})), taint, unres);
        row("taints: tolerate everything", "TaintToleration", tolerate(nullptr, "Exists", nullptr),
            taints(json::array({dedicated, {{"key", "other"}, {"effect", "NoExecute"}}})), "", "");

        // NodeReady
        auto ready = [](const char *status) {
            static std::string text[3];
            static int i = 0;
            std::string &t = text[i++ % 3];
            t = json{{"status", {{"conditions", json::array({{{"type", "Ready"}, {"status", status}}})}}}}.dump();
            return QString::fromStdString(t);
        };
        row("ready: Ready", "NodeReady", none, ready("True"), "", "");
        row("ready: no conditions reported", "NodeReady", none, R"({"status":{"conditions":[]}})", "", "");
        row("ready: NotReady", "NodeReady", none, ready("False"), taint, unres);
        row("ready: Unknown (unreachable)", "NodeReady", none, ready("Unknown"), taint, unres);
        row("ready: NotReady tolerated", "NodeReady", tolerate("node.kubernetes.io/not-ready", "Exists", "NoSchedule"),
            ready("False"), "", "");
        row("ready: the default NoExecute toleration is not enough", "NodeReady",
            tolerate("node.kubernetes.io/not-ready", "Exists", "NoExecute"), ready("False"), taint, unres);
        row("ready: unreachable tolerated for every effect", "NodeReady",
            tolerate("node.kubernetes.io/unreachable", "Exists", nullptr), ready("Unknown"), "", "");
        row("ready: not-ready toleration does not cover unreachable", "NodeReady",
            tolerate("node.kubernetes.io/not-ready", "Exists", nullptr), ready("Unknown"), taint, unres);

        // NodeAffinity
        const QString ssd = R"({"metadata":{"labels":{"disktype":"ssd","rank":"5"}}})";
        row("affinity: no constraints", "NodeAffinity", none, none, "", "");
        row("affinity: nodeSelector matches", "NodeAffinity", R"({"spec":{"nodeSelector":{"disktype":"ssd"}}})", ssd, "", "");
        row("affinity: nodeSelector other value", "NodeAffinity", R"({"spec":{"nodeSelector":{"disktype":"hdd"}}})", ssd,
            affinity, unres);
        row("affinity: nodeSelector label missing", "NodeAffinity", R"({"spec":{"nodeSelector":{"gpu":"true"}}})", ssd,
            affinity, unres);
        row("affinity: In", "NodeAffinity", requiredTerms(json::array({{{"matchExpressions", json::array({expr("disktype", "In", {"hdd", "ssd"})})}}})), ssd, "", "");
        row("affinity: In, no match", "NodeAffinity", requiredTerms(json::array({{{"matchExpressions", json::array({expr("disktype", "In", {"hdd"})})}}})), ssd, affinity, unres);
        row("affinity: NotIn on a missing label", "NodeAffinity", requiredTerms(json::array({{{"matchExpressions", json::array({expr("zone", "NotIn", {"a"})})}}})), ssd, "", "");
        row("affinity: NotIn", "NodeAffinity", requiredTerms(json::array({{{"matchExpressions", json::array({expr("disktype", "NotIn", {"ssd"})})}}})), ssd, affinity, unres);
        row("affinity: Exists", "NodeAffinity", requiredTerms(json::array({{{"matchExpressions", json::array({expr("disktype", "Exists")})}}})), ssd, "", "");
        row("affinity: DoesNotExist", "NodeAffinity", requiredTerms(json::array({{{"matchExpressions", json::array({expr("disktype", "DoesNotExist")})}}})), ssd, affinity, unres);
        row("affinity: Gt", "NodeAffinity", requiredTerms(json::array({{{"matchExpressions", json::array({expr("rank", "Gt", {"3"})})}}})), ssd, "", "");
        row("affinity: Gt, not greater", "NodeAffinity", requiredTerms(json::array({{{"matchExpressions", json::array({expr("rank", "Gt", {"5"})})}}})), ssd, affinity, unres);
        row("affinity: Gt on a non-integer label", "NodeAffinity", requiredTerms(json::array({{{"matchExpressions", json::array({expr("disktype", "Gt", {"1"})})}}})), ssd, affinity, unres);
        row("affinity: Lt", "NodeAffinity", requiredTerms(json::array({{{"matchExpressions", json::array({expr("rank", "Lt", {"10"})})}}})), ssd, "", "");
        row("affinity: expressions are ANDed", "NodeAffinity", requiredTerms(json::array({{{"matchExpressions", json::array({expr("disktype", "In", {"ssd"}), expr("rank", "Lt", {"2"})})}}})), ssd, affinity, unres);
        row("affinity: terms are ORed", "NodeAffinity", requiredTerms(json::array({{{"matchExpressions", json::array({expr("disktype", "In", {"hdd"})})}}, {{"matchExpressions", json::array({expr("rank", "Exists")})}}})), ssd, "", "");
        row("affinity: an empty term matches nothing", "NodeAffinity", requiredTerms(json::array({json::object()})), ssd, affinity, unres);
        row("affinity: an invalid term is skipped", "NodeAffinity", requiredTerms(json::array({{{"matchExpressions", json::array({expr("disktype", "Like", {"ssd"})})}}, {{"matchExpressions", json::array({expr("disktype", "Exists")})}}})), ssd, "", "");
        row("affinity: In without values is invalid", "NodeAffinity", requiredTerms(json::array({{{"matchExpressions", json::array({expr("disktype", "In")})}}})), ssd, affinity, unres);
        row("affinity: matchFields names this node", "NodeAffinity", requiredTerms(json::array({{{"matchFields", json::array({expr("metadata.name", "In", {"node-1"})})}}})), none, "", "");
        row("affinity: matchFields names another node", "NodeAffinity", requiredTerms(json::array({{{"matchFields", json::array({expr("metadata.name", "In", {"node-2"})})}}})), none, affinity, unres);
        row("affinity: matchFields NotIn", "NodeAffinity", requiredTerms(json::array({{{"matchFields", json::array({expr("metadata.name", "NotIn", {"node-1"})})}}})), none, affinity, unres);
        row("affinity: selector and affinity must both match", "NodeAffinity",
            QString::fromStdString(patched(parse(requiredTerms(json::array({{{"matchExpressions", json::array({expr("disktype", "Exists")})}}}))),
                                           {{"spec", {{"nodeSelector", {{"gpu", "yes"}}}}}}).dump()),
            ssd, affinity, unres);

        // NodeResourcesFit (node: 4 cpu, 8Gi, 110 pods unless stated)
        row("fit: fits", "NodeResourcesFit", none, none, "", "", "1");
        row("fit: fits exactly", "NodeResourcesFit", none, none, "", "", "1", "4", 110, {"3"});
        row("fit: insufficient cpu", "NodeResourcesFit", none, none, "Insufficient cpu", "Unschedulable", "1500m", "4", 110, {"3"});
        row("fit: insufficient cpu and memory", "NodeResourcesFit",
            QString::fromStdString(containerRequests({{"cpu", "2"}, {"memory", "9Gi"}}).dump()), none,
            "Insufficient cpu; Insufficient memory", unres, {}, "4", 110, {"3"});
        row("fit: larger than the node", "NodeResourcesFit", none, none, "Insufficient cpu", unres, "5");
        row("fit: too many pods", "NodeResourcesFit", none, none, "Too many pods", "Unschedulable", "100m", "4", 2, {"100m", "100m"});
        row("fit: too many pods and cpu", "NodeResourcesFit", none, none, "Too many pods; Insufficient cpu", "Unschedulable", "2", "4", 1, {"3"});
        row("fit: a pod requesting nothing fits a full node", "NodeResourcesFit", none, none, "", "", "", "4", 110, {"4"});
        row("fit: a pod requesting nothing still needs a slot", "NodeResourcesFit", none, none, "Too many pods", "Unschedulable", "", "4", 1, {"1"});
        row("fit: extended resource the node lacks", "NodeResourcesFit",
            QString::fromStdString(containerRequests({{"example.com/gpu", "1"}}).dump()), none,
            "Insufficient example.com/gpu", unres);
        row("fit: extended resource the node has", "NodeResourcesFit",
            QString::fromStdString(containerRequests({{"example.com/gpu", "1"}}).dump()),
            R"({"status":{"allocatable":{"example.com/gpu":"2"}}})", "", "");
        row("fit: node without allocatable uses capacity", "NodeResourcesFit", none, R"({"status":{"allocatable":null}})", "", "", "1");
    }
    void filter()
    {
        QFETCH(QString, plugin);
        QFETCH(QString, podCpu);
        QFETCH(QString, podPatch);
        QFETCH(QString, nodeCpu);
        QFETCH(int, nodePods);
        QFETCH(QString, nodePatch);
        QFETCH(QStringList, boundCpu);
        QFETCH(QString, reasons);
        QFETCH(QString, code);

        auto p = pluginNamed(plugin);
        QVERIFY(p);
        auto info = nodeInfo(node("node-1", nodeCpu.toStdString(), "8Gi", nodePods, parse(nodePatch)));
        int i = 0;
        for (const auto &cpu : boundCpu)
            addBoundPod(*info, pod("bound-" + std::to_string(i++), cpu.toStdString()));
        const auto candidate = podInfo(pod("p", podCpu.toStdString(), {}, parse(podPatch)));
        const Status s = p->filter(*candidate, *info);
        QCOMPARE(joined(s.reasons()), reasons);
        QCOMPARE(codeName(s.code()), code);
    }

    void nodeAffinityPreFilter_data()
    {
        QTest::addColumn<QString>("podPatch");
        QTest::addColumn<QString>("nodes"); // comma-separated, "*" for every node
        QTest::addColumn<QString>("rejection");

        QTest::newRow("no affinity") << "" << "*" << "";
        QTest::newRow("labels only") << requiredTerms(json::array({{{"matchExpressions", json::array({expr("a", "Exists")})}}})) << "*" << "";
        QTest::newRow("pinned to one node (DaemonSet)")
            << requiredTerms(json::array({{{"matchFields", json::array({expr("metadata.name", "In", {"node-2"})})}}})) << "node-2" << "";
        QTest::newRow("two terms pin two nodes")
            << requiredTerms(json::array({{{"matchFields", json::array({expr("metadata.name", "In", {"node-2"})})}},
                                          {{"matchFields", json::array({expr("metadata.name", "In", {"node-3"})})}}}))
            << "node-2,node-3" << "";
        QTest::newRow("one unpinned term frees every node")
            << requiredTerms(json::array({{{"matchFields", json::array({expr("metadata.name", "In", {"node-2"})})}},
                                          {{"matchExpressions", json::array({expr("a", "Exists")})}}}))
            << "*" << "";
        QTest::newRow("conflicting names")
            << requiredTerms(json::array({{{"matchFields", json::array({expr("metadata.name", "In", {"node-2"}), expr("metadata.name", "In", {"node-3"})})}}}))
            << "" << "pod affinity terms conflict";
    }
    void nodeAffinityPreFilter()
    {
        QFETCH(QString, podPatch);
        QFETCH(QString, nodes);
        QFETCH(QString, rejection);
        NodeAffinity plugin;
        const auto r = plugin.preFilter(*podInfo(pod("p", {}, {}, parse(podPatch))));
        QCOMPARE(joined(r.status.reasons()), rejection);
        if (!rejection.isEmpty())
            return;
        QString got = "*";
        if (r.nodeNames) {
            QStringList names;
            for (const auto &n : *r.nodeNames)
                names << QString::fromStdString(n);
            got = names.join(",");
        }
        QCOMPARE(got, nodes);
    }

    // Raw scores, then NormalizeScore, over a set of nodes.
    void score_data()
    {
        QTest::addColumn<QString>("plugin");
        QTest::addColumn<QString>("pod");   // full patch over pod("p")
        QTest::addColumn<QString>("nodes"); // [{"name", "cpu", "memory", "patch", "bound": [pod patches with cpu]}]
        QTest::addColumn<QString>("expected"); // "node-1=75 node-2=25"

        QTest::newRow("least allocated: empty nodes score alike")
            << "LeastAllocated" << QString::fromStdString(containerRequests({{"cpu", "1"}, {"memory", "2Gi"}}).dump())
            << R"([{"name":"node-1"},{"name":"node-2"}])" << "node-1=75 node-2=75";
        QTest::newRow("least allocated: the busier node scores less")
            << "LeastAllocated" << QString::fromStdString(containerRequests({{"cpu", "1"}, {"memory", "2Gi"}}).dump())
            << R"([{"name":"node-1"},{"name":"node-2","bound":[{"cpu":"2","memory":"4Gi"}]}])" << "node-1=75 node-2=25";
        QTest::newRow("least allocated: cpu and memory weigh the same")
            << "LeastAllocated" << QString::fromStdString(containerRequests({{"cpu", "2"}, {"memory", "2Gi"}}).dump())
            << R"([{"name":"node-1"}])" << "node-1=62";
        QTest::newRow("least allocated: requests nothing, scored as 100m/200Mi")
            << "LeastAllocated" << "" << R"([{"name":"node-1","cpu":"1","memory":"1000Mi"}])" << "node-1=85";
        QTest::newRow("least allocated: over capacity scores 0 for that resource")
            << "LeastAllocated" << QString::fromStdString(containerRequests({{"cpu", "8"}, {"memory", "4Gi"}}).dump())
            << R"([{"name":"node-1"}])" << "node-1=25";

        QTest::newRow("taints: fewer untolerated PreferNoSchedule taints win")
            << "TaintToleration" << ""
            << R"([{"name":"node-1"},
                  {"name":"node-2","patch":{"spec":{"taints":[{"key":"a","effect":"PreferNoSchedule"}]}}},
                  {"name":"node-3","patch":{"spec":{"taints":[{"key":"a","effect":"PreferNoSchedule"},{"key":"b","effect":"PreferNoSchedule"},{"key":"c","effect":"NoSchedule"}]}}}])"
            << "node-1=100 node-2=50 node-3=0";
        QTest::newRow("taints: a tolerated PreferNoSchedule taint costs nothing")
            << "TaintToleration" << tolerate("a", "Exists", "PreferNoSchedule")
            << R"([{"name":"node-1"},{"name":"node-2","patch":{"spec":{"taints":[{"key":"a","effect":"PreferNoSchedule"}]}}}])"
            << "node-1=100 node-2=100";
        QTest::newRow("taints: a NoSchedule toleration does not cover PreferNoSchedule")
            << "TaintToleration" << tolerate("a", "Exists", "NoSchedule")
            << R"([{"name":"node-1"},{"name":"node-2","patch":{"spec":{"taints":[{"key":"a","effect":"PreferNoSchedule"}]}}}])"
            << "node-1=100 node-2=0";

        QTest::newRow("affinity: preferred weights, normalized")
            << "NodeAffinity"
            << R"({"spec":{"affinity":{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[
                    {"weight":1,"preference":{"matchExpressions":[{"key":"zone","operator":"In","values":["a"]}]}},
                    {"weight":3,"preference":{"matchExpressions":[{"key":"disk","operator":"In","values":["ssd"]}]}}]}}}})"
            << R"([{"name":"node-1","patch":{"metadata":{"labels":{"zone":"a"}}}},
                  {"name":"node-2","patch":{"metadata":{"labels":{"disk":"ssd"}}}},
                  {"name":"node-3","patch":{"metadata":{"labels":{"zone":"a","disk":"ssd"}}}},
                  {"name":"node-4"}])"
            << "node-1=25 node-2=75 node-3=100 node-4=0";

        const std::string owned = ownedBy("rs-1").dump();
        QTest::newRow("spread: fewer siblings win")
            << "SelectorSpread" << QString::fromStdString(owned)
            << R"([{"name":"node-1"},{"name":"node-2","bound":[{"owner":"rs-1"}]},{"name":"node-3","bound":[{"owner":"rs-1"},{"owner":"rs-1"},{"owner":"rs-2"}]}])"
            << "node-1=100 node-2=50 node-3=0";
        QTest::newRow("spread: no siblings anywhere")
            << "SelectorSpread" << QString::fromStdString(owned) << R"([{"name":"node-1"},{"name":"node-2","bound":[{"owner":"rs-2"}]}])"
            << "node-1=100 node-2=100";
        QTest::newRow("spread: a sibling being deleted does not count")
            << "SelectorSpread" << QString::fromStdString(owned)
            << R"([{"name":"node-1","bound":[{"owner":"rs-1","deleting":true}]},{"name":"node-2"}])" << "node-1=100 node-2=100";
        QTest::newRow("spread: zones weigh two thirds")
            << "SelectorSpread" << QString::fromStdString(owned)
            << R"([{"name":"node-1","patch":{"metadata":{"labels":{"topology.kubernetes.io/zone":"a"}}},"bound":[{"owner":"rs-1"}]},
                  {"name":"node-2","patch":{"metadata":{"labels":{"topology.kubernetes.io/zone":"a"}}}},
                  {"name":"node-3","patch":{"metadata":{"labels":{"topology.kubernetes.io/zone":"b"}}}}])"
            << "node-1=0 node-2=33 node-3=100";
    }
    void score()
    {
        QFETCH(QString, plugin);
        QFETCH(QString, pod);
        QFETCH(QString, nodes);
        QFETCH(QString, expected);
        auto p = pluginNamed(plugin);
        QVERIFY(p);
        const auto candidate = podInfo(schedtest::pod("p", {}, {}, parse(pod)));
        std::vector<std::unique_ptr<NodeInfo>> infos;
        int n = 0;
        for (const auto &spec : parse(nodes)) {
            auto info = nodeInfo(node(spec["name"].get<std::string>(), spec.value("cpu", "4"), spec.value("memory", "8Gi"), 110,
                                      spec.value("patch", json())));
            for (const auto &b : spec.value("bound", json::array())) {
                json bp = schedtest::pod("b" + std::to_string(n++), b.value("cpu", ""), b.value("memory", ""));
                if (b.contains("owner"))
                    bp = patched(bp, ownedBy(b["owner"].get<std::string>()));
                if (b.value("deleting", false))
                    bp["metadata"]["deletionTimestamp"] = "2023-11-14T22:13:20Z";
                addBoundPod(*info, bp);
            }
            infos.push_back(std::move(info));
        }
        std::vector<const NodeInfo *> ptrs;
        std::vector<int64_t> scores;
        for (const auto &i : infos) {
            ptrs.push_back(i.get());
            scores.push_back(p->score(*candidate, *i));
        }
        p->normalizeScores(*candidate, ptrs, scores);
        QStringList got;
        for (size_t i = 0; i < ptrs.size(); ++i)
            got << QString::fromStdString(ptrs[i]->name()) + "=" + QString::number(scores[i]);
        QCOMPARE(got.join(" "), expected);
    }

    void preScoreSkips()
    {
        QVERIFY(!SelectorSpread().preScore(*podInfo(pod("p"))));
        QVERIFY(SelectorSpread().preScore(*podInfo(pod("p", {}, {}, ownedBy("rs")))));
        QVERIFY(!NodeAffinity().preScore(*podInfo(pod("p"))));
    }

    void defaultNormalize_data()
    {
        QTest::addColumn<QString>("raw");
        QTest::addColumn<bool>("reverse");
        QTest::addColumn<QString>("expected");
        QTest::newRow("scaled to 100") << "1 2 4" << false << "25 50 100";
        QTest::newRow("reversed") << "1 2 4" << true << "75 50 0";
        QTest::newRow("all zero") << "0 0" << false << "0 0";
        QTest::newRow("all zero reversed") << "0 0" << true << "100 100";
    }
    void defaultNormalize()
    {
        QFETCH(QString, raw);
        QFETCH(bool, reverse);
        QFETCH(QString, expected);
        std::vector<int64_t> scores;
        for (const auto &s : raw.split(' '))
            scores.push_back(s.toLongLong());
        defaultNormalizeScore(scores, reverse);
        QStringList got;
        for (auto s : scores)
            got << QString::number(s);
        QCOMPARE(got.join(' '), expected);
    }

    void nodeInfoBookkeeping()
    {
        auto info = nodeInfo(node("node-1", "4", "8Gi", 110));
        QCOMPARE(info->allocatable().milliCpu, int64_t(4000));
        QCOMPARE(info->allocatable().pods, int64_t(110));
        json a = patched(pod("a", "1", "1Gi"), ownedBy("rs-1"));
        addBoundPod(*info, a);
        addBoundPod(*info, pod("b", "500m"));
        QCOMPARE(info->podCount(), 2);
        QCOMPARE(info->requested().milliCpu, int64_t(1500));
        QCOMPARE(info->requested().memory, int64_t(1) << 30);
        QCOMPARE(info->nonZeroRequestedMemory(), (int64_t(1) << 30) + DefaultMemoryRequest);
        QCOMPARE(info->ownerCount("rs-1"), 1);
        // Replacing a pod re-counts it instead of adding it twice.
        a["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "2";
        addBoundPod(*info, a);
        QCOMPARE(info->podCount(), 2);
        QCOMPARE(info->requested().milliCpu, int64_t(2500));
        QCOMPARE(info->ownerCount("rs-1"), 1);
        QVERIFY(info->removePod("default/a"));
        QVERIFY(!info->removePod("default/a"));
        QCOMPARE(info->requested().milliCpu, int64_t(500));
        QCOMPARE(info->ownerCount("rs-1"), 0);
        const auto before = info->generation();
        info->setNode(std::make_shared<const json>(node("node-1", "8")));
        QVERIFY(info->generation() > before);
        QCOMPARE(info->allocatable().milliCpu, int64_t(8000));
        QCOMPARE(info->requested().milliCpu, int64_t(500)); // pods survive a node update
    }
};

QTEST_GUILESS_MAIN(TestSchedulerPlugins)
#include "tst_schedulerplugins.moc"
