#include "core/cache/indexer.h"

#include <QtTest>

#include <atomic>
#include <thread>

using namespace podscape::core;
using namespace podscape::core::cache;
using nlohmann::json;

namespace {

ObjectPtr pod(const std::string &ns, const std::string &name, const std::string &rv, json labels = json::object(),
              const std::string &node = {}, const std::string &ownerUid = {}, const std::string &uid = {})
{
    json o = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"namespace", ns}, {"resourceVersion", rv}, {"labels", labels}}},
              {"spec", json::object()}};
    o["metadata"]["uid"] = uid.empty() ? "uid-" + ns + "-" + name : uid;
    if (!node.empty())
        o["spec"]["nodeName"] = node;
    if (!ownerUid.empty())
        o["metadata"]["ownerReferences"] = json::array(
            {{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"name", "rs"}, {"uid", "not-controller"}},
             {{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"name", "rs"}, {"uid", ownerUid}, {"controller", true}}});
    return std::make_shared<const json>(std::move(o));
}

QStringList keysOf(const std::vector<ObjectPtr> &objects)
{
    QStringList out;
    for (const auto &o : objects)
        out << QString::fromStdString(Indexer::keyOf(*o));
    return out;
}

} // namespace

class TestIndexer : public QObject
{
    Q_OBJECT
private slots:
    void keys_data()
    {
        QTest::addColumn<QString>("doc");
        QTest::addColumn<QString>("key");
        QTest::newRow("namespaced") << R"({"metadata":{"name":"kubia","namespace":"default"}})" << "default/kubia";
        QTest::newRow("cluster-scoped") << R"({"metadata":{"name":"node-1"}})" << "node-1";
        QTest::newRow("mistyped metadata") << R"({"metadata":"oops"})" << "";
        QTest::newRow("not an object") << R"([1,2])" << "";
    }
    void keys()
    {
        QFETCH(QString, doc);
        QFETCH(QString, key);
        QCOMPARE(QString::fromStdString(Indexer::keyOf(json::parse(doc.toStdString()))), key);
    }

    void builtInIndexes_data()
    {
        QTest::addColumn<QString>("index");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QStringList>("keys");
        QTest::newRow("namespace") << "namespace" << "default" << QStringList{"default/a", "default/b"};
        QTest::newRow("other namespace") << "namespace" << "prod" << QStringList{"prod/c"};
        QTest::newRow("owner") << "owner" << "rs-1" << QStringList{"default/a", "prod/c"};
        QTest::newRow("non-controller owner") << "owner" << "not-controller" << QStringList{};
        QTest::newRow("node") << "node" << "node-1" << QStringList{"default/b", "prod/c"};
        QTest::newRow("unscheduled") << "node" << "" << QStringList{};
        QTest::newRow("label") << "label" << "app=kubia" << QStringList{"default/a", "default/b"};
        QTest::newRow("label other value") << "label" << "app=db" << QStringList{"prod/c"};
        QTest::newRow("unknown value") << "label" << "app=none" << QStringList{};
        QTest::newRow("unknown index") << "colour" << "red" << QStringList{};
    }
    void builtInIndexes()
    {
        QFETCH(QString, index);
        QFETCH(QString, value);
        QFETCH(QStringList, keys);
        Indexer idx;
        idx.upsert(pod("default", "a", "1", {{"app", "kubia"}}, "", "rs-1"));
        idx.upsert(pod("default", "b", "2", {{"app", "kubia"}, {"tier", "web"}}, "node-1"));
        idx.upsert(pod("prod", "c", "3", {{"app", "db"}, {"n", 7}}, "node-1", "rs-1"));
        QCOMPARE(keysOf(idx.byIndex(index.toStdString(), value.toStdString())), keys);
        QCOMPARE(idx.keysByIndex(index.toStdString(), value.toStdString()).size(), size_t(keys.size()));
    }

