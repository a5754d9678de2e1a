#include "deploymentcontroller.h"

#include "core/base/logger.h"
#include "core/base/timeformat.h"
#include "core/model/object.h"

#include <algorithm>
#include <charconv>

namespace podscape::core::controllers {

using nlohmann::json;
using namespace deploymentutil;

namespace {

constexpr const char *kDeployments = "deployments.apps";
constexpr const char *kReplicaSets = "replicasets.apps";
constexpr const char *kProgressing = "Progressing";

model::Labels labelsOf(const json &o)
{
    auto meta = o.find("metadata");
    if (meta == o.end() || !meta->is_object())
        return {};
    auto labels = meta->find("labels");
    return labels == meta->end() ? model::Labels{} : model::labelsFromJson(*labels);
}

// metadata.labels in place, or null.
const json &labelsJson(const json &o)
{
    static const json none;
    auto meta = o.find("metadata");
    if (meta == o.end() || !meta->is_object())
        return none;
    auto labels = meta->find("labels");
    return labels == meta->end() ? none : *labels;
}

bool isDeleting(const json &o) { return !str(o, "/metadata/deletionTimestamp").empty(); }

bool boolean(const json &o, std::string_view pointer)
{
    auto p = json::json_pointer(std::string(pointer));
    return o.contains(p) && o[p].is_boolean() && o[p].get<bool>();
}

// Read without copying the document (model::Object would).
std::optional<model::OwnerReference> controllerOf(const json &o)
{
    auto p = json::json_pointer("/metadata/ownerReferences");
    if (!o.contains(p) || !o[p].is_array())
        return std::nullopt;
    for (const auto &r : o[p])
        if (r.is_object() && r.contains("controller") && r["controller"] == true)
            return model::OwnerReference::fromJson(r);
    return std::nullopt;
}

bool sameRef(const std::optional<model::OwnerReference> &a, const std::optional<model::OwnerReference> &b)
{
    if (a.has_value() != b.has_value())
        return false;
    return !a || (a->uid == b->uid && a->name == b->name && a->kind == b->kind && a->apiVersion == b->apiVersion);
}

Result<model::LabelSelector> selectorOf(const json &d)
{
    auto p = json::json_pointer("/spec/selector");
    if (!d.contains(p) || d[p].is_null())
        return model::LabelSelector::nothing();
    return model::LabelSelector::fromJson(d[p], "spec.selector");
}

// The copy of the status a sync works on, always an object.
json statusOf(const json &d)
{
    auto it = d.find("status");
    return it != d.end() && it->is_object() ? *it : json::object();
}

json &statusRef(json &d)
{
    json &s = d["status"];
    if (!s.is_object())
        s = json::object();
    return s;
}

json templateOf(const json &o)
{
    auto p = json::json_pointer("/spec/template");
    return o.contains(p) && o[p].is_object() ? o[p] : json::object();
}

std::optional<int64_t> rollbackTo(const json &d)
{
    std::string v = annotation(d, RollbackToAnnotation);
    int64_t revision = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), revision);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size())
        return std::nullopt; // absent, or not a number: ignored, as Kubernetes does
    return revision;
}

ReplicaSets withNew(ReplicaSets rss, const std::shared_ptr<const json> &newRS)
{
    rss.push_back(newRS);
    return rss;
}

std::string quoted(const std::string &s) { return "\"" + s + "\""; }

// A ReplicaSet's ReplicaFailure condition as the deployment reports it.
json toDeploymentCondition(const json &c)
{
    return {{"type", "ReplicaFailure"},
            {"status", str(c, "/status")},
            {"lastUpdateTime", str(c, "/lastTransitionTime")},
            {"lastTransitionTime", str(c, "/lastTransitionTime")},
            {"reason", str(c, "/reason")},
            {"message", str(c, "/message")}};
}

// The new ReplicaSet's failure first, then any old one's.
json replicaFailure(const ReplicaSets &allRSs, const std::shared_ptr<const json> &newRS)
{
    auto failureOf = [](const json &rs) -> json {
        const json *status = find(rs, "/status");
        const json *c = status ? getCondition(*status, "ReplicaFailure") : nullptr;
        return c ? toDeploymentCondition(*c) : json();
    };
    if (newRS)
        if (json c = failureOf(*newRS); !c.is_null())
            return c;
    for (const auto &rs : allRSs)
        if (rs)
            if (json c = failureOf(*rs); !c.is_null())
                return c;
    return json();
}

} // namespace

DeploymentController::DeploymentController(SharedInformers &informers)
    : Controller("deployment-controller", informers.clock())
    , m_informers(informers)
    , m_deployments(informers.forResource(kDeployments))
    , m_replicaSets(informers.forResource(kReplicaSets))
    , m_pods(informers.forResource("pods"))
    , m_recorder(informers.store(), informers.clock(), name())
{
    waitForCaches({&m_deployments, &m_replicaSets, &m_pods});
    m_deployments.addEventHandlers({
        [this](const ObjectPtr &d) { queue().add(keyOf(*d)); },
        [this](const ObjectPtr &, const ObjectPtr &d) { queue().add(keyOf(*d)); },
        [this](const ObjectPtr &d) { queue().add(keyOf(*d)); },
    });
    m_replicaSets.addEventHandlers({
        [this](const ObjectPtr &rs) { onReplicaSetAdded(rs); },
        [this](const ObjectPtr &o, const ObjectPtr &n) { onReplicaSetUpdated(o, n); },
        [this](const ObjectPtr &rs) { onReplicaSetDeleted(rs); },
    });
    m_pods.addEventHandlers({nullptr, nullptr, [this](const ObjectPtr &p) { onPodDeleted(p); }});
}

// ---- handlers ----------------------------------------------------------------------------------

