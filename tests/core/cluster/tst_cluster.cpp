// The embedded cluster end to end, in-process: the story of the seed notes (a pod, a
// ReplicationController that heals, a Deployment rolled forward and back, a Service whose
// Endpoints follow readiness, a node that fails) and a restart from the persisted state.
// Real threads and the system clock with short node timings; every wait is for a condition.

#include "core/cluster/cluster.h"
#include "core/kubelet/kubelet.h"
#include "core/model/labelselector.h"

#include <QTemporaryDir>
#include <QtTest>

#include <set>

using namespace podscape::core;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr int kWait = 30000; // ms; generous for loaded CI machines

cluster::ClusterConfig fastConfig(int nodes = 3)
{
    cluster::ClusterConfig c;
    c.nodes = nodes;
    c.timing = "instant";
    c.nodeHeartbeatInterval = 200ms;
    c.nodeMonitorPeriod = 200ms;
    c.nodeMonitorGracePeriod = 2s;
    c.podEvictionSeconds = 1;
    return c;
}

std::string str(const json &o, const char *key)
{
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool podReady(const json &pod)
{
    if (pod["metadata"].contains("deletionTimestamp") || str(pod.value("status", json::object()), "phase") != "Running")
        return false;
    for (const auto &c : pod["status"].value("conditions", json::array()))
        if (c["type"] == "Ready")
            return c["status"] == "True";
    return false;
}

struct Harness {
    std::unique_ptr<cluster::Cluster> cluster;

    explicit Harness(cluster::ClusterConfig config)
    {
        auto started = cluster::Cluster::start(std::move(config));
        if (!started)
            qFatal("cluster did not start: %s", started.error().toString().c_str());
        cluster = std::move(*started);
    }

    store::Store &store() { return cluster->store(); }

    bool apply(const std::string &yaml)
    {
        auto r = cluster->api().applyManifests(yaml, "test.yaml");
        if (!r)
            qWarning("apply: %s", r.error().toString().c_str());
        return r.ok();
    }

    std::vector<json> list(const std::string &resource, const std::string &selector = {}, const std::string &ns = "default")
    {
        store::ListOptions options;
        options.ns = ns;
        if (!selector.empty())
            options.labels = *model::LabelSelector::parse(selector);
        std::vector<json> out;
        if (auto l = store().list(resource, options))
            for (const auto &o : l->items)
                out.push_back(*o);
        return out;
    }
    json get(const std::string &resource, const std::string &name, const std::string &ns = "default")
    {
        auto o = store().get(resource, ns, name);
        return o ? **o : json();
    }
    int readyPods(const std::string &selector)
    {
        int n = 0;
        for (const auto &p : list("pods", selector))
            n += podReady(p) ? 1 : 0;
        return n;
    }
    int livePods(const std::string &selector)
    {
        int n = 0;
        for (const auto &p : list("pods", selector))
            n += p["metadata"].contains("deletionTimestamp") ? 0 : 1;
        return n;
    }
    std::set<std::string> images(const std::string &selector)
    {
        std::set<std::string> out;
        for (const auto &p : list("pods", selector))
            if (!p["metadata"].contains("deletionTimestamp"))
                out.insert(str(p["spec"]["containers"][0], "image"));
        return out;
    }
    std::set<std::string> endpointIPs(const std::string &name, const char *which = "addresses")
    {
        std::set<std::string> out;
        json ep = get("endpoints", name);
        if (ep.is_object())
            for (const auto &subset : ep.value("subsets", json::array()))
                for (const auto &a : subset.value(which, json::array()))
                    out.insert(str(a, "ip"));
        return out;
    }
    std::set<std::string> readyPodIPs(const std::string &selector)
    {
        std::set<std::string> out;
        for (const auto &p : list("pods", selector))
            if (podReady(p))
                out.insert(str(p["status"], "podIP"));
        return out;
    }
    bool deploymentDone(const std::string &name, int replicas)
    {
        json d = get("deployments.apps", name);
        if (!d.is_object())
            return false;
        const json &s = d.value("status", json::object());
        return s.value("observedGeneration", int64_t(0)) >= d["metadata"].value("generation", int64_t(0))
            && s.value("updatedReplicas", 0) == replicas && s.value("replicas", 0) == replicas
            && s.value("availableReplicas", 0) == replicas;
    }
    json replicaSetWithRevision(const std::string &selector, const std::string &revision)
    {
        for (const auto &rs : list("replicasets.apps", selector))
            if (rs["metadata"].value("annotations", json::object()).value("deployment.kubernetes.io/revision", "") == revision)
                return rs;
        return json();
    }
};

const char *kubiaDeployment(const char *image)
{
    static std::string text;
    text = std::string(R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: kubia
spec:
  replicas: 3
  selector:
    matchLabels:
      app: kubia
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app: kubia
    spec:
      containers:
      - name: nodejs
        image: )") + image + "\n";
    return text.c_str();
}

} // namespace

