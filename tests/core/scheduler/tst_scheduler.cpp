// The scheduler against a real Store, driven by hand (syncFromStore + scheduleOne) on a
// FakeClock, and once on its own thread: binding, failure reporting, the queue's reaction to
// cluster changes, spreading, and assume-then-bind.

#include "schedulertestutil.h"

#include "core/scheduler/binding.h"
#include "core/scheduler/scheduler.h"
#include "core/store/store.h"

#include <QtTest>

using namespace schedtest;
using namespace podscape::core::store;
using namespace std::chrono_literals;

namespace {

json storedPod(Store &s, const std::string &name) { return **s.get("pods", "default", name); }

std::string nodeOf(Store &s, const std::string &name)
{
    return model::Pod(storedPod(s, name)).nodeName();
}

json condition(const json &pod, const std::string &type)
{
    for (const auto &c : pod["status"].value("conditions", json::array()))
        if (c.value("type", "") == type)
            return c;
    return json();
}

std::vector<json> eventsWithReason(Store &s, const std::string &reason)
{
    std::vector<json> out;
    const auto listed = s.list("events");
    for (const auto &e : listed->items)
        if ((*e)["reason"] == reason)
            out.push_back(*e);
    return out;
}

void create(Store &s, const std::string &resource, const json &object)
{
    auto r = s.create(resource, object);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().toString().c_str());
}

} // namespace

class TestScheduler : public QObject
{
    Q_OBJECT
private slots:
    void bindingWritesNodeNameConditionAndEvent()
    {
        FakeClock clock;
        Store store(clock);
        create(store, "nodes", node("node-1"));
        create(store, "nodes", node("node-2", "4", "8Gi", 110, {{"spec", {{"unschedulable", true}}}}));
        create(store, "pods", pod("kubia-x2", "100m"));
        const json before = storedPod(store, "kubia-x2");
        Scheduler scheduler(store, clock);
        QVERIFY(scheduler.syncFromStore().ok());
        clock.advance(2s);

        auto d = scheduler.scheduleOne();
        QVERIFY(d);
        QCOMPARE(d->outcome, Decision::Outcome::Scheduled);
        QCOMPARE(d->node, std::string("node-1"));
        QCOMPARE(d->message, std::string("Successfully assigned default/kubia-x2 to node-1"));
        QCOMPARE(d->totalNodes, 2);
        QCOMPARE(d->feasibleNodes, 1);
        QCOMPARE(d->reasons.at("node-2").plugin, std::string("NodeUnschedulable"));

        const json after = storedPod(store, "kubia-x2");
        QCOMPARE(after["spec"]["nodeName"], "node-1");
        const json c = condition(after, "PodScheduled");
        QCOMPARE(c["status"], "True");
        QCOMPARE(c["lastTransitionTime"], "2023-11-14T22:13:22Z");
        QVERIFY(c["lastProbeTime"].is_null());

        const auto scheduled = eventsWithReason(store, "Scheduled");
        QCOMPARE(scheduled.size(), size_t(1));
        const json &e = scheduled.front();
        QCOMPARE(e["message"], "Successfully assigned default/kubia-x2 to node-1");
        QCOMPARE(e["type"], "Normal");
        QCOMPARE(e["metadata"]["namespace"], "default");
        QCOMPARE(e["involvedObject"]["kind"], "Pod");
        QCOMPARE(e["involvedObject"]["name"], "kubia-x2");
        QCOMPARE(e["involvedObject"]["uid"], before["metadata"]["uid"]);
        QCOMPARE(e["involvedObject"]["resourceVersion"], before["metadata"]["resourceVersion"]);
        QCOMPARE(e["source"]["component"], "default-scheduler");
        QCOMPARE(e["reportingComponent"], "default-scheduler");
        QCOMPARE(e["count"], 1);

        QVERIFY(!scheduler.scheduleOne()); // nothing left
        const auto stats = scheduler.stats();
        QCOMPARE(stats.scheduled, uint64_t(1));
        QCOMPARE(stats.podsOnNodes, size_t(1));
    }