std::optional<std::string> DeploymentController::resolveOwner(const std::string &ns,
                                                              const std::optional<model::OwnerReference> &ref) const
{
    if (!ref || ref->kind != "Deployment")
        return std::nullopt;
    ObjectPtr d = m_deployments.indexer().get(ns, ref->name);
    if (!d || str(*d, "/metadata/uid") != ref->uid)
        return std::nullopt; // a namesake, not the owner
    return keyOf(*d);
}

std::vector<std::string> DeploymentController::deploymentsMatching(const json &rs) const
{
    std::vector<std::string> keys;
    const model::Labels labels = labelsOf(rs);
    for (const auto &d : m_deployments.indexer().byIndex("namespace", str(rs, "/metadata/namespace"))) {
        auto selector = selectorOf(*d);
        if (selector && !selector->isEmpty() && selector->matches(labels))
            keys.push_back(keyOf(*d));
    }
    return keys;
}

void DeploymentController::onReplicaSetAdded(const ObjectPtr &rs)
{
    if (isDeleting(*rs)) {
        onReplicaSetDeleted(rs);
        return;
    }
    const std::string ns = str(*rs, "/metadata/namespace");
    if (auto ref = controllerOf(*rs)) {
        if (auto key = resolveOwner(ns, ref))
            queue().add(*key);
        return;
    }
    // An orphan: every deployment that could adopt it takes a look.
    for (const auto &key : deploymentsMatching(*rs))
        queue().add(key);
}

void DeploymentController::onReplicaSetUpdated(const ObjectPtr &oldRS, const ObjectPtr &newRS)
{
    if (str(*oldRS, "/metadata/resourceVersion") == str(*newRS, "/metadata/resourceVersion"))
        return; // a relist's resync: nothing changed
    const std::string ns = str(*newRS, "/metadata/namespace");
    auto oldRef = controllerOf(*oldRS), newRef = controllerOf(*newRS);
    const bool refChanged = !sameRef(oldRef, newRef);
    if (refChanged && oldRef)
        if (auto key = resolveOwner(ns, oldRef))
            queue().add(*key);
    if (newRef) {
        if (auto key = resolveOwner(ns, newRef))
            queue().add(*key);
        return;
    }
    if (refChanged || labelsOf(*oldRS) != labelsOf(*newRS))
        for (const auto &key : deploymentsMatching(*newRS))
            queue().add(key);
}

void DeploymentController::onReplicaSetDeleted(const ObjectPtr &rs)
{
    if (auto key = resolveOwner(str(*rs, "/metadata/namespace"), controllerOf(*rs)))
        queue().add(*key);
}

void DeploymentController::onPodDeleted(const ObjectPtr &pod)
{
    auto podRef = controllerOf(*pod);
    if (!podRef || podRef->kind != "ReplicaSet")
        return;
    const std::string ns = str(*pod, "/metadata/namespace");
    ObjectPtr rs = m_replicaSets.indexer().get(ns, podRef->name);
    if (!rs || str(*rs, "/metadata/uid") != podRef->uid)
        return;
    auto key = resolveOwner(ns, controllerOf(*rs));
    if (!key)
        return;
    ObjectPtr d = m_deployments.indexer().get(*key);
    if (!d || str(*d, "/spec/strategy/type") != "Recreate")
        return;
    // Recreate waits for the last old pod to be gone; that moment is the one to sync at.
    for (const auto &owned : m_replicaSets.indexer().byIndex("owner", str(*d, "/metadata/uid")))
        if (!m_pods.indexer().keysByIndex("owner", str(*owned, "/metadata/uid")).empty())
            return;
    queue().add(*key);
}

// ---- sync ----------------------------------------------------------------------------------------

Result<void> DeploymentController::sync(const std::string &key)
{
    // The API server validates what it stores, but the store itself takes any JSON: a
    // malformed object fails its own sync, not the worker thread.
    try {
        return syncDeployment(key);
    } catch (const json::exception &e) {
        return fail(Reason::Invalid, "deployment " + key + " or one of its replica sets is malformed: " + e.what());
    }
}

Result<void> DeploymentController::syncDeployment(const std::string &key)
{
    ObjectPtr cached = m_deployments.indexer().get(key);
    if (!cached)
        return {};
    json d = *cached;
    auto selector = selectorOf(d);
    if (!selector) {
        // Validation should have refused it; nothing to do until it is fixed.
        m_recorder.record(d, "Warning", "InvalidSelector", selector.error().message());
        return {};
    }
    if (selector->isEmpty()) {
        m_recorder.record(d, "Warning", "SelectingAll",
                          "This deployment is selecting all pods. A non-empty selector is required.");
        const int64_t generation = num(d, "/metadata/generation");
        if (num(statusOf(d), "/observedGeneration") < generation) {
            statusRef(d)["observedGeneration"] = generation;
            return writeDeployment(d);
        }
        return {};
    }
    auto rsList = claimReplicaSets(d, *selector);
    if (!rsList)
        return rsList.takeError();
    const PodMap pods = podMap(*selector, *rsList);

    if (isDeleting(d))
        return syncStatusOnly(d, *rsList);
    // Paused and resumed leave a mark in the Progressing condition, so that the time spent
    // paused never counts against progressDeadlineSeconds.
    if (auto r = checkPausedConditions(d); !r)
        return r;
    if (boolean(d, "/spec/paused"))
        return syncScaling(d, *rsList);
    if (auto to = rollbackTo(d))
        return rollback(d, *rsList, *to);
    auto scaling = isScalingEvent(d, *rsList);
    if (!scaling)
        return scaling.takeError();
    if (*scaling)
        return syncScaling(d, *rsList);
    const std::string type = str(d, "/spec/strategy/type");
    if (type == "Recreate")
        return rolloutRecreate(d, *rsList, pods);
    if (type.empty() || type == "RollingUpdate")
        return rolloutRolling(d, *rsList);
    return fail(Reason::Invalid, "unexpected deployment strategy type: " + type);
}

