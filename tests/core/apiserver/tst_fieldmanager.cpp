// Field ownership and server-side apply: FieldsV1 as Kubernetes writes it, conflicts with
// other managers, force, removal of fields a manager stops applying, co-ownership, and
// ownership moving with ordinary writes. kubectl apply --server-side judges it in
// tst_apihandler.
#include "core/apiserver/fieldmanager.h"

#include <QtTest>

using namespace podscape::core;
using namespace podscape::core::apiserver;
using nlohmann::json;

namespace {

const auto kNow = Clock::TimePoint(std::chrono::seconds(1'800'000'000));

json deployment(int replicas, const std::string &image, bool withLabel = true)
{
    json d = json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},
        "spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
        "spec":{"containers":[{"name":"app","ports":[{"containerPort":80}]}]}}}})");
    d["spec"]["replicas"] = replicas;
    d["spec"]["template"]["spec"]["containers"][0]["image"] = image;
    if (withLabel)
        d["metadata"]["labels"] = {{"tier", "front"}};
    return d;
}

const json *entry(const json &object, const std::string &manager, const std::string &operation)
{
    const json &meta = object.at("metadata");
    if (!meta.contains("managedFields"))
        return nullptr;
    for (const auto &e : meta.at("managedFields")) // by reference: value() would copy
        if (e.at("manager") == manager && e.at("operation") == operation)
            return &e;
    return nullptr;
}

} // namespace

class TestFieldManager : public QObject
{
    Q_OBJECT
    FieldManager m{model::SchemaRegistry::builtin()};

private slots:
    void fieldsV1AsKubernetesWritesIt()
    {
        const json fields = FieldManager::toFieldsV1(m.fieldsOf(deployment(2, "nginx"), "Deployment"));
        // (Built in code, not as a literal: moc misreads raw strings with escaped quotes.)
        const json expectedMetadata = {{"f:labels", {{"f:tier", json::object()}}}};
        const json expectedSelector = {{"f:matchLabels", {{"f:app", json::object()}}}};
        // Ports are keyed by containerPort and protocol; protocol is not set here, so the key
        // holds only what the item has.
        json got = fields;
        QVERIFY2(got["f:spec"]["f:template"]["f:spec"]["f:containers"].contains("k:{\"name\":\"app\"}"), got.dump().c_str());
        const json &ports = got["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"]["f:ports"];
        QVERIFY2(ports.contains("k:{\"containerPort\":80}"), ports.dump().c_str());
        QCOMPARE(got["f:metadata"], expectedMetadata);
        QCOMPARE(got["f:spec"]["f:selector"], expectedSelector);
        QVERIFY(got["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"].contains("."));
        // Round trip.
        QCOMPARE(FieldManager::toFieldsV1(FieldManager::fromFieldsV1(fields)), fields);
        // Server-owned fields are never tracked.
        json withServer = deployment(2, "nginx");
        withServer["metadata"]["uid"] = "u";
        withServer["metadata"]["resourceVersion"] = "5";
        withServer["status"] = {{"replicas", 2}};
        QCOMPARE(FieldManager::toFieldsV1(m.fieldsOf(withServer, "Deployment")), fields);
    }

    void applyConflictsForceAndRemoval()
    {
        auto created = m.apply(nullptr, deployment(2, "nginx:1.25"), "Deployment", "alice", false, kNow);
        QVERIFY(created.ok());
        QVERIFY(entry(*created, "alice", "Apply"));
        QCOMPARE((*created)["spec"]["replicas"], json(2));

        // bob scales with an ordinary write: replicas become his.
        json scaled = *created;
        scaled["spec"]["replicas"] = 5;
        m.recordUpdate(&*created, scaled, "Deployment", "bob", kNow);
        QVERIFY(entry(scaled, "bob", "Update"));
        QCOMPARE((*entry(scaled, "bob", "Update"))["fieldsV1"], json::parse(R"({"f:spec":{"f:replicas":{}}})"));
        QVERIFY(!(*entry(scaled, "alice", "Apply"))["fieldsV1"]["f:spec"].contains("f:replicas"));

        // alice applies replicas 2 again: bob's value differs, a conflict naming him and the field.
        auto conflict = m.apply(&scaled, deployment(2, "nginx:1.25"), "Deployment", "alice", false, kNow);
        QVERIFY(!conflict.ok());
        QCOMPARE(conflict.error().reason(), Reason::Conflict);
        QCOMPARE(QString::fromStdString(conflict.error().message()),
                 QStringLiteral("Apply failed with 1 conflict: conflict with \"bob\" using apps/v1: .spec.replicas"));
        QCOMPARE(conflict.error().causes().size(), size_t(1));
        QCOMPARE(conflict.error().causes()[0].field, std::string(".spec.replicas"));

        // Applying bob's value is no conflict: both own it.
        auto shared = m.apply(&scaled, deployment(5, "nginx:1.25"), "Deployment", "alice", false, kNow);
        QVERIFY(shared.ok());
        QVERIFY((*entry(*shared, "bob", "Update"))["fieldsV1"]["f:spec"].contains("f:replicas"));

        // Forced, replicas move to alice.
        auto forced = m.apply(&scaled, deployment(2, "nginx:1.25"), "Deployment", "alice", true, kNow);
        QVERIFY(forced.ok());
        QCOMPARE((*forced)["spec"]["replicas"], json(2));
        QVERIFY(!entry(*forced, "bob", "Update")); // nothing left: the entry goes

        // alice stops applying the label: it goes; the image changes; other fields stay.
        json live = *forced;
        live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"; // defaulted, nobody's
        auto smaller = m.apply(&live, deployment(2, "nginx:1.26", false), "Deployment", "alice", false, kNow);
        QVERIFY(smaller.ok());
        QVERIFY(!(*smaller)["metadata"].contains("labels") || (*smaller)["metadata"]["labels"].empty());
        QCOMPARE((*smaller)["spec"]["template"]["spec"]["containers"][0]["image"], json("nginx:1.26"));
        QCOMPARE((*smaller)["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"], json("IfNotPresent"));
        QCOMPARE((*smaller)["spec"]["template"]["spec"]["containers"].size(), size_t(1));
    }

    void keyedListsMergeByKey()
    {
        // carol applies a sidecar; alice's container stays, both lists of fields are kept apart.
        auto base = m.apply(nullptr, deployment(1, "nginx"), "Deployment", "alice", false, kNow);
        QVERIFY(base.ok());
        json sidecar = json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
            "spec":{"template":{"spec":{"containers":[{"name":"log","image":"busybox"}]}}}})");
        auto both = m.apply(&*base, sidecar, "Deployment", "carol", false, kNow);
        QVERIFY(both.ok());
        const json &containers = (*both)["spec"]["template"]["spec"]["containers"];
        QCOMPARE(containers.size(), size_t(2));
        QCOMPARE(containers[0]["name"], json("app"));
        QCOMPARE(containers[1]["name"], json("log"));
        // carol withdrawing her container removes it alone.
        json none = sidecar;
        none["spec"]["template"]["spec"]["containers"] = json::array();
        none["spec"].erase("template");
        auto withdrawn = m.apply(&*both, none, "Deployment", "carol", false, kNow);
        QVERIFY(withdrawn.ok());
        QCOMPARE((*withdrawn)["spec"]["template"]["spec"]["containers"].size(), size_t(1));
        QCOMPARE((*withdrawn)["spec"]["template"]["spec"]["containers"][0]["name"], json("app"));
    }
};

QTEST_GUILESS_MAIN(TestFieldManager)
#include "tst_fieldmanager.moc"
