#include "core/base/timeformat.h"
#include "core/controllers/deployment/deploymentutil.h"

#include <QtTest>

using namespace podscape::core;
using namespace podscape::core::controllers::deploymentutil;
using nlohmann::json;

Q_DECLARE_METATYPE(json)

namespace {

json podTemplate(const std::string &image)
{
    return {{"metadata", {{"labels", {{"app", "kubia"}}}}},
            {"spec", {{"containers", json::array({{{"name", "c"}, {"image", image}}})}}}};
}

json deployment(int replicas, json strategy = nullptr)
{
    json d = {{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata", {{"name", "kubia"}, {"namespace", "default"}, {"generation", 1}}},
              {"spec", {{"replicas", replicas}, {"template", podTemplate("luksa/kubia:v1")}}}};
    if (!strategy.is_null())
        d["spec"]["strategy"] = strategy;
    return d;
}

ObjectPtr replicaSet(const std::string &name, int replicas, const std::string &created, json annotations = json::object(),
                     int available = 0)
{
    return std::make_shared<const json>(json{
        {"metadata", {{"name", name}, {"uid", name + "-uid"}, {"creationTimestamp", created}, {"annotations", annotations}}},
        {"spec", {{"replicas", replicas}, {"template", podTemplate("luksa/kubia:" + name)}}},
        {"status", {{"availableReplicas", available}}}});
}

} // namespace

class TestDeploymentUtil : public QObject
{
    Q_OBJECT
private slots:
    void safeEncodeStringMapsDigits()
    {
        QCOMPARE(safeEncodeString("0123456789"), std::string("456789bcdf"));
    }

    void hashIsStableAndIgnoresRepresentation()
    {
        const json t = podTemplate("luksa/kubia:v1");
        const std::string hash = computeHash(t, std::nullopt);
        QVERIFY(!hash.empty() && hash.size() <= 10);
        QVERIFY(hash.find_first_not_of("bcdfghjklmnpqrstvwxz2456789") == std::string::npos);
        QCOMPARE(computeHash(t, std::nullopt), hash);
        QVERIFY(computeHash(podTemplate("luksa/kubia:v2"), std::nullopt) != hash);
        QVERIFY(computeHash(t, 1) != hash);
        QVERIFY(computeHash(t, 1) != computeHash(t, 2));
        // What `kubectl rollout undo` copies back: the RS's template with the hash label
        // removed, serialized from Go with its empty fields.
        json copied = t;
        copied["metadata"]["creationTimestamp"] = nullptr;
        copied["spec"]["containers"][0]["resources"] = json::object();
        copied["spec"]["containers"][0]["terminationMessagePath"] = "";
        QCOMPARE(computeHash(copied, std::nullopt), hash);
        QVERIFY(equalIgnoreHash(copied, t));
        json labelled = t;
        labelled["metadata"]["labels"]["pod-template-hash"] = hash;
        QVERIFY(equalIgnoreHash(labelled, t));
        QCOMPARE(computeHash(labelled, std::nullopt), hash);
        // false and 0 are values, not absence.
        json zero = t;
        zero["spec"]["terminationGracePeriodSeconds"] = 0;
        QVERIFY(!equalIgnoreHash(zero, t));
    }

    void fenceposts_data()
    {
        QTest::addColumn<json>("surge");
        QTest::addColumn<json>("unavailable");
        QTest::addColumn<int>("desired");
        QTest::addColumn<int>("wantSurge");
        QTest::addColumn<int>("wantUnavailable");
        QTest::newRow("25%/25% of 4") << json("25%") << json("25%") << 4 << 1 << 1;
        QTest::newRow("25%/25% of 10: surge up, unavailable down") << json("25%") << json("25%") << 10 << 3 << 2;
        QTest::newRow("25%/25% of 3") << json("25%") << json("25%") << 3 << 1 << 0;
        QTest::newRow("1/0") << json(1) << json(0) << 3 << 1 << 0;
        QTest::newRow("0/0 resolves unavailable to 1") << json(0) << json(0) << 3 << 0 << 1;
        QTest::newRow("1%/1% of 2: surge rounds up") << json("1%") << json("1%") << 2 << 1 << 0;
        QTest::newRow("0%/1% of 2: both 0, unavailable 1") << json("0%") << json("1%") << 2 << 0 << 1;
        QTest::newRow("unset") << json() << json() << 5 << 0 << 1;
        QTest::newRow("100%/50% of 5") << json("100%") << json("50%") << 5 << 5 << 2;
    }

