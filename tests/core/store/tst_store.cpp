#include "core/store/store.h"

#include <QtTest>

#include <set>
#include <thread>

using namespace podscape::core;
using namespace podscape::core::store;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {
json pod(const std::string &name, const std::string &ns = "default", json labels = json::object())
{
    return {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
            {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "busybox"}}})}}}};
}
std::string rvOf(const ObjectPtr &o) { return (*o)["metadata"]["resourceVersion"]; }
std::vector<std::string> names(const std::vector<ObjectPtr> &items)
{
    std::vector<std::string> out;
    for (const auto &i : items)
        out.push_back((*i)["metadata"]["name"]);
    return out;
}
} // namespace

class TestStore : public QObject
{
    Q_OBJECT
private slots:
    void createSetsSystemFields()
    {
        FakeClock clock;
        Store s(clock);
        auto p = s.create("pods", pod("kubia"));
        QVERIFY(p.ok());
        const json &m = (**p)["metadata"];
        QCOMPARE(m["resourceVersion"], "1");
        QCOMPARE(m["generation"], 1);
        QCOMPARE(m["uid"].get<std::string>().size(), size_t(36));
        QCOMPARE(m["creationTimestamp"], "2023-11-14T22:13:20Z");
        auto again = s.create("pods", pod("kubia"));
        QVERIFY(!again.ok());
        QCOMPARE(again.error().reason(), Reason::AlreadyExists);
        QCOMPARE(QString::fromStdString(again.error().message()), QStringLiteral("pods \"kubia\" already exists"));
        // the same name in another namespace is another object
        QVERIFY(s.create("pods", pod("kubia", "other")).ok());
        QCOMPARE(s.revision(), Revision(2));
        auto missing = s.get("pods", "default", "nope");
        QCOMPARE(missing.error().reason(), Reason::NotFound);
    }

    void generateName()
    {
        Store s;
        std::set<std::string> seen;
        for (int i = 0; i < 20; ++i) {
            json p = pod("");
            p["metadata"].erase("name");
            p["metadata"]["generateName"] = "kubia-";
            auto r = s.create("pods", p);
            QVERIFY(r.ok());
            std::string name = (**r)["metadata"]["name"];
            QCOMPARE(name.size(), size_t(11));
            QVERIFY(name.rfind("kubia-", 0) == 0);
            QVERIFY(seen.insert(name).second);
        }
        json nameless = pod("");
        nameless["metadata"].erase("name");
        QCOMPARE(s.create("pods", nameless).error().reason(), Reason::Invalid);
    }

    void updateConflictsAndGeneration()
    {
        Store s;
        auto created = s.create("pods", pod("kubia"));
        json stale = **created;
        json change = **created;
        change["metadata"]["labels"]["tier"] = "web";
        auto updated = s.update("pods", change);
        QVERIFY(updated.ok());
        QCOMPARE(rvOf(*updated), std::string("2"));
        QCOMPARE((**updated)["metadata"]["generation"], 1); // metadata only
        stale["spec"]["x"] = 1;
        auto conflict = s.update("pods", stale);
        QCOMPARE(conflict.error().reason(), Reason::Conflict);
        QVERIFY(conflict.error().message().find("the object has been modified") != std::string::npos);
        json spec = **updated;
        spec["spec"]["containers"][0]["image"] = "busybox:2";
        auto bumped = s.update("pods", spec);
        QCOMPARE((**bumped)["metadata"]["generation"], 2);
        json status = **bumped;
        status["status"] = {{"phase", "Running"}};
        QCOMPARE((**s.update("pods", status))["metadata"]["generation"], 2);
        // identical content: no new revision
        Revision before = s.revision();
        auto same = s.update("pods", (**s.get("pods", "default", "kubia")));
        QVERIFY(same.ok());
        QCOMPARE(s.revision(), before);
        // system fields cannot be overwritten
        json forged = (**s.get("pods", "default", "kubia"));
        forged["metadata"]["uid"] = "forged";
        forged["metadata"]["labels"]["x"] = "y";
        QCOMPARE((**s.update("pods", forged))["metadata"]["uid"], (**created)["metadata"]["uid"]);
        // without a resourceVersion the write is unconditional
        json blind = pod("kubia");
        blind["metadata"]["labels"]["blind"] = "yes";
        QVERIFY(s.update("pods", blind).ok());
        QCOMPARE(s.update("pods", pod("ghost")).error().reason(), Reason::NotFound);
    }

