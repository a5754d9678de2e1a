#include "nodelifecyclecontroller.h"

#include "core/base/logger.h"
#include "core/base/timeformat.h"
#include "core/controllers/nodelifecycle/tolerations.h"
#include "core/model/jsonmember.h"

#include <algorithm>

namespace podscape::core::controllers {

using nlohmann::json;

namespace {

constexpr const char *kExcludeDisruption = "node.kubernetes.io/exclude-disruption";

using model::member;

std::string text(const json &o, const char *name)
{
    const json &v = member(o, name);
    return v.is_string() ? v.get<std::string>() : std::string();
}

std::string meta(const json &o, const char *key) { return text(member(o, "metadata"), key); }

// The condition of this type in status.conditions, or null.
json conditionOf(const json &object, const std::string &type)
{
    const json &conditions = member(member(object, "status"), "conditions");
    if (conditions.is_array())
        for (const auto &c : conditions)
            if (text(c, "type") == type)
                return c;
    return json();
}

// Conditions that map to NoSchedule taints, by status (nodeConditionToTaintKeyStatusMap).
struct ConditionTaint {
    const char *condition;
    const char *status;
    const char *taint;
};
constexpr ConditionTaint kConditionTaints[] = {
    {"Ready", "False", TaintNodeNotReady},
    {"Ready", "Unknown", TaintNodeUnreachable},
    {"MemoryPressure", "True", TaintNodeMemoryPressure},
    {"DiskPressure", "True", TaintNodeDiskPressure},
    {"NetworkUnavailable", "True", TaintNodeNetworkUnavailable},
    {"PIDPressure", "True", TaintNodePIDPressure},
};

bool isConditionTaintKey(const std::string &key)
{
    if (key == TaintNodeUnschedulable)
        return true;
    for (const auto &c : kConditionTaints)
        if (key == c.taint)
            return true;
    return false;
}

json taint(const char *key, const char *effect) { return {{"key", key}, {"effect", effect}}; }

bool hasTaint(const json &node, const char *key, const char *effect)
{
    for (const auto &t : taintsWithEffect(node, effect))
        if (text(t, "key") == key)
            return true;
    return false;
}

} // namespace

std::string nodeZone(const json &node)
{
    const json &labels = member(member(node, "metadata"), "labels");
    std::string region = text(labels, "topology.kubernetes.io/region");
    std::string zone = text(labels, "topology.kubernetes.io/zone");
    if (region.empty() && zone.empty())
        return {};
    return region + ":" + zone;
}

NodeLifecycleController::Options NodeLifecycleController::teachingPreset()
{
    Options o;
    o.monitorPeriod = std::chrono::seconds(1);
    o.gracePeriod = std::chrono::seconds(10);
    o.startupGracePeriod = std::chrono::seconds(20);
    o.evictionRate = 1.0;
    return o;
}

NodeLifecycleController::NodeLifecycleController(SharedInformers &informers, Options options)
    : Controller("node-lifecycle-controller", informers.clock())
    , m_options(options)
    , m_store(informers.store())
    , m_nodes(informers.forResource("nodes"))
    , m_pods(informers.forResource("pods"))
    , m_recorder(informers.store(), informers.clock(), "node-controller")
{
    waitForCaches({&m_nodes, &m_pods});
    m_nodes.addEventHandlers({
        [this](const ObjectPtr &n) {
            queue().add(meta(*n, "name"));
            queue().add(MonitorKey);
        },
        [this](const ObjectPtr &, const ObjectPtr &n) {
            // A heartbeat is looked at at once, so that a returning node is untainted promptly.
            queue().add(meta(*n, "name"));
            queue().add(MonitorKey);
        },
        [this](const ObjectPtr &) { queue().add(MonitorKey); },
    });
    queue().add(MonitorKey);
}

Result<void> NodeLifecycleController::sync(const std::string &key)
{
    if (key == MonitorKey)
        return monitor();
    return noScheduleTaintPass(key);
}

// ---- health --------------------------------------------------------------------------------

Result<NodeLifecycleController::Observation> NodeLifecycleController::updateHealth(const ObjectPtr &node)
{
    const std::string name = meta(*node, "name");
    const auto now = clock().now();
    const json ready = conditionOf(*node, "Ready");
    const Clock::Duration grace = ready.is_null() ? m_options.startupGracePeriod : m_options.gracePeriod;
    Observation obs{node, ready.is_null() ? "Unknown" : text(ready, "status"), ready.is_null() ? "" : text(ready, "status")};
    auto created = parseRfc3339(meta(*node, "creationTimestamp"));
    const Clock::TimePoint creation = created ? *created : now;

    Health health;
    {
        std::lock_guard g(m_mutex);
        auto it = m_health.find(name);
        if (it == m_health.end()) {
            // First sight: a node that has reported gets a full grace period from now.
            health = {ready, ready.is_null() ? creation : now, ready.is_null() ? creation : now};
        } else {
            health = it->second;
            const json &saved = health.ready;
            if (saved.is_null() != ready.is_null()) {
                health.probe = health.readyTransition = now;
            } else if (!saved.is_null() && text(saved, "lastHeartbeatTime") != text(ready, "lastHeartbeatTime")) {
                if (text(saved, "lastTransitionTime") != text(ready, "lastTransitionTime"))
                    health.readyTransition = now;
                health.probe = now;
            }
            health.ready = ready;
        }
        m_health[name] = health;
    }
    if (now <= health.probe + grace)
        return obs;

    // Overdue: Ready and the pressure conditions become Unknown (NetworkUnavailable is the
    // network plugin's, not the kubelet's).
    const std::string nowText = formatRfc3339(now);
    const std::string heartbeat = ready.is_null() ? std::string() : text(ready, "lastHeartbeatTime");
    bool heartbeatArrived = false;
    auto markUnknown = [&](json &n) -> bool {
        const json liveReady = conditionOf(n, "Ready");
        if (liveReady.is_null() != ready.is_null() || (!liveReady.is_null() && text(liveReady, "lastHeartbeatTime") != heartbeat)) {
            heartbeatArrived = true; // the kubelet wrote meanwhile: it is alive after all
            return false;
        }
        json &status = n["status"];
        if (!status.is_object())
            status = json::object();
        json &conditions = status["conditions"];
        if (!conditions.is_array())
            conditions = json::array();
        bool changed = false;
        for (const char *type : {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"}) {
            auto it = std::find_if(conditions.begin(), conditions.end(), [&](const json &c) { return text(c, "type") == type; });
            if (it == conditions.end()) {
                conditions.push_back({{"type", type},
                                      {"status", "Unknown"},
                                      {"reason", "NodeStatusNeverUpdated"},
                                      {"message", "Kubelet never posted node status."},
                                      {"lastHeartbeatTime", meta(n, "creationTimestamp")},
                                      {"lastTransitionTime", nowText}});
                changed = true;
            } else if (text(*it, "status") != "Unknown") {
                (*it)["status"] = "Unknown";
                (*it)["reason"] = "NodeStatusUnknown";
                (*it)["message"] = "Kubelet stopped posting node status.";
                (*it)["lastTransitionTime"] = nowText;
                changed = true;
            }
        }
        return changed;
    };
    json copy = *node;
    if (!markUnknown(copy))
        return obs; // Unknown already
    const std::string uid = meta(*node, "uid");
    std::string liveBefore = obs.observed;
    auto updated = m_store.modify("nodes", "", name, [&](json &n) -> Result<bool> {
        if (meta(n, "uid") != uid)
            return false;
        const json liveReady = conditionOf(n, "Ready");
        liveBefore = liveReady.is_null() ? "" : text(liveReady, "status");
        return markUnknown(n);
    });
    if (!updated) {
        if (updated.error().reason() == Reason::NotFound)
            return obs;
        return updated.takeError();
    }
    if (heartbeatArrived)
        return obs;
    obs.node = *updated;
    // Before, as stored: the cache may not show our own earlier write yet, and a node
    // already Unknown has not just transitioned.
    obs.observed = liveBefore;
    obs.current = text(conditionOf(**updated, "Ready"), "status");
    std::lock_guard g(m_mutex);
    auto &h = m_health[name];
    h.ready = conditionOf(**updated, "Ready");
    h.readyTransition = now;
    return obs;
}

Result<void> NodeLifecycleController::markPodsNotReady(const std::string &nodeName)
{
    const std::string nowText = formatRfc3339(clock().now());
    Result<void> result;
    for (const auto &pod : m_pods.indexer().byIndex("node", nodeName)) {
        if (text(member(*pod, "spec"), "nodeName") != nodeName)
            continue;
        const json ready = conditionOf(*pod, "Ready");
        if (ready.is_null() || text(ready, "status") == "False")
            continue;
        const std::string uid = meta(*pod, "uid");
        auto updated = m_store.modify("pods", meta(*pod, "namespace"), meta(*pod, "name"), [&](json &p) -> Result<bool> {
            if (meta(p, "uid") != uid)
                return false;
            json &conditions = p["status"]["conditions"];
            if (!conditions.is_array())
                return false;
            for (auto &c : conditions)
                if (text(c, "type") == "Ready") {
                    if (text(c, "status") == "False")
                        return false;
                    c["status"] = "False";
                    c["lastTransitionTime"] = nowText;
                    return true;
                }
            return false;
        });
        if (!updated) {
            if (updated.error().reason() != Reason::NotFound)
                result = updated.takeError();
            continue;
        }
        m_recorder.record(**updated, "Warning", "NodeNotReady", "Node is not ready");
    }
    return result;
}

// ---- taints --------------------------------------------------------------------------------

Result<void> NodeLifecycleController::swapTaints(const std::string &nodeName, const std::vector<json> &add,
                                                 const std::vector<json> &remove, bool *changed)
{
    const std::string nowText = formatRfc3339(clock().now());
    bool wrote = false;
    auto updated = m_store.modify("nodes", "", nodeName, [&](json &n) -> Result<bool> {
        wrote = false; // the last attempt decides (modify retries on conflicts)
        json &spec = n["spec"];
        if (!spec.is_object())
            spec = json::object();
        json taints = spec.value("taints", json::array());
        if (!taints.is_array())
            taints = json::array();
        const json before = taints;
        auto same = [](const json &a, const json &b) { return text(a, "key") == text(b, "key") && text(a, "effect") == text(b, "effect"); };
        for (const auto &r : remove)
            taints.erase(std::remove_if(taints.begin(), taints.end(), [&](const json &t) { return same(t, r); }), taints.end());
        for (const auto &a : add)
            if (std::none_of(taints.begin(), taints.end(), [&](const json &t) { return same(t, a); })) {
                json stamped = a;
                stamped["timeAdded"] = nowText;
                taints.push_back(std::move(stamped));
            }
        if (taints == before)
            return false;
        if (taints.empty())
            spec.erase("taints");
        else
            spec["taints"] = std::move(taints);
        wrote = true;
        return true;
    });
    if (changed)
        *changed = updated.ok() && wrote;
    if (!updated && updated.error().reason() != Reason::NotFound)
        return updated.takeError();
    return {};
}

Result<void> NodeLifecycleController::noScheduleTaintPass(const std::string &nodeName)
{
    ObjectPtr node = m_nodes.indexer().get(nodeName);
    if (!node)
        return {};
    std::vector<json> wanted;
    for (const auto &ct : kConditionTaints)
        if (text(conditionOf(*node, ct.condition), "status") == ct.status)
            wanted.push_back(taint(ct.taint, "NoSchedule"));
    const json &unschedulable = member(member(*node, "spec"), "unschedulable");
    if (unschedulable.is_boolean() && unschedulable.get<bool>())
        wanted.push_back(taint(TaintNodeUnschedulable, "NoSchedule"));
    std::vector<json> add, remove;
    const auto existing = taintsWithEffect(*node, "NoSchedule");
    for (const auto &w : wanted)
        if (std::none_of(existing.begin(), existing.end(), [&](const json &t) { return text(t, "key") == text(w, "key"); }))
            add.push_back(w);
    for (const auto &t : existing)
        if (isConditionTaintKey(text(t, "key"))
            && std::none_of(wanted.begin(), wanted.end(), [&](const json &w) { return text(t, "key") == text(w, "key"); }))
            remove.push_back(taint(text(t, "key").c_str(), "NoSchedule"));
    if (add.empty() && remove.empty())
        return {};
    return swapTaints(nodeName, add, remove);
}

bool NodeLifecycleController::tryTaint(const std::string &zone, Clock::TimePoint now, Clock::Duration &wait)
{
    auto [it, fresh] = m_limiters.try_emplace(zone);
    Limiter &l = it->second;
    if (fresh) {
        l.rate = m_options.evictionRate;
        l.last = now;
    }
    if (l.rate > 0) {
        const double elapsed = std::chrono::duration<double>(now - l.last).count();
        l.tokens = std::min(1.0, l.tokens + std::max(0.0, elapsed) * l.rate);
    }
    l.last = now;
    if (l.tokens >= 1.0) {
        l.tokens -= 1.0;
        return true;
    }
    wait = l.rate > 0 ? std::chrono::duration_cast<Clock::Duration>(std::chrono::duration<double>((1.0 - l.tokens) / l.rate))
                      : m_options.monitorPeriod;
    return false;
}

void NodeLifecycleController::refundTaint(const std::string &zone)
{
    if (auto it = m_limiters.find(zone); it != m_limiters.end())
        it->second.tokens = std::min(1.0, it->second.tokens + 1.0);
}

void NodeLifecycleController::setZoneRate(const std::string &zone, size_t zoneSize, ZoneState state)
{
    double rate = m_options.evictionRate; // Normal, and a fully disrupted zone among healthy ones
    if (state == ZoneState::PartialDisruption)
        rate = zoneSize > m_options.largeClusterThreshold ? m_options.secondaryEvictionRate : 0.0;
    auto [it, fresh] = m_limiters.try_emplace(zone);
    if (fresh)
        it->second.last = clock().now();
    it->second.rate = rate;
}

Result<void> NodeLifecycleController::monitor()
{
    const auto now = clock().now();
    const auto nodes = m_nodes.indexer().list();
    Result<void> result;
    auto keep = [&](Result<void> r) {
        if (!r && result)
            result = std::move(r);
    };

    // Nodes seen for the first time and nodes gone.
    {
        std::map<std::string, std::string> present;
        for (const auto &n : nodes)
            present[meta(*n, "name")] = meta(*n, "uid");
        std::vector<std::pair<std::string, std::string>> added, removed;
        {
            std::lock_guard g(m_mutex);
            for (const auto &[name, uid] : present)
                if (!m_known.count(name))
                    added.emplace_back(name, uid);
            for (auto it = m_known.begin(); it != m_known.end();) {
                if (!present.count(it->first)) {
                    removed.emplace_back(it->first, it->second);
                    m_health.erase(it->first);
                    m_toTaint.erase(it->first);
                    m_retryNotReady.erase(it->first);
                    it = m_known.erase(it);
                } else {
                    ++it;
                }
            }
            for (const auto &[name, uid] : added)
                m_known[name] = uid;
        }
        for (const auto &[name, uid] : added) {
            json ref = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}, {"uid", uid}}}};
            m_recorder.record(ref, "Normal", "RegisteredNode", "Registered Node " + name + " in Controller");
            // As Kubernetes on first sight: NoExecute taints wait for this controller's own verdict.
            keep(swapTaints(name, {}, {taint(TaintNodeUnreachable, "NoExecute"), taint(TaintNodeNotReady, "NoExecute")}));
        }
        for (const auto &[name, uid] : removed) {
            json ref = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}, {"uid", uid}}}};
            m_recorder.record(ref, "Normal", "RemovingNode", "Removing Node " + name + " from Controller");
        }
    }

    // Health of every node, and what each zone looks like.
    std::vector<Observation> observations;
    std::map<std::string, std::vector<std::string>> zones; // zone -> Ready statuses
    for (const auto &node : nodes) {
        auto obs = updateHealth(node);
        if (!obs) {
            keep(Result<void>(obs.takeError()));
            continue;
        }
        const json &labels = member(member(*node, "metadata"), "labels");
        if (!labels.is_object() || !labels.contains(kExcludeDisruption))
            zones[nodeZone(*node)].push_back(obs->current);
        observations.push_back(std::move(*obs));
    }

    // Pods of nodes that just stopped being ready are not ready either.
    for (const auto &obs : observations) {
        if (obs.current.empty())
            continue;
        const std::string name = meta(*obs.node, "name");
        bool retry;
        {
            std::lock_guard g(m_mutex);
            retry = m_retryNotReady.count(name) > 0;
        }
        const bool transitioned = obs.current != "True" && obs.observed == "True";
        if (transitioned)
            m_recorder.record(*obs.node, "Normal", "NodeNotReady", "Node " + name + " status is now: NodeNotReady");
        bool failed = false;
        if (transitioned || (retry && obs.observed != "True")) {
            if (auto r = markPodsNotReady(name); !r) {
                failed = true;
                keep(std::move(r));
            }
        }
        std::lock_guard g(m_mutex);
        if (failed)
            m_retryNotReady.insert(name);
        else
            m_retryNotReady.erase(name);
    }

    // Disruption: per-zone states set the tainting rates; every zone down pauses it all.
    bool paused = false;
    {
        std::lock_guard g(m_mutex);
        std::map<std::string, ZoneState> fresh;
        bool allAreDown = !zones.empty();
        for (const auto &[zone, statuses] : zones) {
            const size_t ready = std::count(statuses.begin(), statuses.end(), "True");
            const size_t notReady = statuses.size() - ready;
            ZoneState state = ZoneState::Normal;
            if (ready == 0 && notReady > 0)
                state = ZoneState::FullDisruption;
            else if (notReady > 2 && double(notReady) / double(statuses.size()) >= m_options.unhealthyZoneThreshold)
                state = ZoneState::PartialDisruption;
            allAreDown = allAreDown && state == ZoneState::FullDisruption;
            fresh[zone] = state;
            m_zoneStates.try_emplace(zone, ZoneState::Initial);
        }
        bool allWereDown = true;
        for (auto it = m_zoneStates.begin(); it != m_zoneStates.end();) {
            if (!zones.count(it->first)) {
                m_limiters.erase(it->first);
                it = m_zoneStates.erase(it);
                continue;
            }
            allWereDown = allWereDown && it->second == ZoneState::FullDisruption;
            ++it;
        }
        if (allAreDown && !allWereDown) {
            PS_LOG(Info, name()) << "all nodes are not ready: entering master disruption mode, no evictions";
            for (auto &[zone, state] : m_zoneStates)
                state = ZoneState::FullDisruption;
        } else if (!allAreDown && allWereDown) {
            PS_LOG(Info, name()) << "some nodes are ready: leaving master disruption mode";
            // Every node gets a fresh grace period: their silence may have been ours.
            for (auto &[n, h] : m_health)
                h.probe = h.readyTransition = now;
            for (auto &[zone, state] : m_zoneStates) {
                state = fresh[zone];
                setZoneRate(zone, zones[zone].size(), state);
            }
        } else if (!allAreDown) {
            for (auto &[zone, state] : m_zoneStates)
                if (state != fresh[zone]) {
                    state = fresh[zone];
                    setZoneRate(zone, zones[zone].size(), state);
                }
        }
        paused = allAreDown;
    }

    // NoExecute taints follow Ready: removed at once when ready (or when paused), swapped at
    // once between unreachable and not-ready, added through the zone's rate limiter.
    std::map<std::string, const Observation *> byName;
    for (const auto &obs : observations)
        byName[meta(*obs.node, "name")] = &obs;
    const json unreachable = taint(TaintNodeUnreachable, "NoExecute"), notReady = taint(TaintNodeNotReady, "NoExecute");
    for (const auto &obs : observations) {
        if (obs.current.empty())
            continue;
        const std::string name = meta(*obs.node, "name");
        const bool hasUnreachable = hasTaint(*obs.node, TaintNodeUnreachable, "NoExecute");
        const bool hasNotReady = hasTaint(*obs.node, TaintNodeNotReady, "NoExecute");
        bool queueIt = false;
        if (obs.current == "True" || paused) {
            if (hasUnreachable || hasNotReady)
                keep(swapTaints(name, {}, {unreachable, notReady}));
            // Paused, a node that is down stays queued for when tainting resumes.
            queueIt = obs.current != "True";
        } else if (obs.current == "False") {
            if (hasUnreachable)
                keep(swapTaints(name, {notReady}, {unreachable}));
            else
                queueIt = !hasNotReady;
        } else { // Unknown
            if (hasNotReady)
                keep(swapTaints(name, {unreachable}, {notReady}));
            else
                queueIt = !hasUnreachable;
        }
        std::lock_guard g(m_mutex);
        if (queueIt)
            m_toTaint.insert(name);
        else
            m_toTaint.erase(name);
    }
    Clock::Duration next = m_options.monitorPeriod;
    if (!paused) {
        std::vector<std::string> pending;
        {
            std::lock_guard g(m_mutex);
            pending.assign(m_toTaint.begin(), m_toTaint.end());
        }
        for (const auto &name : pending) {
            auto found = byName.find(name);
            if (found == byName.end() || found->second->current == "True" || found->second->current.empty()) {
                std::lock_guard g(m_mutex);
                m_toTaint.erase(name);
                continue;
            }
            Clock::Duration wait{};
            bool allowed;
            {
                std::lock_guard g(m_mutex);
                allowed = tryTaint(nodeZone(*found->second->node), now, wait);
            }
            if (!allowed) {
                next = std::min(next, std::max<Clock::Duration>(wait, std::chrono::milliseconds(10)));
                continue;
            }
            const bool isFalse = found->second->current == "False";
            bool changed = false;
            auto swapped = swapTaints(name, {isFalse ? notReady : unreachable}, {isFalse ? unreachable : notReady}, &changed);
            if (!changed) {
                // Tainted already (the cache lagged behind our own write) or the write failed:
                // the token goes back, or it would delay the next node by a whole period.
                std::lock_guard g(m_mutex);
                refundTaint(nodeZone(*found->second->node));
            }
            if (swapped) {
                std::lock_guard g(m_mutex);
                m_toTaint.erase(name);
            }
            keep(std::move(swapped));
        }
    }
    queue().addAfter(MonitorKey, next);
    return result;
}

} // namespace podscape::core::controllers
