#include "core/controllers/garbagecollector/garbagecollector.h"

#include <QtTest>

using namespace podscape::core;
using namespace podscape::core::controllers;
using nlohmann::json;

namespace {

json ownerRef(const json &owner, bool blocks = true)
{
    return {{"apiVersion", owner["apiVersion"]},
            {"kind", owner["kind"]},
            {"name", owner["metadata"]["name"]},
            {"uid", owner["metadata"]["uid"]},
            {"controller", true},
            {"blockOwnerDeletion", blocks}};
}

struct Fixture {
    store::Store store;
    SharedInformers informers{store, Clock::system()};
    GarbageCollector gc{informers};
    // The Deployment -> ReplicaSet -> Pods chain a deployment controller would have made.
    json deployment, replicaSet;
    std::vector<std::string> pods{"web-7d4b9-a", "web-7d4b9-b"};

    Fixture()
    {
        informers.start();
        gc.start(2);
    }
    ~Fixture()
    {
        gc.stop();
        informers.stop();
    }

    void buildChain(const json &podExtraMetadata = json::object())
    {
        auto d = store.create("deployments.apps", {{"apiVersion", "apps/v1"},
                                                   {"kind", "Deployment"},
                                                   {"metadata", {{"name", "web"}, {"namespace", "default"}}},
                                                   {"spec", {{"replicas", 2}}}});
        QVERIFY(d.ok());
        deployment = **d;
        auto rs = store.create("replicasets.apps", {{"apiVersion", "apps/v1"},
                                                    {"kind", "ReplicaSet"},
                                                    {"metadata",
                                                     {{"name", "web-7d4b9"},
                                                      {"namespace", "default"},
                                                      {"ownerReferences", json::array({ownerRef(deployment)})}}},
                                                    {"spec", {{"replicas", 2}}}});
        QVERIFY(rs.ok());
        replicaSet = **rs;
        for (const auto &name : pods) {
            json meta = {{"name", name}, {"namespace", "default"}, {"ownerReferences", json::array({ownerRef(replicaSet)})}};
            meta.update(podExtraMetadata);
            QVERIFY(store.create("pods", {{"apiVersion", "v1"},
                                          {"kind", "Pod"},
                                          {"metadata", meta},
                                          {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "x"}}})}}}})
                        .ok());
        }
    }

    bool exists(const std::string &resource, const std::string &name) { return store.get(resource, "default", name).ok(); }
    size_t podCount() { return store.list("pods")->items.size(); }
    bool deleting(const std::string &resource, const std::string &name)
    {
        auto o = store.get(resource, "default", name);
        return o.ok() && (**o)["metadata"].contains("deletionTimestamp");
    }
};

} // namespace

class TestGarbageCollector : public QObject
{
    Q_OBJECT
private slots:
    void watchesEveryDeletableKindButEvents()
    {
        Fixture f;
        const auto &r = f.gc.resources();
        for (const char *kind : {"pods", "replicasets.apps", "deployments.apps", "replicationcontrollers", "endpoints", "services",
                                 "configmaps", "secrets", "nodes", "namespaces"})
            QVERIFY2(std::find(r.begin(), r.end(), kind) != r.end(), kind);
        QVERIFY(std::find(r.begin(), r.end(), "events") == r.end());
    }

