#include "core/cluster/clusterapi.h"
#include "tests/testdata.h"

#include <QtTest>

using namespace podscape::core;
using namespace podscape::core::cluster;
using nlohmann::json;

namespace {
struct Fixture {
    store::Store store;
    ClusterApi api{store};
    Fixture()
    {
        for (const char *ns : {"default", "kube-system"})
            if (!store.create("namespaces", json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}}).ok())
                qFatal("namespace");
    }
};
const char *kPod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kubia\nspec:\n  containers:\n  - name: kubia\n    image: luksa/kubia\n    ports:\n    - containerPort: 8080\n";
} // namespace

class TestClusterApi : public QObject
{
    Q_OBJECT
private slots:
    void createDefaultsAndStores()
    {
        Fixture f;
        auto r = f.api.applyManifests(kPod, "pod.yaml");
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message().c_str());
        QCOMPARE(r->size(), size_t(1));
        QVERIFY(r->front().created);
        auto stored = f.store.get("pods", "default", "kubia");
        QVERIFY(stored.ok());
        QCOMPARE((**stored)["spec"]["restartPolicy"], "Always");
        QCOMPARE((**stored)["spec"]["containers"][0]["ports"][0]["protocol"], "TCP");
        QCOMPARE((**stored)["metadata"]["namespace"], "default");
    }

    void seedTabsReportedWithLine()
    {
        Fixture f;
        auto r = f.api.applyManifests(podscape::tests::readTestData("manifests/seed-pod-tabs.yaml"), "pod.yaml");
        QVERIFY(!r.ok());
        QVERIFY2(r.error().message().rfind("pod.yaml:4:1:", 0) == 0, r.error().message().c_str());
        QCOMPARE(f.store.objectCount(), size_t(2)); // nothing created
    }

    void seedTypoStrictWarnIgnore()
    {
        Fixture f;
        const std::string typo = podscape::tests::readTestData("manifests/seed-pod-typo.yaml");
        auto strict = f.api.applyManifests(typo, "pod.yaml");
        QVERIFY(!strict.ok());
        QCOMPARE(strict.error().reason(), Reason::BadRequest);
        const std::string &m = strict.error().message();
        QVERIFY2(m.find("strict decoding error: unknown field \"spec.containers[0].images\"") == 0, m.c_str());
        QVERIFY2(m.find("pod.yaml:7:7: spec.containers[0].images: unknown field; did you mean \"image\"?") != std::string::npos, m.c_str());
        // Warn: the field is dropped with a warning, and the missing image is then Invalid
        WriteOptions warn;
        warn.fieldValidation = FieldValidation::Warn;
        auto warned = f.api.applyManifests(typo, "pod.yaml", warn);
        QVERIFY(!warned.ok());
        QCOMPARE(warned.error().httpCode(), 422);
        QVERIFY2(warned.error().message().find("Pod \"kubia-biz\" is invalid: spec.containers[0].image: Required value") == 0,
                 warned.error().message().c_str());
        QVERIFY(!f.store.get("pods", "default", "kubia-biz").ok());
        // with the typo fixed and an extra unknown field under Warn: created, warned
        std::string fixed = typo;
        fixed.replace(fixed.find("images"), 6, "image");
        fixed += "      colour: blue\n";
        auto ok = f.api.applyManifests(fixed, "pod.yaml", warn);
        QVERIFY2(ok.ok(), ok.ok() ? "" : ok.error().message().c_str());
        QCOMPARE(ok->front().warnings, std::vector<std::string>{"unknown field \"spec.containers[0].colour\""});
        QVERIFY(!(**f.store.get("pods", "default", "kubia-biz"))["spec"]["containers"][0].contains("colour"));
    }

    void namespacesMustExist()
    {
        Fixture f;
        std::string other = kPod;
        other.replace(other.find("  name: kubia\n"), 14, "  name: kubia\n  namespace: nowhere\n");
        auto r = f.api.applyManifests(other);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().reason(), Reason::NotFound);
        QCOMPARE(QString::fromStdString(r.error().message()), QStringLiteral("namespaces \"nowhere\" not found"));
    }

    void statusIgnoredAndKept()
    {
        Fixture f;
        json pod = json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
            "spec":{"containers":[{"name":"c","image":"busybox"}]},"status":{"phase":"Running"}})");
        auto created = f.api.create(pod);
        QVERIFY(created.ok());
        // the client's status is dropped: a new object starts with an empty one
        QCOMPARE((*created->object)["status"], json::object());
        // the kubelet's status survives a user's update of the object
        QVERIFY(f.store.modify("pods", "default", "p", [](json &p) -> Result<bool> {
            p["status"] = {{"phase", "Running"}};
            return true;
        }).ok());
        json change = **f.store.get("pods", "default", "p");
        change["metadata"]["labels"] = {{"a", "b"}};
        change["status"] = {{"phase", "Failed"}};
        auto updated = f.api.update(change);
        QVERIFY2(updated.ok(), updated.ok() ? "" : updated.error().message().c_str());
        QCOMPARE((*updated->object)["status"]["phase"], "Running");
        QCOMPARE((*updated->object)["metadata"]["labels"]["a"], "b");
        // through the status subresource it is the other way round
        json statusWrite = *updated->object;
        statusWrite["metadata"]["labels"] = {{"a", "changed"}};
        statusWrite["spec"]["activeDeadlineSeconds"] = 5;
        statusWrite["status"] = {{"phase", "Succeeded"}};
        cluster::WriteOptions statusOnly;
        statusOnly.statusOnly = true;
        auto viaStatus = f.api.update(statusWrite, statusOnly);
        QVERIFY2(viaStatus.ok(), viaStatus.ok() ? "" : viaStatus.error().message().c_str());
        QCOMPARE((*viaStatus->object)["status"]["phase"], "Succeeded");
        QCOMPARE((*viaStatus->object)["metadata"]["labels"]["a"], "b");
        QVERIFY(!(*viaStatus->object)["spec"].contains("activeDeadlineSeconds"));
        // with the resourceVersion it was given as a precondition
        QCOMPARE(f.api.update(statusWrite, statusOnly).error().reason(), Reason::Conflict);
    }

    void dryRunStoresNothing()
    {
        Fixture f;
        WriteOptions dry;
        dry.dryRun = true;
        auto r = f.api.applyManifests(kPod, {}, dry);
        QVERIFY(r.ok());
        QCOMPARE((*r->front().object)["spec"]["dnsPolicy"], "ClusterFirst");
        QVERIFY(!f.store.get("pods", "default", "kubia").ok());
    }

    void applyCreatesThenUpdates()
    {
        Fixture f;
        // imagePullPolicy is explicit: defaulted from the tag, it would change with the image
        // and make the update touch more than the image (a merge-based apply comes with the
        // API server's strategic merge patch).
        std::string pinned = kPod;
        pinned.replace(pinned.find("    ports:"), 0, "    imagePullPolicy: IfNotPresent\n");
        QVERIFY(f.api.applyManifests(pinned).ok());
        std::string changed = pinned;
        changed.replace(changed.find("luksa/kubia"), 11, "luksa/kubia:v2");
        auto r = f.api.applyManifests(changed);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message().c_str());
        QVERIFY(!r->front().created);
        QCOMPARE((**f.store.get("pods", "default", "kubia"))["spec"]["containers"][0]["image"], "luksa/kubia:v2");
        // a pod's other fields are immutable: the update is refused with the API server's words
        std::string port = pinned;
        port.replace(port.find("8080"), 4, "9090");
        auto refused = f.api.applyManifests(port);
        QVERIFY(!refused.ok());
        QVERIFY(refused.error().message().find("pod updates may not change fields") != std::string::npos);
    }

    void admissionRunsAndMayRefuse()
    {
        Fixture f;
        int calls = 0;
        f.api.addAdmission([&](const model::ResourceInfo &r, json &o, const json *old, bool) -> Result<void> {
            ++calls;
            if (r.kind == "Service" && !old)
                o["spec"]["clusterIP"] = "127.96.0.10";
            if (o["metadata"].value("name", std::string()) == "forbidden")
                return fail(Reason::Forbidden, "no");
            return {};
        });
        auto svc = f.api.applyManifests("apiVersion: v1\nkind: Service\nmetadata: {name: kubia}\nspec: {selector: {app: kubia}, ports: [{port: 80}]}\n");
        QVERIFY2(svc.ok(), svc.ok() ? "" : svc.error().message().c_str());
        QCOMPARE((*svc->front().object)["spec"]["clusterIP"], "127.96.0.10");
        QCOMPARE((*svc->front().object)["spec"]["ports"][0]["targetPort"], 80);
        auto no = f.api.applyManifests("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: forbidden}\n");
        QCOMPARE(no.error().reason(), Reason::Forbidden);
        QCOMPARE(calls, 2);
    }

    void unknownKind()
    {
        Fixture f;
        auto r = f.api.applyManifests("apiVersion: v1\nkind: Deployment\nmetadata: {name: d}\n", "d.yaml");
        QVERIFY(!r.ok());
        QVERIFY2(r.error().message().find("d.yaml:1: no kind \"Deployment\" is registered for version \"v1\"; Deployment is served as apiVersion \"apps/v1\"") == 0,
                 r.error().message().c_str());
    }
};

QTEST_GUILESS_MAIN(TestClusterApi)
#include "tst_clusterapi.moc"
