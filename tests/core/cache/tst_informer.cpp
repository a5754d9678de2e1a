#include "core/base/clock.h"
#include "core/cache/informer.h"
#include "core/cache/listwatch.h"
#include "core/store/store.h"

#include <QtTest>

#include <future>
#include <thread>

using namespace podscape::core;
using namespace podscape::core::cache;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr int kWait = 10'000; // ms: generous bound for conditions that hold in microseconds

json configMap(const std::string &name, const std::string &ns = "default", json labels = json::object(),
               const std::string &value = "v")
{
    return {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
            {"data", {{"k", value}}}};
}

std::string rvOf(const ObjectPtr &o) { return Indexer::resourceVersionOf(*o); }

// What the handlers saw, one line per call: "add default/a", "update default/a 3->5",
// "delete default/a".
class Recorder
{
public:
    EventHandlers handlers()
    {
        return {[this](const ObjectPtr &o) { record("add " + Indexer::keyOf(*o)); },
                [this](const ObjectPtr &a, const ObjectPtr &b) {
                    record("update " + Indexer::keyOf(*b) + " " + rvOf(a) + "->" + rvOf(b));
                },
                [this](const ObjectPtr &o) { record("delete " + Indexer::keyOf(*o)); }};
    }
    int size() const
    {
        std::lock_guard g(m_mutex);
        return int(m_lines.size());
    }
    QStringList lines(int from = 0) const
    {
        std::lock_guard g(m_mutex);
        return m_lines.mid(from);
    }
    int count(const QString &line) const
    {
        std::lock_guard g(m_mutex);
        return m_lines.count(line);
    }

private:
    void record(const std::string &line)
    {
        std::lock_guard g(m_mutex);
        m_lines << QString::fromStdString(line);
    }
    mutable std::mutex m_mutex;
    QStringList m_lines;
};

// Wraps a real source to count pages and attempts, inject failures and end streams.
class TestListWatch final : public ListWatch
{
public:
    TestListWatch(store::Store &store, std::string resource, Clock &clock, StoreListWatch::Scope scope = {})
        : m_inner(store, std::move(resource), std::move(scope)), m_clock(clock)
    {}

    // A stream whose end the test controls, and which (unlike a bare store Watcher) wakes the
    // consumer when stopped, as a closed HTTP connection would.
    class Stream final : public WatchStream
    {
    public:
        explicit Stream(std::shared_ptr<WatchStream> inner) : m_inner(std::move(inner)) {}
        void setNotify(std::function<void()> notify) override
        {
            {
                std::lock_guard g(m_mutex);
                m_notify = notify;
            }
            m_inner->setNotify(std::move(notify));
        }
        std::vector<store::Event> drain() override { return m_inner->drain(); }
        bool isStopped() const override { return m_inner->isStopped(); }
        void stop() override
        {
            m_inner->stop();
            std::function<void()> notify;
            {
                std::lock_guard g(m_mutex);
                notify = m_notify;
            }
            if (notify)
                notify();
        }

    private:
        std::shared_ptr<WatchStream> m_inner;
        std::mutex m_mutex;
        std::function<void()> m_notify;
    };

    Result<store::ListResult> list(const store::ListOptions &options) override
    {
        {
            std::lock_guard g(m_mutex);
            m_limits.push_back(options.limit);
            if (m_failLists > 0) {
                --m_failLists;
                return m_listError;
            }
        }
        auto page = m_inner.list(options);
        if (page) {
            std::lock_guard g(m_mutex);
            m_pageSizes.push_back(int(page->items.size()));
        }
        if (m_afterFirstPage && options.continueToken.empty())
            std::exchange(m_afterFirstPage, nullptr)();
        return page;
    }

    Result<std::shared_ptr<WatchStream>> watch(const store::WatchOptions &options) override
    {
        std::lock_guard g(m_mutex);
        m_watchTimes.push_back(m_clock.now());
        m_watchFrom.push_back(options.fromRevision);
        if (m_failWatches > 0) {
            --m_failWatches;
            return m_watchError;
        }
        auto inner = m_inner.watch(options);
        if (!inner)
            return inner.takeError();
        m_stream = std::make_shared<Stream>(std::move(inner).value());
        return std::shared_ptr<WatchStream>(m_stream);
    }

