#include "deploymentutil.h"

#include "core/base/timeformat.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <set>

namespace podscape::core::controllers::deploymentutil {

using nlohmann::json;

namespace {

constexpr int64_t kMaxInt32 = INT32_MAX;

// The annotations the controller owns or that describe one object only: never copied
// between a Deployment and its ReplicaSets.
bool skipCopyAnnotation(std::string_view key)
{
    return key == LastAppliedAnnotation || key == RevisionAnnotation || key == RevisionHistoryAnnotation
        || key == DesiredReplicasAnnotation || key == MaxReplicasAnnotation || key == RollbackToAnnotation;
}

std::optional<int64_t> parseInt(std::string_view s)
{
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty())
        return std::nullopt;
    return v;
}

bool isEmptyValue(const json &v)
{
    return v.is_null() || (v.is_string() && v.get_ref<const std::string &>().empty()) || (v.is_object() && v.empty())
        || (v.is_array() && v.empty());
}

json prune(const json &v)
{
    if (v.is_object()) {
        json out = json::object();
        for (auto it = v.begin(); it != v.end(); ++it) {
            json child = prune(it.value());
            if (!isEmptyValue(child))
                out[it.key()] = std::move(child);
        }
        return out;
    }
    if (v.is_array()) {
        json out = json::array();
        for (const auto &e : v)
            out.push_back(prune(e));
        return out;
    }
    return v;
}

const json *annotationValue(const json &o, std::string_view key)
{
    auto meta = o.find("metadata");
    if (meta == o.end() || !meta->is_object())
        return nullptr;
    auto annotations = meta->find("annotations");
    if (annotations == meta->end() || !annotations->is_object())
        return nullptr;
    auto it = annotations->find(std::string(key));
    return it != annotations->end() ? &*it : nullptr;
}

std::optional<int64_t> intAnnotation(const json &o, std::string_view key)
{
    std::string v = annotation(o, key);
    if (v.empty())
        return std::nullopt;
    return parseInt(v);
}

std::string strategyType(const json &d)
{
    std::string t = str(d, "/spec/strategy/type");
    return t.empty() ? "RollingUpdate" : t;
}

// A rolling-update parameter, "25%" when unset (the apps/v1 default).
json rollingParameter(const json &d, const char *pointer)
{
    auto p = json::json_pointer(pointer);
    if (d.contains(p) && !d[p].is_null())
        return d[p];
    return "25%";
}

std::optional<WallTime> timeOf(const json &o, std::string_view pointer)
{
    auto t = parseRfc3339(str(o, pointer));
    if (!t)
        return std::nullopt;
    return *t;
}

} // namespace

// ---- fields --------------------------------------------------------------------------------

const json *find(const json &o, std::string_view pointer)
{
    auto p = json::json_pointer(std::string(pointer));
    return o.contains(p) ? &o[p] : nullptr;
}

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

std::string annotation(const json &o, std::string_view key)
{
    const json *v = annotationValue(o, key);
    return v && v->is_string() ? v->get<std::string>() : std::string();
}

void setAnnotation(json &o, std::string_view key, std::string_view value)
{
    json &annotations = o["metadata"]["annotations"];
    if (!annotations.is_object())
        annotations = json::object();
    annotations[std::string(key)] = std::string(value);
}

int64_t specReplicas(const json &o) { return num(o, "/spec/replicas", 1); }

std::string keyOf(const json &o) { return str(o, "/metadata/namespace") + "/" + str(o, "/metadata/name"); }

// ---- pod templates ---------------------------------------------------------------------------

json canonicalTemplate(const json &podTemplate)
{
    json t = podTemplate.is_object() ? podTemplate : json::object();
    auto labels = json::json_pointer("/metadata/labels");
    if (t.contains(labels) && t[labels].is_object())
        t[labels].erase(std::string(PodTemplateHashLabel));
    return prune(t);
}

bool equalIgnoreHash(const json &template1, const json &template2)
{
    return canonicalTemplate(template1) == canonicalTemplate(template2);
}

