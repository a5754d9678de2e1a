#include "core/controllers/replicaset/replicasetcontroller.h"
#include "core/model/object.h"

#include <QtTest>

using namespace podscape::core;
using namespace podscape::core::controllers;
using nlohmann::json;

namespace {

json replicaSet(const std::string &name, int replicas)
{
    return {{"apiVersion", "apps/v1"},
            {"kind", "ReplicaSet"},
            {"metadata", {{"name", name}, {"namespace", "default"}}},
            {"spec",
             {{"replicas", replicas},
              {"selector", {{"matchLabels", {{"app", name}}}}},
              {"template",
               {{"metadata", {{"labels", {{"app", name}}}}},
                {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "luksa/kubia"}}})}}}}}}}};
}

json replicationController(const std::string &name, int replicas)
{
    json rc = replicaSet(name, replicas);
    rc["apiVersion"] = "v1";
    rc["kind"] = "ReplicationController";
    rc["spec"]["selector"] = {{"app", name}};
    return rc;
}

struct Fixture {
    store::Store store;
    SharedInformers informers{store, Clock::system()};
};

std::vector<store::ObjectPtr> podsOf(store::Store &s, const std::string &app, bool activeOnly = true)
{
    store::ListOptions o;
    o.labels = *model::LabelSelector::parse("app=" + app);
    std::vector<store::ObjectPtr> out;
    auto list = s.list("pods", o);
    for (auto &p : list->items)
        if (!activeOnly || isPodActive(*p))
            out.push_back(p);
    return out;
}

int countEvents(store::Store &s, const std::string &reason)
{
    int n = 0;
    auto list = s.list("events");
    for (auto &e : list->items)
        if ((*e)["reason"] == reason)
            n += (*e)["count"].get<int>();
    return n;
}

} // namespace

class TestReplicaSetController : public QObject
{
    Q_OBJECT
private slots:
    void keepsReplicasAndHeals()
    {
        Fixture f;
        ReplicaSetController rs(f.informers, ReplicaSetController::Kind::ReplicaSet);
        f.informers.start();
        rs.start(2);
        QVERIFY(f.store.create("replicasets.apps", replicaSet("kubia", 3)).ok());
        QTRY_COMPARE_WITH_TIMEOUT(podsOf(f.store, "kubia").size(), size_t(3), 5000);
        auto pods = podsOf(f.store, "kubia");
        auto owner = model::Object(*pods[0]).controllerRef();
        QVERIFY(owner.has_value());
        QCOMPARE(owner->kind, std::string("ReplicaSet"));
        QVERIFY((*pods[0])["metadata"]["name"].get<std::string>().rfind("kubia-", 0) == 0);
        // a deleted pod is replaced by a new one
        std::string victim = (*pods[1])["metadata"]["name"];
        QVERIFY(f.store.remove("pods", "default", victim).ok());
        QTRY_COMPARE_WITH_TIMEOUT(podsOf(f.store, "kubia").size(), size_t(3), 5000);
        for (auto &p : podsOf(f.store, "kubia"))
            QVERIFY((*p)["metadata"]["name"] != victim);
        QTRY_COMPARE_WITH_TIMEOUT(countEvents(f.store, "SuccessfulCreate"), 4, 5000);
        QTRY_COMPARE_WITH_TIMEOUT((**f.store.get("replicasets.apps", "default", "kubia"))["status"]["replicas"], json(3), 5000);
        rs.stop();
        f.informers.stop();
    }