    std::string describe() const override { return "test " + m_inner.describe(); }

    void failLists(int n, Error e)
    {
        std::lock_guard g(m_mutex);
        m_failLists = n;
        m_listError = std::move(e);
    }
    void failWatches(int n, Error e)
    {
        std::lock_guard g(m_mutex);
        m_failWatches = n;
        m_watchError = std::move(e);
    }
    // Runs once, between the first page and the next (the informer's thread).
    void afterFirstPage(std::function<void()> f) { m_afterFirstPage = std::move(f); }
    void endStream()
    {
        std::shared_ptr<Stream> s;
        {
            std::lock_guard g(m_mutex);
            s = m_stream;
        }
        if (s)
            s->stop();
    }

    int lists() const
    {
        std::lock_guard g(m_mutex);
        return int(m_limits.size());
    }
    std::vector<int64_t> limits() const
    {
        std::lock_guard g(m_mutex);
        return m_limits;
    }
    std::vector<int> pageSizes() const
    {
        std::lock_guard g(m_mutex);
        return m_pageSizes;
    }
    int watches() const
    {
        std::lock_guard g(m_mutex);
        return int(m_watchTimes.size());
    }
    std::vector<Clock::TimePoint> watchTimes() const
    {
        std::lock_guard g(m_mutex);
        return m_watchTimes;
    }
    std::vector<store::Revision> watchFrom() const
    {
        std::lock_guard g(m_mutex);
        return m_watchFrom;
    }

private:
    StoreListWatch m_inner;
    Clock &m_clock;
    mutable std::mutex m_mutex;
    std::vector<int64_t> m_limits;
    std::vector<int> m_pageSizes;
    std::vector<Clock::TimePoint> m_watchTimes;
    std::vector<store::Revision> m_watchFrom;
    int m_failLists = 0;
    int m_failWatches = 0;
    Error m_listError;
    Error m_watchError;
    std::function<void()> m_afterFirstPage;
    std::shared_ptr<Stream> m_stream;
};

// The cache holds exactly what a fresh list returns, version for version.
bool sameAsStore(const Informer &informer, const store::Store &s, const std::string &resource)
{
    auto fresh = s.list(resource);
    if (!fresh)
        return false;
    std::map<std::string, std::string> want, have;
    for (const auto &o : fresh->items)
        want[Indexer::keyOf(*o)] = rvOf(o);
    for (const auto &o : informer.indexer().list())
        have[Indexer::keyOf(*o)] = rvOf(o);
    if (want != have)
        qWarning() << "cache" << have.size() << "objects, store" << want.size();
    return want == have;
}

void relabel(store::Store &s, const std::string &name, json labels)
{
    auto r = s.modify("configmaps", "default", name, [&](json &o) -> Result<bool> {
        o["metadata"]["labels"] = labels;
        return true;
    });
    QVERIFY(r.ok());
}

void setData(store::Store &s, const std::string &name, const std::string &value)
{
    auto r = s.modify("configmaps", "default", name, [&](json &o) -> Result<bool> {
        o["data"]["k"] = value;
        return true;
    });
    QVERIFY(r.ok());
}

} // namespace