    void failureWritesConditionAndCountsEvents()
    {
        FakeClock clock;
        Store store(clock);
        create(store, "nodes", node("node-1", "4", "8Gi", 110, {{"spec", {{"unschedulable", true}}}}));
        create(store, "nodes", node("node-2"));
        create(store, "nodes", node("node-3"));
        create(store, "pods", patched(pod("filler-2", "3500m"), {{"spec", {{"nodeName", "node-2"}}}}));
        create(store, "pods", patched(pod("filler-3", "3500m"), {{"spec", {{"nodeName", "node-3"}}}}));
        create(store, "pods", pod("kubia", "1"));
        Scheduler scheduler(store, clock);
        QVERIFY(scheduler.syncFromStore().ok());

        const std::string message =
            "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. preemption: 0/3 nodes are "
            "available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.";
        auto d = scheduler.scheduleOne();
        QVERIFY(d);
        QCOMPARE(d->outcome, Decision::Outcome::Unschedulable);
        QCOMPARE(d->message, message);
        QCOMPARE(d->reasons.size(), size_t(3));
        QCOMPARE(d->reasons.at("node-2").reasons, std::vector<std::string>{"Insufficient cpu"});

        json p = storedPod(store, "kubia");
        QVERIFY(p["spec"].value("nodeName", "").empty());
        json c = condition(p, "PodScheduled");
        QCOMPARE(c["status"], "False");
        QCOMPARE(c["reason"], "Unschedulable");
        QCOMPARE(c["message"], message);
        QCOMPARE(c["lastTransitionTime"], "2023-11-14T22:13:20Z");
        auto failed = eventsWithReason(store, "FailedScheduling");
        QCOMPARE(failed.size(), size_t(1));
        QCOMPARE(failed[0]["type"], "Warning");
        QCOMPARE(failed[0]["message"], message);
        QCOMPARE(failed[0]["count"], 1);
        const std::string rv = p["metadata"]["resourceVersion"];

        // Nothing changes: it waits, however long the back-off was.
        clock.advance(20s);
        QVERIFY(scheduler.syncFromStore().ok());
        QVERIFY(!scheduler.scheduleOne());
        QCOMPARE(scheduler.stats().unschedulable, size_t(1));

        // After more than five minutes it is tried again, fails the same way: the event is
        // counted, the pod is not rewritten.
        clock.advance(5min + 30s);
        d = scheduler.scheduleOne();
        QVERIFY(d);
        QCOMPARE(d->attempts, 2);
        QCOMPARE(d->outcome, Decision::Outcome::Unschedulable);
        failed = eventsWithReason(store, "FailedScheduling");
        QCOMPARE(failed.size(), size_t(1));
        QCOMPARE(failed[0]["count"], 2);
        QCOMPARE(failed[0]["lastTimestamp"], "2023-11-14T22:19:10Z");
        QCOMPARE(storedPod(store, "kubia")["metadata"]["resourceVersion"].get<std::string>(), rv);
    }

    void schedulableOnceANodeIsAdded()
    {
        FakeClock clock;
        Store store(clock);
        create(store, "nodes", node("node-1", "1"));
        create(store, "pods", pod("big", "2"));
        Scheduler scheduler(store, clock);
        QVERIFY(scheduler.syncFromStore().ok());
        QCOMPARE(scheduler.scheduleOne()->outcome, Decision::Outcome::Unschedulable);
        clock.advance(10s);
        QVERIFY(!scheduler.scheduleOne()); // no event, no retry

        // An annotation cannot help a pod that lacks cpu...
        QVERIFY(store.modify("nodes", "", "node-1", [](json &n) -> Result<bool> {
            n["metadata"]["annotations"]["x"] = "y";
            return true;
        }).ok());
        QVERIFY(scheduler.syncFromStore().ok());
        QVERIFY(!scheduler.scheduleOne());
        // ...a heartbeat neither...
        QVERIFY(store.modify("nodes", "", "node-1", [](json &n) -> Result<bool> {
            n["status"]["conditions"][0]["lastHeartbeatTime"] = "2023-11-14T22:14:00Z";
            return true;
        }).ok());
        QVERIFY(scheduler.syncFromStore().ok());
        QVERIFY(!scheduler.scheduleOne());
        QCOMPARE(scheduler.queue().where("default/big"), SchedulingQueue::Where::Unschedulable);

        // ...a new node can.
        create(store, "nodes", node("node-2", "4"));
        QVERIFY(scheduler.syncFromStore().ok());
        auto d = scheduler.scheduleOne();
        QVERIFY(d);
        QCOMPARE(d->outcome, Decision::Outcome::Scheduled);
        QCOMPARE(nodeOf(store, "big"), std::string("node-2"));
        QCOMPARE(condition(storedPod(store, "big"), "PodScheduled")["status"], "True");
    }

