#include "core/base/clock.h"
#include "core/cache/ratelimiter.h"
#include "core/cache/workqueue.h"

#include <QtTest>

#include <atomic>
#include <future>
#include <map>
#include <thread>

using namespace podscape::core;
using namespace podscape::core::cache;
using namespace std::chrono_literals;

namespace {

// Yields until `pred` holds or a (real) deadline passes: waits on a condition, never sleeps.
template<typename Pred>
bool spinUntil(Pred pred, std::chrono::milliseconds timeout = 10s)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::yield();
    }
    return true;
}

qint64 ms(Clock::Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

} // namespace

class TestWorkQueue : public QObject
{
    Q_OBJECT
private slots:
    void dedupWhileQueued_data()
    {
        QTest::addColumn<QStringList>("adds");
        QTest::addColumn<QStringList>("order");
        QTest::newRow("one") << QStringList{"a"} << QStringList{"a"};
        QTest::newRow("repeated") << QStringList{"a", "a", "a"} << QStringList{"a"};
        QTest::newRow("interleaved") << QStringList{"a", "b", "a", "c", "b"} << QStringList{"a", "b", "c"};
        QTest::newRow("first add keeps its place") << QStringList{"b", "a", "b"} << QStringList{"b", "a"};
    }
    void dedupWhileQueued()
    {
        QFETCH(QStringList, adds);
        QFETCH(QStringList, order);
        FakeClock clock;
        WorkQueue q(clock);
        for (const auto &k : adds)
            q.add(k.toStdString());
        QCOMPARE(q.len(), size_t(order.size()));
        for (const auto &k : order) {
            auto got = q.get();
            QVERIFY(got.has_value());
            QCOMPARE(QString::fromStdString(*got), k);
            q.done(*got);
        }
        QCOMPARE(q.len(), size_t(0));
    }

    void reAddWhileProcessingRequeuesAfterDone()
    {
        FakeClock clock;
        WorkQueue q(clock);
        q.add("a");
        QCOMPARE(*q.get(), std::string("a"));
        q.add("a"); // changed again while a worker syncs it
        q.add("a");
        QCOMPARE(q.len(), size_t(0)); // not handed to a second worker meanwhile
        q.add("b");
        QCOMPARE(*q.get(), std::string("b")); // other keys flow
        q.done("b");
        q.done("a");
        QCOMPARE(q.len(), size_t(1)); // queued once, however often it was added
        QCOMPARE(*q.get(), std::string("a"));
        q.done("a");
        QCOMPARE(q.len(), size_t(0));
    }

    void noConcurrentProcessingOfSameKey()
    {
        WorkQueue q; // the system clock: real threads, real contention
        const std::vector<std::string> keys{"a", "b", "c"};
        std::map<std::string, std::atomic<int>> busy, added, seen;
        for (const auto &k : keys) {
            busy[k] = 0;
            added[k] = 0;
            seen[k] = 0;
        }
        std::atomic<bool> overlap{false};
        std::vector<std::thread> workers;
        for (int w = 0; w < 4; ++w)
            workers.emplace_back([&] {
                while (auto key = q.get()) {
                    if (busy[*key].fetch_add(1) != 0)
                        overlap = true;
                    // What a sync would read: the state as of now.
                    seen[*key] = added[*key].load();
                    std::this_thread::yield();
                    busy[*key].fetch_sub(1);
                    q.done(*key);
                }
            });
        for (int i = 1; i <= 3000; ++i) {
            const auto &k = keys[i % keys.size()];
            added[k] = i;
            q.add(k);
        }
        // Level-triggered guarantee: every key is processed after its last change.
        QVERIFY(spinUntil([&] {
            for (const auto &k : keys)
                if (seen[k].load() != added[k].load())
                    return false;
            return true;
        }));
        q.shutDown();
        for (auto &t : workers)
            t.join();
        QVERIFY(!overlap.load());
    }

    void rateLimiterBackoffSequence()
    {
        FakeClock clock;
        RateLimiter limiter(clock);
        qint64 expected = 5;
        for (int i = 0; i < 25; ++i) {
            QCOMPARE(ms(limiter.when("a")), std::min<qint64>(expected, 1'000'000));
            QCOMPARE(limiter.numRequeues("a"), i + 1);
            expected *= 2;
        }
        QCOMPARE(ms(limiter.when("b")), qint64(5)); // per key
        limiter.forget("a");
        QCOMPARE(limiter.numRequeues("a"), 0);
        QCOMPARE(ms(limiter.when("a")), qint64(5));
    }

    void rateLimitedBackoffThroughQueue()
    {
        FakeClock clock;
        WorkQueue q(clock);
        for (qint64 delay : {5, 10, 20, 40}) {
            q.addRateLimited("a");
            QCOMPARE(q.len(), size_t(0));
            QCOMPARE(q.delayedLen(), size_t(1));
            clock.advance(std::chrono::milliseconds(delay - 1));
            QCOMPARE(q.len(), size_t(0));
            clock.advance(1ms);
            QCOMPARE(q.len(), size_t(1));
            QCOMPARE(*q.get(), std::string("a"));
            q.done("a");
        }
        QCOMPARE(q.numRequeues("a"), 4);
        q.forget("a");
        QCOMPARE(q.numRequeues("a"), 0);
        q.addRateLimited("a");
        clock.advance(5ms);
        QCOMPARE(q.len(), size_t(1));
    }