class TestInformer : public QObject
{
    Q_OBJECT
private slots:
    void initialListThenEventsInOrder()
    {
        store::Store s;
        for (auto name : {"b", "a", "c"})
            QVERIFY(s.create("configmaps", configMap(name)).ok());
        Recorder rec;
        Informer informer(std::make_unique<StoreListWatch>(s, "configmaps"));
        informer.addEventHandlers(rec.handlers());
        QVERIFY(!informer.hasSynced());
        informer.start();
        QVERIFY(informer.waitForSync(10s));
        QCOMPARE(rec.lines(), (QStringList{"add default/a", "add default/b", "add default/c"}));
        QCOMPARE(informer.revision(), store::Revision(3));

        QVERIFY(s.create("configmaps", configMap("d")).ok());
        setData(s, "a", "changed");
        QVERIFY(s.remove("configmaps", "default", "b").ok());
        QVERIFY(s.create("configmaps", configMap("e", "other")).ok());
        QTRY_COMPARE_WITH_TIMEOUT(rec.size(), 7, kWait);
        QCOMPARE(rec.lines(3), (QStringList{"add default/d", "update default/a 2->5", "delete default/b", "add other/e"}));
        QVERIFY(sameAsStore(informer, s, "configmaps"));
        QCOMPARE(informer.revision(), s.revision());
        QCOMPARE(informer.indexer().resourceVersion(), s.revision());
        QCOMPARE(informer.indexer().byIndex(Indexer::NamespaceIndex, "other").size(), size_t(1));
        QCOMPARE(informer.listCount(), uint64_t(1));
        QVERIFY(!informer.lastError());
    }

    void handlersSeeTheCacheAlreadyUpdated()
    {
        store::Store s;
        std::atomic<int> stale{0}; // declared before the informer: its thread uses them
        std::atomic<int> calls{0};
        Informer informer(std::make_unique<StoreListWatch>(s, "configmaps"));
        informer.addEventHandlers(
            {[&](const ObjectPtr &o) {
                 if (informer.indexer().get(Indexer::keyOf(*o)) != o)
                     ++stale;
                 ++calls;
             },
             [&](const ObjectPtr &, const ObjectPtr &o) {
                 if (informer.indexer().get(Indexer::keyOf(*o)) != o)
                     ++stale;
                 ++calls;
             },
             [&](const ObjectPtr &o) {
                 if (informer.indexer().get(Indexer::keyOf(*o)))
                     ++stale;
                 ++calls;
             }});
        informer.start();
        QVERIFY(informer.waitForSync(10s));
        // One change at a time: an object created and deleted before the informer watches
        // may legitimately never be seen (a list can fall between the two).
        QVERIFY(s.create("configmaps", configMap("a")).ok());
        QTRY_COMPARE_WITH_TIMEOUT(calls.load(), 1, kWait);
        setData(s, "a", "x");
        QTRY_COMPARE_WITH_TIMEOUT(calls.load(), 2, kWait);
        QVERIFY(s.remove("configmaps", "default", "a").ok());
        QTRY_COMPARE_WITH_TIMEOUT(calls.load(), 3, kWait);
        QCOMPARE(stale.load(), 0);
    }

    void pagedInitialList_data()
    {
        QTest::addColumn<int>("objects");
        QTest::addColumn<QList<int>>("pages");
        QTest::addColumn<QList<qint64>>("limits");
        // A store never written to is at revision 0, which a watch reads as "from now": the
        // informer checks with a one-item list that nothing was written before it watched.
        QTest::newRow("empty") << 0 << QList<int>{0, 0} << QList<qint64>{500, 1};
        QTest::newRow("one page") << 499 << QList<int>{499} << QList<qint64>{500};
        QTest::newRow("exactly one page") << 500 << QList<int>{500} << QList<qint64>{500};
        QTest::newRow("three pages") << 1234 << QList<int>{500, 500, 234} << QList<qint64>{500, 500, 500};
    }
    void pagedInitialList()
    {
        QFETCH(int, objects);
        QFETCH(QList<int>, pages);
        QFETCH(QList<qint64>, limits);
        store::Store s;
        for (int i = 0; i < objects; ++i)
            QVERIFY(s.create("configmaps", configMap("cm-" + std::to_string(i), i % 2 ? "odd" : "even")).ok());
        auto source = std::make_unique<TestListWatch>(s, "configmaps", Clock::system());
        auto *lw = source.get();
        Recorder rec;
        Informer informer(std::move(source));
        informer.addEventHandlers(rec.handlers());
        informer.start();
        QVERIFY(informer.waitForSync(10s));
        QTRY_COMPARE_WITH_TIMEOUT(qsizetype(lw->pageSizes().size()), pages.size(), kWait); // a probe follows the sync
        const auto sizes = lw->pageSizes();
        QCOMPARE(QList<int>(sizes.begin(), sizes.end()), pages);
        const auto asked = lw->limits();
        QCOMPARE(QList<qint64>(asked.begin(), asked.end()), limits);
        QCOMPARE(rec.size(), objects);
        QCOMPARE(informer.indexer().size(), size_t(objects));
        QVERIFY(sameAsStore(informer, s, "configmaps"));
    }