    void aNodeAddedDuringTheBackoff()
    {
        FakeClock clock;
        Store store(clock);
        create(store, "pods", pod("kubia", "1"));
        Scheduler scheduler(store, clock);
        QVERIFY(scheduler.syncFromStore().ok());
        auto d = scheduler.scheduleOne();
        QCOMPARE(d->message, std::string("no nodes available to schedule pods"));
        QCOMPARE(condition(storedPod(store, "kubia"), "PodScheduled")["message"], "no nodes available to schedule pods");
        clock.advance(400ms);
        create(store, "nodes", node("node-1"));
        QVERIFY(scheduler.syncFromStore().ok());
        QCOMPARE(scheduler.queue().where("default/kubia"), SchedulingQueue::Where::Backoff);
        QVERIFY(!scheduler.scheduleOne());
        clock.advance(600ms);
        QCOMPARE(scheduler.scheduleOne()->outcome, Decision::Outcome::Scheduled);
    }

    void spreadsReplicasOverNodes()
    {
        FakeClock clock;
        Store store(clock);
        for (const char *n : {"node-1", "node-2", "node-3"})
            create(store, "nodes", node(n, "64", "256Gi"));
        for (int i = 0; i < 6; ++i)
            create(store, "pods", patched(pod("kubia-" + std::to_string(i)), ownedBy("rs-kubia")));
        Scheduler scheduler(store, clock);
        QVERIFY(scheduler.syncFromStore().ok());
        QCOMPARE(scheduler.scheduleUntilIdle(), 6);
        std::map<std::string, int> perNode;
        for (int i = 0; i < 6; ++i)
            ++perNode[nodeOf(store, "kubia-" + std::to_string(i))];
        QCOMPARE(perNode, (std::map<std::string, int>{{"node-1", 2}, {"node-2", 2}, {"node-3", 2}}));
    }

    void spreadOutweighsABiggerNode()
    {
        // node-2 is bigger, but already holds a replica.
        FakeClock clock;
        Store store(clock);
        create(store, "nodes", node("node-1", "4", "8Gi"));
        create(store, "nodes", node("node-2", "5", "8Gi"));
        create(store, "pods", patched(patched(pod("kubia-0"), ownedBy("rs")), {{"spec", {{"nodeName", "node-2"}}}}));
        create(store, "pods", patched(pod("kubia-1"), ownedBy("rs")));
        Scheduler scheduler(store, clock);
        QVERIFY(scheduler.syncFromStore().ok());
        auto d = scheduler.scheduleOne();
        QCOMPARE(d->node, std::string("node-1"));
        const auto &s1 = d->scores.at("node-1");
        const auto &s2 = d->scores.at("node-2");
        QVERIFY(s1.total > s2.total);
        QCOMPARE(s1.plugins.size(), size_t(4));
        QCOMPARE(s1.plugins[3].plugin, std::string("SelectorSpread"));
        QCOMPARE(s1.plugins[3].score, int64_t(100));
        QCOMPARE(s2.plugins[3].score, int64_t(0));
        QCOMPARE(s1.plugins[3].weight, int64_t(2));
        QVERIFY(s1.plugins[1].skipped); // NodeAffinity: no preferences
    }

