#include "core/model/defaulter.h"
#include "core/model/validator.h"
#include "core/model/yamlcodec.h"
#include "tests/testdata.h"

#include <QtTest>


using namespace podscape::core;
using namespace podscape::core::model;
using nlohmann::json;

namespace {
std::string readData(const char *name) { return podscape::tests::readTestData(std::string("manifests/") + name); }

std::vector<std::string> issueStrings(const std::vector<ValidationIssue> &issues)
{
    std::vector<std::string> out;
    for (const auto &i : issues)
        out.push_back(i.toString());
    return out;
}

std::string joined(const std::vector<ValidationIssue> &issues) { return describeIssues(issues); }

const char *kPod = R"(apiVersion: v1
kind: Pod
metadata:
  name: kubia
spec:
  containers:
  - name: kubia
    image: luksa/kubia
)";
} // namespace

class TestValidator : public QObject
{
    Q_OBJECT
private slots:
    void seedPodTypoReportedWithLines()
    {
        auto doc = decodeYamlDocument(readData("seed-pod-typo.yaml"));
        QVERIFY(doc.ok());
        auto issues = Validator().validate(doc->value);
        auto text = describeIssues(issues, &*doc, "pod.yaml");
        QVERIFY2(text.find("pod.yaml:7:7: spec.containers[0].images: unknown field; did you mean \"image\"?") != std::string::npos,
                 text.c_str());
        QVERIFY2(text.find("pod.yaml:7:7: spec.containers[0].image: Required value") != std::string::npos, text.c_str());
        QCOMPARE(issues.size(), size_t(2));
        // strict field validation turns the unknown field into a BadRequest naming it...
        std::vector<ValidationIssue> unknown;
        for (const auto &i : issues)
            if (i.isUnknownField())
                unknown.push_back(i);
        Error e = unknownFieldsError(unknown);
        QCOMPARE(e.reason(), Reason::BadRequest);
        QCOMPARE(QString::fromStdString(e.message()),
                 QStringLiteral("strict decoding error: unknown field \"spec.containers[0].images\""));
        // ...and the rest is the API server's Invalid error
        Error inv = invalidError(doc->value, {issues[0].isUnknownField() ? issues[1] : issues[0]});
        QCOMPARE(inv.httpCode(), 422);
        QCOMPARE(QString::fromStdString(inv.message()),
                 QStringLiteral("Pod \"kubia-biz\" is invalid: spec.containers[0].image: Required value"));
        QCOMPARE(inv.causes().front().field, std::string("spec.containers[0].image"));
    }

