#include "core/model/object.h"
#include "core/model/yamlcodec.h"

#include <QtTest>

using namespace podscape::core;
using namespace podscape::core::model;
using nlohmann::json;

class TestObject : public QObject
{
    Q_OBJECT
private slots:
    void unknownFieldsRoundTrip()
    {
        json doc = json::parse(R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},
                                  "spec":{"futureField":{"x":[1,2,{"y":null}]}},"extra":"kept"})");
        Object o(doc);
        o.setLabel("app", "kubia");
        QCOMPARE(o.doc()["spec"], doc["spec"]);
        QCOMPARE(o.doc()["extra"], "kept");
        QCOMPARE(o.label("app"), std::string("kubia"));
        auto yaml = encodeYaml(o.doc());
        auto back = decodeYamlDocument(yaml);
        QVERIFY(back.ok());
        QCOMPARE(back->value, o.doc());
    }

    void metadataAccessors()
    {
        Object o(json::parse(R"({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{
            "name":"kubia-7d9f","namespace":"default","uid":"u1","resourceVersion":"42","generation":3,
            "labels":{"app":"kubia","n":7},"annotations":{"deployment.kubernetes.io/revision":"2"},
            "ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"kubia","uid":"d1","controller":true}],
            "finalizers":["a","b"]}})"));
        QCOMPARE(o.gvk(), (GroupVersionKind{"apps", "v1", "ReplicaSet"}));
        QCOMPARE(o.name(), std::string("kubia-7d9f"));
        QCOMPARE(o.key(), std::string("default/kubia-7d9f"));
        QCOMPARE(o.generation(), int64_t(3));
        QCOMPARE(o.labels().size(), size_t(1)); // non-string values are not labels
        QCOMPARE(o.annotation("deployment.kubernetes.io/revision"), std::string("2"));
        auto owner = o.controllerRef();
        QVERIFY(owner.has_value());
        QCOMPARE(owner->kind, std::string("Deployment"));
        QCOMPARE(owner->uid, std::string("d1"));
        QCOMPARE(o.finalizers(), (std::vector<std::string>{"a", "b"}));
        o.setOwnerReferences({});
        QVERIFY(!o.doc()["metadata"].contains("ownerReferences"));
        QVERIFY(!o.controllerRef());
    }

    void accessorsNeverThrowOnWrongTypes()
    {
        Object o(json::parse(R"({"metadata":"oops","spec":[1,2]})"));
        QCOMPARE(o.name(), std::string());
        QVERIFY(o.labels().empty());
        QCOMPARE(o.integer("/spec/0"), int64_t(1));
        QVERIFY(o.at("/spec/7") == nullptr);
        QVERIFY(o.at("/spec/x") == nullptr);
        QVERIFY(o.at("spec") == nullptr);
        Object notObject(json::array());
        QVERIFY(notObject.doc().is_object());
        o.setName("fixed"); // replaces the mistyped metadata
        QCOMPARE(o.name(), std::string("fixed"));
    }

    void pointerEscapes()
    {
        Object o(json::parse(R"({"metadata":{"annotations":{"a/b":"slash","c~d":"tilde"}}})"));
        QCOMPARE(o.str("/metadata/annotations/a~1b"), std::string("slash"));
        QCOMPARE(o.str("/metadata/annotations/c~0d"), std::string("tilde"));
    }

    void pod()
    {
        Pod p(json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"kubia"},
            "spec":{"nodeName":"node-1","containers":[{"name":"kubia","image":"luksa/kubia"},{"name":"side","image":"busybox"}]},
            "status":{"phase":"Running","podIP":"127.244.1.5","conditions":[{"type":"Ready","status":"True"}],
                      "containerStatuses":[{"name":"kubia","restartCount":2},{"name":"side","restartCount":1}]}})"));
        QCOMPARE(p.phase(), std::string("Running"));
        QCOMPARE(p.nodeName(), std::string("node-1"));
        QVERIFY(p.isReady());
        QCOMPARE(p.restartCount(), 3);
        QCOMPARE(p.containers().size(), size_t(2));
        QCOMPARE(p.containers()[1].image, std::string("busybox"));
        QCOMPARE(p.terminationGracePeriodSeconds(), int64_t(30));
        QCOMPARE(p.conditionStatus("PodScheduled"), std::string());
    }

    void workloads()
    {
        Deployment d(json::parse(R"({"kind":"Deployment","metadata":{"name":"kubia",
            "annotations":{"deployment.kubernetes.io/revision":"4"}},"spec":{"paused":true}})"));
        QCOMPARE(d.replicas(), 1); // defaulted
        QCOMPARE(d.revision(), int64_t(4));
        QVERIFY(d.isPaused());
        QCOMPARE(d.strategyType(), std::string("RollingUpdate"));
        QCOMPARE(d.revisionHistoryLimit(), 10);
        d.setReplicas(5);
        QCOMPARE(d.replicas(), 5);
        Deployment bad(json::parse(R"({"metadata":{"annotations":{"deployment.kubernetes.io/revision":"x"}}})"));
        QCOMPARE(bad.revision(), int64_t(0));
        ReplicationController rc(json::parse(R"({"spec":{"replicas":0,"selector":{"app":"kubia"}}})"));
        QCOMPARE(rc.replicas(), 0);
        QCOMPARE(rc.selector().at("app"), std::string("kubia"));
    }

    void nodeAndService()
    {
        Node n(json::parse(R"({"spec":{"unschedulable":true},"status":{"capacity":{"cpu":"4"},
            "conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"False"}],
            "addresses":[{"type":"Hostname","address":"node-1"},{"type":"InternalIP","address":"127.0.1.1"}]}})"));
        QVERIFY(!n.isReady());
        QVERIFY(n.isUnschedulable());
        QCOMPARE(n.capacity("cpu"), std::string("4"));
        QCOMPARE(n.internalIP(), std::string("127.0.1.1"));
        Service s(json::parse(R"({"spec":{"selector":{"app":"kubia"},"ports":[{"port":80,"nodePort":30123},{"port":81}]}})"));
        QCOMPARE(s.type(), std::string("ClusterIP"));
        QCOMPARE(s.nodePorts(), std::vector<int>{30123});
    }

    void secretData()
    {
        Secret s(json::parse(R"({"data":{"user":"YWRtaW4=","pw":"cGFzcw=="},"stringData":{"pw":"override"}})"));
        auto d = s.decodedData();
        QVERIFY(d.has_value());
        QCOMPARE(d->at("user"), std::string("admin"));
        QCOMPARE(d->at("pw"), std::string("override"));
        Secret bad(json::parse(R"({"data":{"x":"not base64!"}})"));
        QVERIFY(!bad.decodedData().has_value());
    }

    void listAndWatchEvent()
    {
        json list = makeList("Pod", "v1", {json{{"metadata", {{"name", "a"}}}}}, "17", "tok", 5);
        QCOMPARE(list["kind"], "PodList");
        QCOMPARE(list["metadata"]["resourceVersion"], "17");
        QCOMPARE(list["metadata"]["continue"], "tok");
        QCOMPARE(list["metadata"]["remainingItemCount"], 5);
        QCOMPARE(list["items"].size(), 1u);

        WatchEvent e{WatchEvent::Type::Modified, json{{"kind", "Pod"}}};
        auto back = WatchEvent::fromJson(e.toJson());
        QVERIFY(back.ok());
        QCOMPARE(back->type, WatchEvent::Type::Modified);
        QCOMPARE(back->object["kind"], "Pod");
        QVERIFY(!WatchEvent::fromJson(json{{"type", "CHANGED"}, {"object", {}}}).ok());
        QVERIFY(!WatchEvent::fromJson(json{{"type", "ADDED"}}).ok());
    }

    void scaleAndTable()
    {
        Deployment d(json::parse(R"({"metadata":{"name":"kubia","namespace":"default","uid":"u","resourceVersion":"9"}})"));
        Scale s = Scale::forWorkload(d, 3, 2, "app=kubia");
        QCOMPARE(s.doc()["apiVersion"], "autoscaling/v1");
        QCOMPARE(s.specReplicas(), 3);
        QCOMPARE(s.statusReplicas(), 2);
        QCOMPARE(s.selector(), std::string("app=kubia"));
        QCOMPARE(s.resourceVersion(), std::string("9"));

        Table t;
        t.addColumn({"Name", "string", "name", "Name of the object", 0});
        t.addColumn({"IP", "string", "", "Pod IP", 1});
        t.addRow({"kubia", "127.244.1.5"}, json{{"kind", "PartialObjectMetadata"}});
        t.setResourceVersion("10");
        json j = t.toJson();
        QCOMPARE(j["kind"], "Table");
        QCOMPARE(j["apiVersion"], "meta.k8s.io/v1");
        QCOMPARE(j["columnDefinitions"][1]["priority"], 1);
        QCOMPARE(j["rows"][0]["cells"][0], "kubia");
        QCOMPARE(j["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        QVERIFY(t.toJson(false)["columnDefinitions"].empty()); // watch rows after the first omit columns
    }

    void successStatus()
    {
        json s = makeSuccessStatus("pods", "kubia", "u1");
        QCOMPARE(s["status"], "Success");
        QCOMPARE(s["details"]["name"], "kubia");
    }
};

QTEST_GUILESS_MAIN(TestObject)
#include "tst_object.moc"