    void tokenBucket()
    {
        FakeClock clock;
        RateLimiter limiter(clock);
        // 100 tokens of burst: the first 100 keys wait only their own 5 ms.
        for (int i = 0; i < 100; ++i)
            QCOMPARE(ms(limiter.when("k" + std::to_string(i))), qint64(5));
        // Then 10 per second: the 101st waits for a token.
        QCOMPARE(ms(limiter.when("k100")), qint64(100));
        clock.advance(1s); // refills 10, one of which pays the debt
        for (int i = 0; i < 9; ++i)
            QCOMPARE(ms(limiter.when("m" + std::to_string(i))), qint64(5));
        QCOMPARE(ms(limiter.when("m9")), qint64(100));
    }

    void tokenBucketThroughQueue()
    {
        FakeClock clock;
        WorkQueue q(clock);
        for (int i = 0; i <= 100; ++i)
            q.addRateLimited("k" + std::to_string(i));
        clock.advance(5ms);
        QCOMPARE(q.len(), size_t(100));
        clock.advance(94ms);
        QCOMPARE(q.len(), size_t(100));
        clock.advance(1ms);
        QCOMPARE(q.len(), size_t(101));
    }

    void shutDownWakesGetters()
    {
        FakeClock clock;
        WorkQueue q(clock);
        std::vector<std::future<std::optional<std::string>>> getters;
        for (int i = 0; i < 3; ++i)
            getters.push_back(std::async(std::launch::async, [&] { return q.get(); }));
        QVERIFY(spinUntil([&] { return clock.waiters() == 3; })); // all three blocked
        q.shutDown();
        for (auto &g : getters) {
            QCOMPARE(g.wait_for(10s), std::future_status::ready);
            QVERIFY(!g.get().has_value());
        }
        QVERIFY(q.isShuttingDown());
    }

    void shutDownDrainsQueuedDropsLater()
    {
        FakeClock clock;
        WorkQueue q(clock);
        q.add("a");
        q.addAfter("later", 1s);
        q.shutDown();
        q.add("b");
        QCOMPARE(*q.get(), std::string("a")); // already queued: still handed out
        q.done("a");
        clock.advance(1s);
        QVERIFY(!q.get().has_value());
        QCOMPARE(q.delayedLen(), size_t(0));
    }

    void addAfterOrdering()
    {
        FakeClock clock;
        WorkQueue q(clock);
        q.addAfter("c", 30ms);
        q.addAfter("a", 10ms);
        q.addAfter("b", 20ms);
        q.addAfter("d", 20ms); // same time as b: after b, in order of addition
        q.addAfter("c", 40ms); // already waiting for an earlier time: kept at 30 ms
        q.addAfter("e", 50ms);
        q.addAfter("e", 5ms); // an earlier time wins
        q.addAfter("now", 0ms); // no delay: queued at once
        QCOMPARE(q.len(), size_t(1));
        QCOMPARE(q.delayedLen(), size_t(5));
        clock.advance(30ms);
        QStringList order;
        while (q.len() > 0) {
            auto key = q.get();
            order << QString::fromStdString(*key);
            q.done(*key);
        }
        QCOMPARE(order, (QStringList{"now", "e", "a", "b", "d", "c"}));
    }

    void addAfterWakesBlockedGetter()
    {
        FakeClock clock;
        WorkQueue q(clock);
        auto getter = std::async(std::launch::async, [&] { return q.get(); });
        QVERIFY(spinUntil([&] { return clock.waiters() == 1; }));
        q.addAfter("x", 2s);
        clock.advance(1s);
        QCOMPARE(getter.wait_for(0ms), std::future_status::timeout);
        clock.advance(1s);
        QCOMPARE(getter.wait_for(10s), std::future_status::ready);
        QCOMPARE(*getter.get(), std::string("x"));
    }

    void addAfterRearmsOnSystemClock()
    {
        // A getter asleep with nothing delayed must re-arm for a new, nearer due time.
        WorkQueue q;
        auto getter = std::async(std::launch::async, [&] { return q.get(); });
        q.addAfter("soon", 20ms);
        QCOMPARE(getter.wait_for(10s), std::future_status::ready);
        QCOMPARE(*getter.get(), std::string("soon"));
    }

    void addAfterWhileQueuedOrProcessing()
    {
        FakeClock clock;
        WorkQueue q(clock);
        q.add("a");
        q.addAfter("a", 10ms);
        clock.advance(10ms);
        QCOMPARE(q.len(), size_t(1)); // due, but already queued: still once
        QCOMPARE(*q.get(), std::string("a"));
        q.addAfter("a", 10ms);
        clock.advance(10ms);
        QCOMPARE(q.len(), size_t(0)); // being processed: waits for done()
        q.done("a");
        QCOMPARE(q.len(), size_t(1));
    }
};

QTEST_GUILESS_MAIN(TestWorkQueue)
#include "tst_workqueue.moc"