std::string safeEncodeString(std::string_view s)
{
    static constexpr std::string_view alphabet = "bcdfghjklmnpqrstvwxz2456789";
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s)
        out.push_back(alphabet[c % alphabet.size()]);
    return out;
}

std::string computeHash(const json &podTemplate, std::optional<int64_t> collisionCount)
{
    uint32_t hash = 2166136261u;
    auto feed = [&](unsigned char byte) {
        hash ^= byte;
        hash *= 16777619u;
    };
    for (unsigned char c : canonicalTemplate(podTemplate).dump())
        feed(c);
    if (collisionCount) {
        auto c = static_cast<uint32_t>(*collisionCount);
        for (int i = 0; i < 4; ++i)
            feed(static_cast<unsigned char>((c >> (8 * i)) & 0xff));
    }
    return safeEncodeString(std::to_string(hash));
}

// ---- strategy ------------------------------------------------------------------------------

bool isRollingUpdate(const json &deployment) { return strategyType(deployment) == "RollingUpdate"; }

Result<int64_t> scaledValue(const json &intOrPercent, int64_t total, bool roundUp)
{
    if (intOrPercent.is_null())
        return int64_t(0);
    if (intOrPercent.is_number_integer())
        return intOrPercent.get<int64_t>();
    if (intOrPercent.is_string()) {
        const std::string &s = intOrPercent.get_ref<const std::string &>();
        if (s.size() > 1 && s.back() == '%') {
            if (auto percent = parseInt(std::string_view(s).substr(0, s.size() - 1))) {
                double value = static_cast<double>(*percent) * static_cast<double>(total) / 100.0;
                return static_cast<int64_t>(roundUp ? std::ceil(value) : std::floor(value));
            }
        }
        return fail(Reason::Invalid, "invalid value for IntOrString: \"" + s + "\" is not a number or a percentage");
    }
    return fail(Reason::Invalid, "invalid value for IntOrString: " + intOrPercent.dump());
}

Result<Fenceposts> resolveFenceposts(const json &maxSurge, const json &maxUnavailable, int64_t desired)
{
    auto surge = scaledValue(maxSurge, desired, true);
    if (!surge)
        return surge.takeError();
    auto unavailable = scaledValue(maxUnavailable, desired, false);
    if (!unavailable)
        return unavailable.takeError();
    Fenceposts f{*surge, *unavailable};
    // Validation refuses 0 for both, but a percentage may round down to 0.
    if (f.maxSurge == 0 && f.maxUnavailable == 0)
        f.maxUnavailable = 1;
    return f;
}

int64_t maxSurge(const json &deployment)
{
    if (!isRollingUpdate(deployment))
        return 0;
    auto f = resolveFenceposts(rollingParameter(deployment, "/spec/strategy/rollingUpdate/maxSurge"),
                               rollingParameter(deployment, "/spec/strategy/rollingUpdate/maxUnavailable"),
                               specReplicas(deployment));
    return f ? f->maxSurge : 0;
}

int64_t maxUnavailable(const json &deployment)
{
    const int64_t replicas = specReplicas(deployment);
    if (!isRollingUpdate(deployment) || replicas == 0)
        return 0;
    auto f = resolveFenceposts(rollingParameter(deployment, "/spec/strategy/rollingUpdate/maxSurge"),
                               rollingParameter(deployment, "/spec/strategy/rollingUpdate/maxUnavailable"), replicas);
    return f ? std::min(f->maxUnavailable, replicas) : 0;
}

// ---- replica sets ----------------------------------------------------------------------------

namespace {
template<typename F>
int64_t sum(const ReplicaSets &rss, F field)
{
    int64_t n = 0;
    for (const auto &rs : rss)
        if (rs)
            n += field(*rs);
    return n;
}
} // namespace