    void scalesUpAndDown()
    {
        Fixture f;
        ReplicaSetController rs(f.informers, ReplicaSetController::Kind::ReplicaSet);
        f.informers.start();
        rs.start();
        QVERIFY((f.store.create("replicasets.apps", replicaSet("web", 2))).ok());
        QTRY_COMPARE_WITH_TIMEOUT(podsOf(f.store, "web").size(), size_t(2), 5000);
        // one pod becomes ready: scaling down must keep it
        auto first = podsOf(f.store, "web")[0];
        std::string readyPod = (*first)["metadata"]["name"];
        QVERIFY((f.store.modify("pods", "default", readyPod, [](json &p) -> Result<bool> {
            p["spec"]["nodeName"] = "node-1";
            p["status"] = {{"phase", "Running"},
                           {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", "2024-01-01T00:00:00Z"}}})}};
            return true;
        })).ok());
        QVERIFY((f.store.modify("replicasets.apps", "default", "web", [](json &o) -> Result<bool> {
            o["spec"]["replicas"] = 7;
            return true;
        })).ok());
        QTRY_COMPARE_WITH_TIMEOUT(podsOf(f.store, "web").size(), size_t(7), 5000);
        QVERIFY((f.store.modify("replicasets.apps", "default", "web", [](json &o) -> Result<bool> {
            o["spec"]["replicas"] = 1;
            return true;
        })).ok());
        QTRY_COMPARE_WITH_TIMEOUT(podsOf(f.store, "web").size(), size_t(1), 5000);
        QCOMPARE((*podsOf(f.store, "web")[0])["metadata"]["name"], json(readyPod));
        QTRY_COMPARE_WITH_TIMEOUT((**f.store.get("replicasets.apps", "default", "web")).value("status", json::object()).value("readyReplicas", 0), 1, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(countEvents(f.store, "SuccessfulDelete"), 6, 5000);
        rs.stop();
        f.informers.stop();
    }

    void adoptsOrphansAndReleasesStrays()
    {
        Fixture f;
        ReplicaSetController rs(f.informers, ReplicaSetController::Kind::ReplicaSet);
        // an orphan that matches exists before the ReplicaSet
        QVERIFY((f.store.create("pods", json{{"apiVersion", "v1"}, {"kind", "Pod"},
                                    {"metadata", {{"name", "orphan"}, {"namespace", "default"}, {"labels", {{"app", "kubia"}}}}},
                                    {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "x"}}})}}}})).ok());
        f.informers.start();
        rs.start();
        QVERIFY((f.store.create("replicasets.apps", replicaSet("kubia", 2))).ok());
        QTRY_COMPARE_WITH_TIMEOUT(podsOf(f.store, "kubia").size(), size_t(2), 5000);
        auto orphan = f.store.get("pods", "default", "orphan");
        QVERIFY(orphan.ok());
        QVERIFY(model::Object(**orphan).controllerRef().has_value()); // adopted, so only one pod was created
        // relabel the orphan: it is released and replaced
        QVERIFY((f.store.modify("pods", "default", "orphan", [](json &p) -> Result<bool> {
            p["metadata"]["labels"]["app"] = "debug";
            return true;
        })).ok());
        QTRY_VERIFY_WITH_TIMEOUT(!model::Object(**f.store.get("pods", "default", "orphan")).controllerRef().has_value(), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(podsOf(f.store, "kubia").size(), size_t(2), 5000);
        rs.stop();
        f.informers.stop();
    }

    void replicationControllerUsesMapSelector()
    {
        Fixture f;
        ReplicaSetController rc(f.informers, ReplicaSetController::Kind::ReplicationController);
        f.informers.start();
        rc.start();
        QVERIFY((f.store.create("replicationcontrollers", replicationController("kubia", 3))).ok());
        QTRY_COMPARE_WITH_TIMEOUT(podsOf(f.store, "kubia").size(), size_t(3), 5000);
        auto ref = model::Object(*podsOf(f.store, "kubia")[0]).controllerRef();
        QCOMPARE(ref->kind, std::string("ReplicationController"));
        QCOMPARE(ref->apiVersion, std::string("v1"));
        // deleting the RC leaves its pods to the garbage collector; the controller stops managing
        QVERIFY(f.store.remove("replicationcontrollers", "default", "kubia").ok());
        QTRY_COMPARE_WITH_TIMEOUT(rc.queue().len(), size_t(0), 5000);
        rc.stop();
        f.informers.stop();
    }

    void syncIsIdempotent()
    {
        Fixture f;
        ReplicaSetController rs(f.informers, ReplicaSetController::Kind::ReplicaSet);
        f.informers.start();
        QVERIFY((f.store.create("replicasets.apps", replicaSet("kubia", 2))).ok());
        QVERIFY(f.informers.waitForSync(std::chrono::seconds(5)));
        QTRY_VERIFY_WITH_TIMEOUT(rs.queue().len() > 0, 5000);
        QVERIFY(rs.sync("default/kubia").ok());
        QCOMPARE(podsOf(f.store, "kubia").size(), size_t(2));
        // the cache has not seen the new pods yet: expectations keep a second sync from
        // creating two more
        QVERIFY(rs.sync("default/kubia").ok());
        QCOMPARE(podsOf(f.store, "kubia").size(), size_t(2));
        QVERIFY(rs.sync("default/missing").ok());
        f.informers.stop();
    }
};

QTEST_GUILESS_MAIN(TestReplicaSetController)
#include "tst_replicasetcontroller.moc"