    void cases_data()
    {
        QTest::addColumn<QString>("manifest");
        QTest::addColumn<QStringList>("expected");
        auto pod = [](const char *containerExtra, const char *specExtra = "") {
            return QString::fromLatin1("apiVersion: v1\nkind: Pod\nmetadata:\n  name: kubia\nspec:\n%1  containers:\n  - name: kubia\n    image: luksa/kubia\n%2")
                .arg(QString::fromLatin1(specExtra), QString::fromLatin1(containerExtra));
        };
        QTest::newRow("valid pod") << QString::fromLatin1(kPod) << QStringList{};
        QTest::newRow("quoted port") << pod("    ports:\n    - containerPort: \"8080\"\n")
                                     << QStringList{"spec.containers[0].ports[0].containerPort: expected integer, got string"};
        QTest::newRow("yes in a string field") << pod("    env:\n    - name: DEBUG\n      value: yes\n")
                                               << QStringList{"spec.containers[0].env[0].value: expected string, got boolean"};
        QTest::newRow("number in a string field") << pod("    env:\n    - name: PORT\n      value: 8080\n")
                                                  << QStringList{"spec.containers[0].env[0].value: expected string, got integer (quote the number"};
        QTest::newRow("enum") << pod("", "  restartPolicy: Sometimes\n")
                              << QStringList{"spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""};
        QTest::newRow("port range") << pod("    ports:\n    - containerPort: 70000\n")
                                    << QStringList{"spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"};
        QTest::newRow("bad quantity") << pod("    resources:\n      requests:\n        cpu: 1.5.3\n")
                                      << QStringList{"spec.containers[0].resources.requests[cpu]: Invalid value: \"1.5.3\""};
        QTest::newRow("requests over limits") << pod("    resources:\n      requests: {cpu: 2}\n      limits: {cpu: 500m}\n")
                                              << QStringList{"spec.containers[0].resources.requests[cpu]: Invalid value: 2: must be less than or equal to cpu limit of 500m"};
        QTest::newRow("duplicate container") << pod("  - name: kubia\n    image: busybox\n")
                                             << QStringList{"spec.containers[1].name: Duplicate value: \"kubia\""};
        QTest::newRow("duplicate env") << pod("    env: [{name: A, value: one}, {name: A, value: two}]\n")
                                       << QStringList{"spec.containers[0].env[1].name: Duplicate value: \"A\""};
        QTest::newRow("probe without handler") << pod("    readinessProbe: {periodSeconds: 5}\n")
                                               << QStringList{"spec.containers[0].readinessProbe: Required value: must specify a handler type"};
        QTest::newRow("mount of a missing volume") << pod("    volumeMounts: [{name: data, mountPath: /data}]\n")
                                                   << QStringList{"spec.containers[0].volumeMounts[0].name: Not found: \"data\""};
        QTest::newRow("invalid name") << QString::fromLatin1(kPod).replace("name: kubia\nspec", "name: Kubia_Biz\nspec")
                                      << QStringList{"metadata.name: Invalid value: \"Kubia_Biz\": a lowercase RFC 1123 subdomain must consist of"};
        QTest::newRow("no name") << QString::fromLatin1(kPod).replace("  name: kubia\nspec", "  labels: {a: b}\nspec")
                                 << QStringList{"metadata.name: Required value: name or generateName is required"};
        QTest::newRow("bad label key") << QString::fromLatin1(kPod).replace("name: kubia\nspec", "name: kubia\n  labels: {\"-bad\": x}\nspec")
                                       << QStringList{"metadata.labels[-bad]: Invalid value: \"-bad\""};
        QTest::newRow("bad label value") << QString::fromLatin1(kPod).replace("name: kubia\nspec", "name: kubia\n  labels: {a: \"has space\"}\nspec")
                                         << QStringList{"metadata.labels[a]: Invalid value: \"has space\""};
        QTest::newRow("no containers") << QString::fromLatin1("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n")
                                       << QStringList{"spec.containers: Required value"};
        QTest::newRow("unknown kind") << QString::fromLatin1("apiVersion: v1\nkind: Deployment\nmetadata: {name: d}\n")
                                      << QStringList{"kind: no kind \"Deployment\" is registered for version \"v1\"; Deployment is served as apiVersion \"apps/v1\""};
        QTest::newRow("selector mismatch") << QString::fromLatin1(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: kubia}
spec:
  selector: {matchLabels: {app: kubia}}
  template:
    metadata: {labels: {app: other}}
    spec: {containers: [{name: k, image: luksa/kubia}]}
)") << QStringList{"spec.template.metadata.labels: Invalid value: {\"app\":\"other\"}: `selector` does not match template `labels`"};
        QTest::newRow("missing selector") << QString::fromLatin1(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: kubia}
spec:
  template:
    metadata: {labels: {app: kubia}}
    spec: {containers: [{name: k, image: luksa/kubia}]}
)") << QStringList{"spec.selector: Required value"};
        QTest::newRow("surge and unavailable both 0") << QString::fromLatin1(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: kubia}
spec:
  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}
  selector: {matchLabels: {app: kubia}}
  template:
    metadata: {labels: {app: kubia}}
    spec: {containers: [{name: k, image: luksa/kubia}]}
)") << QStringList{"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"};
        QTest::newRow("template restartPolicy") << QString::fromLatin1(R"(apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: kubia}
spec:
  selector: {matchLabels: {app: kubia}}
  template:
    metadata: {labels: {app: kubia}}
    spec: {restartPolicy: Never, containers: [{name: k, image: luksa/kubia}]}
)") << QStringList{"spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""};
        QTest::newRow("nodePort on ClusterIP") << QString::fromLatin1("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, nodePort: 30001}]}\n")
                                               << QStringList{"spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"};
        QTest::newRow("unnamed ports") << QString::fromLatin1("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}, {port: 81}]}\n")
                                       << QStringList{"spec.ports[0].name: Required value", "spec.ports[1].name: Required value"};
        QTest::newRow("service name is DNS-1035") << QString::fromLatin1("apiVersion: v1\nkind: Service\nmetadata: {name: 1web}\nspec: {ports: [{port: 80}]}\n")
                                                  << QStringList{"metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of"};
        QTest::newRow("configmap key") << QString::fromLatin1("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {\"bad key\": x}\n")
                                       << QStringList{"data[bad key]: Invalid value: \"bad key\""};
        QTest::newRow("secret data not base64") << QString::fromLatin1("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: \"not base64!\"}\n")
                                                << QStringList{"data[k]: Invalid value: \"<value>\": must be base64 encoded"};
        QTest::newRow("namespace on cluster-scoped") << QString::fromLatin1("apiVersion: v1\nkind: Node\nmetadata: {name: node1, namespace: default}\n")
                                                     << QStringList{"metadata.namespace: Forbidden: not allowed on this type"};
        QTest::newRow("all problems at once") << QString::fromLatin1(R"(apiVersion: v1
kind: Pod
metadata: {name: Bad_Name}
spec:
  restartPolicy: Sometimes
  containers:
  - name: kubia
    imag: luksa/kubia
    ports: [{containerPort: 0}]
)") << QStringList{"metadata.name: Invalid value", "spec.restartPolicy: Unsupported value", "spec.containers[0].imag: unknown field; did you mean \"image\"?",
                   "spec.containers[0].image: Required value", "spec.containers[0].ports[0].containerPort: Required value"};
    }
    void cases()
    {
        QFETCH(QString, manifest);
        QFETCH(QStringList, expected);
        auto doc = decodeYamlDocument(manifest.toStdString());
        QVERIFY2(doc.ok(), doc.ok() ? "" : doc.error().message().c_str());
        auto issues = Validator().validate(doc->value);
        auto got = issueStrings(issues);
        QVERIFY2(got.size() == size_t(expected.size()), joined(issues).c_str());
        for (const auto &e : expected) {
            bool found = std::any_of(got.begin(), got.end(), [&](const std::string &g) { return g.find(e.toStdString()) == 0; });
            QVERIFY2(found, ("expected \"" + e.toStdString() + "\" in:\n" + joined(issues)).c_str());
        }
    }

    void realisticManifestsValidate()
    {
        auto docs = decodeYamlStream(readData("kubia-deployment.yaml"));
        QVERIFY(docs.ok());
        for (auto &d : *docs) {
            auto before = Validator().validate(d.value);
            QVERIFY2(before.empty(), joined(before).c_str());
            Defaulter().apply(d.value);
            auto after = Validator().validate(d.value);
            QVERIFY2(after.empty(), joined(after).c_str());
        }
    }

    void updates_data()
    {
        QTest::addColumn<QString>("before");
        QTest::addColumn<QString>("after");
        QTest::addColumn<QString>("expected"); // empty: allowed
        const QString deploy = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: kubia}