int64_t replicaCount(const ReplicaSets &rss) { return sum(rss, [](const json &rs) { return specReplicas(rs); }); }
int64_t actualReplicaCount(const ReplicaSets &rss) { return sum(rss, [](const json &rs) { return num(rs, "/status/replicas"); }); }
int64_t readyReplicaCount(const ReplicaSets &rss) { return sum(rss, [](const json &rs) { return num(rs, "/status/readyReplicas"); }); }
int64_t availableReplicaCount(const ReplicaSets &rss)
{
    return sum(rss, [](const json &rs) { return num(rs, "/status/availableReplicas"); });
}

ReplicaSets filterActive(const ReplicaSets &rss)
{
    ReplicaSets out;
    for (const auto &rs : rss)
        if (rs && specReplicas(*rs) > 0)
            out.push_back(rs);
    return out;
}

bool createdBefore(const json &a, const json &b)
{
    auto ta = timeOf(a, "/metadata/creationTimestamp"), tb = timeOf(b, "/metadata/creationTimestamp");
    if (ta && tb && *ta != *tb)
        return *ta < *tb;
    if (!ta || !tb) {
        std::string sa = str(a, "/metadata/creationTimestamp"), sb = str(b, "/metadata/creationTimestamp");
        if (sa != sb)
            return sa < sb;
    }
    return str(a, "/metadata/name") < str(b, "/metadata/name");
}

// stable_sort throughout: the orders below are total for well-formed objects, and a merge
// sort stays safe even when malformed annotations make one inconsistent.
void sortByCreation(ReplicaSets &rss)
{
    std::stable_sort(rss.begin(), rss.end(), [](const ObjectPtr &a, const ObjectPtr &b) { return createdBefore(*a, *b); });
}

void sortBySizeOlder(ReplicaSets &rss)
{
    std::stable_sort(rss.begin(), rss.end(), [](const ObjectPtr &a, const ObjectPtr &b) {
        int64_t sa = specReplicas(*a), sb = specReplicas(*b);
        return sa != sb ? sa > sb : createdBefore(*a, *b);
    });
}

void sortBySizeNewer(ReplicaSets &rss)
{
    std::stable_sort(rss.begin(), rss.end(), [](const ObjectPtr &a, const ObjectPtr &b) {
        int64_t sa = specReplicas(*a), sb = specReplicas(*b);
        return sa != sb ? sa > sb : createdBefore(*b, *a);
    });
}

void sortByRevision(ReplicaSets &rss)
{
    std::stable_sort(rss.begin(), rss.end(), [](const ObjectPtr &a, const ObjectPtr &b) {
        auto ra = revision(*a), rb = revision(*b);
        if (!ra || !rb || *ra == *rb)
            return createdBefore(*a, *b);
        return *ra < *rb;
    });
}

ObjectPtr findNewReplicaSet(const json &deployment, const ReplicaSets &rsList)
{
    ReplicaSets sorted;
    for (const auto &rs : rsList)
        if (rs)
            sorted.push_back(rs);
    sortByCreation(sorted);
    const json *deploymentTemplate = find(deployment, "/spec/template");
    const json wanted = canonicalTemplate(deploymentTemplate ? *deploymentTemplate : json::object());
    // Several may match (Kubernetes #40415): the oldest wins, deterministically.
    for (const auto &rs : sorted)
        if (const json *t = find(*rs, "/spec/template"); canonicalTemplate(t ? *t : json::object()) == wanted)
            return rs;
    return nullptr;
}

ReplicaSets findOldReplicaSets(const json &deployment, const ReplicaSets &rsList)
{
    ObjectPtr newRS = findNewReplicaSet(deployment, rsList);
    ReplicaSets old;
    for (const auto &rs : rsList)
        if (rs && rs != newRS)
            old.push_back(rs);
    return old;
}

