#include "core/model/defaulter.h"
#include "core/model/validator.h"
#include "core/model/yamlcodec.h"

#include <QtTest>

using namespace podscape::core;
using namespace podscape::core::model;
using nlohmann::json;

namespace {
json yaml(const char *text)
{
    auto d = decodeYamlDocument(text);
    if (!d)
        qFatal("bad fixture: %s", d.error().message().c_str());
    return d->value;
}
json defaulted(const char *text)
{
    json o = yaml(text);
    Defaulter().apply(o);
    return o;
}
} // namespace

class TestDefaulter : public QObject
{
    Q_OBJECT
private slots:
    void pod()
    {
        json p = defaulted(R"(
apiVersion: v1
kind: Pod
metadata: {name: kubia}
spec:
  containers:
  - name: kubia
    image: luksa/kubia
    ports: [{containerPort: 8080}]
    readinessProbe:
      httpGet: {path: /, port: 8080}
)");
        const json &spec = p["spec"];
        QCOMPARE(spec["restartPolicy"], "Always");
        QCOMPARE(spec["terminationGracePeriodSeconds"], 30);
        QCOMPARE(spec["dnsPolicy"], "ClusterFirst");
        QCOMPARE(spec["schedulerName"], "default-scheduler");
        QCOMPARE(spec["securityContext"], json::object());
        const json &c = spec["containers"][0];
        QCOMPARE(c["imagePullPolicy"], "Always");
        QCOMPARE(c["ports"][0]["protocol"], "TCP");
        QCOMPARE(c["terminationMessagePath"], "/dev/termination-log");
        QCOMPARE(c["terminationMessagePolicy"], "File");
        QCOMPARE(c["resources"], json::object());
        const json &probe = c["readinessProbe"];
        QCOMPARE(probe["timeoutSeconds"], 1);
        QCOMPARE(probe["periodSeconds"], 10);
        QCOMPARE(probe["successThreshold"], 1);
        QCOMPARE(probe["failureThreshold"], 3);
        QCOMPARE(probe["httpGet"]["scheme"], "HTTP");
        // no probe was invented where none was given
        QVERIFY(!c.contains("livenessProbe"));
    }

    void imagePullPolicy_data()
    {
        QTest::addColumn<QString>("image");
        QTest::addColumn<QString>("policy");
        QTest::newRow("untagged") << "luksa/kubia" << "Always";
        QTest::newRow("latest") << "luksa/kubia:latest" << "Always";
        QTest::newRow("tag") << "luksa/kubia:v2" << "IfNotPresent";
        QTest::newRow("registry port, untagged") << "localhost:5000/kubia" << "Always";
        QTest::newRow("registry port, tag") << "localhost:5000/kubia:v3" << "IfNotPresent";
        QTest::newRow("digest") << "busybox@sha256:abcdef" << "IfNotPresent";
    }
    void imagePullPolicy()
    {
        QFETCH(QString, image);
        QFETCH(QString, policy);
        QCOMPARE(QString::fromStdString(defaultImagePullPolicy(image.toStdString())), policy);
    }

    void explicitValuesKept()
    {
        json p = defaulted(R"(
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 5
  containers:
  - {name: c, image: busybox, imagePullPolicy: Never, ports: [{containerPort: 53, protocol: UDP}]}
)");
        QCOMPARE(p["spec"]["restartPolicy"], "Never");
        QCOMPARE(p["spec"]["terminationGracePeriodSeconds"], 5);
        QCOMPARE(p["spec"]["containers"][0]["imagePullPolicy"], "Never");
        QCOMPARE(p["spec"]["containers"][0]["ports"][0]["protocol"], "UDP");
    }

    void requestsDefaultToLimits()
    {
        json p = defaulted(R"(
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: busybox
    resources:
      limits: {cpu: 500m, memory: 128Mi}
      requests: {cpu: 100m}
)");
        const json &res = p["spec"]["containers"][0]["resources"];
        QCOMPARE(res["requests"]["cpu"], "100m");
        QCOMPARE(res["requests"]["memory"], "128Mi");
    }

