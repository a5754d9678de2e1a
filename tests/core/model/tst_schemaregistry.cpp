#include "core/model/schemaregistry.h"

#include <QtTest>

#include <set>

using namespace podscape::core;
using namespace podscape::core::model;
using nlohmann::json;

namespace {
const char *kSmall = R"(
types:
  Thing:
    _: A test object.
    apiVersion: string | Version.
    kind: string | Kind.
    metadata: ObjectMeta | Standard metadata.
    spec: ThingSpec | What is wanted.
  ObjectMeta:
    name: string format=dns1123subdomain | Name.
  ThingSpec:
    replicas: int32 default=1 min=0 | How many.
    mode: string enum=Fast,Slow default=Slow | Speed.
    items: "[]Item key=name | Items."
    tags: "[]string set | Tags."
    limits: map[quantity] | Limits.
    port: int-or-string | Port.
  Item:
    name: string required | Item name.
    size: quantity | Item size.
resources:
  - kind: Thing
    group: example.com
    version: v1
    plural: things
    singular: thing
    namespaced: true
    shortNames: [th]
    categories: [all]
    verbs: [get, list]
)";
} // namespace

class TestSchemaRegistry : public QObject
{
    Q_OBJECT
private slots:
    void loadsDsl()
    {
        auto r = SchemaRegistry::load({kSmall});
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message().c_str());
        const TypeSchema *spec = r->type("ThingSpec");
        QVERIFY(spec);
        // fields keep the file's order, not alphabetical
        QCOMPARE(spec->fields.front().name, std::string("replicas"));
        QCOMPARE(spec->fields.back().name, std::string("port"));
        const FieldSchema *replicas = spec->field("replicas");
        QCOMPARE(replicas->type.kind, FieldKind::Int32);
        QCOMPARE(*replicas->defaultValue, json(1));
        QCOMPARE(*replicas->minimum, 0.0);
        QCOMPARE(replicas->description, std::string("How many."));
        const FieldSchema *mode = spec->field("mode");
        QCOMPARE(mode->enumValues, (std::vector<std::string>{"Fast", "Slow"}));
        QCOMPARE(*mode->defaultValue, json("Slow"));
        const FieldSchema *items = spec->field("items");
        QCOMPARE(items->type.spelling(), std::string("[]Item"));
        QCOMPARE(items->mergeKey(), std::string("name"));
        QVERIFY(spec->field("tags")->set);
        QCOMPARE(spec->field("limits")->type.spelling(), std::string("map[quantity]"));
        QCOMPARE(spec->field("port")->type.kind, FieldKind::IntOrString);
        QCOMPARE(r->type("Thing")->description, std::string("A test object."));
    }

    void resourcesAndResolution()
    {
        auto r = SchemaRegistry::load({kSmall});
        QVERIFY(r.ok());
        const ResourceInfo *t = r->resolve("th");
        QVERIFY(t);
        QCOMPARE(t->apiVersion(), std::string("example.com/v1"));
        QCOMPARE(r->resolve("Things"), t);
        QCOMPARE(r->resolve("thing"), t);
        QCOMPARE(r->resolve("Thing"), t);
        QCOMPARE(r->resolve("things.example.com"), t);
        QVERIFY(!r->resolve("things.apps"));
        QVERIFY(!r->resolve("widgets"));
        QCOMPARE(r->resourceFor("example.com/v1", "Thing"), t);
        QVERIFY(!r->resourceFor("v1", "Thing"));
        QCOMPARE(r->category("all").size(), size_t(1));
        QVERIFY(t->hasVerb("list"));
        QVERIFY(!t->hasVerb("delete"));
    }

    void pathsAndFields()
    {
        auto r = SchemaRegistry::load({kSmall});
        QVERIFY(r.ok());
        auto t = r->typeAt("Thing", {"spec", "items", "3", "size"});
        QVERIFY(t.has_value());
        QCOMPARE(t->kind, FieldKind::Quantity);
        QVERIFY(!r->typeAt("Thing", {"spec", "nope"}).has_value());
        auto limit = r->typeAt("Thing", {"spec", "limits", "cpu"});
        QCOMPARE(limit->kind, FieldKind::Quantity);
        // explain-style: lists are walked through without indices
        const FieldSchema *f = r->fieldAt("Thing", {"spec", "items", "size"});
        QVERIFY(f);
        QCOMPARE(f->description, std::string("Item size."));
        QVERIFY(!r->fieldAt("Thing", {"spec", "items", "colour"}));
    }

    void reportsEveryProblem()
    {
        const char *bad = R"(
types:
  A:
    x: strng | Typo in the type.
    y: string requird | Typo in a flag.
    z: "[]B key=id | B has no id."
    w: Missing | Undefined type.
    d: int32 default=abc | Bad default.
    k: "[]string key=name | key on scalars."
  B:
    name: string | Name.
resources:
  - kind: A
    version: v1
    plural: as
    colour: red
  - kind: C
    version: v1
    plural: cs
)";
        auto r = SchemaRegistry::load({bad});
        QVERIFY(!r.ok());
        const std::string &m = r.error().message();
        for (const char *expected : {"unknown type \"strng\"", "unknown flag \"requird\"", "list key \"id\" is not a field of B",
                                     "type Missing is not defined", "default \"abc\" is not a int32",
                                     "key= needs a list of objects", "unknown key \"colour\"", "type C is not defined"})
            QVERIFY2(m.find(expected) != std::string::npos, (std::string(expected) + " missing in:\n" + m).c_str());
        // problems name the line of the schema file
        QVERIFY2(m.find("line 4: A.x") != std::string::npos, m.c_str());
    }

    void builtinDataLoads()
    {
        auto r = SchemaRegistry::load(schemaDocuments());
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message().c_str());
        QVERIFY(r->types().size() > 150);
        const auto &b = SchemaRegistry::builtin();
        QCOMPARE(b.types().size(), r->types().size());
        for (const char *kind : {"Namespace", "Node", "Pod", "Service", "Endpoints", "ReplicationController", "ReplicaSet",
                                 "Deployment", "Event", "ConfigMap", "Secret"})
            QVERIFY2(b.resourceForGroupKind(kind == std::string("ReplicaSet") || kind == std::string("Deployment") ? "apps" : "", kind),
                     kind);
        QVERIFY(b.resourceFor("events.k8s.io/v1", "Event"));
        QVERIFY(b.subresourceKind("scale"));
        QCOMPARE(b.subresourceKind("scale")->apiVersion(), std::string("autoscaling/v1"));
    }

    void builtinMatchesRealDiscovery_data()
    {
        QTest::addColumn<QString>("file");
        QTest::newRow("core/v1") << "api_v1_resourcelist.json";
        QTest::newRow("apps/v1") << "apps_v1_resourcelist.json";
    }
    void builtinMatchesRealDiscovery()
    {
        // The discovery documents captured from a real API server: every resource we serve
        // must be described as it describes it.
        QFETCH(QString, file);
        QFile f(QStringLiteral(PODSCAPE_SOURCE_DIR "/../shared/kubectl-protocol/samples/") + file);
        if (!f.open(QIODevice::ReadOnly))
            QSKIP("../shared/kubectl-protocol/samples is not beside this checkout");
        json list = json::parse(f.readAll().toStdString());
        const auto &b = SchemaRegistry::builtin();
        std::string gv = list["groupVersion"];
        int checked = 0;
        for (const auto &res : list["resources"]) {
            std::string name = res["name"];
            if (name.find('/') != std::string::npos)
                continue;
            const ResourceInfo *ours = nullptr;
            for (const auto &r : b.resources())
                if (r.plural == name && r.apiVersion() == gv)
                    ours = &r;
            if (!ours)
                continue; // a resource we do not serve (yet)
            ++checked;
            QCOMPARE(ours->kind, res["kind"].get<std::string>());
            QCOMPARE(ours->namespaced, res["namespaced"].get<bool>());
            QCOMPARE(ours->verbs.size(), res["verbs"].size());
            for (const auto &v : res["verbs"])
                QVERIFY2(ours->hasVerb(v.get<std::string>()), (name + " lacks verb " + v.get<std::string>()).c_str());
            std::vector<std::string> shortNames = res.value("shortNames", std::vector<std::string>{});
            QCOMPARE(ours->shortNames, shortNames);
            std::vector<std::string> categories = res.value("categories", std::vector<std::string>{});
            QCOMPARE(ours->categories, categories);
        }
        QVERIFY(checked >= 2);
    }

    void builtinResolvesWhatKubectlUsers_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("apiVersion");
        QTest::addColumn<QString>("kind");
        QTest::newRow("po") << "po" << "v1" << "Pod";
        QTest::newRow("pods") << "pods" << "v1" << "Pod";
        QTest::newRow("svc") << "svc" << "v1" << "Service";
        QTest::newRow("rs") << "rs" << "apps/v1" << "ReplicaSet";
        QTest::newRow("rc") << "rc" << "v1" << "ReplicationController";
        QTest::newRow("ReplicationControllers") << "ReplicationControllers" << "v1" << "ReplicationController";
        QTest::newRow("deploy") << "deploy" << "apps/v1" << "Deployment";
        QTest::newRow("ep") << "ep" << "v1" << "Endpoints";
        QTest::newRow("no") << "no" << "v1" << "Node";
        QTest::newRow("ns") << "ns" << "v1" << "Namespace";
        QTest::newRow("ev") << "ev" << "v1" << "Event";
        QTest::newRow("events.events.k8s.io") << "events.events.k8s.io" << "events.k8s.io/v1" << "Event";
        QTest::newRow("cm") << "cm" << "v1" << "ConfigMap";
        QTest::newRow("secret") << "secret" << "v1" << "Secret";
    }
    void builtinResolvesWhatKubectlUsers()
    {
        QFETCH(QString, name);
        QFETCH(QString, apiVersion);
        QFETCH(QString, kind);
        const ResourceInfo *r = SchemaRegistry::builtin().resolve(name.toStdString());
        QVERIFY(r);
        QCOMPARE(QString::fromStdString(r->apiVersion()), apiVersion);
        QCOMPARE(QString::fromStdString(r->kind), kind);
    }

    void builtinCategoryAll()
    {
        std::set<std::string> all;
        for (const auto *r : SchemaRegistry::builtin().category("all"))
            all.insert(r->plural);
        QCOMPARE(all, (std::set<std::string>{"pods", "services", "replicationcontrollers", "replicasets", "deployments"}));
    }

    void builtinExplainPaths()
    {
        const auto &b = SchemaRegistry::builtin();
        const FieldSchema *port = b.fieldAt("Pod", {"spec", "containers", "ports", "containerPort"});
        QVERIFY(port);
        QVERIFY(port->required);
        QCOMPARE(port->type.kind, FieldKind::Int32);
        QVERIFY(!port->description.empty());
        const FieldSchema *containers = b.fieldAt("Pod", {"spec", "containers"});
        QCOMPARE(containers->mergeKey(), std::string("name"));
        const FieldSchema *env = b.fieldAt("Deployment", {"spec", "template", "spec", "containers", "env"});
        QCOMPARE(env->mergeKey(), std::string("name"));
        const FieldSchema *finalizers = b.fieldAt("Pod", {"metadata", "finalizers"});
        QVERIFY(finalizers->set);
        const FieldSchema *strategy = b.fieldAt("Deployment", {"spec", "strategy"});
        QVERIFY(strategy->retainKeys);
        QVERIFY(b.fieldAt("Deployment", {"spec", "selector"})->immutable);
        // every type has a description of its own, and every field of the kinds has one
        for (const auto &[name, type] : b.types())
            for (const auto &f : type.fields)
                QVERIFY2(!f.description.empty(), (name + "." + f.name + " has no description").c_str());
    }

    void duplicateTypesRefused()
    {
        auto r = SchemaRegistry::load({"types:\n  A:\n    x: string\n", "types:\n  A:\n    y: string\n"});
        QVERIFY(!r.ok());
        QVERIFY(r.error().message().find("defined twice") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestSchemaRegistry)
#include "tst_schemaregistry.moc"