Result<DeploymentController::ReplicaSets> DeploymentController::claimReplicaSets(const json &d,
                                                                                 const model::LabelSelector &selector)
{
    const std::string ns = str(d, "/metadata/namespace");
    const std::string uid = str(d, "/metadata/uid");
    const bool deleting = isDeleting(d);
    auto &store = m_informers.store();
    std::optional<bool> canAdopt;
    ReplicaSets claimed;
    for (const auto &rs : m_replicaSets.indexer().byIndex("namespace", ns)) {
        const bool matches = selector.matchesJson(labelsJson(*rs));
        const std::string rsName = str(*rs, "/metadata/name");
        if (auto ref = controllerOf(*rs)) {
            if (ref->uid != uid)
                continue; // someone else's
            if (matches) {
                claimed.push_back(rs);
                continue;
            }
            if (deleting)
                continue;
            // Ours, but it no longer matches: let it go.
            auto released = store.modify(kReplicaSets, ns, rsName, [&](json &live) -> Result<bool> {
                auto p = json::json_pointer("/metadata/ownerReferences");
                if (!live.contains(p) || !live[p].is_array())
                    return false;
                json kept = json::array();
                for (const auto &r : live[p])
                    if (!r.is_object() || str(r, "/uid") != uid)
                        kept.push_back(r);
                if (kept.size() == live[p].size())
                    return false;
                if (kept.empty())
                    live["metadata"].erase("ownerReferences");
                else
                    live[p] = std::move(kept);
                return true;
            });
            if (!released && released.error().reason() != Reason::NotFound)
                return released.takeError();
            continue;
        }
        if (deleting || !matches || isDeleting(*rs))
            continue;
        // Adopt only for a deployment that still exists as this one: the cache may hold a
        // deleted deployment whose namesake was just created.
        if (!canAdopt) {
            auto fresh = store.get(kDeployments, ns, str(d, "/metadata/name"));
            canAdopt = fresh.ok() && str(**fresh, "/metadata/uid") == uid && !isDeleting(**fresh);
        }
        if (!*canAdopt)
            continue;
        const std::string rsUid = str(*rs, "/metadata/uid");
        auto adopted = store.modify(kReplicaSets, ns, rsName, [&](json &live) -> Result<bool> {
            if (str(live, "/metadata/uid") != rsUid || controllerOf(live))
                return false;
            json &refs = live["metadata"]["ownerReferences"];
            if (!refs.is_array())
                refs = json::array();
            refs.push_back(model::OwnerReference{"apps/v1", "Deployment", str(d, "/metadata/name"), uid, true, true}.toJson());
            return true;
        });
        if (!adopted) {
            if (adopted.error().reason() == Reason::NotFound)
                continue;
            return adopted.takeError();
        }
        if (auto ref = controllerOf(**adopted); ref && ref->uid == uid)
            claimed.push_back(*adopted);
    }
    return claimed;
}

DeploymentController::PodMap DeploymentController::podMap(const model::LabelSelector &selector,
                                                          const ReplicaSets &rsList) const
{
    PodMap pods;
    for (const auto &rs : rsList) {
        auto &list = pods[str(*rs, "/metadata/uid")];
        for (const auto &pod : m_pods.indexer().byIndex("owner", str(*rs, "/metadata/uid")))
            if (selector.matchesJson(labelsJson(*pod)))
                list.push_back(pod);
    }
    return pods;
}

Result<void> DeploymentController::checkPausedConditions(json &d)
{
    if (!hasProgressDeadline(d))
        return {};
    json status = statusOf(d);
    const json *cond = getCondition(status, kProgressing);
    const std::string reason = cond ? str(*cond, "/reason") : std::string();
    if (reason == TimedOutReason)
        return {}; // a reported failure is not overwritten by a pause
    const bool pausedCondExists = reason == PausedReason;
    const bool paused = boolean(d, "/spec/paused");
    if (paused && !pausedCondExists)
        setCondition(status, newCondition(kProgressing, "Unknown", PausedReason, "Deployment is paused", clock().now()));
    else if (!paused && pausedCondExists)
        setCondition(status, newCondition(kProgressing, "Unknown", ResumedReason, "Deployment is resumed", clock().now()));
    else
        return {};
    d["status"] = std::move(status);
    return writeDeployment(d);
}

Result<void> DeploymentController::syncStatusOnly(json &d, const ReplicaSets &rsList)
{
    auto split = getAllReplicaSetsAndSyncRevision(d, rsList, false);
    if (!split)
        return split.takeError();
    return syncDeploymentStatus(d, withNew(split->oldRSs, split->newRS), split->newRS);
}

// Kubernetes' sync(): scaling events and paused deployments, no rollout progress.
Result<void> DeploymentController::syncScaling(json &d, const ReplicaSets &rsList)
{
    auto split = getAllReplicaSetsAndSyncRevision(d, rsList, false);
    if (!split)
        return split.takeError();
    if (auto r = scale(d, split->newRS, split->oldRSs); !r)
        return r;
    if (boolean(d, "/spec/paused") && !rollbackTo(d))
        if (auto r = cleanupDeployment(d, split->oldRSs); !r)
            return r;
    return syncDeploymentStatus(d, withNew(split->oldRSs, split->newRS), split->newRS);
}

// The deployment was scaled when an active ReplicaSet was sized for another replica count.
Result<bool> DeploymentController::isScalingEvent(json &d, const ReplicaSets &rsList)
{
    auto split = getAllReplicaSetsAndSyncRevision(d, rsList, false);
    if (!split)
        return split.takeError();
    for (const auto &rs : filterActive(withNew(split->oldRSs, split->newRS))) {
        std::string desired = annotation(*rs, DesiredReplicasAnnotation);
        if (!desired.empty() && desired != std::to_string(specReplicas(d)))
            return true;
    }
    return false;
}

