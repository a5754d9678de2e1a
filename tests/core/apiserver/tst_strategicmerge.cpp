#include "core/apiserver/strategicmerge.h"

#include <QtTest>

using namespace podscape::core;
using nlohmann::json;

namespace {
json pod()
{
    return json::parse(R"({
      "apiVersion": "v1", "kind": "Pod",
      "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}, "finalizers": ["a.example/x"]},
      "spec": {
        "containers": [
          {"name": "app", "image": "nginx:1.25", "ports": [{"containerPort": 80, "protocol": "TCP"}],
           "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
          {"name": "sidecar", "image": "busybox", "args": ["sleep", "3600"]}
        ],
        "nodeSelector": {"disk": "ssd"}
      }
    })");
}

Result<json> merge(const json &original, const char *patch)
{
    return apiserver::strategicMerge(original, json::parse(patch), model::SchemaRegistry::builtin(), "Pod");
}
} // namespace

class TestStrategicMerge : public QObject
{
    Q_OBJECT
private slots:
    void mergesContainersByName()
    {
        auto r = merge(pod(), R"({"spec": {"containers": [{"name": "sidecar", "image": "busybox:1.36"}]}})");
        QVERIFY(r.ok());
        const json &c = (*r)["spec"]["containers"];
        QCOMPARE(c.size(), size_t(2));
        QCOMPARE(c[0]["image"], json("nginx:1.25")); // untouched
        QCOMPARE(c[1]["image"], json("busybox:1.36"));
        QCOMPARE(c[1]["args"], json::parse(R"(["sleep", "3600"])")); // kept: not a replace
    }

    void addsAnElementWithANewKey()
    {
        auto r = merge(pod(), R"({"spec": {"containers": [{"name": "log", "image": "fluentd"}]}})");
        QVERIFY(r.ok());
        QCOMPARE((*r)["spec"]["containers"].size(), size_t(3));
        QCOMPARE((*r)["spec"]["containers"][2]["name"], json("log"));
    }

    void nestedKeyedListsMergeToo()
    {
        auto r = merge(pod(), R"({"spec": {"containers": [{"name": "app", "env": [{"name": "B", "value": "two"}, {"name": "C", "value": "3"}]}]}})");
        QVERIFY(r.ok());
        QCOMPARE((*r)["spec"]["containers"][0]["env"],
                 json::parse(R"([{"name": "A", "value": "1"}, {"name": "B", "value": "two"}, {"name": "C", "value": "3"}])"));
    }

    void listsWithoutMergeKeyAreReplaced()
    {
        auto r = merge(pod(), R"({"spec": {"containers": [{"name": "sidecar", "args": ["sleep", "10"]}]}})");
        QVERIFY(r.ok());
        QCOMPARE((*r)["spec"]["containers"][1]["args"], json::parse(R"(["sleep", "10"])"));
    }

    void nullDeletesAndMapsMergeByKey()
    {
        auto r = merge(pod(), R"({"metadata": {"labels": {"tier": null, "version": "v2"}}, "spec": {"nodeSelector": null}})");
        QVERIFY(r.ok());
        QCOMPARE((*r)["metadata"]["labels"], json::parse(R"({"app": "web", "version": "v2"})"));
        QVERIFY(!(*r)["spec"].contains("nodeSelector"));
    }

    void deleteDirectiveRemovesAnElement()
    {
        auto r = merge(pod(), R"({"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}})");
        QVERIFY(r.ok());
        QCOMPARE((*r)["spec"]["containers"].size(), size_t(1));
        QCOMPARE((*r)["spec"]["containers"][0]["name"], json("app"));
    }

    void replaceDirectiveInAListReplacesIt()
    {
        auto r = merge(pod(), R"({"spec": {"containers": [{"name": "only", "image": "x"}, {"$patch": "replace"}]}})");
        QVERIFY(r.ok());
        QCOMPARE((*r)["spec"]["containers"], json::parse(R"([{"name": "only", "image": "x"}])"));
    }

    void replaceDirectiveInAMapReplacesIt()
    {
        auto r = merge(pod(), R"({"metadata": {"labels": {"$patch": "replace", "only": "this"}}})");
        QVERIFY(r.ok());
        QCOMPARE((*r)["metadata"]["labels"], json::parse(R"({"only": "this"})"));
    }

    void setElementOrderOrdersTheMergedList()
    {
        auto r = merge(pod(), R"({"spec": {"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}],
                                            "containers": [{"name": "app", "image": "nginx:1.26"}]}})");
        QVERIFY(r.ok());
        QCOMPARE((*r)["spec"]["containers"][0]["name"], json("sidecar"));
        QCOMPARE((*r)["spec"]["containers"][1]["image"], json("nginx:1.26"));
    }

    void primitiveSetsAreUnitedAndCanLoseElements()
    {
        auto r = merge(pod(), R"({"metadata": {"finalizers": ["b.example/y"]}})");
        QVERIFY(r.ok());
        QCOMPARE((*r)["metadata"]["finalizers"], json::parse(R"(["a.example/x", "b.example/y"])"));
        auto d = merge(*r, R"({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.example/x"]}})");
        QVERIFY(d.ok());
        QCOMPARE((*d)["metadata"]["finalizers"], json::parse(R"(["b.example/y"])"));
    }

    void retainKeysClearsTheOthers()
    {
        json deployment = json::parse(R"({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}})");
        auto r = apiserver::strategicMerge(deployment, json::parse(R"({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})"),
                                           model::SchemaRegistry::builtin(), "Deployment");
        QVERIFY(r.ok());
        QCOMPARE((*r)["spec"]["strategy"], json::parse(R"({"type": "Recreate"})"));
    }

    void pauseAndResumeAsKubectlSendsThem()
    {
        json d = json::parse(R"({"spec": {"replicas": 3}})");
        auto paused = apiserver::strategicMerge(d, json::parse(R"({"spec": {"paused": true}})"), model::SchemaRegistry::builtin(), "Deployment");
        QVERIFY(paused.ok());
        QCOMPARE((*paused)["spec"]["paused"], json(true));
        auto resumed = apiserver::strategicMerge(*paused, json::parse(R"({"spec": {"paused": null}})"), model::SchemaRegistry::builtin(), "Deployment");
        QVERIFY(resumed.ok());
        QVERIFY(!(*resumed)["spec"].contains("paused"));
        QCOMPARE((*resumed)["spec"]["replicas"], json(3));
    }

    void malformedPatchesSayWhere()
    {
        auto noKey = merge(pod(), R"({"spec": {"containers": [{"image": "x"}]}})");
        QVERIFY(!noKey);
        QCOMPARE(noKey.error().reason(), Reason::BadRequest);
        QVERIFY2(noKey.error().message().find("spec.containers[0]") != std::string::npos, noKey.error().message().c_str());
        QVERIFY(noKey.error().message().find("merge key: name") != std::string::npos);
        auto badDirective = merge(pod(), R"({"metadata": {"$patch": "explode"}})");
        QVERIFY(!badDirective);
        QVERIFY(badDirective.error().message().find("explode") != std::string::npos);
        auto notObject = apiserver::strategicMerge(pod(), json::array(), model::SchemaRegistry::builtin(), "Pod");
        QVERIFY(!notObject);
        auto wholeDelete = merge(pod(), R"({"$patch": "delete"})");
        QVERIFY(!wholeDelete);
    }
};

QTEST_GUILESS_MAIN(TestStrategicMerge)
#include "tst_strategicmerge.moc"