spec:
  replicas: 3
  selector: {matchLabels: {app: kubia}}
  template:
    metadata: {labels: {app: kubia, v: "1"}}
    spec: {containers: [{name: k, image: "luksa/kubia:v1"}]}
)";
        QTest::newRow("scale and new image") << deploy << QString(deploy).replace("replicas: 3", "replicas: 5").replace("v1\"", "v2\"") << "";
        QTest::newRow("selector is immutable")
            << deploy << QString(deploy).replace("matchLabels: {app: kubia}", "matchLabels: {app: kubia, v: \"1\"}")
            << "spec.selector: Invalid value";
        QTest::newRow("pod image may change") << QString::fromLatin1(kPod) << QString::fromLatin1(kPod).replace("luksa/kubia", "luksa/kubia:v2") << "";
        QTest::newRow("pod spec may not change")
            << QString::fromLatin1(kPod) << QString::fromLatin1(kPod) + "    ports: [{containerPort: 8080}]\n"
            << "spec: Forbidden: pod updates may not change fields other than";
        const QString cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nimmutable: true\ndata: {a: \"1\"}\n";
        QTest::newRow("immutable configmap") << cm << QString(cm).replace("\"1\"", "\"2\"") << "data: Forbidden: field is immutable";
    }
    void updates()
    {
        QFETCH(QString, before);
        QFETCH(QString, after);
        QFETCH(QString, expected);
        auto a = decodeYamlDocument(before.toStdString());
        auto b = decodeYamlDocument(after.toStdString());
        QVERIFY(a.ok() && b.ok());
        auto issues = Validator().validateUpdate(b->value, a->value);
        if (expected.isEmpty()) {
            QVERIFY2(issues.empty(), joined(issues).c_str());
        } else {
            QVERIFY2(!issues.empty() && issues.front().toString().find(expected.toStdString()) == 0, joined(issues).c_str());
        }
    }

    void closest_data()
    {
        QTest::addColumn<QString>("word");
        QTest::addColumn<QString>("match");
        QTest::newRow("plural") << "images" << "image";
        QTest::newRow("case") << "ContainerPort" << "containerPort";
        QTest::newRow("swap") << "contianers" << "containers";
        QTest::newRow("too far") << "xyz" << "";
    }
    void closest()
    {
        QFETCH(QString, word);
        QFETCH(QString, match);
        std::vector<std::string> candidates = {"image", "containers", "containerPort", "name", "ports"};
        QCOMPARE(QString::fromStdString(closestMatch(word.toStdString(), candidates)), match);
    }
};

QTEST_GUILESS_MAIN(TestValidator)
#include "tst_validator.moc"