    void updateRefilesAndRemoveUnfiles()
    {
        Indexer idx;
        QVERIFY(!idx.upsert(pod("default", "a", "1", {{"app", "kubia"}}, "node-1")));
        auto previous = idx.upsert(pod("default", "a", "2", {{"app", "other"}}, "node-2"));
        QVERIFY(previous);
        QCOMPARE((*previous)["metadata"]["resourceVersion"], "1");
        QVERIFY(idx.byIndex(Indexer::LabelIndex, "app=kubia").empty());
        QVERIFY(idx.byIndex(Indexer::NodeIndex, "node-1").empty());
        QCOMPARE(keysOf(idx.byIndex(Indexer::NodeIndex, "node-2")), QStringList{"default/a"});
        // Empty buckets go away: values that churn do not accumulate.
        QCOMPARE(idx.indexValues(Indexer::NodeIndex), (std::vector<std::string>{"node-2"}));
        auto removed = idx.remove("default/a");
        QVERIFY(removed);
        QVERIFY(!idx.remove("default/a"));
        QCOMPARE(idx.size(), size_t(0));
        QVERIFY(idx.indexValues(Indexer::LabelIndex).empty());
        QVERIFY(idx.indexValues(Indexer::NamespaceIndex).empty());
    }

    void customIndex()
    {
        Indexer idx;
        idx.upsert(pod("default", "a", "1", json::object(), "node-1"));
        idx.upsert(pod("default", "b", "2"));
        auto byPhase = [](const json &o) -> std::vector<std::string> {
            auto s = o.find("status");
            if (s == o.end() || !s->is_object() || !s->contains("phase"))
                return {"Pending"};
            return {(*s)["phase"].get<std::string>()};
        };
        QVERIFY(idx.addIndex("phase", byPhase).ok());
        QVERIFY(idx.hasIndex("phase"));
        QCOMPARE(keysOf(idx.byIndex("phase", "Pending")), (QStringList{"default/a", "default/b"})); // existing objects filed
        json running = *pod("default", "a", "3");
        running["status"]["phase"] = "Running";
        idx.upsert(std::make_shared<const json>(running));
        QCOMPARE(keysOf(idx.byIndex("phase", "Running")), QStringList{"default/a"});
        auto again = idx.addIndex("phase", byPhase);
        QVERIFY(!again.ok());
        QCOMPARE(again.error().reason(), Reason::AlreadyExists);
        QCOMPARE(idx.addIndex("empty", nullptr).error().reason(), Reason::BadRequest);

        // A throwing index function files the object under nothing instead of failing.
        QVERIFY(idx.addIndex("throws", [](const json &o) -> std::vector<std::string> {
                       return {o.at("missing").get<std::string>()};
                   }).ok());
        idx.upsert(pod("default", "c", "4"));
        QVERIFY(idx.get("default/c"));
        QVERIFY(idx.indexValues("throws").empty());
    }

    void getAndList()
    {
        Indexer idx;
        idx.upsert(pod("prod", "z", "1", {{"app", "kubia"}}));
        idx.upsert(pod("default", "b", "2", {{"app", "kubia"}}));
        idx.upsert(pod("default", "a", "3", {{"app", "db"}}));
        QVERIFY(idx.get("default", "a"));
        QVERIFY(!idx.get("default", "z"));
        QCOMPARE(keysOf(idx.list()), (QStringList{"default/a", "default/b", "prod/z"})); // key order
        auto kubia = model::LabelSelector::parse("app=kubia");
        QVERIFY(kubia.ok());
        QCOMPARE(keysOf(idx.list(*kubia)), (QStringList{"default/b", "prod/z"}));
        QCOMPARE(keysOf(idx.list(*kubia, "default")), QStringList{"default/b"});
        QCOMPARE(keysOf(idx.list(model::LabelSelector::everything(), "default")), (QStringList{"default/a", "default/b"}));
        QVERIFY(idx.list(model::LabelSelector::nothing()).empty());
        QCOMPARE(idx.keys(), (std::vector<std::string>{"default/a", "default/b", "prod/z"}));
    }