    void backgroundDeletesTheChain()
    {
        Fixture f;
        f.buildChain();
        QVERIFY(f.store.remove("deployments.apps", "default", "web").ok());
        QTRY_VERIFY_WITH_TIMEOUT(!f.exists("replicasets.apps", "web-7d4b9"), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(f.podCount(), size_t(0), 5000);
    }

    void foregroundWaitsForDependents()
    {
        Fixture f;
        // A finalizer of someone else's holds one pod, and with it the whole chain.
        f.buildChain({{"finalizers", json::array({"example.com/hold"})}});
        store::DeleteOptions foreground;
        foreground.propagationPolicy = "Foreground";
        QVERIFY(f.store.remove("deployments.apps", "default", "web", foreground).ok());
        // Dependents are deleted first: the ReplicaSet in the foreground too (it has pods).
        QTRY_VERIFY_WITH_TIMEOUT(f.deleting("pods", f.pods[0]) && f.deleting("pods", f.pods[1]), 5000);
        QTRY_VERIFY_WITH_TIMEOUT(f.deleting("replicasets.apps", "web-7d4b9"), 5000);
        auto rs = f.store.get("replicasets.apps", "default", "web-7d4b9");
        QCOMPARE((**rs)["metadata"]["finalizers"], json::array({"foregroundDeletion"}));
        QVERIFY(f.deleting("deployments.apps", "web"));
        QTRY_COMPARE_WITH_TIMEOUT(f.gc.queue().len(), size_t(0), 5000);
        QVERIFY(f.exists("deployments.apps", "web")); // still waiting
        // The pods' finalizer goes: the pods, then the ReplicaSet, then the Deployment go.
        for (const auto &name : f.pods)
            QVERIFY(f.store.modify("pods", "default", name, [](json &p) -> Result<bool> {
                        p["metadata"].erase("finalizers");
                        return true;
                    }).ok());
        QTRY_VERIFY_WITH_TIMEOUT(!f.exists("deployments.apps", "web"), 5000);
        QVERIFY(!f.exists("replicasets.apps", "web-7d4b9"));
        QCOMPARE(f.podCount(), size_t(0));
    }

    void foregroundIgnoresNonBlockingDependentsWhenFinishing()
    {
        Fixture f;
        auto cm = f.store.create("configmaps", {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "owner"}, {"namespace", "default"}}}});
        QVERIFY(cm.ok());
        // A dependent that does not block its owner, held by a finalizer: the owner goes anyway.
        QVERIFY(f.store.create("secrets", {{"apiVersion", "v1"},
                                           {"kind", "Secret"},
                                           {"metadata",
                                            {{"name", "dep"},
                                             {"namespace", "default"},
                                             {"finalizers", json::array({"example.com/hold"})},
                                             {"ownerReferences", json::array({ownerRef(**cm, false)})}}}})
                    .ok());
        store::DeleteOptions foreground;
        foreground.propagationPolicy = "Foreground";
        QVERIFY(f.store.remove("configmaps", "default", "owner", foreground).ok());
        QTRY_VERIFY_WITH_TIMEOUT(!f.exists("configmaps", "owner"), 5000);
        QTRY_VERIFY_WITH_TIMEOUT(f.deleting("secrets", "dep"), 5000); // deleted too, still finalizing
    }

    void orphanKeepsDependents()
    {
        Fixture f;
        f.buildChain();
        store::DeleteOptions orphan;
        orphan.propagationPolicy = "Orphan";
        QVERIFY(f.store.remove("deployments.apps", "default", "web", orphan).ok());
        QTRY_VERIFY_WITH_TIMEOUT(!f.exists("deployments.apps", "web"), 5000);
        auto rs = f.store.get("replicasets.apps", "default", "web-7d4b9");
        QVERIFY(rs.ok());
        QVERIFY(!(**rs)["metadata"].contains("ownerReferences"));
        QVERIFY(!(**rs)["metadata"].contains("deletionTimestamp"));
        QCOMPARE(f.podCount(), size_t(2));
        // The pods still belong to the ReplicaSet; deleting it now collects them.
        QVERIFY(f.store.remove("replicasets.apps", "default", "web-7d4b9").ok());
        QTRY_COMPARE_WITH_TIMEOUT(f.podCount(), size_t(0), 5000);
    }

    void danglingOwnerAtCreation()
    {
        Fixture f;
        json ghost = {{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"metadata", {{"name", "ghost"}, {"uid", "no-such-uid"}}}};
        QVERIFY(f.store.create("pods", {{"apiVersion", "v1"},
                                        {"kind", "Pod"},
                                        {"metadata", {{"name", "stray"}, {"namespace", "default"}, {"ownerReferences", json::array({ownerRef(ghost)})}}},
                                        {"spec", json::object()}})
                    .ok());
        QTRY_VERIFY_WITH_TIMEOUT(!f.exists("pods", "stray"), 5000);
    }

    void danglingReferenceIsDroppedWhenAnotherOwnerRemains()
    {
        Fixture f;
        auto alive = f.store.create("configmaps", {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "alive"}, {"namespace", "default"}}}});
        QVERIFY(alive.ok());
        json ghost = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "ghost"}, {"uid", "gone-uid"}}}};
        json aliveRef = ownerRef(**alive);
        aliveRef["controller"] = false;
        QVERIFY(f.store.create("secrets", {{"apiVersion", "v1"},
                                           {"kind", "Secret"},
                                           {"metadata", {{"name", "s"}, {"namespace", "default"}, {"ownerReferences", json::array({aliveRef, ownerRef(ghost)})}}}})
                    .ok());
        QTRY_COMPARE_WITH_TIMEOUT((**f.store.get("secrets", "default", "s"))["metadata"]["ownerReferences"].size(), size_t(1), 5000);
        QCOMPARE((**f.store.get("secrets", "default", "s"))["metadata"]["ownerReferences"][0]["name"], json("alive"));
    }

    void ownerOnlyInTheStoreIsNotAbsent()
    {
        // The collector's caches may not have seen an owner yet; it must ask the store.
        store::Store store;
        SharedInformers informers{store, Clock::system()};
        GarbageCollector gc(informers);
        informers.start();
        QVERIFY(informers.waitForSync(std::chrono::seconds(5)));
        auto rs = store.create("replicasets.apps", {{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"metadata", {{"name", "rs"}, {"namespace", "default"}}}});
        QVERIFY(rs.ok());
        QVERIFY(store.create("pods", {{"apiVersion", "v1"},
                                      {"kind", "Pod"},
                                      {"metadata", {{"name", "p"}, {"namespace", "default"}, {"ownerReferences", json::array({ownerRef(**rs)})}}},
                                      {"spec", json::object()}})
                    .ok());
        QVERIFY(gc.sync("pods/default/p").ok()); // whatever the caches show by now
        QVERIFY(store.get("pods", "default", "p").ok());
        informers.stop();
    }

    void clusterScopedDependentOfNamespacedOwnerIsKept()
    {
        Fixture f;
        json nsOwner = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "cm"}, {"uid", "cm-uid"}}}};
        QVERIFY(f.store.create("nodes", {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "n1"}, {"ownerReferences", json::array({ownerRef(nsOwner)})}}}}).ok());
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                auto events = f.store.list("events");
                for (const auto &e : events->items)
                    if ((*e)["reason"] == "OwnerRefInvalidNamespace")
                        return true;
                return false;
            }(),
            5000);
        QVERIFY(f.store.get("nodes", "", "n1").ok());
    }
};

QTEST_GUILESS_MAIN(TestGarbageCollector)
#include "tst_garbagecollector.moc"