    void assumedPodsPreventOvercommit()
    {
        FakeClock clock;
        Store store(clock);
        create(store, "nodes", node("node-1", "1"));
        create(store, "pods", pod("a", "600m"));
        create(store, "pods", pod("b", "600m"));
        Scheduler scheduler(store, clock);
        QVERIFY(scheduler.syncFromStore().ok());
        // Back to back, without the first binding ever being observed through the store.
        QCOMPARE(scheduler.scheduleOne()->outcome, Decision::Outcome::Scheduled);
        auto second = scheduler.scheduleOne();
        QCOMPARE(second->outcome, Decision::Outcome::Unschedulable);
        QCOMPARE(second->message, std::string("0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are "
                                              "available: 1 No preemption victims found for incoming pod."));
        QCOMPARE(scheduler.cache().nodeInfo("node-1")->requested().milliCpu, int64_t(600));
    }

    void assumedPodsGoToDifferentNodes()
    {
        FakeClock clock;
        Store store(clock);
        create(store, "nodes", node("node-1", "1"));
        create(store, "nodes", node("node-2", "1"));
        create(store, "pods", pod("a", "600m"));
        create(store, "pods", pod("b", "600m"));
        Scheduler scheduler(store, clock);
        QVERIFY(scheduler.syncFromStore().ok());
        QCOMPARE(scheduler.scheduleUntilIdle(), 2);
        QVERIFY(nodeOf(store, "a") != nodeOf(store, "b"));
    }

    void aFailedBindingReleasesTheNode()
    {
        FakeClock clock;
        Store store(clock);
        create(store, "nodes", node("node-1", "1"));
        create(store, "pods", pod("gone", "600m"));
        create(store, "pods", pod("next", "600m"));
        Scheduler scheduler(store, clock);
        QVERIFY(scheduler.syncFromStore().ok());
        // Deleted after the scheduler saw it: the binding finds no pod.
        QVERIFY(store.remove("pods", "default", "gone", DeleteOptions{std::nullopt, std::nullopt, 0, {}}).ok());
        auto d = scheduler.scheduleOne();
        QVERIFY(d);
        QCOMPARE(d->podKey, std::string("default/gone"));
        QCOMPARE(d->outcome, Decision::Outcome::Error);
        QCOMPARE(scheduler.stats().assumed, size_t(0));
        QCOMPARE(scheduler.cache().nodeInfo("node-1")->requested().milliCpu, int64_t(0));
        QCOMPARE(scheduler.scheduleOne()->outcome, Decision::Outcome::Scheduled);
        QCOMPARE(nodeOf(store, "next"), std::string("node-1"));
        QVERIFY(eventsWithReason(store, "FailedScheduling").empty());
    }

    void countsWhatIsBoundAlready()
    {
        FakeClock clock;
        Store store(clock);
        create(store, "nodes", node("node-1", "2"));
        create(store, "pods", patched(pod("running", "1500m"), {{"spec", {{"nodeName", "node-1"}}}, {"status", {{"phase", "Running"}}}}));
        create(store, "pods", patched(pod("done", "1500m"), {{"spec", {{"nodeName", "node-1"}}}, {"status", {{"phase", "Succeeded"}}}}));
        create(store, "pods", pod("new", "1"));
        Scheduler scheduler(store, clock);
        QVERIFY(scheduler.syncFromStore().ok());
        QCOMPARE(scheduler.scheduleOne()->outcome, Decision::Outcome::Unschedulable);
        // The running pod finishes: its cpu is free again and the waiting pod is retried.
        QVERIFY(store.modify("pods", "default", "running", [](json &p) -> Result<bool> {
            p["status"]["phase"] = "Failed";
            return true;
        }).ok());
        clock.advance(1s);
        QVERIFY(scheduler.syncFromStore().ok());
        QCOMPARE(scheduler.scheduleOne()->outcome, Decision::Outcome::Scheduled);
    }

