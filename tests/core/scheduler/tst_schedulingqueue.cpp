// The scheduling queue on a FakeClock: priority and FIFO order, the back-off sequence, the
// unschedulable pods and the events and timeout that bring them back.

#include "schedulertestutil.h"

#include "core/scheduler/schedulingqueue.h"

#include <QtTest>

using namespace schedtest;
using namespace std::chrono_literals;

namespace {

PodInfoPtr pending(const std::string &name, int priority = 0, const json &patch = json())
{
    json p = pod(name, {}, {}, patch);
    p["spec"]["priority"] = priority;
    return podInfo(p);
}

QString popName(SchedulingQueue &q)
{
    auto item = q.pop();
    return item ? QString::fromStdString(item->pod->name) : QString();
}

} // namespace

class TestSchedulingQueue : public QObject
{
    Q_OBJECT
private slots:
    void backoffDuration_data()
    {
        QTest::addColumn<int>("attempts");
        QTest::addColumn<int>("millis");
        QTest::newRow("never tried") << 0 << 0;
        QTest::newRow("1") << 1 << 1000;
        QTest::newRow("2") << 2 << 2000;
        QTest::newRow("3") << 3 << 4000;
        QTest::newRow("4") << 4 << 8000;
        QTest::newRow("5: capped") << 5 << 10000;
        QTest::newRow("6") << 6 << 10000;
        QTest::newRow("100: no overflow") << 100 << 10000;
    }
    void backoffDuration()
    {
        QFETCH(int, attempts);
        QFETCH(int, millis);
        FakeClock clock;
        SchedulingQueue q(clock);
        QCOMPARE(std::chrono::duration_cast<std::chrono::milliseconds>(q.backoffDuration(attempts)).count(), qint64(millis));
    }

    void backoffSequence()
    {
        // A pod whose binding keeps failing waits 1, 2, 4, 8, 10, 10 s between attempts.
        FakeClock clock;
        SchedulingQueue q(clock);
        q.add(pending("kubia"));
        auto item = q.pop();
        QVERIFY(item);
        QCOMPARE(item->attempts, 1);
        QCOMPARE(item->initialAttempt, clock.now());
        const auto first = clock.now();
        for (auto wait : {1s, 2s, 4s, 8s, 10s, 10s}) {
            q.addFailed(std::move(*item), false);
            QCOMPARE(q.where("default/kubia"), SchedulingQueue::Where::Backoff);
            QCOMPARE(q.nextWakeup(), clock.now() + wait);
            clock.advance(wait - 1ms);
            QVERIFY(!q.pop());
            clock.advance(1ms);
            item = q.pop();
            QVERIFY(item);
        }
        QCOMPARE(item->attempts, 7);
        QCOMPARE(item->initialAttempt, first);
        QCOMPARE(q.size(), size_t(0));
    }

    void priorityThenFifo()
    {
        FakeClock clock;
        SchedulingQueue q(clock);
        q.add(pending("low-1"));
        clock.advance(1s);
        q.add(pending("high", 10));
        q.add(pending("low-2"));
        q.add(pending("negative", -5));
        q.add(pending("high-2", 10));
        QCOMPARE(q.activeCount(), size_t(5));
        QStringList order;
        while (auto item = q.pop())
            order << QString::fromStdString(item->pod->name);
        QCOMPARE(order, QStringList({"high", "high-2", "low-1", "low-2", "negative"}));
    }

    void addIsIdempotent()
    {
        FakeClock clock;
        SchedulingQueue q(clock);
        q.add(pending("a"));
        q.add(pending("a"));
        q.update(pending("a"));
        QCOMPARE(q.size(), size_t(1));
        q.remove("default/a");
        q.remove("default/a");
        QCOMPARE(q.size(), size_t(0));
        QVERIFY(!q.pop());
        QCOMPARE(q.nextWakeup(), Clock::TimePoint::max());
    }

    void unschedulableWaitsForAnEvent()
    {
        FakeClock clock;
        SchedulingQueue q(clock);
        q.add(pending("kubia"));
        auto item = q.pop();
        item->retryEvents = NodeAdd | AssignedPodDelete;
        q.addFailed(std::move(*item), true);
        QCOMPARE(q.where("default/kubia"), SchedulingQueue::Where::Unschedulable);
        clock.advance(2s); // its back-off is over, but nothing changed
        QVERIFY(!q.pop());
        QCOMPARE(q.moveAllToActiveOrBackoff(NodeLabelChange), size_t(0)); // no plugin of it cares
        QCOMPARE(q.moveAllToActiveOrBackoff(NodeAdd), size_t(1));
        QCOMPARE(q.where("default/kubia"), SchedulingQueue::Where::Active);
        QCOMPARE(popName(q), QString("kubia"));
    }

