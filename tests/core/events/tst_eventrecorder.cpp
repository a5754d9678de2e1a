#include "core/events/eventrecorder.h"

#include <QtTest>

using namespace podscape::core;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {
json pod(const std::string &name, const std::string &uid)
{
    return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", name}, {"namespace", "demo"}, {"uid", uid}, {"resourceVersion", "7"}}}};
}

std::vector<json> storedEvents(store::Store &s, const std::string &ns)
{
    std::vector<json> out;
    store::ListOptions options;
    options.ns = ns;
    auto list = s.list("events", options);
    if (list)
        for (const auto &e : list->items)
            out.push_back(*e);
    return out;
}
} // namespace

class TestEventRecorder : public QObject
{
    Q_OBJECT
private slots:
    void writesAnEventAboutTheObject()
    {
        FakeClock clock;
        store::Store s(clock);
        events::EventRecorder recorder(s, clock, "kubelet", "node-1");
        recorder.record(pod("web", "u1"), "Normal", "Pulled", "Container image \"nginx\" already present on machine");
        auto all = storedEvents(s, "demo");
        QCOMPARE(all.size(), size_t(1));
        const json &e = all[0];
        QCOMPARE(e["involvedObject"]["kind"], json("Pod"));
        QCOMPARE(e["involvedObject"]["name"], json("web"));
        QCOMPARE(e["involvedObject"]["namespace"], json("demo"));
        QCOMPARE(e["involvedObject"]["uid"], json("u1"));
        QCOMPARE(e["reason"], json("Pulled"));
        QCOMPARE(e["type"], json("Normal"));
        QCOMPARE(e["count"], json(1));
        QCOMPARE(e["source"]["component"], json("kubelet"));
        QCOMPARE(e["source"]["host"], json("node-1"));
        QVERIFY(e["metadata"]["name"].get<std::string>().rfind("web.", 0) == 0);
    }

    void repeatsBecomeOneEventWithACount()
    {
        FakeClock clock;
        store::Store s(clock);
        events::EventRecorder recorder(s, clock, "default-scheduler");
        int observed = 0;
        recorder.setObserver([&](const json &) { ++observed; });
        for (int i = 0; i < 3; ++i) {
            recorder.record(pod("web", "u1"), "Warning", "FailedScheduling", "0/1 nodes are available");
            clock.advance(1s);
        }
        recorder.record(pod("web", "u1"), "Warning", "FailedScheduling", "0/2 nodes are available"); // another message
        recorder.record(pod("web", "u2"), "Warning", "FailedScheduling", "0/1 nodes are available");  // another object
        auto all = storedEvents(s, "demo");
        QCOMPARE(all.size(), size_t(3));
        int counted = 0;
        for (const auto &e : all)
            if (e["count"] == 3) {
                ++counted;
                QVERIFY(e["firstTimestamp"] != e["lastTimestamp"]);
            }
        QCOMPARE(counted, 1);
        QCOMPARE(observed, 5);
    }

    void aSeriesEndsAfterTenMinutes()
    {
        FakeClock clock;
        store::Store s(clock);
        events::EventRecorder recorder(s, clock, "replicaset-controller");
        recorder.record(pod("web", "u1"), "Normal", "SuccessfulCreate", "Created pod: web-1");
        clock.advance(11min);
        recorder.record(pod("web", "u1"), "Normal", "SuccessfulCreate", "Created pod: web-1");
        QCOMPARE(storedEvents(s, "demo").size(), size_t(2));
    }

    void aDeletedEventIsWrittenAgain()
    {
        FakeClock clock;
        store::Store s(clock);
        events::EventRecorder recorder(s, clock, "replicaset-controller");
        recorder.record(pod("web", "u1"), "Normal", "SuccessfulCreate", "Created pod: web-1");
        auto first = storedEvents(s, "demo");
        QCOMPARE(first.size(), size_t(1));
        QVERIFY(s.remove("events", "demo", first[0]["metadata"]["name"].get<std::string>()).ok());
        recorder.record(pod("web", "u1"), "Normal", "SuccessfulCreate", "Created pod: web-1");
        auto again = storedEvents(s, "demo");
        QCOMPARE(again.size(), size_t(1));
        QCOMPARE(again[0]["count"], json(1));
    }

    void clusterScopedObjectsGetEventsInDefault()
    {
        FakeClock clock;
        store::Store s(clock);
        events::EventRecorder recorder(s, clock, "node-controller");
        recorder.record({{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "node-1"}, {"uid", "n1"}}}}, "Normal",
                        "RegisteredNode", "Registered Node node-1 in Controller");
        auto all = storedEvents(s, "default");
        QCOMPARE(all.size(), size_t(1));
        QVERIFY(!all[0]["involvedObject"].contains("namespace"));
    }
};

QTEST_GUILESS_MAIN(TestEventRecorder)
#include "tst_eventrecorder.moc"