    void picksOnlyItsOwnPendingPods()
    {
        FakeClock clock;
        Store store(clock);
        create(store, "nodes", node("node-1"));
        create(store, "pods", patched(pod("other-scheduler"), {{"spec", {{"schedulerName", "my-scheduler"}}}}));
        create(store, "pods", patched(pod("bound"), {{"spec", {{"nodeName", "node-1"}}}}));
        create(store, "pods", patched(pod("gated"), {{"spec", {{"schedulingGates", json::array({{{"name", "wait"}}})}}}}));
        create(store, "pods", patched(pod("finished"), {{"status", {{"phase", "Failed"}}}}));
        create(store, "pods", patched(pod("no-scheduler-name"), {{"spec", {{"schedulerName", nullptr}}}}));
        create(store, "pods", patched(pod("terminating"), {{"metadata", {{"finalizers", json::array({"x"})}}}}));
        QVERIFY(store.remove("pods", "default", "terminating").ok());
        Scheduler scheduler(store, clock);
        QVERIFY(scheduler.syncFromStore().ok());
        auto d = scheduler.scheduleOne();
        QVERIFY(d);
        QCOMPARE(d->podKey, std::string("default/no-scheduler-name"));
        QVERIFY(!scheduler.scheduleOne());
        // The gate lifted, the gated pod is scheduled.
        QVERIFY(store.modify("pods", "default", "gated", [](json &p) -> Result<bool> {
            p["spec"].erase("schedulingGates");
            return true;
        }).ok());
        QVERIFY(scheduler.syncFromStore().ok());
        QCOMPARE(scheduler.scheduleOne()->podKey, std::string("default/gated"));
    }

    void deletedWhileWaiting()
    {
        FakeClock clock;
        Store store(clock);
        create(store, "pods", pod("kubia"));
        Scheduler scheduler(store, clock);
        QVERIFY(scheduler.syncFromStore().ok());
        QCOMPARE(scheduler.scheduleOne()->outcome, Decision::Outcome::Unschedulable);
        QVERIFY(store.remove("pods", "default", "kubia", DeleteOptions{std::nullopt, std::nullopt, 0, {}}).ok());
        QVERIFY(scheduler.syncFromStore().ok());
        QCOMPARE(scheduler.queue().size(), size_t(0));
    }

    void decisionCallback()
    {
        FakeClock clock;
        Store store(clock);
        create(store, "nodes", node("node-1"));
        create(store, "nodes", node("node-2", "4", "8Gi", 110, {{"spec", {{"taints", json::array({{{"key", "gpu"}, {"effect", "NoSchedule"}}})}}}}));
        create(store, "nodes", node("node-3"));
        create(store, "pods", pod("kubia", "1"));
        Scheduler scheduler(store, clock);
        std::vector<Decision> seen;
        scheduler.setOnDecision([&](const Decision &d) { seen.push_back(d); });
        QVERIFY(scheduler.syncFromStore().ok());
        QVERIFY(scheduler.scheduleOne());
        QCOMPARE(seen.size(), size_t(1));
        const Decision &d = seen.front();
        QCOMPARE(d.node, std::string("node-1"));
        QCOMPARE(d.feasibleNodes, 2);
        QCOMPARE(d.totalNodes, 3);
        QCOMPARE(d.reasons.at("node-2").plugin, std::string("TaintToleration"));
        QCOMPARE(d.reasons.at("node-2").reasons, std::vector<std::string>{"node(s) had untolerated taint(s)"});
        QCOMPARE(d.scores.size(), size_t(2));
        QCOMPARE(d.scores.at("node-1").total, d.scores.at("node-3").total); // a tie, broken by name
    }