    void pagesAreConsistentUnderWrites()
    {
        // Writes between pages do not tear the list: the pages are pinned to the first
        // page's revision, and the watch from there delivers the writes.
        store::Store s;
        for (int i = 0; i < 1100; ++i)
            QVERIFY(s.create("configmaps", configMap("cm-" + std::to_string(1000 + i))).ok());
        auto source = std::make_unique<TestListWatch>(s, "configmaps", Clock::system());
        auto *lw = source.get();
        lw->afterFirstPage([&] {
            QVERIFY(s.create("configmaps", configMap("cm-9999")).ok());        // on a later page
            QVERIFY(s.remove("configmaps", "default", "cm-2099").ok());      // on the last page
            QVERIFY(s.remove("configmaps", "default", "cm-1000").ok());      // on the first page
        });
        Recorder rec;
        Informer informer(std::move(source));
        informer.addEventHandlers(rec.handlers());
        informer.start();
        QVERIFY(informer.waitForSync(10s));
        QTRY_COMPARE_WITH_TIMEOUT(rec.size(), 1103, kWait);
        // The list is the state as of the first page's revision...
        const auto listed = rec.lines(0).mid(0, 1100);
        QVERIFY(listed.contains("add default/cm-1000"));
        QVERIFY(listed.contains("add default/cm-2099"));
        QVERIFY(!listed.contains("add default/cm-9999"));
        // ...and the watch from there brings the writes made meanwhile.
        QCOMPARE(rec.lines(1100), (QStringList{"add default/cm-9999", "delete default/cm-2099", "delete default/cm-1000"}));
        QVERIFY(sameAsStore(informer, s, "configmaps"));
    }

    void stopAndStartResumes()
    {
        store::Store s;
        for (auto name : {"a", "b", "c"})
            QVERIFY(s.create("configmaps", configMap(name)).ok());
        auto source = std::make_unique<TestListWatch>(s, "configmaps", Clock::system());
        auto *lw = source.get();
        Recorder rec;
        Informer informer(std::move(source));
        informer.addEventHandlers(rec.handlers());
        informer.start();
        QVERIFY(informer.waitForSync(10s));
        informer.stop();
        QVERIFY(!informer.isRunning());
        QVERIFY(informer.hasSynced()); // the cache stays readable, if stale

        QVERIFY(s.create("configmaps", configMap("d")).ok());
        setData(s, "a", "changed");
        QVERIFY(s.remove("configmaps", "default", "b").ok());
        QCOMPARE(rec.size(), 3);

        informer.start();
        QVERIFY(informer.isRunning());
        QTRY_COMPARE_WITH_TIMEOUT(rec.size(), 6, kWait);
        QCOMPARE(rec.lines(3), (QStringList{"add default/d", "update default/a 1->5", "delete default/b"}));
        QCOMPARE(informer.listCount(), uint64_t(1)); // resumed from its revision, no relist
        QCOMPARE(lw->watchFrom().back(), store::Revision(3));
        QVERIFY(sameAsStore(informer, s, "configmaps"));

        informer.stop();
        informer.stop(); // idempotent
        informer.start();
        QVERIFY(s.create("configmaps", configMap("e")).ok());
        QTRY_COMPARE_WITH_TIMEOUT(rec.size(), 7, kWait);
        QCOMPARE(rec.count("delete default/b"), 1);
    }