ObjectPtr findActiveOrLatest(const ObjectPtr &newRS, ReplicaSets oldRSs)
{
    std::erase(oldRSs, nullptr);
    if (!newRS && oldRSs.empty())
        return nullptr;
    std::stable_sort(oldRSs.begin(), oldRSs.end(), [](const ObjectPtr &a, const ObjectPtr &b) { return createdBefore(*b, *a); });
    ReplicaSets all = oldRSs;
    all.push_back(newRS);
    ReplicaSets active = filterActive(all);
    if (active.size() == 1)
        return active.front();
    if (active.empty())
        return newRS ? newRS : oldRSs.front();
    return nullptr;
}

// ---- annotations -----------------------------------------------------------------------------

std::optional<int64_t> revision(const json &o)
{
    std::string v = annotation(o, RevisionAnnotation);
    if (v.empty())
        return int64_t(0);
    return parseInt(v);
}

int64_t maxRevision(const ReplicaSets &rss)
{
    int64_t max = 0;
    for (const auto &rs : rss)
        if (rs)
            if (auto v = revision(*rs); v && *v > max)
                max = *v;
    return max;
}

int64_t lastRevision(const ReplicaSets &rss)
{
    int64_t max = 0, second = 0;
    for (const auto &rs : rss) {
        if (!rs)
            continue;
        auto v = revision(*rs);
        if (!v)
            continue;
        if (*v >= max) {
            second = max;
            max = *v;
        } else if (*v > second) {
            second = *v;
        }
    }
    return second;
}

bool setReplicasAnnotations(json &rs, int64_t desired, int64_t maxReplicas)
{
    bool updated = false;
    for (auto [key, value] : {std::pair{DesiredReplicasAnnotation, desired}, std::pair{MaxReplicasAnnotation, maxReplicas}}) {
        std::string text = std::to_string(value);
        if (annotation(rs, key) != text) {
            setAnnotation(rs, key, text);
            updated = true;
        }
    }
    return updated;
}

bool replicasAnnotationsNeedUpdate(const json &rs, int64_t desired, int64_t maxReplicas)
{
    return annotation(rs, DesiredReplicasAnnotation) != std::to_string(desired)
        || annotation(rs, MaxReplicasAnnotation) != std::to_string(maxReplicas);
}