    void snapshotsAreImmutable()
    {
        Indexer idx;
        idx.upsert(pod("default", "a", "1", {{"app", "v1"}}));
        ObjectPtr held = idx.get("default/a");
        auto listed = idx.list();
        idx.upsert(pod("default", "a", "2", {{"app", "v2"}}));
        idx.remove("default/a");
        // What a reader got stays as it was.
        QCOMPARE((*held)["metadata"]["labels"]["app"], "v1");
        QCOMPARE(listed.size(), size_t(1));
        QCOMPARE((*listed[0])["metadata"]["resourceVersion"], "1");
    }

    void replaceReportsDifferences()
    {
        Indexer idx;
        idx.upsert(pod("default", "same", "1"));
        idx.upsert(pod("default", "changed", "2", {{"v", "old"}}));
        idx.upsert(pod("default", "gone", "3", {{"app", "kubia"}}, "node-1"));
        idx.upsert(pod("default", "recreated", "4", json::object(), "", "", "uid-old"));
        auto changes = idx.replace({pod("default", "same", "1"), pod("default", "changed", "9", {{"v", "new"}}),
                                    pod("default", "new", "10"), pod("default", "recreated", "11", json::object(), "", "", "uid-new")},
                                   42);
        QStringList seen;
        for (const auto &c : changes) {
            if (c.oldObject && c.newObject)
                seen << "update " + QString::fromStdString(Indexer::keyOf(*c.newObject));
            else if (c.newObject)
                seen << "add " + QString::fromStdString(Indexer::keyOf(*c.newObject));
            else
                seen << "delete " + QString::fromStdString(Indexer::keyOf(*c.oldObject));
        }
        QCOMPARE(seen, (QStringList{"update default/changed", "delete default/gone", "add default/new",
                                    "delete default/recreated", "add default/recreated"}));
        QCOMPARE(idx.resourceVersion(), store::Revision(42));
        QCOMPARE(idx.size(), size_t(4));
        QVERIFY(!idx.get("default/gone"));
        QVERIFY(idx.byIndex(Indexer::NodeIndex, "node-1").empty());
        QVERIFY(idx.byIndex(Indexer::LabelIndex, "app=kubia").empty());
        QCOMPARE(keysOf(idx.byIndex(Indexer::LabelIndex, "v=new")), QStringList{"default/changed"});
        QVERIFY(idx.byIndex(Indexer::LabelIndex, "v=old").empty());
        QCOMPARE(idx.byIndex(Indexer::NamespaceIndex, "default").size(), size_t(4));

        QVERIFY(idx.replace({}, 43).size() == 4); // everything gone
        QCOMPARE(idx.size(), size_t(0));
        QVERIFY(idx.indexValues(Indexer::NamespaceIndex).empty());
    }

    void resourceVersion()
    {
        Indexer idx;
        QCOMPARE(idx.resourceVersion(), store::Revision(0));
        idx.setResourceVersion(17);
        QCOMPARE(idx.resourceVersion(), store::Revision(17));
    }

    void concurrentReadersAndWriter()
    {
        Indexer idx;
        std::atomic<bool> done{false};
        std::atomic<bool> inconsistent{false};
        std::vector<std::thread> readers;
        for (int r = 0; r < 3; ++r)
            readers.emplace_back([&] {
                while (!done) {
                    // Every object filed under a label really carries it.
                    for (const auto &o : idx.byIndex(Indexer::LabelIndex, "gen=even"))
                        if ((*o)["metadata"]["labels"]["gen"] != "even")
                            inconsistent = true;
                    (void)idx.list();
                }
            });
        for (int i = 0; i < 2000; ++i)
            idx.upsert(pod("default", "p" + std::to_string(i % 50), std::to_string(i), {{"gen", i % 2 ? "odd" : "even"}}));
        done = true;
        for (auto &t : readers)
            t.join();
        QVERIFY(!inconsistent.load());
        QCOMPARE(idx.size(), size_t(50));
    }
};

QTEST_GUILESS_MAIN(TestIndexer)
#include "tst_indexer.moc"