class TestCluster : public QObject
{
    Q_OBJECT
private slots:
    void startsWithNodesAndNamespaces()
    {
        Harness h(fastConfig(2));
        QCOMPARE(h.cluster->nodeCount(), size_t(2));
        for (const char *ns : {"default", "kube-system", "kube-public", "kube-node-lease"})
            QVERIFY2(h.get("namespaces", ns, "").is_object(), ns);
        QTRY_COMPARE_WITH_TIMEOUT(h.list("nodes", {}, "").size(), size_t(2), kWait);
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                for (const auto &n : h.list("nodes", {}, ""))
                    for (const auto &c : n["status"].value("conditions", json::array()))
                        if (c["type"] == "Ready" && c["status"] != "True")
                            return false;
                return true;
            }(),
            kWait);
    }

    void refusesNodeTimingsThatWouldFlap()
    {
        auto config = fastConfig();
        config.nodeMonitorGracePeriod = 300ms; // barely above the 200 ms heartbeat
        auto started = cluster::Cluster::start(config);
        QVERIFY(!started);
        QCOMPARE(started.error().reason(), Reason::BadRequest);
    }

    void podAndReplicationControllerHeal()
    {
        Harness h(fastConfig());
        // A bare pod: scheduled, started, given an IP.
        QVERIFY(h.apply(R"(apiVersion: v1
kind: Pod
metadata:
  name: kubia-manual
spec:
  containers:
  - image: luksa/kubia
    name: kubia
    ports:
    - containerPort: 8080
      protocol: TCP
)"));
        QTRY_VERIFY_WITH_TIMEOUT(podReady(h.get("pods", "kubia-manual")), kWait);
        json manual = h.get("pods", "kubia-manual");
        QVERIFY(!str(manual["spec"], "nodeName").empty());
        QVERIFY(!str(manual["status"], "podIP").empty());

        // A ReplicationController keeps three; a deleted pod is replaced by a new one.
        QVERIFY(h.apply(R"(apiVersion: v1
kind: ReplicationController
metadata:
  name: kubia
spec:
  replicas: 3
  selector:
    app: kubia
  template:
    metadata:
      labels:
        app: kubia
    spec:
      containers:
      - name: kubia
        image: luksa/kubia
        ports:
        - containerPort: 8080
)"));
        QTRY_COMPARE_WITH_TIMEOUT(h.readyPods("app=kubia"), 3, kWait);
        const std::string victim = str(h.list("pods", "app=kubia")[0]["metadata"], "name");
        QVERIFY(h.store().remove("pods", "default", victim).ok());
        QTRY_VERIFY_WITH_TIMEOUT(h.readyPods("app=kubia") == 3 && !h.get("pods", victim).is_object(), kWait);
        for (const auto &p : h.list("pods", "app=kubia"))
            QVERIFY(str(p["metadata"], "name") != victim);

        // A pod relabelled out of the selector is no longer the RC's: it makes another one.
        const std::string moved = str(h.list("pods", "app=kubia")[0]["metadata"], "name");
        QVERIFY(h.store()
                    .modify("pods", "default", moved,
                            [](json &p) -> Result<bool> {
                                p["metadata"]["labels"]["app"] = "foo";
                                return true;
                            })
                    .ok());
        QTRY_COMPARE_WITH_TIMEOUT(h.readyPods("app=kubia"), 3, kWait);
        QVERIFY(h.get("pods", moved).is_object());
        QCOMPARE(h.readyPods("app=foo"), 1);
    }

    void deploymentRollsForwardAndBackBehindAService()
    {
        Harness h(fastConfig());
        QVERIFY(h.apply(std::string(kubiaDeployment("luksa/kubia:v1")) + R"(---
apiVersion: v1
kind: Service
metadata:
  name: kubia
spec:
  selector:
    app: kubia
  ports:
  - port: 80
    targetPort: 8080
)"));
        QTRY_VERIFY_WITH_TIMEOUT(h.deploymentDone("kubia", 3), kWait);
        QVERIFY(!str(h.get("services", "kubia")["spec"], "clusterIP").empty());
        QTRY_COMPARE_WITH_TIMEOUT(h.endpointIPs("kubia"), h.readyPodIPs("app=kubia"), kWait);
        QCOMPARE(h.endpointIPs("kubia").size(), size_t(3));

        // v1 -> v2 with maxUnavailable 0: available never drops below 3 on the way.
        auto watch = h.store().watch("deployments.apps", {});
        auto rsWatch = h.store().watch("replicasets.apps", {});
        QVERIFY(watch.ok() && rsWatch.ok());
        std::map<std::string, int> desired; // ReplicaSet -> spec.replicas, replayed from its watch
        for (const auto &rs : h.list("replicasets.apps", "app=kubia"))
            desired[str(rs["metadata"], "name")] = rs["spec"].value("replicas", 0);
        QVERIFY(h.apply(kubiaDeployment("luksa/kubia:v2")));
        QTRY_VERIFY_WITH_TIMEOUT(h.deploymentDone("kubia", 3) && h.images("app=kubia") == std::set<std::string>{"luksa/kubia:v2"},
                                 kWait);
        int minAvailable = 3, statusUpdates = 0;
        for (const auto &e : (*watch)->drain()) {
            if (e.type != store::EventType::Modified || !e.object)
                continue;
            const json &s = (*e.object).value("status", json::object());
            minAvailable = std::min(minAvailable, s.value("availableReplicas", 0));
            ++statusUpdates;
        }
        QVERIFY(statusUpdates > 2);
        QCOMPARE(minAvailable, 3);
        // maxSurge 1: the ReplicaSets never want more than 4 pods between them, at any revision.
        int maxDesired = 0;
        for (const auto &e : (*rsWatch)->drain()) {
            if (!e.object || (e.type != store::EventType::Added && e.type != store::EventType::Modified))
                continue;
            desired[str((*e.object)["metadata"], "name")] = (*e.object)["spec"].value("replicas", 0);
            int sum = 0;
            for (const auto &[name, n] : desired)
                sum += n;
            maxDesired = std::max(maxDesired, sum);
        }
        QCOMPARE(maxDesired, 4);
        QTRY_COMPARE_WITH_TIMEOUT(h.endpointIPs("kubia"), h.readyPodIPs("app=kubia"), kWait);
        QTRY_COMPARE_WITH_TIMEOUT(h.livePods("app=kubia"), 3, kWait);

        // Two ReplicaSets, revisions 1 and 2; the old one scaled to zero.
        json rs1 = h.replicaSetWithRevision("app=kubia", "1"), rs2 = h.replicaSetWithRevision("app=kubia", "2");
        QVERIFY(rs1.is_object() && rs2.is_object());
        QCOMPARE(rs1["spec"]["replicas"], json(0));
        QCOMPARE(rs2["spec"]["replicas"], json(3));

        // `kubectl rollout undo` as kubectl does it: revision 1's template goes back into the
        // Deployment; that ReplicaSet becomes revision 3 and scales up again.
        json deployment = h.get("deployments.apps", "kubia");
        json tmpl = rs1["spec"]["template"];
        tmpl["metadata"]["labels"].erase("pod-template-hash");
        deployment["spec"]["template"] = tmpl;
        QVERIFY(h.cluster->api().update(deployment).ok());
        QTRY_VERIFY_WITH_TIMEOUT(h.deploymentDone("kubia", 3) && h.images("app=kubia") == std::set<std::string>{"luksa/kubia:v1"},
                                 kWait);
        QTRY_COMPARE_WITH_TIMEOUT(
            h.get("replicasets.apps", str(rs1["metadata"], "name"))["metadata"]["annotations"].value("deployment.kubernetes.io/revision", ""),
            std::string("3"), kWait);
        QCOMPARE(h.list("replicasets.apps", "app=kubia").size(), size_t(2)); // no third ReplicaSet

        // Endpoints follow readiness: a pod whose readiness probe fails is listed as not ready.
        QVERIFY(h.apply(R"(apiVersion: v1
kind: Pod
metadata:
  name: kubia-unready
  labels:
    app: kubia
  annotations:
    sim.podscape.io/fail-readiness: "true"
spec:
  containers:
  - name: kubia
    image: luksa/kubia
    readinessProbe:
      httpGet:
        path: /
        port: 8080
      periodSeconds: 1
)"));
        QTRY_VERIFY_WITH_TIMEOUT(!h.endpointIPs("kubia", "notReadyAddresses").empty(), kWait);
        const std::string unreadyIP = str(h.get("pods", "kubia-unready")["status"], "podIP");
        QCOMPARE(h.endpointIPs("kubia", "notReadyAddresses"), std::set<std::string>{unreadyIP});
        QVERIFY(!h.endpointIPs("kubia").count(unreadyIP));
    }

    void nodeFailureMovesItsPods()
    {
        Harness h(fastConfig());
        QVERIFY(h.apply(kubiaDeployment("luksa/kubia")));
        QTRY_VERIFY_WITH_TIMEOUT(h.deploymentDone("kubia", 3), kWait);
        // The node with most of the deployment's pods fails.
        std::map<std::string, int> perNode;
        for (const auto &p : h.list("pods", "app=kubia"))
            ++perNode[str(p["spec"], "nodeName")];
        auto failed = std::max_element(perNode.begin(), perNode.end(), [](auto &a, auto &b) { return a.second < b.second; })->first;
        size_t index = 0;
        while (h.cluster->node(index).nodeName() != failed)
            ++index;
        h.cluster->node(index).stop();

        auto readyStatus = [&] {
            for (const auto &c : h.get("nodes", failed, "")["status"].value("conditions", json::array()))
                if (c["type"] == "Ready")
                    return str(c, "status");
            return std::string();
        };
        QTRY_COMPARE_WITH_TIMEOUT(readyStatus(), std::string("Unknown"), kWait);
        // Tainted unreachable, its pods evicted once their toleration ran out, replaced elsewhere.
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                for (const auto &t : h.get("nodes", failed, "")["spec"].value("taints", json::array()))
                    if (t["key"] == "node.kubernetes.io/unreachable" && t["effect"] == "NoExecute")
                        return true;
                return false;
            }(),
            kWait);
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                int ready = 0;
                for (const auto &p : h.list("pods", "app=kubia"))
                    if (podReady(p) && str(p["spec"], "nodeName") != failed)
                        ++ready;
                return ready == 3;
            }(),
            kWait);
        // Nothing new goes to the failed node.
        for (const auto &p : h.list("pods", "app=kubia"))
            if (!p["metadata"].contains("deletionTimestamp"))
                QVERIFY(str(p["spec"], "nodeName") != failed);
        // Pods on the node were marked not ready when it stopped answering.
        for (const auto &p : h.list("pods", "app=kubia"))
            if (str(p["spec"], "nodeName") == failed)
                QVERIFY(!podReady(p));
    }

    void restartResumesFromThePersistedState()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        auto config = fastConfig(2);
        config.dataDir = dir.path().toStdString();
        std::set<std::string> podUids;
        store::Revision before = 0;
        std::string clusterIP;
        {
            Harness h(config);
            QVERIFY(h.apply(std::string(kubiaDeployment("luksa/kubia")) + R"(---
apiVersion: v1
kind: Service
metadata:
  name: kubia
spec:
  selector:
    app: kubia
  ports:
  - port: 80
    targetPort: 8080
)"));
            QTRY_VERIFY_WITH_TIMEOUT(h.deploymentDone("kubia", 3), kWait);
            for (const auto &p : h.list("pods", "app=kubia"))
                podUids.insert(str(p["metadata"], "uid"));
            clusterIP = str(h.get("services", "kubia")["spec"], "clusterIP");
            h.cluster->stop();
            before = h.store().revision();
        }
        QCOMPARE(podUids.size(), size_t(3));

        Harness again(config);
        QVERIFY(again.store().revision() >= before);
        // The same objects: no new ReplicaSet, no new pods, the Service keeps its IP.
        QCOMPARE(again.list("replicasets.apps", "app=kubia").size(), size_t(1));
        QCOMPARE(str(again.get("services", "kubia")["spec"], "clusterIP"), clusterIP);
        QTRY_VERIFY_WITH_TIMEOUT(again.readyPods("app=kubia") == 3, kWait);
        std::set<std::string> after;
        for (const auto &p : again.list("pods", "app=kubia"))
            after.insert(str(p["metadata"], "uid"));
        QCOMPARE(after, podUids);
        // New writes continue the revision sequence.
        QVERIFY(again.apply("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after-restart\ndata:\n  a: b\n"));
        QVERIFY(std::stoll(str(again.get("configmaps", "after-restart")["metadata"], "resourceVersion")) > int64_t(before));
        // A second Service does not get the first one's IP.
        QVERIFY(again.apply("apiVersion: v1\nkind: Service\nmetadata:\n  name: other\nspec:\n  ports:\n  - port: 80\n"));
        QVERIFY(str(again.get("services", "other")["spec"], "clusterIP") != clusterIP);
    }
};

QTEST_GUILESS_MAIN(TestCluster)
#include "tst_cluster.moc"