// The annotation-driven rollback of extensions/v1beta1 clients (`kubectl rollout undo` of
// apps/v1 patches the template itself and never gets here).
Result<void> DeploymentController::rollback(json &d, const ReplicaSets &rsList, int64_t toRevision)
{
    auto split = getAllReplicaSetsAndSyncRevision(d, rsList, true);
    if (!split)
        return split.takeError();
    const ReplicaSets allRSs = withNew(split->oldRSs, split->newRS);
    const std::string name = str(d, "/metadata/name");
    auto clear = [&]() -> Result<void> {
        if (d["metadata"].contains("annotations") && d["metadata"]["annotations"].is_object())
            d["metadata"]["annotations"].erase(std::string(RollbackToAnnotation));
        return writeDeployment(d);
    };
    if (toRevision == 0) {
        toRevision = lastRevision(allRSs);
        if (toRevision == 0) {
            m_recorder.record(d, "Warning", RollbackRevisionNotFoundReason, "Unable to find last revision.");
            return clear();
        }
    }
    for (const auto &rs : allRSs) {
        if (!rs || revision(*rs) != toRevision)
            continue;
        const json rsTemplate = templateOf(*rs);
        if (equalIgnoreHash(templateOf(d), rsTemplate)) {
            m_recorder.record(d, "Warning", RollbackTemplateUnchangedReason,
                              "The rollback revision contains the same template as current deployment " + quoted(name));
            return clear();
        }
        json restored = rsTemplate;
        if (restored.contains("metadata") && restored["metadata"].contains("labels") && restored["metadata"]["labels"].is_object())
            restored["metadata"]["labels"].erase(std::string(PodTemplateHashLabel));
        d["spec"]["template"] = std::move(restored);
        // The deployment takes the revision's annotations (its change-cause above all), or
        // its current ones would be copied onto the restored ReplicaSet.
        setDeploymentAnnotationsTo(d, *rs);
        auto r = clear();
        if (r)
            m_recorder.record(d, "Normal", RollbackDoneReason,
                              "Rolled back deployment " + quoted(name) + " to revision " + std::to_string(toRevision));
        return r;
    }
    m_recorder.record(d, "Warning", RollbackRevisionNotFoundReason, "Unable to find the revision to rollback to.");
    return clear();
}

Result<void> DeploymentController::rolloutRolling(json &d, const ReplicaSets &rsList)
{
    auto split = getAllReplicaSetsAndSyncRevision(d, rsList, true);
    if (!split)
        return split.takeError();
    const ObjectPtr newRS = split->newRS;
    if (!newRS)
        return fail(Reason::InternalError, "no new replica set for deployment " + keyOf(d));
    const ReplicaSets allRSs = withNew(split->oldRSs, newRS);

    auto scaledUp = reconcileNewReplicaSet(d, allRSs, newRS);
    if (!scaledUp)
        return scaledUp.takeError();
    if (*scaledUp)
        return syncRolloutStatus(d, allRSs, newRS);

    auto scaledDown = reconcileOldReplicaSets(d, filterActive(split->oldRSs), newRS);
    if (!scaledDown)
        return scaledDown.takeError();
    if (*scaledDown)
        return syncRolloutStatus(d, allRSs, newRS);

    // History is trimmed only once the status (as last written) says the rollout is done.
    if (deploymentComplete(d, statusOf(d)))
        if (auto r = cleanupDeployment(d, split->oldRSs); !r)
            return r;
    return syncRolloutStatus(d, allRSs, newRS);
}

Result<void> DeploymentController::rolloutRecreate(json &d, const ReplicaSets &rsList, const PodMap &pods)
{
    // No new ReplicaSet yet: creating it now would scale up before the old ones are down.
    auto split = getAllReplicaSetsAndSyncRevision(d, rsList, false);
    if (!split)
        return split.takeError();
    ObjectPtr newRS = split->newRS;
    ReplicaSets oldRSs = split->oldRSs;
    ReplicaSets allRSs = withNew(oldRSs, newRS);

    bool scaledDown = false;
    for (const auto &rs : filterActive(oldRSs)) {
        auto r = scaleReplicaSetAndRecordEvent(d, rs, 0);
        if (!r)
            return r.takeError();
        scaledDown = scaledDown || r->scaled;
    }
    if (scaledDown)
        return syncRolloutStatus(d, allRSs, newRS);

    // Old pods still running (or terminating): the new ones must wait for them to be gone.
    auto oldPodsRunning = [&] {
        if (actualReplicaCount(oldRSs) > 0)
            return true;
        for (const auto &[rsUid, list] : pods) {
            if (newRS && str(*newRS, "/metadata/uid") == rsUid)
                continue;
            for (const auto &pod : list) {
                const std::string phase = str(*pod, "/status/phase");
                if (phase != "Succeeded" && phase != "Failed")
                    return true;
            }
        }
        return false;
    }();
    if (oldPodsRunning)
        return syncRolloutStatus(d, allRSs, newRS);

    if (!newRS) {
        auto created = getAllReplicaSetsAndSyncRevision(d, rsList, true);
        if (!created)
            return created.takeError();
        newRS = created->newRS;
        oldRSs = created->oldRSs;
        allRSs = withNew(oldRSs, newRS);
        if (!newRS)
            return fail(Reason::InternalError, "no new replica set for deployment " + keyOf(d));
    }
    if (auto r = scaleReplicaSetAndRecordEvent(d, newRS, specReplicas(d)); !r)
        return r.takeError();
    if (deploymentComplete(d, statusOf(d)))
        if (auto r = cleanupDeployment(d, oldRSs); !r)
            return r;
    return syncRolloutStatus(d, allRSs, newRS);
}

