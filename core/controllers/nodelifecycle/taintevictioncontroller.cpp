#include "taintevictioncontroller.h"

#include "core/base/timeformat.h"
#include "core/controllers/nodelifecycle/tolerations.h"
#include "core/model/jsonmember.h"

#include <algorithm>

namespace podscape::core::controllers {

using nlohmann::json;

namespace {

using model::member;

std::string text(const json &o, const char *name)
{
    const json &v = member(o, name);
    return v.is_string() ? v.get<std::string>() : std::string();
}

std::string meta(const json &o, const char *key) { return text(member(o, "metadata"), key); }

std::string keyOf(const json &pod) { return meta(pod, "namespace") + "/" + meta(pod, "name"); }

json podRef(const std::string &key)
{
    auto slash = key.find('/');
    return {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata", {{"namespace", key.substr(0, slash)}, {"name", key.substr(slash + 1)}}}};
}

} // namespace

TaintEvictionController::TaintEvictionController(SharedInformers &informers)
    : Controller("taint-eviction-controller", informers.clock())
    , m_store(informers.store())
    , m_pods(informers.forResource("pods"))
    , m_nodes(informers.forResource("nodes"))
    , m_recorder(informers.store(), informers.clock(), "taint-eviction-controller")
{
    waitForCaches({&m_pods, &m_nodes});
    m_pods.addEventHandlers({
        [this](const ObjectPtr &p) {
            if (!text(member(*p, "spec"), "nodeName").empty())
                queue().add(keyOf(*p));
        },
        [this](const ObjectPtr &o, const ObjectPtr &n) {
            const json &os = member(*o, "spec"), &ns = member(*n, "spec");
            if (text(os, "nodeName") != text(ns, "nodeName") || member(os, "tolerations") != member(ns, "tolerations"))
                queue().add(keyOf(*n));
        },
        [this](const ObjectPtr &p) { queue().add(keyOf(*p)); },
    });
    m_nodes.addEventHandlers({
        [this](const ObjectPtr &n) {
            if (!taintsWithEffect(*n, "NoExecute").empty())
                enqueuePodsOn(meta(*n, "name"));
        },
        [this](const ObjectPtr &o, const ObjectPtr &n) {
            if (taintsWithEffect(*o, "NoExecute") != taintsWithEffect(*n, "NoExecute"))
                enqueuePodsOn(meta(*n, "name"));
        },
        [this](const ObjectPtr &n) { enqueuePodsOn(meta(*n, "name")); },
    });
}

void TaintEvictionController::enqueuePodsOn(const std::string &nodeName)
{
    for (const auto &p : m_pods.indexer().byIndex("node", nodeName))
        queue().add(keyOf(*p));
}

std::optional<Clock::TimePoint> TaintEvictionController::scheduledEviction(const std::string &podKey) const
{
    std::lock_guard g(m_mutex);
    auto it = m_scheduled.find(podKey);
    return it == m_scheduled.end() ? std::nullopt : std::optional<Clock::TimePoint>(it->second.due);
}

void TaintEvictionController::cancel(const std::string &key, const json *pod)
{
    {
        std::lock_guard g(m_mutex);
        if (!m_scheduled.erase(key))
            return;
    }
    m_recorder.record(pod ? *pod : podRef(key), "Normal", "TaintManagerEviction", "Cancelling deletion of Pod " + key);
}

Result<void> TaintEvictionController::sync(const std::string &key)
{
    ObjectPtr pod = m_pods.indexer().get(key);
    if (!pod) {
        cancel(key, nullptr);
        return {};
    }
    if (!meta(*pod, "deletionTimestamp").empty()) {
        // Going already: nothing to evict, nothing to call off.
        std::lock_guard g(m_mutex);
        m_scheduled.erase(key);
        return {};
    }
    const std::string nodeName = text(member(*pod, "spec"), "nodeName");
    ObjectPtr node = nodeName.empty() ? nullptr : m_nodes.indexer().get(nodeName);
    const std::vector<json> taints = node ? taintsWithEffect(*node, "NoExecute") : std::vector<json>();
    if (taints.empty()) {
        cancel(key, pod.get());
        return {};
    }
    const auto match = matchingTolerations(taints, member(member(*pod, "spec"), "tolerations"));
    const auto now = clock().now();
    if (!match.allTolerated) {
        {
            std::lock_guard g(m_mutex);
            m_scheduled.erase(key);
        }
        return evict(key, *pod);
    }
    const int64_t seconds = minTolerationSeconds(match.used);
    if (seconds < 0) {
        cancel(key, pod.get()); // tolerated for ever
        return {};
    }
    Scheduled scheduled;
    {
        std::lock_guard g(m_mutex);
        auto it = m_scheduled.find(key);
        scheduled.since = it == m_scheduled.end() ? now : it->second.since;
        scheduled.due = scheduled.since + std::chrono::seconds(seconds);
        m_scheduled[key] = scheduled;
    }
    if (now < scheduled.due) {
        queue().addAfter(key, scheduled.due - now);
        return {};
    }
    {
        std::lock_guard g(m_mutex);
        m_scheduled.erase(key);
    }
    return evict(key, *pod);
}

Result<void> TaintEvictionController::evict(const std::string &key, const json &pod)
{
    m_recorder.record(pod, "Normal", "TaintManagerEviction", "Marking for deletion Pod " + key);
    const std::string uid = meta(pod, "uid"), nowText = formatRfc3339(clock().now());
    // DisruptionTarget tells the pod's owner (and `describe`) why it went.
    auto marked = m_store.modify("pods", meta(pod, "namespace"), meta(pod, "name"), [&](json &p) -> Result<bool> {
        if (meta(p, "uid") != uid)
            return false;
        json &status = p["status"];
        if (!status.is_object())
            status = json::object();
        json &conditions = status["conditions"];
        if (!conditions.is_array())
            conditions = json::array();
        json wanted = {{"type", "DisruptionTarget"},
                       {"status", "True"},
                       {"reason", "DeletionByTaintManager"},
                       {"message", "Taint manager: deleting due to NoExecute taint"}};
        auto it = std::find_if(conditions.begin(), conditions.end(), [](const json &c) { return text(c, "type") == "DisruptionTarget"; });
        if (it == conditions.end()) {
            wanted["lastTransitionTime"] = nowText;
            conditions.push_back(wanted);
            return true;
        }
        bool changed = false;
        for (const char *k : {"status", "reason", "message"})
            if ((*it)[k] != wanted[k]) {
                if (std::string(k) == "status")
                    (*it)["lastTransitionTime"] = nowText;
                (*it)[k] = wanted[k];
                changed = true;
            }
        return changed;
    });
    if (!marked) {
        if (marked.error().reason() == Reason::NotFound)
            return {};
        return marked.takeError();
    }
    store::DeleteOptions options;
    options.preconditionUid = uid;
    auto removed = m_store.remove("pods", meta(pod, "namespace"), meta(pod, "name"), options);
    if (!removed && removed.error().reason() != Reason::NotFound && removed.error().reason() != Reason::Conflict)
        return removed.takeError();
    return {};
}

} // namespace podscape::core::controllers
