#include "core/base/timeformat.h"
#include "core/controllers/eventttl/eventttlcontroller.h"

#include <QtTest>

using namespace podscape::core;
using namespace podscape::core::controllers;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {
json eventAt(const std::string &name, Clock::TimePoint lastSeen)
{
    return {{"apiVersion", "v1"},
            {"kind", "Event"},
            {"metadata", {{"name", name}, {"namespace", "default"}}},
            {"involvedObject", {{"kind", "Pod"}, {"name", "web"}, {"namespace", "default"}}},
            {"reason", "Started"},
            {"message", "Started container web"},
            {"lastTimestamp", formatRfc3339(lastSeen)},
            {"count", 1}};
}
} // namespace

class TestEventTTLController : public QObject
{
    Q_OBJECT

    struct Fixture {
        FakeClock clock;
        store::Store store{clock};
        SharedInformers informers{store, clock};
        std::unique_ptr<EventTTLController> controller;

        explicit Fixture(EventTTLController::Options options)
        {
            controller = std::make_unique<EventTTLController>(informers, options);
        }
        ~Fixture()
        {
            controller->stop();
            informers.stop();
        }
        void start()
        {
            informers.start();
            controller->start();
        }
        size_t count()
        {
            auto l = store.list("events", {});
            return l ? l->items.size() : 0;
        }
        bool exists(const std::string &name) { return store.get("events", "default", name).ok(); }
    };

private slots:
    void expiredEventsGo()
    {
        EventTTLController::Options o;
        o.ttl = 1h;
        o.period = 10s;
        Fixture f(o);
        const auto t0 = f.clock.now();
        QVERIFY(f.store.create("events", eventAt("old", t0 - 2h)).ok());
        QVERIFY(f.store.create("events", eventAt("recent", t0 - 10min)).ok());
        f.start();
        QTRY_VERIFY_WITH_TIMEOUT(!f.exists("old"), 5000);
        QVERIFY(f.exists("recent"));
        // Once "recent" is an hour old, the next pass removes it too.
        QTRY_VERIFY_WITH_TIMEOUT(f.clock.waiters() > 0, 5000);
        f.clock.advance(51min);
        QTRY_VERIFY_WITH_TIMEOUT(!f.exists("recent"), 5000);
    }

    void overTheCapTheLeastRecentGo()
    {
        EventTTLController::Options o;
        o.maxEvents = 10;
        Fixture f(o);
        const auto t0 = f.clock.now();
        for (int i = 0; i < 12; ++i) // e-0 seen longest ago
            QVERIFY(f.store.create("events", eventAt("e-" + std::to_string(i), t0 - std::chrono::minutes(30 - i))).ok());
        f.start();
        // Down to 90% of the cap: the three seen longest ago are gone.
        QTRY_COMPARE_WITH_TIMEOUT(f.count(), size_t(9), 5000);
        for (int i = 0; i < 3; ++i)
            QVERIFY(!f.exists("e-" + std::to_string(i)));
        for (int i = 3; i < 12; ++i)
            QVERIFY(f.exists("e-" + std::to_string(i)));
    }
};

QTEST_GUILESS_MAIN(TestEventTTLController)
#include "tst_eventttlcontroller.moc"
