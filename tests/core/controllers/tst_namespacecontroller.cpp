#include "core/controllers/namespace/namespacecontroller.h"

#include <QtTest>

using namespace podscape::core;
using namespace podscape::core::controllers;
using nlohmann::json;

namespace {

json object(const char *apiVersion, const char *kind, const std::string &name, const std::string &ns = "demo")
{
    return {{"apiVersion", apiVersion}, {"kind", kind}, {"metadata", {{"name", name}, {"namespace", ns}}}};
}

json namespaceObject(const std::string &name)
{
    json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
    NamespaceController::initializeNamespace(ns);
    return ns;
}

struct Fixture {
    store::Store store;
    SharedInformers informers{store, Clock::system()};
    std::unique_ptr<NamespaceController> controller;

    explicit Fixture(bool start = true)
    {
        NamespaceController::Options options;
        options.finalizerEstimate = std::chrono::seconds(1);
        controller = std::make_unique<NamespaceController>(informers, options);
        informers.start();
        if (start)
            controller->start(2);
    }
    ~Fixture()
    {
        controller->stop();
        informers.stop();
    }

    bool exists(const std::string &resource, const std::string &name, const std::string &ns = "demo")
    {
        return store.get(resource, ns, name).ok();
    }
    json ns(const std::string &name)
    {
        auto n = store.get("namespaces", "", name);
        return n ? **n : json::object(); // empty: absent
    }
    json condition(const std::string &nsName, const std::string &type)
    {
        json n = ns(nsName);
        if (n.contains("status") && n["status"].contains("conditions"))
            for (const auto &c : n["status"]["conditions"])
                if (c["type"] == type)
                    return c;
        return json::object();
    }
    size_t contentCount(const std::string &nsName)
    {
        size_t n = 0;
        store::ListOptions o;
        o.ns = nsName;
        for (const auto &r : controller->contentResources())
            n += store.list(r, o)->items.size();
        return n;
    }
};

} // namespace

class TestNamespaceController : public QObject
{
    Q_OBJECT
private slots:
    void initialNamespacesExist()
    {
        Fixture f;
        for (const char *name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
            QTRY_VERIFY_WITH_TIMEOUT(!f.ns(name).empty(), 5000);
            json n = f.ns(name);
            QCOMPARE(n["spec"]["finalizers"], json::array({"kubernetes"}));
            QCOMPARE(n["metadata"]["finalizers"], json::array({"kubernetes"}));
            QCOMPARE(n["status"]["phase"], json("Active"));
            QCOMPARE(n["metadata"]["labels"]["kubernetes.io/metadata.name"], json(name));
        }
    }

    void systemNamespaceIsRecreated()
    {
        Fixture f;
        QTRY_VERIFY_WITH_TIMEOUT(!f.ns("kube-public").empty(), 5000);
        const json before = f.ns("kube-public");
        QVERIFY(f.store.remove("namespaces", "", "kube-public").ok());
        QTRY_VERIFY_WITH_TIMEOUT(!f.ns("kube-public").empty() && f.ns("kube-public")["metadata"]["uid"] != before["metadata"]["uid"],
                                 5000);
    }