// ---- replica sets ----------------------------------------------------------------------------------

Result<DeploymentController::Split> DeploymentController::getAllReplicaSetsAndSyncRevision(json &d,
                                                                                           const ReplicaSets &rsList,
                                                                                           bool createIfNotExisted)
{
    ReplicaSets oldRSs = findOldReplicaSets(d, rsList);
    auto newRS = getNewReplicaSet(d, rsList, oldRSs, createIfNotExisted);
    if (!newRS)
        return newRS.takeError();
    return Split{*newRS, std::move(oldRSs)};
}

Result<DeploymentController::ObjectPtr> DeploymentController::getNewReplicaSet(json &d, const ReplicaSets &rsList,
                                                                               const ReplicaSets &oldRSs,
                                                                               bool createIfNotExisted)
{
    ObjectPtr existing = findNewReplicaSet(d, rsList);
    const int64_t newRevision = maxRevision(oldRSs) + 1;
    if (!existing) {
        if (!createIfNotExisted)
            return ObjectPtr();
        return createNewReplicaSet(d, oldRSs, newRevision);
    }

    // The new ReplicaSet exists: bring its annotations (revision, change-cause) and
    // minReadySeconds up to date, then the deployment's revision.
    ObjectPtr rs = existing;
    const int64_t minReady = num(d, "/spec/minReadySeconds");
    auto apply = [&](json &target) {
        bool changed = setNewReplicaSetAnnotations(d, target, newRevision, true);
        if (num(target, "/spec/minReadySeconds") != minReady) {
            if (minReady == 0)
                target["spec"].erase("minReadySeconds");
            else
                target["spec"]["minReadySeconds"] = minReady;
            changed = true;
        }
        return changed;
    };
    json probe = *existing;
    if (apply(probe)) {
        const std::string uid = str(*existing, "/metadata/uid");
        auto written = m_informers.store().modify(kReplicaSets, str(*existing, "/metadata/namespace"),
                                                  str(*existing, "/metadata/name"), [&](json &live) -> Result<bool> {
                                                      if (str(live, "/metadata/uid") != uid)
                                                          return fail(Error::conflict("replica set was replaced"));
                                                      return apply(live);
                                                  });
        if (!written)
            return written.takeError();
        rs = *written;
    }

    bool needsUpdate = setDeploymentRevision(d, annotation(*rs, RevisionAnnotation));
    // A deployment that never had a Progressing condition starts measuring from here.
    if (hasProgressDeadline(d) && !getCondition(statusOf(d), kProgressing)) {
        setCondition(statusRef(d), newCondition(kProgressing, "True", FoundNewReplicaSetReason,
                                                "Found new replica set " + quoted(str(*rs, "/metadata/name")),
                                                clock().now()));
        needsUpdate = true;
    }
    if (needsUpdate)
        if (auto r = writeDeployment(d); !r)
            return r.takeError();
    return rs;
}

Result<DeploymentController::ObjectPtr> DeploymentController::createNewReplicaSet(json &d, const ReplicaSets &oldRSs,
                                                                                  int64_t newRevision)
{
    auto &store = m_informers.store();
    const std::string ns = str(d, "/metadata/namespace");
    json podTemplate = templateOf(d);
    std::optional<int64_t> collisionCount;
    if (auto s = statusOf(d); s.contains("collisionCount") && s["collisionCount"].is_number())
        collisionCount = s["collisionCount"].get<int64_t>();
    const std::string hash = computeHash(podTemplate, collisionCount);
    json &templateLabels = podTemplate["metadata"]["labels"];
    if (!templateLabels.is_object())
        templateLabels = json::object();
    templateLabels[std::string(PodTemplateHashLabel)] = hash;
    // The hash label keeps the ReplicaSets of different templates from selecting each other's pods.
    const json *dSelector = find(d, "/spec/selector");
    json selector = dSelector && dSelector->is_object() ? *dSelector : json::object();
    selector["matchLabels"][std::string(PodTemplateHashLabel)] = hash;

    // The name is deterministic, so a create repeated on a stale cache meets AlreadyExists.
    const std::string rsName = str(d, "/metadata/name") + "-" + hash;
    json rs = {{"apiVersion", "apps/v1"},
               {"kind", "ReplicaSet"},
               {"metadata",
                {{"name", rsName},
                 {"namespace", ns},
                 {"labels", templateLabels},
                 {"ownerReferences",
                  json::array({model::OwnerReference{"apps/v1", "Deployment", str(d, "/metadata/name"),
                                                     str(d, "/metadata/uid"), true, true}
                                   .toJson()})}}},
               {"spec", {{"replicas", 0}, {"selector", selector}, {"template", podTemplate}}}};
    if (int64_t minReady = num(d, "/spec/minReadySeconds"); minReady != 0)
        rs["spec"]["minReadySeconds"] = minReady;
    const int64_t replicas = newRSNewReplicas(d, withNew(oldRSs, std::make_shared<const json>(rs)), rs);
    rs["spec"]["replicas"] = replicas;
    setNewReplicaSetAnnotations(d, rs, newRevision, false);

    ObjectPtr createdRS;
    bool alreadyExists = false;
    auto created = store.create(kReplicaSets, rs);
    if (created) {
        createdRS = *created;
    } else if (created.error().reason() == Reason::AlreadyExists) {
        auto live = store.get(kReplicaSets, ns, rsName);
        if (!live)
            return live.takeError();
        auto ref = controllerOf(**live);
        if (ref && ref->uid == str(d, "/metadata/uid") && equalIgnoreHash(templateOf(d), templateOf(**live))) {
            createdRS = *live; // ours, made by an earlier sync the cache has not shown yet
            alreadyExists = true;
        } else {
            // Another template hashed to the same name: the collision count changes the hash
            // next time.
            statusRef(d)["collisionCount"] = collisionCount.value_or(0) + 1;
            if (writeDeployment(d)) {
                PS_LOG(Info, name()) << "hash collision for deployment " << keyOf(d) << ": collisionCount is now "
                                     << collisionCount.value_or(0) + 1;
            }
            return created.takeError();
        }
    } else {
        Error failure = created.takeError();
        const std::string message = "Failed to create new replica set " + quoted(rsName) + ": " + failure.message();
        if (hasProgressDeadline(d)) {
            setCondition(statusRef(d), newCondition(kProgressing, "False", FailedCreateReason, message, clock().now()));
            (void)writeDeployment(d); // the failure itself is what gets reported and retried
        }
        m_recorder.record(d, "Warning", FailedCreateReason, message);
        return failure;
    }

    if (!alreadyExists && replicas > 0)
        m_recorder.record(d, "Normal", "ScalingReplicaSet",
                          "Scaled up replica set " + rsName + " from 0 to " + std::to_string(replicas));
    bool needsUpdate = setDeploymentRevision(d, std::to_string(newRevision));
    if (!alreadyExists && hasProgressDeadline(d)) {
        setCondition(statusRef(d), newCondition(kProgressing, "True", NewReplicaSetReason,
                                                "Created new replica set " + quoted(rsName), clock().now()));
        needsUpdate = true;
    }
    if (needsUpdate)
        if (auto r = writeDeployment(d); !r)
            return r.takeError();
    return createdRS;
}