    void fenceposts()
    {
        QFETCH(json, surge);
        QFETCH(json, unavailable);
        QFETCH(int, desired);
        QFETCH(int, wantSurge);
        QFETCH(int, wantUnavailable);
        auto f = resolveFenceposts(surge, unavailable, desired);
        QVERIFY(f.ok());
        QCOMPARE(f->maxSurge, int64_t(wantSurge));
        QCOMPARE(f->maxUnavailable, int64_t(wantUnavailable));
    }

    void fencepostsRefuseNonPercentStrings()
    {
        QVERIFY(!resolveFenceposts(json("3"), json(1), 4).ok());
        QVERIFY(!resolveFenceposts(json(1), json("x%"), 4).ok());
        QCOMPARE(resolveFenceposts(json(1), json("x%"), 4).error().reason(), Reason::Invalid);
    }

    void deploymentDefaults()
    {
        // apps/v1 defaults: RollingUpdate with 25%/25%.
        QCOMPARE(maxSurge(deployment(4)), int64_t(1));
        QCOMPARE(maxUnavailable(deployment(4)), int64_t(1));
        QCOMPARE(maxSurge(deployment(10)), int64_t(3));
        QCOMPARE(maxUnavailable(deployment(10)), int64_t(2));
        QCOMPARE(maxUnavailable(deployment(0)), int64_t(0));
        json recreate = deployment(4, {{"type", "Recreate"}});
        QVERIFY(!isRollingUpdate(recreate));
        QCOMPARE(maxSurge(recreate), int64_t(0));
        QCOMPARE(maxUnavailable(recreate), int64_t(0));
        json absolute = deployment(3, {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", 1}, {"maxUnavailable", 0}}}});
        QCOMPARE(maxSurge(absolute), int64_t(1));
        QCOMPARE(maxUnavailable(absolute), int64_t(0));
        // More unavailable than replicas is capped.
        json many = deployment(2, {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", 0}, {"maxUnavailable", 5}}}});
        QCOMPARE(maxUnavailable(many), int64_t(2));
    }

    void newReplicaSetSize()
    {
        json d = deployment(3, {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", 1}, {"maxUnavailable", 0}}}});
        auto old = replicaSet("old", 3, "2024-01-01T00:00:00Z");
        json fresh = *replicaSet("new", 0, "2024-01-01T00:01:00Z");
        QCOMPARE(newRSNewReplicas(d, {old, std::make_shared<const json>(fresh)}, fresh), int64_t(1));
        fresh["spec"]["replicas"] = 1;
        QCOMPARE(newRSNewReplicas(d, {old, std::make_shared<const json>(fresh)}, fresh), int64_t(1)); // at 4 = 3 + surge
        auto smaller = replicaSet("old", 2, "2024-01-01T00:00:00Z");
        QCOMPARE(newRSNewReplicas(d, {smaller, std::make_shared<const json>(fresh)}, fresh), int64_t(2));
        json recreate = deployment(3, {{"type", "Recreate"}});
        QCOMPARE(newRSNewReplicas(recreate, {old}, fresh), int64_t(3));
    }

    void proportionalScaling()
    {
        // Kubernetes' documented example: 10 replicas, maxSurge 3, maxUnavailable 2, stuck
        // at 8 old + 5 new, scaled to 15: 3 more go to the old, 2 to the new.
        json d = deployment(15, {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", 3}, {"maxUnavailable", 2}}}});
        d["status"] = {{"replicas", 13}};
        json annotations = {{std::string(DesiredReplicasAnnotation), "10"}, {std::string(MaxReplicasAnnotation), "13"}};
        auto old = replicaSet("old", 8, "2024-01-01T00:00:00Z", annotations);
        auto fresh = replicaSet("new", 5, "2024-01-01T00:01:00Z", annotations);
        const int64_t toAdd = 18 - 13;
        int64_t added = proportion(*old, d, toAdd, 0);
        QCOMPARE(added, int64_t(3));
        QCOMPARE(proportion(*fresh, d, toAdd, added), int64_t(2));
        // Scaling to 0 takes everything away.
        json zero = d;
        zero["spec"]["replicas"] = 0;
        QCOMPARE(proportion(*old, zero, -13, 0), int64_t(-8));
        // Never more than is left to add.
        QCOMPARE(proportion(*old, d, 2, 0), int64_t(2));
    }

    void newReplicaSetAnnotations()
    {
        json d = deployment(3);
        d["metadata"]["annotations"] = {{std::string(ChangeCauseAnnotation), "kubectl set image v2"},
                                        {std::string(LastAppliedAnnotation), "{...}"},
                                        {std::string(RevisionAnnotation), "7"},
                                        {"team", "a"}};
        json rs = {{"metadata", {{"name", "kubia-x"}}}};
        QVERIFY(setNewReplicaSetAnnotations(d, rs, 2, false));
        QCOMPARE(annotation(rs, ChangeCauseAnnotation), std::string("kubectl set image v2"));
        QCOMPARE(annotation(rs, "team"), std::string("a"));
        QCOMPARE(annotation(rs, LastAppliedAnnotation), std::string());
        QCOMPARE(annotation(rs, RevisionAnnotation), std::string("2"));
        QCOMPARE(annotation(rs, RevisionHistoryAnnotation), std::string()); // new, not a rollback
        QCOMPARE(annotation(rs, DesiredReplicasAnnotation), std::string("3"));
        QCOMPARE(annotation(rs, MaxReplicasAnnotation), std::string("4"));
        QVERIFY(!setNewReplicaSetAnnotations(d, rs, 2, true)); // idempotent
        QVERIFY(!setNewReplicaSetAnnotations(d, rs, 1, true)); // never lowered
        // Becoming the new ReplicaSet again: next revision, old ones in the history.
        QVERIFY(setNewReplicaSetAnnotations(d, rs, 4, true));
        QCOMPARE(annotation(rs, RevisionAnnotation), std::string("4"));
        QCOMPARE(annotation(rs, RevisionHistoryAnnotation), std::string("2"));
        QVERIFY(setNewReplicaSetAnnotations(d, rs, 6, true));
        QCOMPARE(annotation(rs, RevisionHistoryAnnotation), std::string("2,4"));
    }

    void rollbackAnnotations()
    {
        json d = deployment(3);
        d["metadata"]["annotations"] = {{std::string(RevisionAnnotation), "3"},
                                        {std::string(ChangeCauseAnnotation), "v3"},
                                        {"gone", "x"}};
        json rs = {{"metadata",
                    {{"annotations",
                      {{std::string(RevisionAnnotation), "1"},
                       {std::string(DesiredReplicasAnnotation), "3"},
                       {std::string(ChangeCauseAnnotation), "v1"}}}}}};
        setDeploymentAnnotationsTo(d, rs);
        QCOMPARE(annotation(d, RevisionAnnotation), std::string("3"));
        QCOMPARE(annotation(d, ChangeCauseAnnotation), std::string("v1"));
        QCOMPARE(annotation(d, DesiredReplicasAnnotation), std::string());
        QCOMPARE(annotation(d, "gone"), std::string());
    }

    void revisions()
    {
        ReplicaSets rss = {replicaSet("a", 0, "2024-01-01T00:00:00Z", {{std::string(RevisionAnnotation), "3"}}),
                           replicaSet("b", 0, "2024-01-01T00:00:00Z", {{std::string(RevisionAnnotation), "7"}}),
                           replicaSet("c", 0, "2024-01-01T00:00:00Z", {{std::string(RevisionAnnotation), "x"}}),
                           replicaSet("d", 0, "2024-01-01T00:00:00Z", {{std::string(RevisionAnnotation), "5"}})};
        QCOMPARE(maxRevision(rss), int64_t(7));
        QCOMPARE(lastRevision(rss), int64_t(5));
        QVERIFY(!revision(*rss[2]).has_value());
        ReplicaSets sorted = {rss[0], rss[1], rss[3]};
        sortByRevision(sorted);
        QCOMPARE(str(*sorted[0], "/metadata/name"), std::string("a"));
        QCOMPARE(str(*sorted[2], "/metadata/name"), std::string("b"));
    }

    void findsNewAndOld()
    {
        json d = deployment(3);
        d["spec"]["template"] = podTemplate("luksa/kubia:b");
        auto a = replicaSet("a", 1, "2024-01-01T00:00:00Z");
        auto b1 = replicaSet("b", 1, "2024-01-01T00:05:00Z");
        json b2Doc = *b1;
        b2Doc["metadata"]["name"] = "b2";
        b2Doc["metadata"]["creationTimestamp"] = "2024-01-01T00:01:00Z";
        auto b2 = std::make_shared<const json>(b2Doc);
        // Two ReplicaSets with the template: the oldest is the new one.
        QCOMPARE(findNewReplicaSet(d, {a, b1, b2}), b2);
        QCOMPARE(findOldReplicaSets(d, {a, b1, b2}).size(), size_t(2));
        QCOMPARE(findNewReplicaSet(deployment(3), {a, b1}), ObjectPtr());
        // Only one active: that one; none active: the newest.
        QCOMPARE(findActiveOrLatest(nullptr, {a, replicaSet("z", 0, "2024-01-01T00:09:00Z")}), a);
        auto idle = replicaSet("y", 0, "2024-01-01T00:09:00Z");
        QCOMPARE(findActiveOrLatest(nullptr, {replicaSet("x", 0, "2024-01-01T00:00:00Z"), idle}), idle);
        QCOMPARE(findActiveOrLatest(b1, {a}), ObjectPtr());
    }

    void sortsBySize()
    {
        auto older = replicaSet("older", 2, "2024-01-01T00:00:00Z");
        auto newer = replicaSet("newer", 2, "2024-01-01T00:01:00Z");
        auto big = replicaSet("big", 5, "2024-01-01T00:02:00Z");
        ReplicaSets up = {older, newer, big};
        sortBySizeNewer(up);
        QCOMPARE(up, (ReplicaSets{big, newer, older}));
        ReplicaSets down = {newer, big, older};
        sortBySizeOlder(down);
        QCOMPARE(down, (ReplicaSets{big, older, newer}));
    }

    void saturation()
    {
        json d = deployment(3);
        auto rs = replicaSet("s", 3, "2024-01-01T00:00:00Z", {{std::string(DesiredReplicasAnnotation), "3"}}, 3);
        QVERIFY(isSaturated(d, rs));
        QVERIFY(!isSaturated(d, replicaSet("s", 3, "2024-01-01T00:00:00Z", {{std::string(DesiredReplicasAnnotation), "3"}}, 2)));
        QVERIFY(!isSaturated(d, replicaSet("s", 3, "2024-01-01T00:00:00Z", json::object(), 3)));
        QVERIFY(!isSaturated(d, nullptr));
    }

    void conditions()
    {
        const auto t0 = Clock::TimePoint(std::chrono::seconds(1'700'000'000));
        const auto t1 = t0 + std::chrono::seconds(10);
        json status = json::object();
        setCondition(status, newCondition("Progressing", "True", NewReplicaSetReason, "created", t0));
        setCondition(status, newCondition("Available", "False", MinimumReplicasUnavailable, "no", t0));
        QCOMPARE(status["conditions"].size(), size_t(2));
        // Same status and reason: nothing changes, not even the times.
        setCondition(status, newCondition("Progressing", "True", NewReplicaSetReason, "again", t1));
        QCOMPARE((*getCondition(status, "Progressing"))["message"], json("created"));
        // Same status, other reason: replaced (moved last), transition time kept.
        setCondition(status, newCondition("Progressing", "True", ReplicaSetUpdatedReason, "progressing", t1));
        const json *p = getCondition(status, "Progressing");
        QCOMPARE((*p)["lastTransitionTime"], json(formatRfc3339(t0)));
        QCOMPARE((*p)["lastUpdateTime"], json(formatRfc3339(t1)));
        QCOMPARE(status["conditions"][1]["type"], json("Progressing"));
        // Other status: a transition.
        setCondition(status, newCondition("Progressing", "False", TimedOutReason, "late", t1));
        QCOMPARE((*getCondition(status, "Progressing"))["lastTransitionTime"], json(formatRfc3339(t1)));
        removeCondition(status, "Progressing");
        removeCondition(status, "Available");
        QVERIFY(!status.contains("conditions"));
    }

    void progress()
    {
        const auto t0 = Clock::TimePoint(std::chrono::seconds(1'700'000'000));
        json d = deployment(3);
        d["spec"]["progressDeadlineSeconds"] = 30;
        d["status"] = {{"replicas", 3}, {"updatedReplicas", 1}, {"availableReplicas", 2}};
        json next = d["status"];
        QVERIFY(!deploymentProgressing(d, next));
        next["updatedReplicas"] = 2;
        QVERIFY(deploymentProgressing(d, next));
        next = d["status"];
        next["replicas"] = 2; // an old one gone
        QVERIFY(deploymentProgressing(d, next));

        json status = json::object();
        QVERIFY(!deploymentTimedOut(d, status, t0)); // nothing to measure from
        setCondition(status, newCondition("Progressing", "True", ReplicaSetUpdatedReason, "x", t0));
        QVERIFY(!deploymentTimedOut(d, status, t0 + std::chrono::seconds(30)));
        QVERIFY(deploymentTimedOut(d, status, t0 + std::chrono::seconds(31)));
        json done = json::object();
        setCondition(done, newCondition("Progressing", "True", NewReplicaSetAvailableReason, "x", t0));
        QVERIFY(!deploymentTimedOut(d, done, t0 + std::chrono::hours(1)));
        json none = d;
        none["spec"]["progressDeadlineSeconds"] = INT32_MAX;
        QVERIFY(!hasProgressDeadline(none));
        QVERIFY(!deploymentTimedOut(none, status, t0 + std::chrono::hours(1)));

        json complete = {{"replicas", 3}, {"updatedReplicas", 3}, {"availableReplicas", 3}, {"observedGeneration", 1}};
        QVERIFY(deploymentComplete(d, complete));
        complete["observedGeneration"] = 0;
        QVERIFY(!deploymentComplete(d, complete));
    }
};

QTEST_GUILESS_MAIN(TestDeploymentUtil)
#include "tst_deploymentutil.moc"