    void relistAfterGoneSynthesizesDifferences()
    {
        store::StoreOptions options;
        options.historyLimit = 3;
        store::Store s(Clock::system(), options);
        for (auto name : {"a", "b", "c", "keep"})
            QVERIFY(s.create("configmaps", configMap(name)).ok());
        Recorder rec;
        Informer informer(std::make_unique<StoreListWatch>(s, "configmaps"));
        informer.addEventHandlers(rec.handlers());
        informer.start();
        QVERIFY(informer.waitForSync(10s));
        informer.stop();

        // While disconnected: more changes than the history keeps.
        QVERIFY(s.remove("configmaps", "default", "b").ok());
        setData(s, "a", "1");
        setData(s, "a", "2");
        for (auto name : {"x1", "x2", "x3"})
            QVERIFY(s.create("configmaps", configMap(name)).ok());
        QVERIFY(s.remove("configmaps", "default", "c").ok());
        QVERIFY(s.create("configmaps", configMap("c")).ok()); // same name, another object
        QVERIFY(s.oldestRevision() > informer.revision());

        informer.start(); // the watch from its revision is Expired: relist
        QTRY_COMPARE_WITH_TIMEOUT(informer.listCount(), uint64_t(2), kWait); // handlers included
        QCOMPARE(rec.lines(4), (QStringList{"update default/a 1->7", "delete default/b", "delete default/c",
                                            "add default/c", "add default/x1", "add default/x2", "add default/x3"}));
        QVERIFY(sameAsStore(informer, s, "configmaps"));
        QVERIFY(!informer.lastError());

        // The watch resumes from the relist's revision: nothing is reported twice.
        QVERIFY(s.remove("configmaps", "default", "x1").ok());
        QTRY_COMPARE_WITH_TIMEOUT(rec.count("delete default/x1"), 1, kWait);
        QCOMPARE(rec.count("delete default/b"), 1);
        QCOMPARE(rec.size(), 4 + 7 + 1);
        QVERIFY(sameAsStore(informer, s, "configmaps"));
    }

    void relistAfterSlowWatcherDropped()
    {
        store::Store s;
        for (auto name : {"a", "b"})
            QVERIFY(s.create("configmaps", configMap(name)).ok());
        InformerOptions options;
        options.watchQueueLimit = 3; // a tiny queue, to overflow on purpose
        Recorder rec;
        // A handler stuck on "gate" stands for a consumer that cannot keep up.
        std::promise<void> release;
        auto released = release.get_future().share();
        std::atomic<bool> inGate{false};
        std::atomic<bool> opened{false};
        auto open = [&] {
            if (!opened.exchange(true))
                release.set_value();
        };
        Informer informer(std::make_unique<StoreListWatch>(s, "configmaps"), Clock::system(), options);
        auto openOnExit = qScopeGuard(open); // a failing check must not leave the handler stuck
        informer.addEventHandlers(rec.handlers());
        informer.addEventHandlers({[&](const ObjectPtr &o) {
                                       if ((*o)["metadata"]["name"] == "gate") {
                                           inGate = true;
                                           released.wait();
                                       }
                                   },
                                   nullptr, nullptr});
        informer.start();
        QVERIFY(informer.waitForSync(10s));
        QVERIFY(s.create("configmaps", configMap("gate")).ok());
        QTRY_VERIFY_WITH_TIMEOUT(inGate.load(), kWait);
        QVERIFY(s.remove("configmaps", "default", "a").ok());
        for (auto name : {"y1", "y2", "y3", "y4", "y5"})
            QVERIFY(s.create("configmaps", configMap(name)).ok());
        open();

        QTRY_COMPARE_WITH_TIMEOUT(informer.listCount(), uint64_t(2), kWait);
        QTRY_VERIFY_WITH_TIMEOUT(sameAsStore(informer, s, "configmaps"), kWait);
        QCOMPARE(rec.count("delete default/a"), 1);
        for (auto name : {"y1", "y2", "y3", "y4", "y5"})
            QCOMPARE(rec.count(QStringLiteral("add default/") + name), 1);
        QCOMPARE(rec.count("add default/gate"), 1);
    }