// Spreads a change of spec.replicas over the ReplicaSets in proportion to their sizes, so a
// scale in mid-rollout neither hastens nor holds back the rollout.
Result<void> DeploymentController::scale(const json &d, const ObjectPtr &newRS, const ReplicaSets &oldRSs)
{
    const int64_t replicas = specReplicas(d);
    if (ObjectPtr only = findActiveOrLatest(newRS, oldRSs)) {
        if (specReplicas(*only) == replicas)
            return {};
        auto r = scaleReplicaSetAndRecordEvent(d, only, replicas);
        return r ? Result<void>() : Result<void>(r.takeError());
    }
    // A saturated new ReplicaSet (say, after adopting old ones) leaves nothing for them.
    if (isSaturated(d, newRS)) {
        for (const auto &old : filterActive(oldRSs))
            if (auto r = scaleReplicaSetAndRecordEvent(d, old, 0); !r)
                return r.takeError();
        return {};
    }
    if (!isRollingUpdate(d))
        return {}; // Recreate scales once the old ReplicaSets are gone
    ReplicaSets active = filterActive(withNew(oldRSs, newRS));
    const int64_t allowed = replicas > 0 ? replicas + maxSurge(d) : 0;
    const int64_t toAdd = allowed - replicaCount(active);
    // Larger ReplicaSets first; among equals, newer ones grow first and older ones shrink first.
    if (toAdd > 0)
        sortBySizeNewer(active);
    else if (toAdd < 0)
        sortBySizeOlder(active);
    int64_t added = 0;
    std::vector<int64_t> sizes;
    for (const auto &rs : active) {
        int64_t p = toAdd != 0 ? proportion(*rs, d, toAdd, added) : 0;
        sizes.push_back(specReplicas(*rs) + p);
        added += p;
    }
    for (size_t i = 0; i < active.size(); ++i) {
        // Rounding leftovers go to the largest.
        if (i == 0 && toAdd != 0)
            sizes[0] = std::max<int64_t>(0, sizes[0] + toAdd - added);
        if (auto r = scaleReplicaSet(d, active[i], sizes[i]); !r)
            return r.takeError();
    }
    return {};
}

Result<DeploymentController::Scaled> DeploymentController::scaleReplicaSetAndRecordEvent(const json &d, const ObjectPtr &rs,
                                                                                        int64_t newScale)
{
    if (specReplicas(*rs) == newScale)
        return Scaled{false, rs};
    return scaleReplicaSet(d, rs, newScale);
}

Result<DeploymentController::Scaled> DeploymentController::scaleReplicaSet(const json &d, const ObjectPtr &rs, int64_t newScale)
{
    const int64_t oldScale = specReplicas(*rs);
    const int64_t desired = specReplicas(d);
    const int64_t maxReplicas = desired + maxSurge(d);
    const bool sizeNeedsUpdate = oldScale != newScale;
    if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(*rs, desired, maxReplicas))
        return Scaled{false, rs};
    const std::string rsName = str(*rs, "/metadata/name");
    const std::string uid = str(*rs, "/metadata/uid");
    auto written = m_informers.store().modify(kReplicaSets, str(*rs, "/metadata/namespace"), rsName,
                                              [&](json &live) -> Result<bool> {
                                                  if (str(live, "/metadata/uid") != uid)
                                                      return fail(Error::conflict("replica set " + rsName + " was replaced"));
                                                  // The new size was decided from oldScale: never
                                                  // write it over a size someone set since.
                                                  if (specReplicas(live) != oldScale)
                                                      return fail(Error::conflict("replica set " + rsName
                                                                                  + " was scaled meanwhile"));
                                                  bool changed = setReplicasAnnotations(live, desired, maxReplicas);
                                                  if (specReplicas(live) != newScale) {
                                                      live["spec"]["replicas"] = newScale;
                                                      changed = true;
                                                  }
                                                  return changed;
                                              });
    if (!written)
        return written.takeError();
    if (sizeNeedsUpdate)
        m_recorder.record(d, "Normal", "ScalingReplicaSet",
                          std::string("Scaled ") + (oldScale < newScale ? "up" : "down") + " replica set " + rsName + " from "
                              + std::to_string(oldScale) + " to " + std::to_string(newScale));
    return Scaled{sizeNeedsUpdate, *written};
}

