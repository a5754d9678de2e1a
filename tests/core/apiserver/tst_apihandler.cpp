// The API over an embedded cluster, judged by the real kubectl where it is on PATH, and
// by direct calls for the answers kubectl does not show.
#include "apiharness.h"

#include <QtTest>

using namespace podscape::core;
using namespace podscape::core::apiserver;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

using Harness = podscape::tests::ApiHarness;

const char *kPod = R"(apiVersion: v1
kind: Pod
metadata:
  name: kubia-manual
  labels:
    app: kubia
spec:
  containers:
  - image: luksa/kubia
    name: kubia
    ports:
    - containerPort: 8080
      protocol: TCP
)";

} // namespace

class TestApiHandler : public QObject
{
    Q_OBJECT
private slots:
    void directAnswers()
    {
        Harness h;
        auto version = h.call("GET", "/version");
        QCOMPARE(version.status, 200);
        QCOMPARE(json::parse(version.body)["minor"], json("32"));
        QCOMPARE(h.call("GET", "/healthz").body, std::string("ok"));
        // OpenAPI v3: the index points at per-group-version documents whose PATCH lists fieldValidation.
        json index = json::parse(h.call("GET", "/openapi/v3").body);
        const std::string appsUrl = index["paths"]["apis/apps/v1"]["serverRelativeURL"];
        json apps = json::parse(h.call("GET", appsUrl).body);
        const json &patchOp = apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        QCOMPARE(patchOp["x-kubernetes-group-version-kind"]["kind"], json("Deployment"));
        bool listsFieldValidation = false;
        for (const auto &p : patchOp["parameters"])
            listsFieldValidation = listsFieldValidation || p["name"] == "fieldValidation";
        QVERIFY(listsFieldValidation);
        QCOMPARE(h.call("GET", "/openapi/v2").status, 404);
        auto aggregated = h.call("GET", "/apis", {}, {{"accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"}});
        QCOMPARE(json::parse(aggregated.body)["kind"], json("APIGroupDiscoveryList"));
        QVERIFY(aggregated.contentType.find("as=APIGroupDiscoveryList") != std::string::npos);
        QCOMPARE(h.call("GET", "/apis/nosuch.io/v1/things").status, 404);
        auto missing = h.call("GET", "/api/v1/namespaces/default/pods/nope");
        QCOMPARE(missing.status, 404);
        QCOMPARE(json::parse(missing.body)["message"], json("pods \"nope\" not found"));
        auto table = h.call("GET", "/api/v1/namespaces", {}, {{"accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}});
        json t = json::parse(table.body);
        QCOMPARE(t["kind"], json("Table"));
        QVERIFY(t["rows"].size() >= 4);
        // Unknown fields: Strict refuses, Warn stores and warns.
        const std::string cm = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"dataa":{"a":"b"}})";
        QCOMPARE(h.call("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", cm).status, 400);
        auto warned = h.call("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Warn", cm);
        QCOMPARE(warned.status, 201);
        QCOMPARE(warned.headers.size(), size_t(1));
        QVERIFY(warned.headers[0].second.find("dataa") != std::string::npos);
        auto mismatch = h.call("POST", "/api/v1/namespaces/default/configmaps",
                               R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d","namespace":"other"}})");
        QCOMPARE(mismatch.status, 400);
        QCOMPARE(h.call("POST", "/api/v1/namespaces/default/configmaps", "{not json").status, 400);
        // Merge patch through /api.
        auto patched = h.call("PATCH", "/api/v1/namespaces/default/configmaps/c", R"({"data":{"x":"y"}})",
                              {{"content-type", "application/merge-patch+json"}});
        QCOMPARE(patched.status, 200);
        QCOMPARE(json::parse(patched.body)["data"]["x"], json("y"));
        // The scale subresource of a ReplicationController (map selector).
        QCOMPARE(h.call("POST", "/api/v1/namespaces/default/replicationcontrollers",
                        R"({"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"rc"},"spec":{"replicas":0,"selector":{"app":"rc"},
                            "template":{"metadata":{"labels":{"app":"rc"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}})")
                     .status,
                 201);
        json scale = json::parse(h.call("GET", "/api/v1/namespaces/default/replicationcontrollers/rc/scale").body);
        QCOMPARE(scale["kind"], json("Scale"));
        QCOMPARE(scale["apiVersion"], json("autoscaling/v1"));
        QCOMPARE(scale["status"]["selector"], json("app=rc"));
        QCOMPARE(scale["spec"]["replicas"], json(0));
        auto rescaled = h.call("PATCH", "/api/v1/namespaces/default/replicationcontrollers/rc/scale", R"({"spec":{"replicas":2}})",
                               {{"content-type", "application/merge-patch+json"}});
        QCOMPARE(rescaled.status, 200);
        QCOMPARE(json::parse(rescaled.body)["spec"]["replicas"], json(2));
        QCOMPARE(json::parse(h.call("GET", "/api/v1/namespaces/default/replicationcontrollers/rc").body)["spec"]["replicas"], json(2));
        QCOMPARE(h.call("PATCH", "/api/v1/namespaces/default/replicationcontrollers/rc/scale", R"({"spec":{"replicas":-1}})",
                        {{"content-type", "application/merge-patch+json"}})
                     .status,
                 422);

        // A watch: what exists first, then the changes.
        auto watch = h.call("GET", "/api/v1/namespaces/default/configmaps?watch=true");
        QVERIFY(watch.stream);
        std::vector<json> events;
        auto drain = [&] {
            while (auto chunk = watch.stream->next(std::chrono::milliseconds(200)))
                events.push_back(json::parse(*chunk));
        };
        drain();
        QCOMPARE(events.size(), size_t(1)); // "c", created above
        QCOMPARE(events[0]["type"], json("ADDED"));
        QVERIFY(h.call("DELETE", "/api/v1/namespaces/default/configmaps/c").status == 200);
        drain();
        QCOMPARE(events.size(), size_t(2));
        QCOMPARE(events[1]["type"], json("DELETED"));
        QVERIFY(!watch.stream->finished());
        // From a revision too old for the history: one ERROR event (410), as the API server does.
        auto old = h.call("GET", "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1");
        if (!old.stream) {
            QCOMPARE(json::parse(old.body)["type"], json("ERROR"));
        }
    }

    void kubectlDrivesIt()
    {
        if (QStandardPaths::findExecutable("kubectl").isEmpty())
            QSKIP("kubectl is not on PATH");
        Harness h;
        auto ns = h.kubectl({"get", "namespaces"});
        QVERIFY2(ns.code == 0, ns.err.c_str());
        QVERIFY2(ns.out.find("NAME") == 0 && ns.out.find("STATUS") != std::string::npos, ns.out.c_str());
        QVERIFY2(ns.out.find("kube-system") != std::string::npos, ns.out.c_str());

        // kubectl reads /openapi/v3 first and, finding fieldValidation on PATCH, validates on the server.
        auto created = h.kubectl({"create", "-f", "-"}, kPod);
        QVERIFY2(created.code == 0, created.err.c_str());
        QCOMPARE(created.out, std::string("pod/kubia-manual created\n"));

        QTRY_VERIFY_WITH_TIMEOUT(h.kubectl({"get", "pods"}).out.find("Running") != std::string::npos, 30000);
        auto pods = h.kubectl({"get", "pods", "-o", "wide"});
        QVERIFY2(pods.out.find("kubia-manual   1/1     Running") != std::string::npos, pods.out.c_str());
        QVERIFY2(pods.out.find("node-1") != std::string::npos, pods.out.c_str());
        auto node = h.kubectl({"get", "pod", "kubia-manual", "-o", "jsonpath={.spec.nodeName}"});
        QCOMPARE(node.out, std::string("node-1"));
        auto labels = h.kubectl({"get", "pods", "--show-labels", "-l", "app=kubia"});
        QVERIFY2(labels.out.find("app=kubia") != std::string::npos, labels.out.c_str());
        auto yaml = h.kubectl({"get", "pod", "kubia-manual", "-o", "yaml"});
        QVERIFY2(yaml.out.find("podIP: 127.244.") != std::string::npos, yaml.out.c_str());

        // The seed notes' classic mistake: "images" for "image". Refused, named, nothing created.
        std::string bad = kPod;
        bad.replace(bad.find("name: kubia-manual"), 18, "name: kubia-typo");
        bad.replace(bad.find("- image:"), 8, "- images:");
        auto refused = h.kubectl({"create", "-f", "-"}, bad);
        QCOMPARE(refused.code, 1);
        QVERIFY2(refused.err.find("images") != std::string::npos, refused.err.c_str());
        QVERIFY(h.kubectl({"get", "pod", "kubia-typo"}).code != 0);

        auto missing = h.kubectl({"get", "pod", "nope"});
        QCOMPARE(missing.code, 1);
        QVERIFY2(missing.err.find("pods \"nope\" not found") != std::string::npos, missing.err.c_str());

        auto nodes = h.kubectl({"get", "nodes"});
        QVERIFY2(nodes.out.find("node-1   Ready") != std::string::npos, nodes.out.c_str());

        // kubectl get -w: rows as they change.
        QProcess watch;
        watch.setProcessChannelMode(QProcess::MergedChannels);
        watch.start(QStandardPaths::findExecutable("kubectl"),
                    {"--kubeconfig", QString::fromStdString(h.kubeconfig), "get", "pods", "-w"});
        QVERIFY(watch.waitForStarted());
        QByteArray listed;
        QTRY_VERIFY_WITH_TIMEOUT((listed += watch.readAllStandardOutput()).contains("kubia-manual"), 20000);
        auto labelled = h.kubectl({"label", "pod", "kubia-manual", "tier=front"});
        QVERIFY2(labelled.code == 0, labelled.err.c_str());
        QByteArray seen;
        QTRY_VERIFY2_WITH_TIMEOUT((seen += watch.readAllStandardOutput()).contains("kubia-manual"),
                                  (listed + "|" + seen).constData(), 20000); // the MODIFIED row
        watch.kill();
        watch.waitForFinished();

        auto deleted = h.kubectl({"delete", "pod", "kubia-manual", "--wait=false"});
        QVERIFY2(deleted.code == 0, deleted.err.c_str());
        QCOMPARE(deleted.out, std::string("pod \"kubia-manual\" deleted\n"));

        // A Deployment: apply, scale through /scale, roll forward, history, undo.
        const std::string deployment = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: kubia
spec:
  replicas: 2
  selector:
    matchLabels:
      app: kubia-d
  template:
    metadata:
      labels:
        app: kubia-d
    spec:
      containers:
      - name: nodejs
        image: luksa/kubia:v1
)";
        auto applied = h.kubectl({"apply", "-f", "-"}, deployment);
        QVERIFY2(applied.code == 0, applied.err.c_str());
        QCOMPARE(applied.out, std::string("deployment.apps/kubia created\n"));
        auto scaled = h.kubectl({"scale", "deployment", "kubia", "--replicas=3"});
        QVERIFY2(scaled.code == 0, scaled.err.c_str());
        QCOMPARE(scaled.out, std::string("deployment.apps/kubia scaled\n"));
        QTRY_COMPARE_WITH_TIMEOUT(h.kubectl({"get", "deployment", "kubia", "-o", "jsonpath={.status.availableReplicas}"}).out,
                                  std::string("3"), 30000);
        std::string v2 = deployment;
        v2.replace(v2.find("kubia:v1"), 8, "kubia:v2");
        v2.replace(v2.find("replicas: 2"), 11, "replicas: 3");
        auto reapplied = h.kubectl({"apply", "-f", "-"}, v2);
        QVERIFY2(reapplied.code == 0, reapplied.err.c_str());
        QCOMPARE(reapplied.out, std::string("deployment.apps/kubia configured\n"));
        auto status = h.kubectl({"rollout", "status", "deployment", "kubia", "--timeout=60s"});
        QVERIFY2(status.code == 0, (status.out + status.err).c_str());
        auto history = h.kubectl({"rollout", "history", "deployment", "kubia"});
        QVERIFY2(history.out.find("1         <none>") != std::string::npos && history.out.find("2         <none>") != std::string::npos,
                 history.out.c_str());
        auto undo = h.kubectl({"rollout", "undo", "deployment", "kubia"});
        QVERIFY2(undo.code == 0, undo.err.c_str());
        QTRY_COMPARE_WITH_TIMEOUT(h.kubectl({"get", "deployment", "kubia", "-o", "jsonpath={.spec.template.spec.containers[0].image}"}).out,
                                  std::string("luksa/kubia:v1"), 30000);
    }

    // The OpenAPI schemas: explain walks them, and apply computes its strategic merge patch
    // from their merge keys (without "does not support strategic merge patch").
    void schemasForExplainAndApply()
    {
        if (QStandardPaths::findExecutable("kubectl").isEmpty())
            QSKIP("kubectl is not on PATH");
        Harness h;
        auto pods = h.kubectl({"explain", "pods"});
        QVERIFY2(pods.code == 0, pods.err.c_str());
        QVERIFY(pods.out.find("KIND:       Pod") != std::string::npos);
        QVERIFY(pods.out.find("spec\t<PodSpec>") != std::string::npos);
        auto ports = h.kubectl({"explain", "pods.spec.containers.ports"});
        QVERIFY2(ports.out.find("containerPort\t<integer> -required-") != std::string::npos, ports.out.c_str());
        QVERIFY2(ports.out.find("enum: TCP, UDP, SCTP") != std::string::npos, ports.out.c_str());
        auto strategy = h.kubectl({"explain", "deployment.spec.strategy.type"});
        QVERIFY2(strategy.out.find("GROUP:      apps") != std::string::npos, strategy.out.c_str());
        QVERIFY(h.kubectl({"explain", "pods.spec.nosuchfield"}).code != 0);

        const std::string two = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx:1.25
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
      - name: side
        image: busybox
        command: [sleep, infinity]
)";
        QCOMPARE(h.kubectl({"apply", "-f", "-"}, two).code, 0);
        std::string one = two.substr(0, two.find("      - name: side"));
        one.replace(one.find(", {name: B, value: \"2\"}"), std::string(", {name: B, value: \"2\"}").size(), "");
        auto applied = h.kubectl({"apply", "-f", "-", "-v=5"}, one);
        QVERIFY2(applied.code == 0, applied.err.c_str());
        QVERIFY2(applied.err.find("does not support strategic merge patch") == std::string::npos, applied.err.c_str());
        json containers = json::parse(h.kubectl({"get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers}"}).out);
        QCOMPARE(containers.size(), size_t(1));
        QCOMPARE(containers[0]["env"], json::parse(R"([{"name":"A","value":"1"}])"));
    }
    // Pages are at least 5,000 items whatever the client's limit (kubectl's self-throttling makes
    // small pages slow), and continue tokens still walk the rest at the same revision.
    void largePages()
    {
        Harness h;
        const int total = 5003;
        for (int i = 0; i < total; ++i) {
            json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                       {"metadata", {{"name", "cm-" + std::to_string(i)}, {"namespace", "default"}}}};
            auto created = h.call("POST", "/api/v1/namespaces/default/configmaps", cm.dump());
            QCOMPARE(created.status, 201);
        }
        json first = json::parse(h.call("GET", "/api/v1/namespaces/default/configmaps?limit=10").body);
        QCOMPARE(first["items"].size(), size_t(5000));
        const std::string token = first["metadata"].value("continue", "");
        QVERIFY(!token.empty());
        // A write between pages does not show in the second page: it reads the first's revision.
        json extra = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "zz-late"}}}};
        QCOMPARE(h.call("POST", "/api/v1/namespaces/default/configmaps", extra.dump()).status, 201);
        json second = json::parse(h.call("GET", "/api/v1/namespaces/default/configmaps?limit=10&continue=" + token).body);
        QCOMPARE(second["items"].size(), size_t(total - 5000));
        QVERIFY(second["metadata"].value("continue", "").empty());
        json all = json::parse(h.call("GET", "/api/v1/namespaces/default/configmaps").body);
        QCOMPARE(all["items"].size(), size_t(total + 1));
    }
    // status, binding and eviction subresources, dry-run deletes; kubectl drain as the judge
    // of eviction.
    void subresources()
    {
        Harness h;
        const std::string svcUrl = "/api/v1/namespaces/default/services";
        json svc = {{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", {{"name", "web"}}},
                    {"spec", {{"ports", {{{"port", 80}}}}, {"selector", {{"app", "web"}}}}},
                    {"status", {{"loadBalancer", {{"ingress", {{{"ip", "10.9.9.9"}}}}}}}}};
        auto created = h.call("POST", svcUrl, svc.dump());
        QCOMPARE(created.status, 201);
        // A new object's status is not the client's to set.
        QVERIFY(json::parse(created.body).value("status", json::object()).value("loadBalancer", json::object()).value("ingress", json()).is_null());

        // PATCH .../status changes the status and nothing else.
        auto patched = h.call("PATCH", svcUrl + "/web/status",
                              R"({"spec":{"selector":{"app":"other"}},"metadata":{"labels":{"x":"y"}},"status":{"loadBalancer":{"ingress":[{"ip":"1.2.3.4"}]}}})",
                              {{"content-type", "application/merge-patch+json"}});
        QVERIFY2(patched.status == 200, patched.body.c_str());
        json afterStatus = json::parse(patched.body);
        QCOMPARE(afterStatus["status"]["loadBalancer"]["ingress"][0]["ip"], json("1.2.3.4"));
        QCOMPARE(afterStatus["spec"]["selector"]["app"], json("web"));
        QVERIFY(!afterStatus["metadata"].contains("labels"));
        QCOMPARE(json::parse(h.call("GET", svcUrl + "/web/status").body)["status"], afterStatus["status"]);

        // A main-resource write changes the spec and leaves the status alone, PUT or PATCH.
        json put = afterStatus;
        put["spec"]["selector"]["app"] = "web2";
        put["status"] = {{"loadBalancer", json::object()}};
        auto replaced = h.call("PUT", svcUrl + "/web", put.dump());
        QCOMPARE(replaced.status, 200);
        QCOMPARE(json::parse(replaced.body)["spec"]["selector"]["app"], json("web2"));
        QCOMPARE(json::parse(replaced.body)["status"], afterStatus["status"]);
        auto mainPatch = h.call("PATCH", svcUrl + "/web", R"({"status":{"loadBalancer":{"ingress":null}}})",
                                {{"content-type", "application/merge-patch+json"}});
        QCOMPARE(json::parse(mainPatch.body)["status"], afterStatus["status"]);
        // PUT .../status with a stale resourceVersion conflicts.
        json stale = afterStatus;
        stale["status"]["loadBalancer"]["ingress"][0]["ip"] = "5.6.7.8";
        QCOMPARE(h.call("PUT", svcUrl + "/web/status", stale.dump()).status, 409);
        QCOMPARE(h.call("POST", svcUrl + "/web/nosuch", "{}").status, 404);

        // Binding: a pod left to another scheduler is bound by POST pods/NAME/binding, once.
        json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "manual"}}},
                    {"spec", {{"schedulerName", "my-scheduler"}, {"containers", {{{"name", "c"}, {"image", "busybox"}}}}}}};
        QCOMPARE(h.call("POST", "/api/v1/namespaces/default/pods", pod.dump()).status, 201);
        json binding = {{"apiVersion", "v1"}, {"kind", "Binding"}, {"metadata", {{"name", "manual"}}},
                        {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", "node-1"}}}};
        auto bound = h.call("POST", "/api/v1/namespaces/default/pods/manual/binding", binding.dump());
        QCOMPARE(bound.status, 201);
        QCOMPARE(json::parse(bound.body)["status"], json("Success"));
        json boundPod = json::parse(h.call("GET", "/api/v1/namespaces/default/pods/manual").body);
        QCOMPARE(boundPod["spec"]["nodeName"], json("node-1"));
        auto again = h.call("POST", "/api/v1/namespaces/default/bindings", binding.dump());
        QCOMPARE(again.status, 409);
        QVERIFY(json::parse(again.body)["message"].get<std::string>().find("already assigned to node \"node-1\"") != std::string::npos);
        QCOMPARE(h.call("GET", "/api/v1/namespaces/default/pods/manual/binding").status, 405);

        // Dry-run delete: checked, answered, nothing deleted.
        auto dry = h.call("DELETE", "/api/v1/namespaces/default/pods/manual?dryRun=All");
        QCOMPARE(dry.status, 200);
        QCOMPARE(h.call("GET", "/api/v1/namespaces/default/pods/manual").status, 200);
        QCOMPARE(h.call("DELETE", "/api/v1/namespaces/default/pods/nope?dryRun=All").status, 404);
        QCOMPARE(h.call("DELETE", "/api/v1/namespaces/default/pods/manual?dryRun=All",
                        R"({"preconditions":{"uid":"not-the-uid"}})").status,
                 409);

        // Eviction: the pod's graceful delete.
        json eviction = {{"apiVersion", "policy/v1"}, {"kind", "Eviction"}, {"metadata", {{"name", "manual"}, {"namespace", "default"}}}};
        auto evicted = h.call("POST", "/api/v1/namespaces/default/pods/manual/eviction", eviction.dump());
        QCOMPARE(evicted.status, 201);
        auto gone = h.call("GET", "/api/v1/namespaces/default/pods/manual");
        QVERIFY(gone.status == 404 || json::parse(gone.body)["metadata"].contains("deletionTimestamp"));
        QCOMPARE(h.call("POST", "/api/v1/namespaces/default/pods/nope/eviction", eviction.dump()).status, 400); // names differ
        eviction["metadata"]["name"] = "nope";
        QCOMPARE(h.call("POST", "/api/v1/namespaces/default/pods/nope/eviction", eviction.dump()).status, 404);

        if (QStandardPaths::findExecutable("kubectl").isEmpty())
            return;
        QCOMPARE(h.kubectl({"create", "-f", "-"}, kPod).code, 0);
        QTRY_COMPARE_WITH_TIMEOUT(h.kubectl({"get", "pod", "kubia-manual", "-o", "jsonpath={.spec.nodeName}"}).out,
                                  std::string("node-1"), 30000);
        auto dryDelete = h.kubectl({"delete", "pod", "kubia-manual", "--dry-run=server"});
        QVERIFY2(dryDelete.code == 0, dryDelete.err.c_str());
        QVERIFY2(dryDelete.out.find("(server dry run)") != std::string::npos, dryDelete.out.c_str());
        QCOMPARE(h.kubectl({"get", "pod", "kubia-manual", "-o", "name"}).out, std::string("pod/kubia-manual\n"));
        // drain: cordon, then evict (the pod has no controller, hence --force).
        auto drain = h.kubectl({"drain", "node-1", "--force", "--timeout=60s"});
        QVERIFY2(drain.code == 0, (drain.out + drain.err).c_str());
        QVERIFY2(drain.out.find("evicting pod default/kubia-manual") != std::string::npos
                     || drain.err.find("evicting pod default/kubia-manual") != std::string::npos,
                 (drain.out + drain.err).c_str());
        QVERIFY2(drain.out.find("node/node-1 drained") != std::string::npos, drain.out.c_str());
        QCOMPARE(h.kubectl({"get", "node", "node-1", "-o", "jsonpath={.spec.unschedulable}"}).out, std::string("true"));
        QCOMPARE(h.kubectl({"get", "pods", "-o", "name"}).out, std::string());
    }
    // Server-side apply as kubectl drives it: create, conflict with another manager, force,
    // fields a manager stops applying removed; and the errors kubectl never provokes.
    void serverSideApply()
    {
        Harness h;
        // Direct calls on one object ("direct"), kubectl on another ("ssa"), so that the two
        // managers do not co-own fields.
        const std::string url = "/apis/apps/v1/namespaces/default/deployments/direct?fieldManager=me";
        const std::string config = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ssa\n  labels: {tier: front}\n"
                                   "spec:\n  replicas: 2\n  selector: {matchLabels: {app: ssa}}\n  template:\n"
                                   "    metadata: {labels: {app: ssa}}\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.25\n";
        const std::map<std::string, std::string> yaml = {{"content-type", "application/apply-patch+yaml"}};
        std::string direct = config;
        direct.replace(direct.find("name: ssa"), 9, "name: direct");
        auto created = h.call("PATCH", url, direct, yaml);
        QVERIFY2(created.status == 201, created.body.c_str());
        json object = json::parse(created.body);
        QCOMPARE(object["metadata"]["managedFields"][0]["manager"], json("me"));
        QCOMPARE(object["metadata"]["managedFields"][0]["operation"], json("Apply"));
        QCOMPARE(h.call("PATCH", url, direct, yaml).status, 200); // the same again: no change, no conflict
        QCOMPARE(h.call("PATCH", "/apis/apps/v1/namespaces/default/deployments/direct", direct, yaml).status, 422); // no fieldManager
        QCOMPARE(h.call("PATCH", url, config, yaml).status, 400); // the name differs from the URL's
        auto tabs = h.call("PATCH", url, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n\tname: direct\n", yaml);
        QCOMPARE(tabs.status, 400);
        QVERIFY2(json::parse(tabs.body)["message"].get<std::string>().find("4:") != std::string::npos, tabs.body.c_str());

        if (QStandardPaths::findExecutable("kubectl").isEmpty())
            return;
        auto applied = h.kubectl({"apply", "--server-side", "-f", "-"}, config);
        QVERIFY2(applied.code == 0, applied.err.c_str());
        QCOMPARE(applied.out, std::string("deployment.apps/ssa serverside-applied\n"));
        QCOMPARE(h.kubectl({"scale", "deployment", "ssa", "--replicas=4"}).code, 0);
        auto conflicted = h.kubectl({"apply", "--server-side", "-f", "-"}, config);
        QVERIFY(conflicted.code != 0);
        QVERIFY2(conflicted.err.find("Apply failed with 1 conflict: conflict with \"kubectl") != std::string::npos, conflicted.err.c_str());
        QVERIFY2(conflicted.err.find(".spec.replicas") != std::string::npos, conflicted.err.c_str());
        QCOMPARE(h.kubectl({"get", "deployment", "ssa", "-o", "jsonpath={.spec.replicas}"}).out, std::string("4"));
        auto forced = h.kubectl({"apply", "--server-side", "--force-conflicts", "-f", "-"}, config);
        QVERIFY2(forced.code == 0, forced.err.c_str());
        QCOMPARE(h.kubectl({"get", "deployment", "ssa", "-o", "jsonpath={.spec.replicas}"}).out, std::string("2"));
        // A label the configuration no longer has is removed; a new image rolls out.
        std::string next = config;
        next.replace(next.find("  labels: {tier: front}\n"), std::string("  labels: {tier: front}\n").size(), "");
        next.replace(next.find("nginx:1.25"), 10, "nginx:1.26");
        QCOMPARE(h.kubectl({"apply", "--server-side", "-f", "-"}, next).code, 0);
        QCOMPARE(h.kubectl({"get", "deployment", "ssa", "-o", "jsonpath={.metadata.labels.tier}"}).out, std::string());
        QCOMPARE(h.kubectl({"get", "deployment", "ssa", "-o", "jsonpath={.spec.template.spec.containers[0].image}"}).out,
                 std::string("nginx:1.26"));
        // Dry run: answered, nothing changed.
        std::string dry = next;
        dry.replace(dry.find("replicas: 2"), 11, "replicas: 9");
        QCOMPARE(h.kubectl({"apply", "--server-side", "--dry-run=server", "-f", "-"}, dry).code, 0);
        QCOMPARE(h.kubectl({"get", "deployment", "ssa", "-o", "jsonpath={.spec.replicas}"}).out, std::string("2"));
    }
    // resourceVersion and resourceVersionMatch on lists.
    void listAtRevisions()
    {
        Harness h;
        const std::string url = "/api/v1/namespaces/default/configmaps";
        auto names = [](const HttpResponse &r) {
            std::vector<std::string> out;
            const json list = json::parse(r.body); // a named value: the loop must not outlive it
            for (const auto &i : list["items"])
                out.push_back(i["metadata"]["name"].get<std::string>());
            return out;
        };
        QCOMPARE(h.call("POST", url, R"({"metadata":{"name":"a"}})").status, 201);
        const std::string first = json::parse(h.call("GET", url).body)["metadata"]["resourceVersion"];
        QCOMPARE(h.call("POST", url, R"({"metadata":{"name":"b"}})").status, 201);
        QCOMPARE(names(h.call("GET", url + "?resourceVersion=" + first + "&resourceVersionMatch=Exact")), std::vector<std::string>{"a"});
        QCOMPARE(names(h.call("GET", url + "?resourceVersion=" + first)).size(), size_t(2)); // NotOlderThan: the latest
        QCOMPARE(names(h.call("GET", url + "?resourceVersion=0")).size(), size_t(2));
        auto future = h.call("GET", url + "?resourceVersion=99999999");
        QCOMPARE(future.status, 504);
        QVERIFY(json::parse(future.body)["message"].get<std::string>().find("Too large resource version") != std::string::npos);
        QCOMPARE(h.call("GET", url + "?resourceVersionMatch=Exact").status, 422);
        QCOMPARE(h.call("GET", url + "?resourceVersion=0&resourceVersionMatch=Exact").status, 422);
        QCOMPARE(h.call("GET", url + "?resourceVersion=1&resourceVersionMatch=Newest").status, 422);
        QCOMPARE(h.call("GET", url + "?resourceVersion=abc").status, 400);
        QCOMPARE(h.call("GET", url + "?resourceVersion=1&continue=x").status, 422);
    }
};

QTEST_GUILESS_MAIN(TestApiHandler)
#include "tst_apihandler.moc"