    void deployment()
    {
        json d = defaulted(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: kubia}
spec:
  selector: {matchLabels: {app: kubia}}
  template:
    metadata: {labels: {app: kubia}}
    spec:
      containers: [{name: kubia, image: "luksa/kubia:v1"}]
)");
        const json &spec = d["spec"];
        QCOMPARE(spec["replicas"], 1);
        QCOMPARE(spec["revisionHistoryLimit"], 10);
        QCOMPARE(spec["progressDeadlineSeconds"], 600);
        QCOMPARE(spec["strategy"]["type"], "RollingUpdate");
        QCOMPARE(spec["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        QCOMPARE(spec["strategy"]["rollingUpdate"]["maxUnavailable"], "25%");
        // the pod template is defaulted like a pod
        QCOMPARE(spec["template"]["spec"]["restartPolicy"], "Always");
        QCOMPARE(spec["template"]["spec"]["containers"][0]["imagePullPolicy"], "IfNotPresent");

        json partial = defaulted(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: kubia}
spec:
  strategy: {rollingUpdate: {maxSurge: 1}}
  selector: {matchLabels: {app: kubia}}
  template: {metadata: {labels: {app: kubia}}, spec: {containers: [{name: k, image: i}]}}
)");
        QCOMPARE(partial["spec"]["strategy"]["rollingUpdate"]["maxSurge"], 1);
        QCOMPARE(partial["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], "25%");

        json recreate = defaulted(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: kubia}
spec:
  strategy: {type: Recreate}
  selector: {matchLabels: {app: kubia}}
  template: {metadata: {labels: {app: kubia}}, spec: {containers: [{name: k, image: i}]}}
)");
        QVERIFY(!recreate["spec"]["strategy"].contains("rollingUpdate"));
    }

    void service()
    {
        json s = defaulted(R"(
apiVersion: v1
kind: Service
metadata: {name: kubia}
spec:
  selector: {app: kubia}
  ports:
  - port: 80
  - port: 443
    targetPort: https
    name: https
)");
        QCOMPARE(s["spec"]["type"], "ClusterIP");
        QCOMPARE(s["spec"]["sessionAffinity"], "None");
        QCOMPARE(s["spec"]["ports"][0]["protocol"], "TCP");
        QCOMPARE(s["spec"]["ports"][0]["targetPort"], 80);
        QCOMPARE(s["spec"]["ports"][1]["targetPort"], "https");
        QCOMPARE(s["spec"]["internalTrafficPolicy"], "Cluster");
        QVERIFY(!s["spec"].contains("externalTrafficPolicy"));
        json np = defaulted("apiVersion: v1\nkind: Service\nmetadata: {name: n}\nspec: {type: NodePort, ports: [{port: 80}]}\n");
        QCOMPARE(np["spec"]["externalTrafficPolicy"], "Cluster");
    }

    void replicationController()
    {
        json rc = defaulted(R"(
apiVersion: v1
kind: ReplicationController
metadata: {name: kubia}
spec:
  template:
    metadata: {labels: {app: kubia}}
    spec: {containers: [{name: kubia, image: luksa/kubia}]}
)");
        QCOMPARE(rc["spec"]["replicas"], 1);
        QCOMPARE(rc["spec"]["selector"], json({{"app", "kubia"}}));
        QCOMPARE(rc["metadata"]["labels"], json({{"app", "kubia"}}));
    }

    void namespaceAndSecret()
    {
        json ns = defaulted("apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n");
        QCOMPARE(ns["spec"]["finalizers"], json::array({"kubernetes"}));
        QCOMPARE(ns["status"]["phase"], "Active");
        json secret = defaulted("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\n");
        QCOMPARE(secret["type"], "Opaque");
    }

    void idempotentAndValid()
    {
        // Defaulting twice changes nothing, and what it produces validates.
        for (const char *text : {R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: kubia}
spec:
  selector: {matchLabels: {app: kubia}}
  template:
    metadata: {labels: {app: kubia}}
    spec:
      containers:
      - name: kubia
        image: luksa/kubia
        ports: [{containerPort: 8080}]
        livenessProbe: {exec: {command: [cat, /tmp/ok]}}
        resources: {limits: {memory: 1Gi}}
      volumes: [{name: v, configMap: {name: c}}, {name: w, secret: {secretName: s}}]
)",
                                 "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: NodePort, selector: {a: b}, ports: [{port: 80}]}\n"}) {
            json once = defaulted(text);
            json twice = once;
            Defaulter().apply(twice);
            QCOMPARE(twice, once);
            auto issues = Validator().validate(once);
            QVERIFY2(issues.empty(), describeIssues(issues).c_str());
        }
    }

    void unknownKindUntouched()
    {
        json o = yaml("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {x: 1}\n");
        json before = o;
        Defaulter().apply(o);
        QCOMPARE(o, before);
    }
};

QTEST_GUILESS_MAIN(TestDefaulter)
#include "tst_defaulter.moc"