bool setNewReplicaSetAnnotations(const json &deployment, json &rs, int64_t newRevision, bool exists)
{
    bool changed = false;
    // The deployment's annotations (kubernetes.io/change-cause above all) travel to its new
    // ReplicaSet, which is what `kubectl rollout history` lists.
    static const json none = json::object();
    const json *found = find(deployment, "/metadata/annotations");
    const json &deploymentAnnotations = found && found->is_object() ? *found : none;
    for (auto it = deploymentAnnotations.begin(); it != deploymentAnnotations.end(); ++it) {
        if (skipCopyAnnotation(it.key()) || !it.value().is_string())
            continue;
        const json *current = annotationValue(rs, it.key());
        if (current && *current == it.value())
            continue;
        setAnnotation(rs, it.key(), it.value().get_ref<const std::string &>());
        changed = true;
    }
    const bool hadRevision = annotationValue(rs, RevisionAnnotation) != nullptr;
    const std::string oldRevision = annotation(rs, RevisionAnnotation);
    int64_t oldRevisionNumber = 0;
    if (!oldRevision.empty()) {
        auto parsed = parseInt(oldRevision);
        if (!parsed)
            return false; // someone wrote garbage: leave the revision alone, as Kubernetes does
        oldRevisionNumber = *parsed;
    }
    // Only ever raise it: old ReplicaSets deleted since newRevision was computed may make
    // newRevision smaller than the one this ReplicaSet already has.
    if (oldRevisionNumber < newRevision) {
        setAnnotation(rs, RevisionAnnotation, std::to_string(newRevision));
        changed = true;
        // It had a revision and gets a newer one: a rollback to it. Keep the old numbers.
        if (hadRevision) {
            std::string history = annotation(rs, RevisionHistoryAnnotation);
            if (history.empty()) {
                setAnnotation(rs, RevisionHistoryAnnotation, oldRevision);
            } else {
                std::vector<std::string> revisions;
                for (size_t start = 0;;) {
                    size_t comma = history.find(',', start);
                    revisions.push_back(history.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
                    if (comma == std::string::npos)
                        break;
                    start = comma + 1;
                }
                size_t total = history.size() + oldRevision.size() + 1;
                size_t first = 0;
                while (total > MaxRevisionHistoryChars && first < revisions.size())
                    total -= revisions[first++].size() + 1;
                if (total <= MaxRevisionHistoryChars) {
                    std::string joined;
                    for (size_t i = first; i < revisions.size(); ++i)
                        joined += revisions[i] + ",";
                    setAnnotation(rs, RevisionHistoryAnnotation, joined + oldRevision);
                }
            }
        }
    }
    if (!exists) {
        const int64_t desired = specReplicas(deployment);
        if (setReplicasAnnotations(rs, desired, desired + maxSurge(deployment)))
            changed = true;
    }
    return changed;
}

bool setDeploymentRevision(json &deployment, const std::string &revisionText)
{
    if (annotation(deployment, RevisionAnnotation) == revisionText)
        return false;
    setAnnotation(deployment, RevisionAnnotation, revisionText);
    return true;
}

void setDeploymentAnnotationsTo(json &deployment, const json &rs)
{
    json kept = json::object();
    if (const json *current = find(deployment, "/metadata/annotations"); current && current->is_object())
        for (auto it = current->begin(); it != current->end(); ++it)
            if (skipCopyAnnotation(it.key()))
                kept[it.key()] = it.value();
    if (const json *from = find(rs, "/metadata/annotations"); from && from->is_object())
        for (auto it = from->begin(); it != from->end(); ++it)
            if (!skipCopyAnnotation(it.key()))
                kept[it.key()] = it.value();
    deployment["metadata"]["annotations"] = kept;
}

// ---- scaling ---------------------------------------------------------------------------------

int64_t newRSNewReplicas(const json &deployment, const ReplicaSets &allRSs, const json &newRS)
{
    const int64_t desired = specReplicas(deployment);
    const int64_t current = specReplicas(newRS);
    if (!isRollingUpdate(deployment))
        return strategyType(deployment) == "Recreate" ? desired : 0;
    const int64_t maxTotal = desired + maxSurge(deployment);
    const int64_t all = replicaCount(allRSs);
    if (all >= maxTotal)
        return current;
    return current + std::min(maxTotal - all, desired - current);
}

bool isSaturated(const json &deployment, const ObjectPtr &rs)
{
    if (!rs)
        return false;
    auto desired = intAnnotation(*rs, DesiredReplicasAnnotation);
    if (!desired)
        return false;
    const int64_t replicas = specReplicas(deployment);
    return specReplicas(*rs) == replicas && *desired == replicas && num(*rs, "/status/availableReplicas") == replicas;
}

namespace {
// The share of the deployment's new size this ReplicaSet should have, minus its size now.
int64_t replicaSetFraction(const json &rs, const json &deployment)
{
    const int64_t replicas = specReplicas(deployment);
    if (replicas == 0)
        return -specReplicas(rs);
    const int64_t deploymentMax = replicas + maxSurge(deployment);
    int64_t before = intAnnotation(rs, MaxReplicasAnnotation).value_or(0);
    if (before == 0) {
        // Annotation edited away, or the ReplicaSet was at 0: the best guess is the size now.
        before = num(deployment, "/status/replicas");
        if (before == 0)
            return 0;
    }
    const double size = static_cast<double>(specReplicas(rs) * deploymentMax) / static_cast<double>(before);
    return static_cast<int64_t>(std::llround(size)) - specReplicas(rs);
}
} // namespace

int64_t proportion(const json &rs, const json &deployment, int64_t toAdd, int64_t added)
{
    if (specReplicas(rs) == 0 || toAdd == 0 || toAdd == added)
        return 0;
    const int64_t fraction = replicaSetFraction(rs, deployment);
    const int64_t allowed = toAdd - added;
    // Never past what is left to distribute, in either direction.
    return toAdd > 0 ? std::min(fraction, allowed) : std::max(fraction, allowed);
}

// ---- status and conditions ----------------------------------------------------------------------

const json *getCondition(const json &status, std::string_view type)
{
    auto conditions = status.find("conditions");
    if (conditions == status.end() || !conditions->is_array())
        return nullptr;
    for (const auto &c : *conditions)
        if (c.is_object() && str(c, "/type") == type)
            return &c;
    return nullptr;
}

json newCondition(std::string_view type, std::string_view status, std::string_view reason, const std::string &message,
                  Clock::TimePoint now)
{
    const std::string t = formatRfc3339(now);
    return {{"type", type},        {"status", status},   {"lastUpdateTime", t},
            {"lastTransitionTime", t}, {"reason", reason}, {"message", message}};
}

void removeCondition(json &status, std::string_view type)
{
    auto conditions = status.find("conditions");
    if (conditions == status.end())
        return;
    json kept = json::array();
    if (conditions->is_array())
        for (const auto &c : *conditions)
            if (!c.is_object() || str(c, "/type") != type)
                kept.push_back(c);
    if (kept.empty())
        status.erase("conditions");
    else
        *conditions = std::move(kept);
}

void setCondition(json &status, json condition)
{
    const std::string type = str(condition, "/type");
    if (const json *current = getCondition(status, type)) {
        if (str(*current, "/status") == str(condition, "/status")) {
            if (str(*current, "/reason") == str(condition, "/reason"))
                return;
            if (const json *since = find(*current, "/lastTransitionTime"))
                condition["lastTransitionTime"] = *since;
        }
    }
    removeCondition(status, type);
    status["conditions"].push_back(std::move(condition));
}

bool hasProgressDeadline(const json &deployment)
{
    return num(deployment, "/spec/progressDeadlineSeconds", 600) != kMaxInt32;
}

bool hasRevisionHistoryLimit(const json &deployment)
{
    return num(deployment, "/spec/revisionHistoryLimit", 10) != kMaxInt32;
}

bool deploymentComplete(const json &deployment, const json &newStatus)
{
    const int64_t replicas = specReplicas(deployment);
    return num(newStatus, "/updatedReplicas") == replicas && num(newStatus, "/replicas") == replicas
        && num(newStatus, "/availableReplicas") == replicas
        && num(newStatus, "/observedGeneration") >= num(deployment, "/metadata/generation");
}

bool deploymentProgressing(const json &deployment, const json &newStatus)
{
    const json *found = find(deployment, "/status");
    const json oldStatus = found && found->is_object() ? *found : json::object();
    const int64_t oldOld = num(oldStatus, "/replicas") - num(oldStatus, "/updatedReplicas");
    const int64_t newOld = num(newStatus, "/replicas") - num(newStatus, "/updatedReplicas");
    return num(newStatus, "/updatedReplicas") > num(oldStatus, "/updatedReplicas") || newOld < oldOld
        || num(newStatus, "/readyReplicas") > num(oldStatus, "/readyReplicas")
        || num(newStatus, "/availableReplicas") > num(oldStatus, "/availableReplicas");
}

bool deploymentTimedOut(const json &deployment, const json &newStatus, Clock::TimePoint now)
{
    if (!hasProgressDeadline(deployment))
        return false;
    const json *condition = getCondition(newStatus, "Progressing");
    if (!condition)
        return false; // nothing to measure progress from
    const std::string reason = str(*condition, "/reason");
    // A finished rollout is not measured again: a resync that races the status update of a
    // new rollout would otherwise time out at once.
    if (reason == NewReplicaSetAvailableReason)
        return false;
    if (reason == TimedOutReason)
        return true;
    auto from = parseRfc3339(str(*condition, "/lastUpdateTime"));
    if (!from)
        return false;
    return *from + std::chrono::seconds(num(deployment, "/spec/progressDeadlineSeconds", 600)) < now;
}

} // namespace podscape::core::controllers::deploymentutil
