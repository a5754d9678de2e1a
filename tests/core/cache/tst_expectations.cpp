#include "core/base/clock.h"
#include "core/cache/expectations.h"

#include <QtTest>

#include <thread>

using namespace podscape::core;
using namespace podscape::core::cache;
using namespace std::chrono_literals;

class TestExpectations : public QObject
{
    Q_OBJECT
private slots:
    void unknownKeyIsSatisfied()
    {
        FakeClock clock;
        Expectations e(clock);
        QVERIFY(e.satisfied("default/rs"));
        QVERIFY(!e.expectations("default/rs"));
        e.creationObserved("default/rs"); // observing without expecting is harmless
        QVERIFY(e.satisfied("default/rs"));
        QCOMPARE(e.size(), size_t(0));
    }

    void counting_data()
    {
        QTest::addColumn<int>("adds");
        QTest::addColumn<int>("dels");
        QTest::addColumn<int>("addsSeen");
        QTest::addColumn<int>("delsSeen");
        QTest::addColumn<bool>("satisfied");
        QTest::newRow("nothing expected") << 0 << 0 << 0 << 0 << true;
        QTest::newRow("adds pending") << 3 << 0 << 2 << 0 << false;
        QTest::newRow("adds seen") << 3 << 0 << 3 << 0 << true;
        QTest::newRow("more seen than expected") << 1 << 0 << 2 << 0 << true;
        QTest::newRow("deletes pending") << 0 << 2 << 0 << 1 << false;
        QTest::newRow("deletes seen") << 0 << 2 << 0 << 2 << true;
        QTest::newRow("both, deletes pending") << 2 << 2 << 2 << 1 << false;
        QTest::newRow("both seen") << 2 << 2 << 2 << 2 << true;
    }
    void counting()
    {
        QFETCH(int, adds);
        QFETCH(int, dels);
        QFETCH(int, addsSeen);
        QFETCH(int, delsSeen);
        QFETCH(bool, satisfied);
        FakeClock clock;
        Expectations e(clock);
        e.setExpectations("default/rs", adds, dels);
        for (int i = 0; i < addsSeen; ++i)
            e.creationObserved("default/rs");
        for (int i = 0; i < delsSeen; ++i)
            e.deletionObserved("default/rs");
        QCOMPARE(e.satisfied("default/rs"), satisfied);
        auto counts = e.expectations("default/rs");
        QVERIFY(counts);
        QCOMPARE(counts->adds, int64_t(adds - addsSeen));
        QCOMPARE(counts->deletes, int64_t(dels - delsSeen));
    }

    void expectCreationsReplaces()
    {
        FakeClock clock;
        Expectations e(clock);
        e.expectDeletions("k", 2);
        e.expectCreations("k", 1); // a new sync's expectations replace the old ones
        QCOMPARE(e.expectations("k")->deletes, int64_t(0));
        QCOMPARE(e.expectations("k")->adds, int64_t(1));
        e.creationObserved("k");
        QVERIFY(e.satisfied("k"));
    }

    void raiseAndLower()
    {
        FakeClock clock;
        Expectations e(clock);
        e.raiseExpectations("k", 1, 1); // no expectations yet: nothing to raise
        QVERIFY(!e.expectations("k"));
        e.expectCreations("k", 1);
        e.raiseExpectations("k", 2, 1);
        QCOMPARE(e.expectations("k")->adds, int64_t(3));
        QCOMPARE(e.expectations("k")->deletes, int64_t(1));
        e.lowerExpectations("k", 3, 0);
        QVERIFY(!e.satisfied("k"));
        e.lowerExpectations("k", 0, 1);
        QVERIFY(e.satisfied("k"));
    }

    void expiresAfterFiveMinutes()
    {
        FakeClock clock;
        Expectations e(clock);
        e.expectCreations("k", 2);
        clock.advance(5min);
        QVERIFY(!e.satisfied("k")); // exactly the timeout: still waiting
        clock.advance(1ms);
        QVERIFY(e.satisfied("k")); // a lost event must not stall the controller
        e.expectCreations("k", 1); // a fresh expectation starts a fresh timeout
        QVERIFY(!e.satisfied("k"));
        e.raiseExpectations("k", 1, 0);
        clock.advance(5min + 1ms);
        QVERIFY(e.satisfied("k")); // raising keeps the original timestamp
    }

    void deleteExpectations()
    {
        FakeClock clock;
        Expectations e(clock);
        e.expectCreations("a", 1);
        e.expectCreations("b", 1);
        e.deleteExpectations("a");
        QVERIFY(e.satisfied("a"));
        QVERIFY(!e.satisfied("b"));
        QCOMPARE(e.size(), size_t(1));
    }

    void uidTrackedDeletions()
    {
        FakeClock clock;
        Expectations e(clock);
        e.expectDeletionsOf("rs", {"u1", "u2", "u2"}); // duplicates count once
        QCOMPARE(e.expectations("rs")->deletes, int64_t(2));
        e.deletionObserved("rs", "u1");
        e.deletionObserved("rs", "u1"); // graceful delete's update, then the delete itself
        e.deletionObserved("rs", "other"); // not one of ours
        QVERIFY(!e.satisfied("rs"));
        QCOMPARE(e.expectations("rs")->deletes, int64_t(1));
        e.deletionObserved("rs", "u2");
        QVERIFY(e.satisfied("rs"));
    }

    void concurrentObservations()
    {
        Expectations e;
        e.expectCreations("k", 4000);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < 1000; ++i)
                    e.creationObserved("k");
            });
        for (auto &t : threads)
            t.join();
        QCOMPARE(e.expectations("k")->adds, int64_t(0));
        QVERIFY(e.satisfied("k"));
    }
};

QTEST_GUILESS_MAIN(TestExpectations)
#include "tst_expectations.moc"