    void anEarlyEventLeavesTheBackoffToRun()
    {
        FakeClock clock;
        SchedulingQueue q(clock);
        q.add(pending("kubia"));
        auto item = q.pop();
        q.addFailed(std::move(*item), true);
        clock.advance(300ms);
        QCOMPARE(q.moveAllToActiveOrBackoff(NodeAdd), size_t(1));
        QCOMPARE(q.where("default/kubia"), SchedulingQueue::Where::Backoff);
        QVERIFY(!q.pop());
        clock.advance(700ms);
        QCOMPARE(popName(q), QString("kubia"));
    }

    void flushedAfterFiveMinutes()
    {
        FakeClock clock;
        SchedulingQueue q(clock);
        const auto start = clock.now();
        q.add(pending("kubia"));
        q.addFailed(*q.pop(), true);
        // Checked every 30 s: the first check after more than 5 minutes of waiting lets it go.
        clock.set(start + 4min + 59s);
        QVERIFY(!q.pop());
        QCOMPARE(q.nextWakeup(), start + 5min);
        clock.set(start + 5min);
        QVERIFY(!q.pop());
        QCOMPARE(q.nextWakeup(), start + 5min + 30s);
        clock.set(start + 5min + 30s);
        QCOMPARE(popName(q), QString("kubia"));
    }

    void updateOfAnUnschedulablePod()
    {
        FakeClock clock;
        SchedulingQueue q(clock);
        q.add(pending("kubia"));
        auto item = q.pop();
        q.addFailed(std::move(*item), true);
        clock.advance(5s);
        // Our own PodScheduled=False write changes only the status: it stays put.
        q.update(pending("kubia", 0, {{"status", {{"conditions", json::array({{{"type", "PodScheduled"}, {"status", "False"}}})}}}, {"metadata", {{"resourceVersion", "9"}}}}));
        QCOMPARE(q.where("default/kubia"), SchedulingQueue::Where::Unschedulable);
        // A new toleration may change the verdict: tried again.
        q.update(pending("kubia", 0, {{"spec", {{"tolerations", json::array({{{"operator", "Exists"}}})}}}}));
        QCOMPARE(q.where("default/kubia"), SchedulingQueue::Where::Active);
        auto again = q.pop();
        QVERIFY(again);
        QCOMPARE(again->pod->tolerations.size(), size_t(1));
        QCOMPARE(again->attempts, 2);
    }

    void failedWhileReAdded()
    {
        // The pod changed while it was being scheduled: the failure keeps the newer object.
        FakeClock clock;
        SchedulingQueue q(clock);
        q.add(pending("kubia"));
        auto item = q.pop();
        q.add(pending("kubia", 0, {{"metadata", {{"labels", {{"v", "2"}}}}}}));
        q.addFailed(std::move(*item), true);
        QCOMPARE(q.size(), size_t(1));
        QCOMPARE(q.find("default/kubia")->pod->object->at("metadata").at("labels").at("v"), json("2"));
        QCOMPARE(q.find("default/kubia")->attempts, 1);
    }

    void movedOldestFirst()
    {
        FakeClock clock;
        SchedulingQueue q(clock);
        for (const char *name : {"c", "a", "b"})
            q.add(pending(name));
        std::vector<QueuedPodInfo> items;
        while (auto i = q.pop())
            items.push_back(std::move(*i));
        // Failed in the order b, c, a at the same instant: ties go by name.
        q.addFailed(items[2], true);
        q.addFailed(items[0], true);
        clock.advance(1ms);
        q.addFailed(items[1], true);
        clock.advance(5s);
        QCOMPARE(q.moveAllToActiveOrBackoff(NodeAdd), size_t(3));
        QCOMPARE(popName(q), QString("b"));
        QCOMPARE(popName(q), QString("c"));
        QCOMPARE(popName(q), QString("a"));
    }
};

QTEST_GUILESS_MAIN(TestSchedulingQueue)
#include "tst_schedulingqueue.moc"