Result<bool> DeploymentController::reconcileNewReplicaSet(const json &d, const ReplicaSets &allRSs, const ObjectPtr &newRS)
{
    const int64_t desired = specReplicas(d);
    const int64_t current = specReplicas(*newRS);
    if (current == desired)
        return false;
    auto r = scaleReplicaSetAndRecordEvent(d, newRS, current > desired ? desired : newRSNewReplicas(d, allRSs, *newRS));
    if (!r)
        return r.takeError();
    return r->scaled;
}

Result<bool> DeploymentController::reconcileOldReplicaSets(const json &d, ReplicaSets oldRSs, const ObjectPtr &newRS)
{
    const int64_t oldPods = replicaCount(oldRSs);
    if (oldPods == 0)
        return false;
    const int64_t allPods = oldPods + specReplicas(*newRS);
    const int64_t minAvailable = specReplicas(d) - maxUnavailable(d);
    // Unavailable new pods count against the budget too: scaling old ones down because new
    // ones were created, not because they became available, would lose availability.
    const int64_t newUnavailable = specReplicas(*newRS) - num(*newRS, "/status/availableReplicas");
    const int64_t maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0)
        return false;
    // Unhealthy old replicas go first: removing them costs no availability and they would
    // otherwise block the rollout (Kubernetes #16737).
    auto cleaned = cleanupUnhealthyReplicas(d, oldRSs, maxScaledDown);
    if (!cleaned)
        return cleaned.takeError();
    auto scaledDown = scaleDownOldReplicaSetsForRollingUpdate(d, withNew(oldRSs, newRS), oldRSs);
    if (!scaledDown)
        return scaledDown.takeError();
    return *cleaned + *scaledDown > 0;
}

Result<int64_t> DeploymentController::cleanupUnhealthyReplicas(const json &d, ReplicaSets &oldRSs, int64_t maxCleanupCount)
{
    sortByCreation(oldRSs);
    int64_t total = 0;
    for (auto &rs : oldRSs) {
        if (total >= maxCleanupCount)
            break;
        const int64_t replicas = specReplicas(*rs);
        const int64_t available = num(*rs, "/status/availableReplicas");
        // More available than wanted: just scaled down, pods not yet deleted. None unhealthy.
        if (replicas == 0 || available >= replicas)
            continue;
        const int64_t count = std::min(maxCleanupCount - total, replicas - available);
        auto r = scaleReplicaSetAndRecordEvent(d, rs, replicas - count);
        if (!r)
            return r.takeError();
        total += count;
        rs = r->rs;
    }
    return total;
}

Result<int64_t> DeploymentController::scaleDownOldReplicaSetsForRollingUpdate(const json &d, const ReplicaSets &allRSs,
                                                                              ReplicaSets oldRSs)
{
    const int64_t minAvailable = specReplicas(d) - maxUnavailable(d);
    // A ReplicaSet scaled down a moment ago still reports the pods it is about to delete:
    // counting more than its spec.replicas would scale down again for pods that are going.
    int64_t available = 0;
    for (const auto &rs : allRSs)
        if (rs)
            available += std::min(num(*rs, "/status/availableReplicas"), specReplicas(*rs));
    if (available <= minAvailable)
        return int64_t(0);
    sortByCreation(oldRSs);
    const int64_t toScaleDown = available - minAvailable;
    int64_t total = 0;
    for (const auto &rs : oldRSs) {
        if (total >= toScaleDown)
            break;
        const int64_t replicas = specReplicas(*rs);
        if (replicas == 0)
            continue;
        const int64_t count = std::min(replicas, toScaleDown - total);
        if (auto r = scaleReplicaSetAndRecordEvent(d, rs, replicas - count); !r)
            return r.takeError();
        total += count;
    }
    return total;
}

// Keeps the newest revisionHistoryLimit old ReplicaSets (what `rollout undo` can go back to)
// and deletes older ones once they are fully scaled down.
Result<void> DeploymentController::cleanupDeployment(const json &d, const ReplicaSets &oldRSs)
{
    if (!hasRevisionHistoryLimit(d))
        return {};
    ReplicaSets alive;
    for (const auto &rs : oldRSs)
        if (rs && !isDeleting(*rs))
            alive.push_back(rs);
    const int64_t diff = static_cast<int64_t>(alive.size()) - num(d, "/spec/revisionHistoryLimit", 10);
    if (diff <= 0)
        return {};
    sortByRevision(alive);
    for (int64_t i = 0; i < diff; ++i) {
        const json &rs = *alive[static_cast<size_t>(i)];
        if (num(rs, "/status/replicas") != 0 || specReplicas(rs) != 0
            || num(rs, "/metadata/generation") > num(rs, "/status/observedGeneration") || isDeleting(rs))
            continue;
        store::DeleteOptions options;
        options.preconditionUid = str(rs, "/metadata/uid");
        auto removed = m_informers.store().remove(kReplicaSets, str(rs, "/metadata/namespace"), str(rs, "/metadata/name"), options);
        if (!removed && removed.error().reason() != Reason::NotFound)
            return removed.takeError(); // stop here rather than hammer the store
    }
    return {};
}

// ---- status ----------------------------------------------------------------------------------------