    void scopedToSelector()
    {
        store::Store s;
        QVERIFY(s.create("configmaps", configMap("in", "default", {{"app", "kubia"}})).ok());
        QVERIFY(s.create("configmaps", configMap("out", "default", {{"app", "db"}})).ok());
        QVERIFY(s.create("configmaps", configMap("elsewhere", "other", {{"app", "kubia"}})).ok());
        StoreListWatch::Scope scope;
        scope.ns = "default";
        scope.labels = *model::LabelSelector::parse("app=kubia");
        Recorder rec;
        Informer informer(std::make_unique<StoreListWatch>(s, "configmaps", scope));
        informer.addEventHandlers(rec.handlers());
        informer.start();
        QVERIFY(informer.waitForSync(10s));
        QCOMPARE(rec.lines(), QStringList{"add default/in"});
        relabel(s, "in", {{"app", "other"}});  // leaves the selection: a delete
        relabel(s, "out", {{"app", "kubia"}}); // enters it: an add
        QTRY_COMPARE_WITH_TIMEOUT(rec.size(), 3, kWait);
        QCOMPARE(rec.lines(1), (QStringList{"delete default/in", "add default/out"}));
        QCOMPARE(informer.indexer().keys(), std::vector<std::string>{"default/out"});
    }

    void normalEndResumesFromLastRevision()
    {
        store::Store s;
        QVERIFY(s.create("configmaps", configMap("a")).ok());
        auto source = std::make_unique<TestListWatch>(s, "configmaps", Clock::system());
        auto *lw = source.get();
        Recorder rec;
        Informer informer(std::move(source));
        informer.addEventHandlers(rec.handlers());
        informer.start();
        QVERIFY(informer.waitForSync(10s));
        QVERIFY(s.create("configmaps", configMap("b")).ok());
        QTRY_COMPARE_WITH_TIMEOUT(rec.size(), 2, kWait);
        lw->endStream(); // as a server-side watch timeout would
        QTRY_COMPARE_WITH_TIMEOUT(lw->watches(), 2, kWait);
        QCOMPARE(lw->watchFrom(), (std::vector<store::Revision>{1, 2}));
        QVERIFY(s.create("configmaps", configMap("c")).ok());
        QTRY_COMPARE_WITH_TIMEOUT(rec.size(), 3, kWait);
        QCOMPARE(rec.lines(), (QStringList{"add default/a", "add default/b", "add default/c"}));
        QCOMPARE(informer.listCount(), uint64_t(1));
        QVERIFY(!informer.lastError());
    }

    void watchBackoffOnFakeClock()
    {
        store::Store s; // the store on real time; the informer's waits on the fake clock
        QVERIFY(s.create("configmaps", configMap("a")).ok());
        FakeClock clock;
        auto source = std::make_unique<TestListWatch>(s, "configmaps", clock);
        auto *lw = source.get();
        lw->failWatches(4, Error(Reason::ServiceUnavailable, "the API server is restarting"));
        InformerOptions options;
        options.initialBackoff = 1s;
        options.maxBackoff = 3s;
        options.jitter = 0; // exact waits, to check the sequence
        Recorder rec;
        Informer informer(std::move(source), clock, options);
        informer.addEventHandlers(rec.handlers());
        informer.start();
        QTRY_VERIFY_WITH_TIMEOUT(informer.hasSynced(), kWait); // listing worked; watching does not

        const std::vector<Clock::Duration> waits{1s, 2s, 3s, 3s}; // doubling, capped
        for (size_t i = 0; i < waits.size(); ++i) {
            // Attempt i+1 failed and the informer sleeps on the clock.
            QTRY_VERIFY_WITH_TIMEOUT(lw->watches() == int(i + 1) && clock.waiters() == 1, kWait);
            auto error = informer.lastError();
            QVERIFY(error);
            QCOMPARE(error->reason(), Reason::ServiceUnavailable);
            QCOMPARE(QString::fromStdString(error->message()), QStringLiteral("the API server is restarting"));
            clock.advance(waits[i] - 1ms);
            QCOMPARE(lw->watches(), int(i + 1));
            clock.advance(1ms);
            QTRY_COMPARE_WITH_TIMEOUT(lw->watches(), int(i + 2), kWait);
            auto times = lw->watchTimes();
            QCOMPARE(times[i + 1] - times[i], waits[i]);
        }
        // The fifth attempt works: the error clears and events flow again.
        QTRY_VERIFY_WITH_TIMEOUT(!informer.lastError(), kWait);
        QVERIFY(s.create("configmaps", configMap("b")).ok());
        QTRY_COMPARE_WITH_TIMEOUT(rec.size(), 2, kWait);
        QCOMPARE(informer.listCount(), uint64_t(1)); // retried the watch, no relist needed
        informer.stop();
    }