    void namespaceWrittenDirectlyGetsTheFinalizer()
    {
        Fixture f;
        QVERIFY(f.store.create("namespaces", {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "raw"}}}}).ok());
        QTRY_COMPARE_WITH_TIMEOUT(f.ns("raw").value("metadata", json::object()).value("finalizers", json()), json::array({"kubernetes"}), 5000);
        QCOMPARE(f.ns("raw")["spec"]["finalizers"], json::array({"kubernetes"}));
    }

    void deletionRemovesContentThenTheNamespace()
    {
        Fixture f;
        QVERIFY(f.store.create("namespaces", namespaceObject("demo")).ok());
        for (const auto &name : {"a", "b"}) {
            json pod = object("v1", "Pod", name);
            pod["spec"] = {{"containers", json::array({{{"name", "c"}, {"image", "x"}}})}};
            QVERIFY(f.store.create("pods", pod).ok());
        }
        QVERIFY(f.store.create("services", object("v1", "Service", "web")).ok());
        QVERIFY(f.store.create("configmaps", object("v1", "ConfigMap", "settings")).ok());
        QVERIFY(f.store.create("deployments.apps", object("apps/v1", "Deployment", "web")).ok());
        // Something in another namespace stays.
        QVERIFY(f.store.create("configmaps", object("v1", "ConfigMap", "settings", "default")).ok());

        auto deleting = f.store.remove("namespaces", "", "demo");
        QVERIFY(deleting.ok());
        QVERIFY((**deleting)["metadata"].contains("deletionTimestamp")); // held by the finalizer
        QTRY_VERIFY_WITH_TIMEOUT(f.ns("demo").empty(), 5000);
        QCOMPARE(f.contentCount("demo"), size_t(0));
        QVERIFY(f.exists("configmaps", "settings", "default"));
    }

    void contentWithFinalizersKeepsItTerminating()
    {
        Fixture f;
        QVERIFY(f.store.create("namespaces", namespaceObject("demo")).ok());
        json held = object("v1", "ConfigMap", "held");
        held["metadata"]["finalizers"] = json::array({"example.com/hold"});
        QVERIFY(f.store.create("configmaps", held).ok());
        QVERIFY(f.store.create("secrets", object("v1", "Secret", "token")).ok());
        QVERIFY(f.store.remove("namespaces", "", "demo").ok());

        QTRY_COMPARE_WITH_TIMEOUT(f.ns("demo").value("status", json::object()).value("phase", std::string()), std::string("Terminating"), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(f.condition("demo", "NamespaceContentRemaining").value("message", std::string()),
                                  std::string("Some resources are remaining: configmaps. has 1 resource instances"), 5000);
        json remaining = f.condition("demo", "NamespaceContentRemaining");
        QCOMPARE(remaining["status"], json("True"));
        QCOMPARE(remaining["reason"], json("SomeResourcesRemain"));
        json finalizers = f.condition("demo", "NamespaceFinalizersRemaining");
        QCOMPARE(finalizers["status"], json("True"));
        QCOMPARE(finalizers["reason"], json("SomeFinalizersRemain"));
        QCOMPARE(finalizers["message"],
                 json("Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances"));
        json failure = f.condition("demo", "NamespaceDeletionContentFailure");
        QCOMPARE(failure["status"], json("False"));
        QCOMPARE(failure["reason"], json("ContentDeleted"));
        QCOMPARE(f.condition("demo", "NamespaceDeletionDiscoveryFailure")["reason"], json("ResourcesDiscovered"));
        QVERIFY(!f.exists("secrets", "token"));

        // The finalizer's owner finishes: the config map goes, and the namespace with it.
        QVERIFY(f.store.modify("configmaps", "demo", "held", [](json &c) -> Result<bool> {
                    c["metadata"].erase("finalizers");
                    return true;
                }).ok());
        QTRY_VERIFY_WITH_TIMEOUT(f.ns("demo").empty(), 5000);
    }

    void contentOfANamespaceDeletedBehindOurBackIsRemoved()
    {
        // The controller is not running while a namespace that never got its finalizer mirror
        // is deleted: the store removes it at once, leaving its content behind.
        Fixture f(false);
        QVERIFY(f.informers.waitForSync(std::chrono::seconds(5)));
        json raw = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "demo"}}}, {"spec", {{"finalizers", json::array({"kubernetes"})}}}};
        QVERIFY(f.store.create("namespaces", raw).ok());
        QVERIFY(f.store.create("configmaps", object("v1", "ConfigMap", "left")).ok());
        auto &cache = f.informers.forResource("namespaces");
        QTRY_VERIFY_WITH_TIMEOUT(cache.indexer().get("demo") != nullptr, 5000);
        QVERIFY(f.store.remove("namespaces", "", "demo").ok());
        QVERIFY(f.ns("demo").empty());
        QTRY_VERIFY_WITH_TIMEOUT(cache.indexer().get("demo") == nullptr, 5000);
        f.controller->start();
        QTRY_VERIFY_WITH_TIMEOUT(!f.exists("configmaps", "left"), 5000);
    }
};

QTEST_GUILESS_MAIN(TestNamespaceController)
#include "tst_namespacecontroller.moc"