    void bindPodRules()
    {
        FakeClock clock;
        Store store(clock);
        create(store, "pods", pod("a"));
        create(store, "pods", patched(pod("bound"), {{"spec", {{"nodeName", "node-1"}}}}));
        create(store, "pods", patched(pod("gated"), {{"spec", {{"schedulingGates", json::array({{{"name", "g"}}})}}}}));
        create(store, "pods", patched(pod("dying"), {{"metadata", {{"finalizers", json::array({"x"})}}}}));
        QVERIFY(store.remove("pods", "default", "dying").ok());

        auto conflict = bindPod(store, clock, {"default", "bound", "node-2", {}});
        QCOMPARE(conflict.error().reason(), Reason::Conflict);
        QCOMPARE(QString::fromStdString(conflict.error().message()),
                 QString(R"(Operation cannot be fulfilled on pods/binding "bound": pod bound is already assigned to node "node-1")"));
        QCOMPARE(QString::fromStdString(bindPod(store, clock, {"default", "dying", "node-2", {}}).error().message()),
                 QString(R"(Operation cannot be fulfilled on pods/binding "dying": pod dying is being deleted, cannot be assigned to a host)"));
        QCOMPARE(QString::fromStdString(bindPod(store, clock, {"default", "gated", "node-2", {}}).error().message()),
                 QString(R"(Operation cannot be fulfilled on pods/binding "gated": pod gated has non-empty .spec.schedulingGates)"));
        QCOMPARE(bindPod(store, clock, {"default", "missing", "node-2", {}}).error().reason(), Reason::NotFound);
        QCOMPARE(bindPod(store, clock, {"default", "a", "", {}}).error().reason(), Reason::Invalid);
        auto wrongUid = bindPod(store, clock, {"default", "a", "node-2", "not-the-uid"});
        QCOMPARE(wrongUid.error().reason(), Reason::Conflict);
        QVERIFY(wrongUid.error().message().find("Precondition failed: UID in precondition: not-the-uid") == 0);

        const std::string uid = storedPod(store, "a")["metadata"]["uid"];
        auto ok = bindPod(store, clock, {"default", "a", "node-2", uid});
        QVERIFY(ok.ok());
        QCOMPARE((**ok)["spec"]["nodeName"], "node-2");
        QCOMPARE(condition(**ok, "PodScheduled")["status"], "True");
    }

    void podConditionUpdates()
    {
        const auto t0 = FakeClock().now();
        json p = pod("a");
        QVERIFY(updatePodCondition(p, "PodScheduled", "False", "Unschedulable", "m1", t0));
        QVERIFY(!updatePodCondition(p, "PodScheduled", "False", "Unschedulable", "m1", t0 + 5s));
        QVERIFY(updatePodCondition(p, "PodScheduled", "False", "Unschedulable", "m2", t0 + 5s));
        QCOMPARE(condition(p, "PodScheduled")["lastTransitionTime"], "2023-11-14T22:13:20Z"); // same status
        QVERIFY(updatePodCondition(p, "PodScheduled", "True", "", "", t0 + 9s));
        QCOMPARE(condition(p, "PodScheduled")["lastTransitionTime"], "2023-11-14T22:13:29Z");
        QCOMPARE(p["status"]["conditions"].size(), size_t(1));
    }

    void truncatesLongMessages()
    {
        QCOMPARE(Scheduler::truncateMessage("short"), std::string("short"));
        const std::string t = Scheduler::truncateMessage(std::string(2000, 'x'));
        QCOMPARE(t.size(), size_t(1024));
        QVERIFY(t.substr(1020) == " ...");
    }

    // On its own thread, fed by informers: no hand-cranking, only waits on store watches.
    void runsOnItsOwnThread()
    {
        FakeClock clock;
        Store store(clock);
        auto pods = store.watch("pods");
        QVERIFY(pods.ok());
        auto events = store.watch("events");
        QVERIFY(events.ok());
        create(store, "nodes", node("node-1", "2"));
        Scheduler scheduler(store, clock);
        scheduler.start();
        QVERIFY(scheduler.isRunning());

        auto waitForPod = [&](const std::string &name, auto predicate) {
            while (auto e = (*pods)->next(10s))
                if ((*e->object)["metadata"]["name"] == name && predicate(*e->object))
                    return true;
            return false;
        };
        auto boundTo = [](const std::string &node) {
            return [node](const json &p) { return p["spec"].value("nodeName", "") == node; };
        };

        create(store, "pods", pod("small", "1"));
        QVERIFY(waitForPod("small", boundTo("node-1")));

        create(store, "pods", pod("big", "3"));
        bool failed = false;
        while (auto e = (*events)->next(10s))
            if ((*e->object)["reason"] == "FailedScheduling") {
                failed = true;
                break;
            }
        QVERIFY(failed);

        create(store, "nodes", node("node-2", "4"));
        clock.advance(1s); // the back-off of its first attempt
        QVERIFY(waitForPod("big", boundTo("node-2")));

        scheduler.stop();
        QVERIFY(!scheduler.isRunning());
        QCOMPARE(scheduler.stats().scheduled, uint64_t(2));
    }
};

QTEST_GUILESS_MAIN(TestScheduler)
#include "tst_scheduler.moc"
