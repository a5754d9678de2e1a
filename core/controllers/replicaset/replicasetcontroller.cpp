#include "replicasetcontroller.h"

#include "core/base/logger.h"
#include "core/base/timeformat.h"
#include "core/model/object.h"

#include <algorithm>

namespace podscape::core::controllers {

using nlohmann::json;

namespace {

std::string str(const json &o, std::string_view pointer)
{
    auto p = json::json_pointer(std::string(pointer));
    return o.contains(p) && o[p].is_string() ? o[p].get<std::string>() : std::string();
}

int64_t num(const json &o, std::string_view pointer, int64_t fallback)
{
    auto p = json::json_pointer(std::string(pointer));
    return o.contains(p) && o[p].is_number() ? o[p].get<int64_t>() : fallback;
}

std::string keyOf(const json &o) { return str(o, "/metadata/namespace") + "/" + str(o, "/metadata/name"); }

std::optional<std::string> readyTransition(const json &pod)
{
    auto p = json::json_pointer("/status/conditions");
    if (!pod.contains(p) || !pod[p].is_array())
        return std::nullopt;
    for (const auto &c : pod[p])
        if (c.is_object() && c.value("type", std::string()) == "Ready" && c.value("status", std::string()) == "True")
            return c.value("lastTransitionTime", std::string());
    return std::nullopt;
}

// Deletion order (Kubernetes' ActivePodsWithRanks): pods that matter least go first.
bool deleteBefore(const json &a, const json &b)
{
    bool aAssigned = !str(a, "/spec/nodeName").empty(), bAssigned = !str(b, "/spec/nodeName").empty();
    if (aAssigned != bAssigned)
        return !aAssigned;
    auto phaseRank = [](const std::string &phase) { return phase == "Pending" ? 0 : phase == "Unknown" ? 1 : 2; };
    int ap = phaseRank(str(a, "/status/phase")), bp = phaseRank(str(b, "/status/phase"));
    if (ap != bp)
        return ap < bp;
    bool aReady = isPodReady(a), bReady = isPodReady(b);
    if (aReady != bReady)
        return !aReady;
    if (aReady && bReady) {
        std::string at = readyTransition(a).value_or(""), bt = readyTransition(b).value_or("");
        if (at != bt)
            return at > bt; // ready for less time goes first
    }
    int ar = model::Pod(a).restartCount(), br = model::Pod(b).restartCount();
    if (ar != br)
        return ar > br;
    std::string ac = str(a, "/metadata/creationTimestamp"), bc = str(b, "/metadata/creationTimestamp");
    if (ac != bc)
        return ac > bc; // newer first
    return str(a, "/metadata/name") < str(b, "/metadata/name");
}

} // namespace

bool isPodReady(const json &pod) { return readyTransition(pod).has_value(); }

bool isPodActive(const json &pod)
{
    std::string phase = str(pod, "/status/phase");
    return phase != "Succeeded" && phase != "Failed" && str(pod, "/metadata/deletionTimestamp").empty();
}

bool isPodAvailable(const json &pod, int minReadySeconds, Clock::TimePoint now)
{
    auto since = readyTransition(pod);
    if (!since)
        return false;
    if (minReadySeconds <= 0)
        return true;
    auto t = parseRfc3339(*since);
    return t && *t + std::chrono::seconds(minReadySeconds) <= now;
}

ReplicaSetController::ReplicaSetController(SharedInformers &informers, Kind kind, Options options)
    : Controller(kind == Kind::ReplicaSet ? "replicaset-controller" : "replication-controller", informers.clock())
    , m_informers(informers)
    , m_kind(kind)
    , m_options(options)
    , m_resource(kind == Kind::ReplicaSet ? "replicasets.apps" : "replicationcontrollers")
    , m_apiVersion(kind == Kind::ReplicaSet ? "apps/v1" : "v1")
    , m_kindName(kind == Kind::ReplicaSet ? "ReplicaSet" : "ReplicationController")
    , m_owners(informers.forResource(m_resource))
    , m_pods(informers.forResource("pods"))
    , m_expectations(informers.clock())
    , m_recorder(informers.store(), informers.clock(), name())
{
    waitForCaches({&m_owners, &m_pods});
    m_owners.addEventHandlers({
        [this](const ObjectPtr &o) { queue().add(keyOf(*o)); },
        [this](const ObjectPtr &, const ObjectPtr &o) { queue().add(keyOf(*o)); },
        [this](const ObjectPtr &o) {
            m_expectations.deleteExpectations(keyOf(*o));
            queue().add(keyOf(*o));
        },
    });
    m_pods.addEventHandlers({
        [this](const ObjectPtr &p) { onPodAdded(p); },
        [this](const ObjectPtr &o, const ObjectPtr &n) { onPodUpdated(o, n); },
        [this](const ObjectPtr &p) { onPodDeleted(p); },
    });
}

Result<model::LabelSelector> ReplicaSetController::selectorOf(const json &owner) const
{
    auto p = json::json_pointer("/spec/selector");
    json selector = owner.contains(p) ? owner[p] : json();
    if (m_kind == Kind::ReplicationController)
        return model::LabelSelector::fromMatchLabels(selector, "spec.selector");
    if (selector.is_null())
        return model::LabelSelector::nothing();
    return model::LabelSelector::fromJson(selector, "spec.selector");
}

std::vector<std::string> ReplicaSetController::ownersMatching(const json &pod) const
{
    std::vector<std::string> keys;
    model::Labels labels = model::labelsFromJson(pod.value("metadata", json::object()).value("labels", json::object()));
    for (const auto &owner : m_owners.indexer().byIndex("namespace", str(pod, "/metadata/namespace"))) {
        auto selector = selectorOf(*owner);
        if (selector && !selector->isEmpty() && selector->matches(labels))
            keys.push_back(keyOf(*owner));
    }
    return keys;
}

namespace {
const json *labelsPointer(const json &o)
{
    auto m = o.find("metadata");
    if (m == o.end() || !m->is_object())
        return nullptr;
    auto l = m->find("labels");
    return l == m->end() ? nullptr : &*l;
}
} // namespace

void ReplicaSetController::enqueueOwnerOf(const json &pod)
{
    auto ref = model::controllerRefOf(pod);
    if (ref && ref->kind == m_kindName) {
        queue().add(str(pod, "/metadata/namespace") + "/" + ref->name);
        return;
    }
    if (!ref)
        for (const auto &key : ownersMatching(pod))
            queue().add(key);
}

void ReplicaSetController::onPodAdded(const ObjectPtr &pod)
{
    auto ref = model::controllerRefOf(*pod);
    if (ref && ref->kind == m_kindName) {
        std::string key = str(*pod, "/metadata/namespace") + "/" + ref->name;
        m_expectations.creationObserved(key);
        queue().add(key);
        return;
    }
    enqueueOwnerOf(*pod);
}

void ReplicaSetController::onPodUpdated(const ObjectPtr &oldPod, const ObjectPtr &newPod)
{
    if (str(*oldPod, "/metadata/resourceVersion") == str(*newPod, "/metadata/resourceVersion"))
        return; // a relist's resync: nothing changed
    auto oldRef = model::controllerRefOf(*oldPod);
    auto newRef = model::controllerRefOf(*newPod);
    if (oldRef && (!newRef || oldRef->uid != newRef->uid))
        enqueueOwnerOf(*oldPod);
    // A pod being deleted counts as gone for its owner right away, so that a replacement is
    // made during the grace period rather than after it.
    if (str(*oldPod, "/metadata/deletionTimestamp").empty() && !str(*newPod, "/metadata/deletionTimestamp").empty()
        && newRef && newRef->kind == m_kindName)
        m_expectations.deletionObserved(str(*newPod, "/metadata/namespace") + "/" + newRef->name,
                                        str(*newPod, "/metadata/uid"));
    const json *oldLabels = labelsPointer(*oldPod), *newLabels = labelsPointer(*newPod);
    const bool labelsChanged = (oldLabels ? *oldLabels : json()) != (newLabels ? *newLabels : json());
    const bool sameOwner = oldRef && newRef && oldRef->uid == newRef->uid;
    if (sameOwner && !labelsChanged && newRef->kind == m_kindName
        && str(*oldPod, "/metadata/deletionTimestamp") == str(*newPod, "/metadata/deletionTimestamp")) {
        // Only the pod's status moved: recount the owner. (Not delayed: a delay would run on the
        // injected clock, and simulated time must not hold back a status.) A burst of these
        // still costs few syncs, as the queue holds a key once while a sync runs.
        queue().add(str(*newPod, "/metadata/namespace") + "/" + newRef->name);
        return;
    }
    enqueueOwnerOf(*newPod);
    // Labels changed: an orphan may now match another owner.
    if (labelsChanged)
        for (const auto &key : ownersMatching(*newPod))
            queue().add(key);
}

void ReplicaSetController::onPodDeleted(const ObjectPtr &pod)
{
    auto ref = model::controllerRefOf(*pod);
    if (!ref || ref->kind != m_kindName)
        return;
    std::string key = str(*pod, "/metadata/namespace") + "/" + ref->name;
    m_expectations.deletionObserved(key, str(*pod, "/metadata/uid"));
    queue().add(key);
}

Result<std::vector<ReplicaSetController::ObjectPtr>> ReplicaSetController::claimPods(const json &owner,
                                                                                      const model::LabelSelector &selector)
{
    const std::string ns = str(owner, "/metadata/namespace");
    const std::string uid = str(owner, "/metadata/uid");
    const bool ownerDeleting = !str(owner, "/metadata/deletionTimestamp").empty();
    auto &store = m_informers.store();
    std::vector<ObjectPtr> owned;
    for (const auto &pod : m_pods.indexer().byIndex("namespace", ns)) {
        const json *labels = labelsPointer(*pod);
        bool matches = !selector.isEmpty() && selector.matchesJson(labels ? *labels : json());
        auto ref = model::controllerRefOf(*pod);
        const std::string podName = str(*pod, "/metadata/name");
        if (ref && ref->uid == uid) {
            if (matches || ownerDeleting) {
                owned.push_back(pod);
                continue;
            }
            // Release: the pod no longer matches, so it is no longer ours.
            auto released = store.modify("pods", ns, podName, [&](json &p) -> Result<bool> {
                auto refs = model::Object(p).ownerReferences();
                auto before = refs.size();
                std::erase_if(refs, [&](const model::OwnerReference &r) { return r.uid == uid; });
                if (refs.size() == before)
                    return false;
                model::Object o(std::move(p));
                o.setOwnerReferences(refs);
                p = std::move(o.doc());
                return true;
            });
            if (!released && released.error().reason() != Reason::NotFound)
                return released.takeError();
            continue;
        }
        if (ref || !matches || ownerDeleting || !str(*pod, "/metadata/deletionTimestamp").empty())
            continue;
        // Adopt the orphan, re-checking on the live object that it is still an orphan.
        auto adopted = store.modify("pods", ns, podName, [&](json &p) -> Result<bool> {
            model::Object o(std::move(p));
            if (o.controllerRef())
                return false;
            auto refs = o.ownerReferences();
            refs.push_back({m_apiVersion, m_kindName, str(owner, "/metadata/name"), uid, true, true});
            o.setOwnerReferences(refs);
            p = std::move(o.doc());
            return true;
        });
        if (!adopted) {
            if (adopted.error().reason() == Reason::NotFound)
                continue;
            return adopted.takeError();
        }
        if (auto r = model::Object(**adopted).controllerRef(); r && r->uid == uid)
            owned.push_back(*adopted);
    }
    std::vector<ObjectPtr> active;
    for (auto &p : owned)
        if (isPodActive(*p))
            active.push_back(p);
    return active;
}

json ReplicaSetController::podFromTemplate(const json &owner) const
{
    const json tmpl = owner.value("spec", json::object()).value("template", json::object());
    json meta = tmpl.value("metadata", json::object());
    meta.erase("name");
    meta.erase("resourceVersion");
    meta.erase("uid");
    meta["generateName"] = str(owner, "/metadata/name") + "-";
    meta["namespace"] = str(owner, "/metadata/namespace");
    meta["ownerReferences"] = json::array({model::OwnerReference{m_apiVersion, m_kindName, str(owner, "/metadata/name"),
                                                                 str(owner, "/metadata/uid"), true, true}
                                               .toJson()});
    return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", meta}, {"spec", tmpl.value("spec", json::object())}};
}

Result<void> ReplicaSetController::manageReplicas(const std::string &key, const json &owner, std::vector<ObjectPtr> pods)
{
    const int64_t want = num(owner, "/spec/replicas", 1);
    const int64_t diff = static_cast<int64_t>(pods.size()) - want;
    auto &store = m_informers.store();
    const std::string ns = str(owner, "/metadata/namespace");
    if (diff < 0) {
        int64_t toCreate = std::min<int64_t>(-diff, m_options.burstReplicas);
        m_expectations.expectCreations(key, toCreate);
        // Slow start: 1, 2, 4, ... pods per batch, stopping at the first failure, so that a
        // quota or a broken template costs one error, not hundreds.
        int64_t created = 0;
        Error failure;
        bool failed = false;
        for (int64_t batch = 1; created < toCreate && !failed; batch *= 2) {
            int64_t n = std::min(batch, toCreate - created);
            for (int64_t i = 0; i < n; ++i) {
                auto pod = store.create("pods", podFromTemplate(owner));
                if (!pod) {
                    failure = pod.takeError();
                    failed = true;
                    m_recorder.record(owner, "Warning", "FailedCreate", "Error creating: " + failure.message());
                    break;
                }
                ++created;
                m_recorder.record(owner, "Normal", "SuccessfulCreate", "Created pod: " + str(**pod, "/metadata/name"));
            }
        }
        if (failed) {
            // The pods that were never created will never be observed.
            m_expectations.lowerExpectations(key, toCreate - created, 0);
            (void)updateStatus(owner, pods, failure.message());
            return failure;
        }
        return {};
    }
    if (diff > 0) {
        int64_t toDelete = std::min<int64_t>(diff, m_options.burstReplicas);
        std::sort(pods.begin(), pods.end(), [](const ObjectPtr &a, const ObjectPtr &b) { return deleteBefore(*a, *b); });
        pods.resize(static_cast<size_t>(toDelete));
        std::vector<std::string> uids;
        for (const auto &p : pods)
            uids.push_back(str(*p, "/metadata/uid"));
        m_expectations.expectDeletionsOf(key, uids);
        for (const auto &p : pods) {
            store::DeleteOptions precondition;
            precondition.preconditionUid = str(*p, "/metadata/uid");
            auto removed = store.remove("pods", ns, str(*p, "/metadata/name"), precondition);
            if (!removed) {
                m_expectations.deletionObserved(key, str(*p, "/metadata/uid"));
                if (removed.error().reason() != Reason::NotFound) {
                    m_recorder.record(owner, "Warning", "FailedDelete", "Error deleting: " + removed.error().message());
                    return removed.takeError();
                }
                continue;
            }
            m_recorder.record(owner, "Normal", "SuccessfulDelete", "Deleted pod: " + str(*p, "/metadata/name"));
        }
    }
    return {};
}

Result<void> ReplicaSetController::updateStatus(const json &owner, const std::vector<ObjectPtr> &pods, const std::string &failure)
{
    const auto now = clock().now();
    const int minReady = static_cast<int>(num(owner, "/spec/minReadySeconds", 0));
    const json templateLabels = owner.value("spec", json::object()).value("template", json::object()).value("metadata", json::object()).value("labels", json::object());
    int64_t ready = 0, available = 0, fullyLabeled = 0;
    bool waitingForAvailability = false;
    for (const auto &p : pods) {
        if (isPodReady(*p)) {
            ++ready;
            if (isPodAvailable(*p, minReady, now))
                ++available;
            else
                waitingForAvailability = true;
        }
        json labels = p->value("metadata", json::object()).value("labels", json::object());
        bool all = true;
        for (auto it = templateLabels.begin(); it != templateLabels.end() && all; ++it)
            all = labels.contains(it.key()) && labels[it.key()] == it.value();
        fullyLabeled += all ? 1 : 0;
    }
    if (waitingForAvailability)
        queue().addAfter(keyOf(owner), std::chrono::seconds(minReady) + std::chrono::milliseconds(100));
    json status = {{"replicas", pods.size()},
                   {"fullyLabeledReplicas", fullyLabeled},
                   {"readyReplicas", ready},
                   {"availableReplicas", available},
                   {"observedGeneration", num(owner, "/metadata/generation", 1)}};
    json conditions = json::array();
    const json oldStatus = owner.value("status", json::object());
    if (!failure.empty()) {
        std::string since = formatRfc3339(now);
        for (const auto &c : oldStatus.value("conditions", json::array()))
            if (c.value("type", std::string()) == "ReplicaFailure")
                since = c.value("lastTransitionTime", since);
        conditions.push_back({{"type", "ReplicaFailure"},
                              {"status", "True"},
                              {"reason", "FailedCreate"},
                              {"message", failure},
                              {"lastTransitionTime", since}});
    }
    if (!conditions.empty())
        status["conditions"] = conditions;
    // Kubernetes omits zero counts; so do we, so that `get -o yaml` looks the same.
    for (const char *k : {"fullyLabeledReplicas", "readyReplicas", "availableReplicas"})
        if (status[k] == 0)
            status.erase(k);
    if (oldStatus == status)
        return {};
    auto r = m_informers.store().modify(m_resource, str(owner, "/metadata/namespace"), str(owner, "/metadata/name"),
                                        [&](json &o) -> Result<bool> {
                                            if (str(o, "/metadata/uid") != str(owner, "/metadata/uid"))
                                                return false;
                                            if (o.value("status", json::object()) == status)
                                                return false;
                                            o["status"] = status;
                                            return true;
                                        });
    if (!r && r.error().reason() != Reason::NotFound)
        return r.takeError();
    return {};
}

Result<void> ReplicaSetController::sync(const std::string &key)
{
    ObjectPtr owner = m_owners.indexer().get(key);
    if (!owner) {
        m_expectations.deleteExpectations(key);
        return {};
    }
    auto selector = selectorOf(*owner);
    if (!selector) {
        m_recorder.record(*owner, "Warning", "InvalidSelector", selector.error().message());
        return {}; // nothing to do until the object is fixed; validation should prevent this
    }
    const bool needsSync = m_expectations.satisfied(key) && str(*owner, "/metadata/deletionTimestamp").empty();
    auto pods = claimPods(*owner, *selector);
    if (!pods)
        return pods.takeError();
    if (needsSync) {
        if (auto managed = manageReplicas(key, *owner, *pods); !managed)
            return managed;
    }
    return updateStatus(*owner, *pods, {});
}

} // namespace podscape::core::controllers
