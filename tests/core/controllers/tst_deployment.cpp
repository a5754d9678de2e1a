#include "core/base/timeformat.h"
#include "core/controllers/deployment/deploymentcontroller.h"
#include "core/controllers/replicaset/replicasetcontroller.h"
#include "core/model/object.h"

#include <QtTest>

#include <algorithm>
#include <functional>
#include <mutex>
#include <thread>

using namespace podscape::core;
using namespace podscape::core::controllers;
using namespace std::chrono_literals;
using nlohmann::json;
namespace du = podscape::core::controllers::deploymentutil;

// Readable QCOMPARE failures.
namespace QTest {
template<>
inline char *toString(const std::string &s)
{
    return qstrdup(s.c_str());
}
template<>
inline char *toString(const std::vector<std::string> &v)
{
    std::string out = "[";
    for (const auto &s : v)
        out += (out.size() > 1 ? ", \"" : "\"") + s + "\"";
    return qstrdup((out + "]").c_str());
}
} // namespace QTest

namespace {

const char *const kDeployments = "deployments.apps";
const char *const kReplicaSets = "replicasets.apps";

json rolling(json maxSurge, json maxUnavailable)
{
    return {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", maxSurge}, {"maxUnavailable", maxUnavailable}}}};
}

json deployment(const std::string &name, int replicas, const std::string &image, json strategy = nullptr)
{
    json d = {{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata", {{"name", name}, {"namespace", "default"}}},
              {"spec",
               {{"replicas", replicas},
                {"selector", {{"matchLabels", {{"app", name}}}}},
                {"template",
                 {{"metadata", {{"labels", {{"app", name}}}}},
                  {"spec", {{"containers", json::array({{{"name", "main"}, {"image", image}}})}}}}}}}};
    if (!strategy.is_null())
        d["spec"]["strategy"] = strategy;
    return d;
}

// The whole control plane these tests need: a store, shared informers, and the two
// controllers a Deployment depends on.
struct Cluster {
    explicit Cluster(Clock &c = Clock::system()) : clock(c), store(c), informers(store, c), rs(informers, ReplicaSetController::Kind::ReplicaSet), dc(informers)
    {
        informers.start();
        rs.start(2);
        dc.start(2);
    }
    ~Cluster()
    {
        dc.stop();
        rs.stop();
        informers.stop();
    }

    json get(const char *resource, const std::string &name) const
    {
        auto r = store.get(resource, "default", name);
        return r ? **r : json();
    }
    json deployment(const std::string &name) const { return get(kDeployments, name); }
    std::vector<json> replicaSets(const std::string &app) const
    {
        store::ListOptions o;
        o.labels = *model::LabelSelector::parse("app=" + app);
        std::vector<json> out;
        auto list = store.list(kReplicaSets, o);
        for (const auto &rs : list->items)
            out.push_back(*rs);
        return out;
    }
    std::optional<json> replicaSetWithRevision(const std::string &app, int revision) const
    {
        for (const auto &rs : replicaSets(app))
            if (du::annotation(rs, du::RevisionAnnotation) == std::to_string(revision))
                return rs;
        return std::nullopt;
    }
    std::vector<json> pods(const std::string &selector) const
    {
        store::ListOptions o;
        o.labels = *model::LabelSelector::parse(selector);
        std::vector<json> out;
        auto list = store.list("pods", o);
        for (const auto &p : list->items)
            out.push_back(*p);
        return out;
    }
    // The deployment-controller's events with this reason, oldest first.
    std::vector<std::string> events(const std::string &reason) const
    {
        std::vector<json> matching;
        auto list = store.list("events");
        for (const auto &e : list->items)
            if ((*e)["reason"] == reason && (*e)["source"]["component"] == "deployment-controller")
                matching.push_back(*e);
        // Event names end in a fixed-width hex of their creation time and sequence.
        std::sort(matching.begin(), matching.end(),
                  [](const json &a, const json &b) { return a["metadata"]["name"] < b["metadata"]["name"]; });
        std::vector<std::string> out;
        for (const auto &e : matching)
            out.push_back(e["message"]);
        return out;
    }
    void modifyDeployment(const std::string &name, const std::function<void(json &)> &change)
    {
        auto r = store.modify(kDeployments, "default", name, [&](json &d) -> Result<bool> {
            change(d);
            return true;
        });
        QVERIFY(r.ok());
    }
    void setImage(const std::string &name, const std::string &image, const std::string &changeCause = {})
    {
        modifyDeployment(name, [&](json &d) {
            d["spec"]["template"]["spec"]["containers"][0]["image"] = image;
            if (!changeCause.empty())
                d["metadata"]["annotations"][std::string(du::ChangeCauseAnnotation)] = changeCause;
        });
    }
    // `kubectl rollout status` succeeds: every replica updated and available, nothing old left.
    bool rolledOut(const std::string &name) const
    {
        json d = deployment(name);
        if (d.is_null())
            return false;
        const json status = d.value("status", json::object());
        const int64_t replicas = du::specReplicas(d);
        const json *progressing = du::getCondition(status, "Progressing");
        return status.value("observedGeneration", int64_t(0)) == d["metadata"]["generation"].get<int64_t>()
            && status.value("updatedReplicas", int64_t(0)) == replicas && status.value("replicas", int64_t(0)) == replicas
            && status.value("availableReplicas", int64_t(0)) == replicas && progressing
            && (*progressing)["reason"] == du::NewReplicaSetAvailableReason;
    }
    std::string conditionReason(const std::string &name, const std::string &type) const
    {
        const json status = deployment(name).value("status", json::object());
        const json *c = du::getCondition(status, type);
        return c ? (*c)["reason"].get<std::string>() : std::string();
    }

    Clock &clock;
    store::Store store;
    SharedInformers informers;
    ReplicaSetController rs;
    DeploymentController dc;
};

// Stands in for the kubelets: makes pods Running and Ready as they appear (those `accept`
// allows), and watches every change of the pods to keep watermarks of how many were ready
// and whether pods of two templates ever ran side by side.
class FakeKubelet
{
public:
    FakeKubelet(store::Store &store, Clock &clock) : m_store(store), m_clock(clock), m_watch(*store.watch("pods"))
    {
        m_thread = std::thread([this] { run(); });
    }
    ~FakeKubelet()
    {
        m_watch->stop();
        m_thread.join();
    }

    // Pods waiting already are looked at again.
    void setAccept(std::function<bool(const json &pod)> accept)
    {
        std::vector<std::string> waiting;
        {
            std::lock_guard g(m_mutex);
            m_accept = std::move(accept);
            for (const auto &[name, pod] : m_pods)
                if (wantsLocked(*pod))
                    waiting.push_back(name);
        }
        for (const auto &name : waiting)
            markReady(name);
    }
    // Pods on a node are deleted gracefully: they stay, terminating, until finishTerminating().
    void setNode(std::string node)
    {
        std::lock_guard g(m_mutex);
        m_node = std::move(node);
    }
    void resetWatermarks()
    {
        std::lock_guard g(m_mutex);
        m_minReady = m_ready;
        m_overlap = false;
    }
    int minReady() const
    {
        std::lock_guard g(m_mutex);
        return m_minReady;
    }
    int ready() const
    {
        std::lock_guard g(m_mutex);
        return m_ready;
    }
    bool overlapped() const
    {
        std::lock_guard g(m_mutex);
        return m_overlap;
    }
    // What a kubelet does once a terminating pod's containers have stopped.
    void finishTerminating()
    {
        auto list = m_store.list("pods");
        for (const auto &p : list->items)
            if (!du::str(*p, "/metadata/deletionTimestamp").empty()) {
                store::DeleteOptions o;
                o.gracePeriodSeconds = 0;
                (void)m_store.remove("pods", "default", du::str(*p, "/metadata/name"), o);
            }
    }

private:
    bool wantsLocked(const json &pod) const
    {
        return m_accept && m_accept(pod) && !isPodReady(pod) && du::str(pod, "/metadata/deletionTimestamp").empty();
    }
    void run()
    {
        for (;;) {
            auto e = m_watch->next(100ms);
            if (!e) {
                if (m_watch->isStopped())
                    return;
                continue;
            }
            if (e->type == store::EventType::Error)
                return;
            if (!e->object || e->type == store::EventType::Bookmark)
                continue;
            const std::string name = du::str(*e->object, "/metadata/name");
            bool wanted = false;
            {
                std::lock_guard g(m_mutex);
                if (e->type == store::EventType::Added) {
                    const std::string hash = du::str(*e->object, "/metadata/labels/pod-template-hash");
                    for (const auto &[other, pod] : m_pods)
                        if (du::str(*pod, "/metadata/labels/pod-template-hash") != hash)
                            m_overlap = true;
                }
                if (e->type == store::EventType::Deleted)
                    m_pods.erase(name);
                else
                    m_pods[name] = e->object;
                m_ready = 0;
                for (const auto &[n, pod] : m_pods)
                    if (isPodReady(*pod) && du::str(*pod, "/metadata/deletionTimestamp").empty())
                        ++m_ready;
                m_minReady = std::min(m_minReady, m_ready);
                wanted = e->type != store::EventType::Deleted && wantsLocked(*e->object);
            }
            if (wanted)
                markReady(name);
        }
    }
    void markReady(const std::string &name)
    {
        std::string node;
        {
            std::lock_guard g(m_mutex);
            node = m_node;
        }
        (void)m_store.modify("pods", "default", name, [&](json &p) -> Result<bool> {
            if (isPodReady(p) || !du::str(p, "/metadata/deletionTimestamp").empty())
                return false;
            if (!node.empty())
                p["spec"]["nodeName"] = node;
            p["status"] = {{"phase", "Running"},
                           {"conditions",
                            json::array({{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", formatRfc3339(m_clock.now())}}})}};
            return true;
        });
    }

    store::Store &m_store;
    Clock &m_clock;
    std::shared_ptr<store::Watcher> m_watch;
    std::thread m_thread;
    mutable std::mutex m_mutex;
    std::function<bool(const json &)> m_accept = [](const json &) { return true; };
    std::string m_node;
    std::map<std::string, store::ObjectPtr> m_pods;
    int m_ready = 0;
    int m_minReady = INT32_MAX;
    bool m_overlap = false;
};

// The largest total of spec.replicas over a deployment's ReplicaSets seen at any change:
// what maxSurge bounds.
class SurgeWatch
{
public:
    explicit SurgeWatch(store::Store &store) : m_watch(*store.watch(kReplicaSets))
    {
        m_thread = std::thread([this] {
            std::map<std::string, int64_t> sizes;
            for (;;) {
                auto e = m_watch->next(100ms);
                if (!e) {
                    if (m_watch->isStopped())
                        return;
                    continue;
                }
                if (e->type == store::EventType::Error)
                    return;
                if (!e->object || e->type == store::EventType::Bookmark)
                    continue;
                if (e->type == store::EventType::Deleted)
                    sizes.erase(du::str(*e->object, "/metadata/name"));
                else
                    sizes[du::str(*e->object, "/metadata/name")] = du::specReplicas(*e->object);
                int64_t total = 0;
                for (const auto &[n, s] : sizes)
                    total += s;
                std::lock_guard g(m_mutex);
                m_max = std::max(m_max, total);
            }
        });
    }
    ~SurgeWatch()
    {
        m_watch->stop();
        m_thread.join();
    }
    void reset()
    {
        std::lock_guard g(m_mutex);
        m_max = 0;
    }
    int64_t max() const
    {
        std::lock_guard g(m_mutex);
        return m_max;
    }

private:
    std::shared_ptr<store::Watcher> m_watch;
    std::thread m_thread;
    mutable std::mutex m_mutex;
    int64_t m_max = 0;
};

std::string imageOf(const json &rs) { return du::str(rs, "/spec/template/spec/containers/0/image"); }

bool imageIs(const json &pod, const std::string &image) { return du::str(pod, "/spec/containers/0/image") == image; }

} // namespace

class TestDeployment : public QObject
{
    Q_OBJECT
private slots:
    void createsReplicaSetNamedAfterTemplateHash()
    {
        Cluster c;
        FakeKubelet kubelet(c.store, c.clock);
        json d = deployment("kubia", 3, "luksa/kubia:v1");
        d["metadata"]["annotations"] = {{std::string(du::ChangeCauseAnnotation), "kubectl create --record"}};
        QVERIFY(c.store.create(kDeployments, d).ok());
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia"), 10000);

        auto rss = c.replicaSets("kubia");
        QCOMPARE(rss.size(), size_t(1));
        const json &rs = rss[0];
        const std::string hash = du::computeHash(d["spec"]["template"], std::nullopt);
        QCOMPARE(du::str(rs, "/metadata/name"), "kubia-" + hash);
        QCOMPARE(du::str(rs, "/spec/selector/matchLabels/pod-template-hash"), hash);
        QCOMPARE(du::str(rs, "/spec/template/metadata/labels/pod-template-hash"), hash);
        QCOMPARE(du::str(rs, "/metadata/labels/pod-template-hash"), hash);
        auto owner = model::Object(rs).controllerRef();
        QVERIFY(owner.has_value());
        QCOMPARE(owner->kind, std::string("Deployment"));
        QCOMPARE(owner->uid, du::str(c.deployment("kubia"), "/metadata/uid"));
        QCOMPARE(du::annotation(rs, du::RevisionAnnotation), std::string("1"));
        QCOMPARE(du::annotation(rs, du::DesiredReplicasAnnotation), std::string("3"));
        QCOMPARE(du::annotation(rs, du::MaxReplicasAnnotation), std::string("4")); // 3 + 25% rounded up
        QCOMPARE(du::annotation(rs, du::ChangeCauseAnnotation), std::string("kubectl create --record"));
        QCOMPARE(du::annotation(c.deployment("kubia"), du::RevisionAnnotation), std::string("1"));

        auto pods = c.pods("app=kubia,pod-template-hash=" + hash);
        QCOMPARE(pods.size(), size_t(3));
        for (const auto &p : pods)
            QCOMPARE(model::Object(p).controllerRef()->name, "kubia-" + hash);

        const json status = c.deployment("kubia")["status"];
        QCOMPARE(status["replicas"], json(3));
        QCOMPARE(status["updatedReplicas"], json(3));
        QCOMPARE(status["readyReplicas"], json(3));
        QCOMPARE(status["availableReplicas"], json(3));
        QVERIFY(!status.contains("unavailableReplicas")); // zero counts are omitted
        QCOMPARE(c.conditionReason("kubia", "Available"), std::string(du::MinimumReplicasAvailable));
        QCOMPARE((*du::getCondition(status, "Progressing"))["message"],
                 json("ReplicaSet \"kubia-" + hash + "\" has successfully progressed."));
        QCOMPARE(c.events("ScalingReplicaSet"), std::vector<std::string>{"Scaled up replica set kubia-" + hash + " from 0 to 3"});
    }

    void rollingUpdateNeverDropsBelowDesired()
    {
        Cluster c;
        FakeKubelet kubelet(c.store, c.clock);
        SurgeWatch surge(c.store);
        QVERIFY(c.store.create(kDeployments, deployment("kubia", 3, "luksa/kubia:v1", rolling(1, 0))).ok());
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia"), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(kubelet.ready(), 3, 5000);
        const json v1 = c.replicaSets("kubia").at(0);
        kubelet.resetWatermarks();
        surge.reset();

        c.setImage("kubia", "luksa/kubia:v2", "kubectl set image deployment/kubia main=luksa/kubia:v2");
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia") && c.replicaSets("kubia").size() == 2, 10000);

        // Availability never fell below spec.replicas - maxUnavailable, at any pod change.
        QCOMPARE(kubelet.minReady(), 3);
        // Nor did the ReplicaSets ever ask for more than spec.replicas + maxSurge.
        QCOMPARE(surge.max(), int64_t(4));
        auto v2 = c.replicaSetWithRevision("kubia", 2);
        QVERIFY(v2.has_value());
        QCOMPARE(imageOf(*v2), std::string("luksa/kubia:v2"));
        QCOMPARE(du::specReplicas(*v2), int64_t(3));
        QCOMPARE(du::annotation(*v2, du::ChangeCauseAnnotation), std::string("kubectl set image deployment/kubia main=luksa/kubia:v2"));
        QCOMPARE(du::annotation(c.deployment("kubia"), du::RevisionAnnotation), std::string("2"));
        // The old ReplicaSet is kept, scaled to 0, for `rollout undo`.
        auto old = c.get(kReplicaSets, du::str(v1, "/metadata/name"));
        QCOMPARE(du::specReplicas(old), int64_t(0));
        QCOMPARE(du::annotation(old, du::RevisionAnnotation), std::string("1"));
        QCOMPARE(c.pods("app=kubia").size(), size_t(3));

        const std::string oldName = du::str(v1, "/metadata/name"), newName = du::str(*v2, "/metadata/name");
        QCOMPARE(c.events("ScalingReplicaSet"),
                 (std::vector<std::string>{"Scaled up replica set " + oldName + " from 0 to 3",
                                           "Scaled up replica set " + newName + " from 0 to 1",
                                           "Scaled down replica set " + oldName + " from 3 to 2",
                                           "Scaled up replica set " + newName + " from 1 to 2",
                                           "Scaled down replica set " + oldName + " from 2 to 1",
                                           "Scaled up replica set " + newName + " from 2 to 3",
                                           "Scaled down replica set " + oldName + " from 1 to 0"}));
    }

    void undoReusesTheOldReplicaSet()
    {
        Cluster c;
        FakeKubelet kubelet(c.store, c.clock);
        json d = deployment("kubia", 3, "luksa/kubia:v1", rolling(1, 0));
        d["metadata"]["annotations"] = {{std::string(du::ChangeCauseAnnotation), "create"}};
        QVERIFY(c.store.create(kDeployments, d).ok());
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia"), 10000);
        c.setImage("kubia", "luksa/kubia:v2", "set image v2");
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia") && c.replicaSetWithRevision("kubia", 2), 10000);
        const json first = *c.replicaSetWithRevision("kubia", 1);

        // `kubectl rollout undo --to-revision=1`, client-side as kubectl does it: the
        // revision's template, without its hash label and as Go serializes it, replaces the
        // deployment's; its annotations replace the deployment's but the controller's own.
        json restored = first["spec"]["template"];
        restored["metadata"]["labels"].erase("pod-template-hash");
        restored["metadata"]["creationTimestamp"] = nullptr;
        restored["spec"]["containers"][0]["resources"] = json::object();
        c.modifyDeployment("kubia", [&](json &live) {
            json annotations = json::object();
            for (auto &[k, v] : live["metadata"]["annotations"].items())
                if (k == du::RevisionAnnotation || k == du::RevisionHistoryAnnotation)
                    annotations[k] = v;
            for (auto &[k, v] : first["metadata"]["annotations"].items())
                if (k != du::RevisionAnnotation && k != du::RevisionHistoryAnnotation && k != du::DesiredReplicasAnnotation
                    && k != du::MaxReplicasAnnotation)
                    annotations[k] = v;
            live["spec"]["template"] = restored;
            live["metadata"]["annotations"] = annotations;
        });
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia") && c.replicaSetWithRevision("kubia", 3), 10000);

        // The revision-1 ReplicaSet came back as revision 3; no third ReplicaSet.
        QCOMPARE(c.replicaSets("kubia").size(), size_t(2));
        const json reused = *c.replicaSetWithRevision("kubia", 3);
        QCOMPARE(du::str(reused, "/metadata/name"), du::str(first, "/metadata/name"));
        QCOMPARE(du::annotation(reused, du::RevisionHistoryAnnotation), std::string("1"));
        QCOMPARE(du::annotation(reused, du::ChangeCauseAnnotation), std::string("create"));
        QCOMPARE(du::specReplicas(reused), int64_t(3));
        QCOMPARE(du::annotation(c.deployment("kubia"), du::RevisionAnnotation), std::string("3"));
        auto second = c.replicaSetWithRevision("kubia", 2);
        QVERIFY(second.has_value());
        QCOMPARE(du::specReplicas(*second), int64_t(0));
        QCOMPARE(du::annotation(*second, du::ChangeCauseAnnotation), std::string("set image v2"));
        for (const auto &p : c.pods("app=kubia"))
            QVERIFY(imageIs(p, "luksa/kubia:v1"));
    }

    void annotationRollbackRestoresTemplate()
    {
        Cluster c;
        FakeKubelet kubelet(c.store, c.clock);
        QVERIFY(c.store.create(kDeployments, deployment("kubia", 2, "luksa/kubia:v1")).ok());
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia"), 10000);
        c.setImage("kubia", "luksa/kubia:v2");
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia") && c.replicaSetWithRevision("kubia", 2), 10000);
        // extensions/v1beta1's rollbackTo, as apps/v1 carries it (0: the previous revision).
        c.modifyDeployment("kubia", [](json &d) { d["metadata"]["annotations"][std::string(du::RollbackToAnnotation)] = "0"; });
        QTRY_VERIFY_WITH_TIMEOUT(c.replicaSetWithRevision("kubia", 3) && c.rolledOut("kubia"), 10000);
        const json d = c.deployment("kubia");
        QCOMPARE(du::str(d, "/spec/template/spec/containers/0/image"), std::string("luksa/kubia:v1"));
        QCOMPARE(du::annotation(d, du::RollbackToAnnotation), std::string());
        QCOMPARE(c.replicaSets("kubia").size(), size_t(2));
        QCOMPARE(c.events("DeploymentRollback"), std::vector<std::string>{"Rolled back deployment \"kubia\" to revision 1"});
    }

    void percentageFenceposts_data()
    {
        QTest::addColumn<int>("replicas");
        QTest::addColumn<int>("stuckOld");
        QTest::addColumn<int>("stuckNew");
        QTest::addColumn<int>("maxSurge");
        QTest::addColumn<int>("maxUnavailable");
        // 25% of 4: surge 1 (up), unavailable 1 (down). 25% of 10: surge 3, unavailable 2.
        QTest::newRow("4 replicas") << 4 << 3 << 2 << 1 << 1;
        QTest::newRow("10 replicas") << 10 << 8 << 5 << 3 << 2;
    }

    void percentageFenceposts()
    {
        QFETCH(int, replicas);
        QFETCH(int, stuckOld);
        QFETCH(int, stuckNew);
        QFETCH(int, maxSurge);
        QFETCH(int, maxUnavailable);
        Cluster c;
        FakeKubelet kubelet(c.store, c.clock);
        SurgeWatch surge(c.store);
        // v2 pods never become ready: the rollout goes as far as the fenceposts allow.
        kubelet.setAccept([](const json &pod) { return imageIs(pod, "luksa/kubia:v1"); });
        QVERIFY(c.store.create(kDeployments, deployment("kubia", replicas, "luksa/kubia:v1", rolling("25%", "25%"))).ok());
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia"), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(kubelet.ready(), replicas, 5000);
        const std::string oldName = du::str(c.replicaSets("kubia").at(0), "/metadata/name");
        kubelet.resetWatermarks();
        surge.reset();

        c.setImage("kubia", "luksa/kubia:v2");
        auto stuckAt = [&] {
            auto v2 = c.replicaSetWithRevision("kubia", 2);
            const json d = c.deployment("kubia");
            return v2 && du::specReplicas(*v2) == stuckNew && du::specReplicas(c.get(kReplicaSets, oldName)) == stuckOld
                && d["status"].value("updatedReplicas", 0) == stuckNew && d["status"].value("replicas", 0) == stuckOld + stuckNew;
        };
        QTRY_VERIFY_WITH_TIMEOUT(stuckAt(), 10000);
        QCOMPARE(c.conditionReason("kubia", "Available"), std::string(du::MinimumReplicasAvailable));
        QVERIFY(stuckAt()); // and it stays there

        kubelet.setAccept([](const json &) { return true; });
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia") && du::specReplicas(c.get(kReplicaSets, oldName)) == 0, 10000);
        QVERIFY(kubelet.minReady() >= replicas - maxUnavailable);
        QCOMPARE(surge.max(), int64_t(replicas + maxSurge));
    }

    void recreateWaitsForOldPodsToBeGone()
    {
        Cluster c;
        FakeKubelet kubelet(c.store, c.clock);
        kubelet.setNode("node-1"); // graceful deletion: old pods linger while terminating
        QVERIFY(c.store.create(kDeployments, deployment("kubia", 3, "luksa/kubia:v1", {{"type", "Recreate"}})).ok());
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia"), 10000);
        const std::string oldName = du::str(c.replicaSets("kubia").at(0), "/metadata/name");
        kubelet.resetWatermarks();

        c.setImage("kubia", "luksa/kubia:v2");
        auto oldScaledDown = [&] {
            const json old = c.get(kReplicaSets, oldName);
            const json d = c.deployment("kubia");
            auto pods = c.pods("app=kubia");
            return du::specReplicas(old) == 0 && du::num(old, "/status/replicas") == 0 && pods.size() == 3
                && std::all_of(pods.begin(), pods.end(),
                               [](const json &p) { return !du::str(p, "/metadata/deletionTimestamp").empty(); })
                && du::num(d, "/status/observedGeneration") == du::num(d, "/metadata/generation");
        };
        QTRY_VERIFY_WITH_TIMEOUT(oldScaledDown(), 10000);
        // Terminating pods still run: no new ReplicaSet yet.
        QCOMPARE(c.replicaSets("kubia").size(), size_t(1));

        kubelet.finishTerminating();
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia") && c.replicaSetWithRevision("kubia", 2), 10000);
        QVERIFY(!kubelet.overlapped());
        const std::string newName = du::str(*c.replicaSetWithRevision("kubia", 2), "/metadata/name");
        QCOMPARE(c.events("ScalingReplicaSet"),
                 (std::vector<std::string>{"Scaled up replica set " + oldName + " from 0 to 3",
                                           "Scaled down replica set " + oldName + " from 3 to 0",
                                           "Scaled up replica set " + newName + " from 0 to 3"}));
    }

    void pausedScalesButDoesNotRoll()
    {
        Cluster c;
        FakeKubelet kubelet(c.store, c.clock);
        QVERIFY(c.store.create(kDeployments, deployment("kubia", 3, "luksa/kubia:v1")).ok());
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia"), 10000);
        const std::string oldName = du::str(c.replicaSets("kubia").at(0), "/metadata/name");

        c.modifyDeployment("kubia", [](json &d) { d["spec"]["paused"] = true; });
        QTRY_COMPARE_WITH_TIMEOUT(c.conditionReason("kubia", "Progressing"), std::string(du::PausedReason), 10000);
        c.setImage("kubia", "luksa/kubia:v2");
        c.modifyDeployment("kubia", [](json &d) { d["spec"]["replicas"] = 5; });
        // Scaling applies to the current ReplicaSet; the new template waits.
        QTRY_COMPARE_WITH_TIMEOUT(du::specReplicas(c.get(kReplicaSets, oldName)), int64_t(5), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(du::num(c.deployment("kubia"), "/status/availableReplicas") == 5
                                     && du::num(c.deployment("kubia"), "/status/observedGeneration")
                                         == du::num(c.deployment("kubia"), "/metadata/generation"),
                                 10000);
        QCOMPARE(c.replicaSets("kubia").size(), size_t(1));
        QCOMPARE(du::annotation(c.deployment("kubia"), du::RevisionAnnotation), std::string("1"));
        QCOMPARE(du::annotation(c.get(kReplicaSets, oldName), du::DesiredReplicasAnnotation), std::string("5"));

        c.modifyDeployment("kubia", [](json &d) { d["spec"]["paused"] = false; });
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia") && c.replicaSetWithRevision("kubia", 2), 10000);
        QCOMPARE(du::specReplicas(*c.replicaSetWithRevision("kubia", 2)), int64_t(5));
        QCOMPARE(du::specReplicas(c.get(kReplicaSets, oldName)), int64_t(0));
        QVERIFY(c.events("ScalingReplicaSet").at(1) == "Scaled up replica set " + oldName + " from 3 to 5");
    }

    void scalingMidRolloutIsProportional()
    {
        Cluster c;
        FakeKubelet kubelet(c.store, c.clock);
        kubelet.setAccept([](const json &pod) { return imageIs(pod, "luksa/kubia:v1"); });
        QVERIFY(c.store.create(kDeployments, deployment("kubia", 10, "luksa/kubia:v1", rolling(3, 2))).ok());
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia"), 10000);
        const std::string oldName = du::str(c.replicaSets("kubia").at(0), "/metadata/name");
        c.setImage("kubia", "luksa/kubia:v2");
        auto sizes = [&](int64_t old, int64_t fresh) {
            auto v2 = c.replicaSetWithRevision("kubia", 2);
            return v2 && du::specReplicas(*v2) == fresh && du::specReplicas(c.get(kReplicaSets, oldName)) == old;
        };
        QTRY_VERIFY_WITH_TIMEOUT(sizes(8, 5), 10000);

        // 5 more replicas (18 allowed with the surge, 13 now) go 3 to the old and 2 to the
        // new ReplicaSet: 8/13 and 5/13 of 18, rounded.
        c.modifyDeployment("kubia", [](json &d) { d["spec"]["replicas"] = 15; });
        QTRY_VERIFY_WITH_TIMEOUT(sizes(11, 7), 10000);
        const std::string newName = du::str(*c.replicaSetWithRevision("kubia", 2), "/metadata/name");
        auto scaling = c.events("ScalingReplicaSet");
        QVERIFY(std::count(scaling.begin(), scaling.end(), "Scaled up replica set " + oldName + " from 8 to 11") == 1);
        QVERIFY(std::count(scaling.begin(), scaling.end(), "Scaled up replica set " + newName + " from 5 to 7") == 1);
        QCOMPARE(du::annotation(c.get(kReplicaSets, oldName), du::MaxReplicasAnnotation), std::string("18"));

        kubelet.setAccept([](const json &) { return true; });
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia") && sizes(0, 15), 10000);
    }

    void revisionHistoryLimitDeletesOldestFirst()
    {
        Cluster c;
        FakeKubelet kubelet(c.store, c.clock);
        json d = deployment("kubia", 2, "luksa/kubia:v1");
        d["spec"]["revisionHistoryLimit"] = 1;
        QVERIFY(c.store.create(kDeployments, d).ok());
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia"), 10000);
        const std::string first = du::str(c.replicaSets("kubia").at(0), "/metadata/name");
        c.setImage("kubia", "luksa/kubia:v2");
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia") && c.replicaSetWithRevision("kubia", 2), 10000);
        QCOMPARE(c.replicaSets("kubia").size(), size_t(2)); // one old kept
        const std::string second = du::str(*c.replicaSetWithRevision("kubia", 2), "/metadata/name");
        c.setImage("kubia", "luksa/kubia:v3");
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia") && c.replicaSetWithRevision("kubia", 3), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(c.replicaSets("kubia").size(), size_t(2), 10000);
        QVERIFY(c.get(kReplicaSets, first).is_null());
        QVERIFY(!c.get(kReplicaSets, second).is_null());
    }

    void progressDeadlineExceeded()
    {
        FakeClock clock;
        Cluster c(clock);
        // No kubelet: the pods never become ready.
        json d = deployment("kubia", 3, "luksa/kubia:v1");
        d["spec"]["progressDeadlineSeconds"] = 30;
        QVERIFY(c.store.create(kDeployments, d).ok());
        QTRY_VERIFY_WITH_TIMEOUT(du::num(c.deployment("kubia"), "/status/updatedReplicas") == 3
                                     && c.conditionReason("kubia", "Progressing") != ""
                                     && c.conditionReason("kubia", "Available") == du::MinimumReplicasUnavailable,
                                 10000);
        // Waiting for the deadline is a requeue on the clock, not a poll.
        QTRY_VERIFY_WITH_TIMEOUT(c.dc.queue().delayedLen() > 0, 10000);
        QVERIFY(c.conditionReason("kubia", "Progressing") != du::TimedOutReason);

        QTRY_VERIFY_WITH_TIMEOUT((clock.advance(5s), c.conditionReason("kubia", "Progressing") == du::TimedOutReason), 10000);
        const json status = c.deployment("kubia")["status"];
        const json *progressing = du::getCondition(status, "Progressing");
        QCOMPARE((*progressing)["status"], json("False"));
        const std::string rsName = du::str(c.replicaSets("kubia").at(0), "/metadata/name");
        QCOMPARE((*progressing)["message"], json("ReplicaSet \"" + rsName + "\" has timed out progressing."));
        QCOMPARE(c.conditionReason("kubia", "Available"), std::string(du::MinimumReplicasUnavailable));
    }

    void minReadySecondsCountsOnTheClock()
    {
        FakeClock clock;
        Cluster c(clock);
        FakeKubelet kubelet(c.store, clock);
        json d = deployment("kubia", 2, "luksa/kubia:v1");
        d["spec"]["minReadySeconds"] = 10;
        QVERIFY(c.store.create(kDeployments, d).ok());
        QTRY_COMPARE_WITH_TIMEOUT(du::num(c.deployment("kubia"), "/status/readyReplicas"), int64_t(2), 10000);
        QCOMPARE(du::num(c.replicaSets("kubia").at(0), "/spec/minReadySeconds"), int64_t(10));
        QCOMPARE(du::num(c.deployment("kubia"), "/status/availableReplicas"), int64_t(0));
        QTRY_VERIFY_WITH_TIMEOUT(c.dc.queue().delayedLen() > 0, 10000);
        QTRY_VERIFY_WITH_TIMEOUT((clock.advance(2s), c.rolledOut("kubia")), 10000);
    }

    void adoptsMatchingOrphansAndReleasesStrays()
    {
        Cluster c;
        FakeKubelet kubelet(c.store, c.clock);
        // A ReplicaSet with the deployment's template, made by hand before the deployment.
        json d = deployment("kubia", 2, "luksa/kubia:v1");
        json orphan = {{"apiVersion", "apps/v1"},
                       {"kind", "ReplicaSet"},
                       {"metadata", {{"name", "kubia-manual"}, {"namespace", "default"}, {"labels", {{"app", "kubia"}, {"pod-template-hash", "manual"}}}}},
                       {"spec",
                        {{"replicas", 2},
                         {"selector", {{"matchLabels", {{"app", "kubia"}, {"pod-template-hash", "manual"}}}}},
                         {"template", d["spec"]["template"]}}}};
        orphan["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] = "manual";
        QVERIFY(c.store.create(kReplicaSets, orphan).ok());
        // Once its own controller acted on it, the shared ReplicaSet cache holds it: otherwise
        // the deployment could sync first and make a ReplicaSet of its own, as it would in
        // Kubernetes.
        QTRY_COMPARE_WITH_TIMEOUT(du::num(c.get(kReplicaSets, "kubia-manual"), "/status/replicas"), int64_t(2), 10000);
        QVERIFY(c.store.create(kDeployments, d).ok());
        QTRY_VERIFY_WITH_TIMEOUT(c.rolledOut("kubia"), 10000);
        QCOMPARE(c.replicaSets("kubia").size(), size_t(1));
        const json adopted = c.get(kReplicaSets, "kubia-manual");
        QCOMPARE(model::Object(adopted).controllerRef()->name, std::string("kubia"));
        QCOMPARE(du::annotation(adopted, du::RevisionAnnotation), std::string("1"));

        // Relabelled out of the selector: released, and the deployment makes its own.
        QVERIFY(c.store.modify(kReplicaSets, "default", "kubia-manual", [](json &rs) -> Result<bool> {
            rs["metadata"]["labels"]["app"] = "debug";
            return true;
        }).ok());
        QTRY_VERIFY_WITH_TIMEOUT(!model::Object(c.get(kReplicaSets, "kubia-manual")).controllerRef().has_value(), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(c.replicaSets("kubia").size() == 1
                                     && du::str(c.replicaSets("kubia").at(0), "/metadata/name") != "kubia-manual",
                                 10000);
    }

    void syncOfMissingDeploymentIsNoop()
    {
        Cluster c;
        QVERIFY(c.dc.sync("default/missing").ok());
    }
};

QTEST_GUILESS_MAIN(TestDeployment)
#include "tst_deployment.moc"