json DeploymentController::calculateStatus(const json &d, const ReplicaSets &allRSs, const ObjectPtr &newRS) const
{
    const int64_t available = availableReplicaCount(allRSs);
    // More available than desired (while scaling down) is not negative unavailability.
    const int64_t unavailable = std::max<int64_t>(0, replicaCount(allRSs) - available);
    json status = {{"observedGeneration", num(d, "/metadata/generation")},
                   {"replicas", actualReplicaCount(allRSs)},
                   {"updatedReplicas", actualReplicaCount({newRS})},
                   {"readyReplicas", readyReplicaCount(allRSs)},
                   {"availableReplicas", available},
                   {"unavailableReplicas", unavailable}};
    const json old = statusOf(d);
    if (old.contains("collisionCount"))
        status["collisionCount"] = old["collisionCount"];
    if (old.contains("conditions") && old["conditions"].is_array() && !old["conditions"].empty())
        status["conditions"] = old["conditions"];
    const auto now = m_informers.clock().now();
    if (available >= specReplicas(d) - maxUnavailable(d))
        setCondition(status, newCondition("Available", "True", MinimumReplicasAvailable,
                                          "Deployment has minimum availability.", now));
    else
        setCondition(status, newCondition("Available", "False", MinimumReplicasUnavailable,
                                          "Deployment does not have minimum availability.", now));
    // Kubernetes omits zero counts; so do we, so that `get -o yaml` looks the same.
    for (const char *k : {"observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
                          "unavailableReplicas"})
        if (status[k] == 0)
            status.erase(k);
    return status;
}

Result<void> DeploymentController::syncDeploymentStatus(json &d, const ReplicaSets &allRSs, const ObjectPtr &newRS)
{
    json status = calculateStatus(d, allRSs, newRS);
    if (statusOf(d) == status)
        return {};
    d["status"] = std::move(status);
    return writeDeployment(d);
}

Result<void> DeploymentController::syncRolloutStatus(json &d, const ReplicaSets &allRSs, const ObjectPtr &newRS)
{
    json status = calculateStatus(d, allRSs, newRS);
    const auto now = clock().now();
    if (!hasProgressDeadline(d))
        removeCondition(status, kProgressing);
    const json oldStatus = statusOf(d);
    const json *current = getCondition(oldStatus, kProgressing);
    const std::string currentReason = current ? str(*current, "/reason") : std::string();
    // A finished rollout whose ReplicaSets are all updated is not measured again.
    const bool isComplete = num(status, "/replicas") == num(status, "/updatedReplicas") && current
        && currentReason == NewReplicaSetAvailableReason;
    if (hasProgressDeadline(d) && !isComplete) {
        const std::string subject = newRS ? "ReplicaSet " + quoted(str(*newRS, "/metadata/name"))
                                          : "Deployment " + quoted(str(d, "/metadata/name"));
        if (deploymentComplete(d, status)) {
            setCondition(status, newCondition(kProgressing, "True", NewReplicaSetAvailableReason,
                                              subject + " has successfully progressed.", now));
        } else if (deploymentProgressing(d, status)) {
            // Progress refreshes lastUpdateTime even when the reason stays the same, which
            // setCondition alone would not do: that time is what the deadline runs from.
            json condition = newCondition(kProgressing, "True", ReplicaSetUpdatedReason, subject + " is progressing.", now);
            if (current) {
                if (str(*current, "/status") == "True")
                    if (const json *since = find(*current, "/lastTransitionTime"))
                        condition["lastTransitionTime"] = *since;
                removeCondition(status, kProgressing);
            }
            setCondition(status, std::move(condition));
        } else if (deploymentTimedOut(d, status, now)) {
            setCondition(status, newCondition(kProgressing, "False", TimedOutReason,
                                              subject + " has timed out progressing.", now));
        }
    }
    if (json failure = replicaFailure(allRSs, newRS); !failure.is_null())
        setCondition(status, std::move(failure));
    else
        removeCondition(status, "ReplicaFailure");

    requeueForMinReadySeconds(d, allRSs);
    if (oldStatus == status) {
        requeueStuckDeployment(d, status);
        return {};
    }
    d["status"] = std::move(status);
    return writeDeployment(d);
}

// Nothing else wakes a deployment that makes no progress: come back when its deadline passes.
void DeploymentController::requeueStuckDeployment(const json &d, const json &newStatus)
{
    const json oldStatus = statusOf(d);
    const json *current = getCondition(oldStatus, kProgressing);
    if (!hasProgressDeadline(d) || !current)
        return;
    if (deploymentComplete(d, newStatus) || str(*current, "/reason") == TimedOutReason)
        return;
    auto lastUpdate = parseRfc3339(str(*current, "/lastUpdateTime"));
    if (!lastUpdate)
        return;
    const auto after = *lastUpdate + std::chrono::seconds(num(d, "/spec/progressDeadlineSeconds", 600)) - clock().now();
    if (after < std::chrono::seconds(1))
        queue().addRateLimited(keyOf(d));
    else
        queue().addAfter(keyOf(d), after + std::chrono::seconds(1)); // past the deadline, not at it
}

// The ReplicaSet controller reports pods available once minReadySeconds have passed, and that
// status update wakes us; a requeue for the same moment keeps the rollout moving if it is missed.
void DeploymentController::requeueForMinReadySeconds(const json &d, const ReplicaSets &allRSs)
{
    const int64_t minReady = num(d, "/spec/minReadySeconds");
    if (minReady <= 0)
        return;
    for (const auto &rs : allRSs)
        if (rs && num(*rs, "/status/readyReplicas") > num(*rs, "/status/availableReplicas")) {
            queue().addAfter(keyOf(d), std::chrono::seconds(minReady));
            return;
        }
}

Result<void> DeploymentController::writeDeployment(json &d)
{
    // d carries the resourceVersion it was read at: the store refuses the write (Conflict)
    // if anyone wrote since, and the sync is retried on fresh state.
    auto written = m_informers.store().update(kDeployments, d);
    if (!written)
        return written.takeError();
    d = **written;
    return {};
}

} // namespace podscape::core::controllers