    void modifyRetriesConflicts()
    {
        Store s;
        json cm = {{"kind", "ConfigMap"}, {"metadata", {{"name", "counter"}, {"namespace", "default"}}}, {"data", {{"n", "0"}}}};
        QVERIFY(s.create("configmaps", cm).ok());
        std::vector<std::thread> threads;
        for (int t = 0; t < 8; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < 50; ++i) {
                    auto r = s.modify("configmaps", "default", "counter", [](json &o) -> Result<bool> {
                        o["data"]["n"] = std::to_string(std::stoi(o["data"]["n"].get<std::string>()) + 1);
                        return true;
                    });
                    QVERIFY(r.ok());
                }
            });
        for (auto &t : threads)
            t.join();
        QCOMPARE(((**s.get("configmaps", "default", "counter")))["data"]["n"], "400");
    }

    void listSelectorsAndNamespaces()
    {
        Store s;
        s.create("pods", pod("a", "default", {{"app", "kubia"}}));
        s.create("pods", pod("b", "default", {{"app", "other"}}));
        s.create("pods", pod("c", "kube-system", {{"app", "kubia"}}));
        json d = pod("d", "default", {{"app", "kubia"}});
        d["spec"]["nodeName"] = "node-1";
        s.create("pods", d);
        s.create("services", json{{"metadata", {{"name", "a"}, {"namespace", "default"}}}});
        QCOMPARE(names(s.list("pods")->items), (std::vector<std::string>{"a", "b", "d", "c"}));
        ListOptions ns;
        ns.ns = "default";
        QCOMPARE(names(s.list("pods", ns)->items), (std::vector<std::string>{"a", "b", "d"}));
        ListOptions labels;
        labels.labels = *model::LabelSelector::parse("app=kubia");
        QCOMPARE(names(s.list("pods", labels)->items), (std::vector<std::string>{"a", "d", "c"}));
        ListOptions fields;
        fields.fields = *model::FieldSelector::parse("spec.nodeName=node-1");
        QCOMPARE(names(s.list("pods", fields)->items), (std::vector<std::string>{"d"}));
        ListOptions unscheduled;
        unscheduled.fields = *model::FieldSelector::parse("spec.nodeName=");
        QCOMPARE(names(s.list("pods", unscheduled)->items), (std::vector<std::string>{"a", "b", "c"}));
        QCOMPARE(s.list("pods")->revision, Revision(5));
    }

    void paginationIsConsistentAtOneRevision()
    {
        Store s;
        for (int i = 0; i < 10; ++i)
            s.create("pods", pod("p" + std::to_string(i)));
        ListOptions page;
        page.limit = 4;
        auto first = s.list("pods", page);
        QCOMPARE(names(first->items), (std::vector<std::string>{"p0", "p1", "p2", "p3"}));
        QCOMPARE(first->remainingItemCount, int64_t(6));
        QVERIFY(!first->continueToken.empty());
        // the world moves on between pages
        s.remove("pods", "default", "p5");
        s.create("pods", pod("p45"));
        json changed = (**s.get("pods", "default", "p6"));
        changed["metadata"]["labels"]["changed"] = "yes";
        s.update("pods", changed);
        std::vector<std::string> all = names(first->items);
        std::string token = first->continueToken;
        while (!token.empty()) {
            ListOptions next;
            next.limit = 4;
            next.continueToken = token;
            auto r = s.list("pods", next);
            QVERIFY2(r.ok(), r.ok() ? "" : r.error().message().c_str());
            QCOMPARE(r->revision, first->revision);
            for (const auto &item : r->items) {
                all.push_back((*item)["metadata"]["name"]);
                if ((*item)["metadata"]["name"] == "p6")
                    QVERIFY(!(*item)["metadata"]["labels"].contains("changed"));
            }
            token = r->continueToken;
        }
        QCOMPARE(all, (std::vector<std::string>{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"}));
        ListOptions bad;
        bad.continueToken = "!!!";
        QCOMPARE(s.list("pods", bad).error().reason(), Reason::BadRequest);
    }

    void continueTooOld()
    {
        StoreOptions o;
        o.historyLimit = 3;
        Store s(Clock::system(), o);
        for (int i = 0; i < 5; ++i)
            s.create("pods", pod("p" + std::to_string(i)));
        ListOptions page;
        page.limit = 2;
        auto first = s.list("pods", page);
        for (int i = 0; i < 5; ++i)
            s.create("pods", pod("q" + std::to_string(i)));
        ListOptions next;
        next.continueToken = first->continueToken;
        auto r = s.list("pods", next);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().httpCode(), 410);
        ListOptions exact;
        exact.revision = 1;
        QCOMPARE(s.list("pods", exact).error().reason(), Reason::Expired);
    }

    void deletePreconditionsAndFinalizers()
    {
        Store s;
        json p = pod("kubia");
        p["metadata"]["finalizers"] = {"example.com/cleanup"};
        auto created = s.create("pods", p);
        DeleteOptions wrongUid;
        wrongUid.preconditionUid = "nope";
        QCOMPARE(s.remove("pods", "default", "kubia", wrongUid).error().reason(), Reason::Conflict);
        auto deleting = s.remove("pods", "default", "kubia");
        QVERIFY(deleting.ok());
        QVERIFY((**deleting)["metadata"].contains("deletionTimestamp"));
        QVERIFY(s.get("pods", "default", "kubia").ok()); // held by its finalizer
        json done = **deleting;
        done["metadata"].erase("finalizers");
        QVERIFY(s.update("pods", done).ok());
        QCOMPARE(s.get("pods", "default", "kubia").error().reason(), Reason::NotFound);
        QCOMPARE(s.remove("pods", "default", "kubia").error().reason(), Reason::NotFound);
        // orphan and foreground propagation are finalizers for the garbage collector
        s.create("replicasets.apps", json{{"metadata", {{"name", "rs"}, {"namespace", "default"}}}});
        DeleteOptions orphan;
        orphan.propagationPolicy = "Orphan";
        auto o = s.remove("replicasets.apps", "default", "rs", orphan);
        QCOMPARE((**o)["metadata"]["finalizers"], json::array({"orphan"}));
    }

    void gracefulPodDeletion()
    {
        FakeClock clock;
        Store s(clock);
        json p = pod("kubia");
        p["spec"]["nodeName"] = "node-1";
        p["spec"]["terminationGracePeriodSeconds"] = 30;
        s.create("pods", p);
        auto graceful = s.remove("pods", "default", "kubia");
        QCOMPARE((**graceful)["metadata"]["deletionGracePeriodSeconds"], 30);
        QCOMPARE((**graceful)["metadata"]["deletionTimestamp"], "2023-11-14T22:13:50Z");
        QVERIFY(s.get("pods", "default", "kubia").ok());
        // asking again with the same grace changes nothing; a shorter one shortens it
        Revision r = s.revision();
        s.remove("pods", "default", "kubia");
        QCOMPARE(s.revision(), r);
        DeleteOptions shorter;
        shorter.gracePeriodSeconds = 5;
        QCOMPARE((**s.remove("pods", "default", "kubia", shorter))["metadata"]["deletionGracePeriodSeconds"], 5);
        // the kubelet finishes with grace 0
        DeleteOptions now;
        now.gracePeriodSeconds = 0;
        QVERIFY(s.remove("pods", "default", "kubia", now).ok());
        QVERIFY(!s.get("pods", "default", "kubia").ok());
        // an unscheduled pod goes at once
        s.create("pods", pod("pending"));
        QVERIFY(s.remove("pods", "default", "pending").ok());
        QVERIFY(!s.get("pods", "default", "pending").ok());
    }

    void watchDeliversInOrder()
    {
        Store s;
        s.create("pods", pod("before"));
        auto w = s.watch("pods");
        QVERIFY(w.ok());
        s.create("pods", pod("a"));
        s.create("services", json{{"metadata", {{"name", "svc"}, {"namespace", "default"}}}});
        json a = (**s.get("pods", "default", "a"));
        a["metadata"]["labels"]["x"] = "1";
        s.update("pods", a);
        s.remove("pods", "default", "a");
        std::vector<std::pair<EventType, Revision>> got;
        while (auto e = (*w)->next(100ms))
            got.push_back({e->type, e->revision});
        QCOMPARE(got, (std::vector<std::pair<EventType, Revision>>{{EventType::Added, 2}, {EventType::Modified, 4}, {EventType::Deleted, 5}}));
    }

    void watchFromRevisionReplays()
    {
        Store s;
        for (int i = 0; i < 5; ++i)
            s.create("pods", pod("p" + std::to_string(i)));
        WatchOptions from;
        from.fromRevision = 2;
        auto w = s.watch("pods", from);
        QVERIFY(w.ok());
        s.create("pods", pod("live"));
        std::vector<Revision> revs;
        while (auto e = (*w)->next(50ms))
            revs.push_back(e->revision);
        QCOMPARE(revs, (std::vector<Revision>{3, 4, 5, 6}));
    }

    void watchTooOldIsGone()
    {
        StoreOptions o;
        o.historyLimit = 2;
        Store s(Clock::system(), o);
        for (int i = 0; i < 5; ++i)
            s.create("pods", pod("p" + std::to_string(i)));
        WatchOptions old;
        old.fromRevision = 1;
        auto w = s.watch("pods", old);
        QVERIFY(!w.ok());
        QCOMPARE(w.error().httpCode(), 410);
        QVERIFY(w.error().isGone());
        QVERIFY(w.error().message().find("too old resource version: 1 (3)") != std::string::npos);
        old.fromRevision = 3;
        QVERIFY(s.watch("pods", old).ok());
    }

    void watchSelectorTransitions()
    {
        Store s;
        s.create("pods", pod("a", "default", {{"app", "kubia"}}));
        WatchOptions opts;
        opts.labels = *model::LabelSelector::parse("app=kubia");
        auto w = s.watch("pods", opts);
        json a = (**s.get("pods", "default", "a"));
        a["metadata"]["labels"]["app"] = "other"; // leaves the selection
        s.update("pods", a);
        a = (**s.get("pods", "default", "a"));
        a["metadata"]["labels"]["app"] = "kubia"; // comes back
        s.update("pods", a);
        s.create("pods", pod("b", "default", {{"app", "other"}})); // never selected
        std::vector<EventType> types;
        while (auto e = (*w)->next(50ms))
            types.push_back(e->type);
        QCOMPARE(types, (std::vector<EventType>{EventType::Deleted, EventType::Added}));
    }

    void nodeWatchesSeeTheirPodsOnly()
    {
        // Kubelets watch spec.nodeName=<node>; the store routes by node name (an index), which
        // must not change what each watcher sees.
        Store s;
        auto watchNode = [&](const std::string &node) {
            WatchOptions o;
            o.fields = model::FieldSelector::oneTermEqual("spec.nodeName", node);
            return *s.watch("pods", o);
        };
        auto n1 = watchNode("n1"), n2 = watchNode("n2"), unscheduled = watchNode("");
        WatchOptions byLabel;
        byLabel.fields = *model::FieldSelector::parse("spec.nodeName=n1,metadata.name!=b");
        auto n1NotB = *s.watch("pods", byLabel);
        auto all = *s.watch("pods");
        auto bind = [&](const std::string &name, const std::string &node) {
            QVERIFY(s.modify("pods", "default", name, [&](json &p) -> Result<bool> {
                         p["spec"]["nodeName"] = node;
                         return true;
                     }).ok());
        };
        QVERIFY(s.create("pods", pod("a")).ok());
        QVERIFY(s.create("pods", pod("b")).ok());
        bind("a", "n1");
        bind("b", "n1");
        bind("b", "n2"); // moved (a store may see it; the API server forbids it)
        QVERIFY(s.remove("pods", "default", "a").ok());
        auto seen = [](const std::shared_ptr<Watcher> &w) {
            std::vector<std::string> out;
            for (const auto &e : w->drain())
                out.push_back(std::string(e.type == EventType::Added ? "+" : e.type == EventType::Deleted ? "-" : "~")
                              + (*e.object)["metadata"]["name"].get<std::string>());
            return out;
        };
        // (Removing a pod starts its graceful deletion: a modification.)
        QCOMPARE(seen(n1), (std::vector<std::string>{"+a", "+b", "-b", "~a"}));
        QCOMPARE(seen(n2), (std::vector<std::string>{"+b"}));
        QCOMPARE(seen(unscheduled), (std::vector<std::string>{"+a", "+b", "-a", "-b"}));
        QCOMPARE(seen(n1NotB), (std::vector<std::string>{"+a", "~a"}));
        QCOMPARE(seen(all).size(), size_t(6));
        // A stopped watcher is dropped from the index and gets nothing more.
        n2->stop();
        for (int i = 0; i < 70; ++i)
            QVERIFY(s.create("configmaps", {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "c" + std::to_string(i)}, {"namespace", "default"}}}}).ok());
        QVERIFY(s.create("pods", pod("c")).ok());
        bind("c", "n2");
        QVERIFY(n2->drain().empty());
    }

    void slowWatcherIsEnded()
    {
        Store s;
        WatchOptions opts;
        opts.queueLimit = 5;
        auto w = s.watch("pods", opts);
        for (int i = 0; i < 20; ++i)
            s.create("pods", pod("p" + std::to_string(i)));
        auto e = (*w)->next(50ms);
        QVERIFY(e.has_value());
        QCOMPARE(e->type, EventType::Error);
        QCOMPARE(e->error.httpCode(), 410);
        QVERIFY(!(*w)->next(10ms).has_value());
        QVERIFY((*w)->isStopped());
    }

    void bookmarks()
    {
        FakeClock clock;
        StoreOptions o;
        o.bookmarkInterval = 60s;
        Store s(clock, o);
        s.create("pods", pod("a"));
        WatchOptions with;
        with.bookmarks = true;
        auto w = s.watch("pods", with);
        auto without = s.watch("pods");
        while (clock.waiters() == 0)
            std::this_thread::yield();
        clock.advance(61s);
        auto e = (*w)->next(2000ms);
        QVERIFY(e.has_value());
        QCOMPARE(e->type, EventType::Bookmark);
        QCOMPARE((*e->object)["metadata"]["resourceVersion"], "1");
        QVERIFY(!(*without)->next(20ms).has_value());
    }
};

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"