    void listFailureReportsWhyAndRetries()
    {
        store::Store s;
        QVERIFY(s.create("configmaps", configMap("a")).ok());
        FakeClock clock;
        auto source = std::make_unique<TestListWatch>(s, "configmaps", clock);
        auto *lw = source.get();
        lw->failLists(2, Error(Reason::Forbidden, "configmaps is forbidden: User \"dev\" cannot list resource \"configmaps\""));
        InformerOptions options;
        options.initialBackoff = 1s;
        options.jitter = 0;
        Informer informer(std::move(source), clock, options);
        informer.start();
        QTRY_VERIFY_WITH_TIMEOUT(lw->lists() == 1 && clock.waiters() == 1, kWait);
        QVERIFY(!informer.hasSynced());
        QCOMPARE(informer.lastError()->reason(), Reason::Forbidden);
        QVERIFY(QString::fromStdString(informer.lastError()->message()).contains("cannot list"));
        clock.advance(1s);
        QTRY_VERIFY_WITH_TIMEOUT(lw->lists() == 2 && clock.waiters() == 1, kWait);
        QVERIFY(!informer.hasSynced());
        clock.advance(2s);
        QTRY_VERIFY_WITH_TIMEOUT(informer.hasSynced(), kWait);
        QVERIFY(!informer.lastError());
        QCOMPARE(informer.indexer().size(), size_t(1));
    }

    void waitForSyncTimesOutOrEndsWithStop()
    {
        store::Store s;
        FakeClock clock;
        auto source = std::make_unique<TestListWatch>(s, "configmaps", clock);
        source->failLists(1000, Error(Reason::ServiceUnavailable, "down"));
        Informer informer(std::move(source), clock);
        informer.start();
        // A waiter on the fake clock: released by advancing past its timeout.
        auto waiting = std::async(std::launch::async, [&] { return informer.waitForSync(5s); });
        QTRY_VERIFY_WITH_TIMEOUT(clock.waiters() == 2, kWait); // the waiter and the back-off
        clock.advance(5s);
        QCOMPARE(waiting.wait_for(10s), std::future_status::ready);
        QVERIFY(!waiting.get());
        // stop() releases a waiter at once.
        auto waiting2 = std::async(std::launch::async, [&] { return informer.waitForSync(1h); });
        QTRY_VERIFY_WITH_TIMEOUT(clock.waiters() == 2, kWait);
        informer.stop();
        QCOMPARE(waiting2.wait_for(10s), std::future_status::ready);
        QVERIFY(!waiting2.get());
    }

    void backoffFor_data()
    {
        QTest::addColumn<int>("failures");
        QTest::addColumn<double>("random");
        QTest::addColumn<qint64>("expectedMs");
        QTest::newRow("first") << 1 << 0.0 << qint64(800);
        QTest::newRow("second") << 2 << 0.0 << qint64(1600);
        QTest::newRow("capped") << 10 << 0.0 << qint64(30'000);
        QTest::newRow("huge count") << 100'000 << 0.0 << qint64(30'000);
        QTest::newRow("half jitter") << 1 << 0.5 << qint64(1200);
        QTest::newRow("full jitter on the cap") << 10 << 1.0 << qint64(60'000);
    }
    void backoffFor()
    {
        QFETCH(int, failures);
        QFETCH(double, random);
        QFETCH(qint64, expectedMs);
        auto d = Informer::backoffFor(failures, InformerOptions{}, random);
        QCOMPARE(std::chrono::duration_cast<std::chrono::milliseconds>(d).count(), expectedMs);
    }
};

QTEST_GUILESS_MAIN(TestInformer)
#include "tst_informer.moc"
