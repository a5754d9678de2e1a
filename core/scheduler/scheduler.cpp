#include "scheduler.h"

#include "binding.h"
#include "jsonfield.h"

#include "core/base/logger.h"
#include "core/cache/informer.h"
#include "core/cache/listwatch.h"

#include <algorithm>
#include <exception>
#include <set>

namespace podscape::core::scheduler {

using nlohmann::json;

namespace {

json fieldOr(const json &object, const char *a, const char *b)
{
    auto i = object.find(a);
    if (i == object.end() || !i->is_object())
        return json();
    auto j = i->find(b);
    return j == i->end() ? json() : *j;
}

std::set<std::pair<std::string, std::string>> conditionStates(const json &node)
{
    std::set<std::pair<std::string, std::string>> out;
    const json conditions = fieldOr(node, "status", "conditions");
    if (conditions.is_array())
        for (const auto &c : conditions)
            if (c.is_object())
                out.emplace(stringField(c, "type"), stringField(c, "status"));
    return out;
}

// Which scheduling-relevant parts of a node changed (heartbeats are not among them).
uint32_t nodeChangeEvents(const json &before, const json &after)
{
    uint32_t events = NoEvent;
    if (fieldOr(before, "status", "allocatable") != fieldOr(after, "status", "allocatable"))
        events |= NodeAllocatableChange;
    if (fieldOr(before, "metadata", "labels") != fieldOr(after, "metadata", "labels"))
        events |= NodeLabelChange;
    if (fieldOr(before, "spec", "taints") != fieldOr(after, "spec", "taints")
        || fieldOr(before, "spec", "unschedulable") != fieldOr(after, "spec", "unschedulable"))
        events |= NodeTaintChange;
    if (conditionStates(before) != conditionStates(after))
        events |= NodeConditionChange;
    return events;
}

} // namespace

void Scheduler::Inbox::put(const std::string &key, store::ObjectPtr object)
{
    if (latest.insert_or_assign(key, std::move(object)).second)
        order.push_back(key);
}

Scheduler::Scheduler(store::Store &store, Clock &clock, SchedulerOptions options)
    : m_store(store), m_clock(clock), m_options(std::move(options)),
      m_framework(Framework::withDefaultPlugins(m_options.framework)),
      m_events(store, clock, m_options.schedulerName), m_queue(clock, m_options.queue)
{}

Scheduler::~Scheduler() { stop(); }

std::string Scheduler::truncateMessage(std::string message, size_t limit)
{
    static constexpr std::string_view suffix = " ...";
    if (message.size() <= limit)
        return message;
    message.resize(limit - suffix.size());
    message += suffix;
    return message;
}

bool Scheduler::isResponsibleFor(const PodInfo &pod) const
{
    return pod.schedulerName.empty() || pod.schedulerName == m_options.schedulerName;
}

void Scheduler::setOnDecision(DecisionCallback callback)
{
    std::lock_guard g(m_cycleMutex);
    m_onDecision = std::move(callback);
}

void Scheduler::podChanged(const std::string &key, store::ObjectPtr latest)
{
    {
        std::lock_guard g(m_mutex);
        m_pendingPods.put(key, std::move(latest));
    }
    m_cv.notify_all();
}

void Scheduler::nodeChanged(const std::string &name, store::ObjectPtr latest)
{
    {
        std::lock_guard g(m_mutex);
        m_pendingNodes.put(name, std::move(latest));
    }
    m_cv.notify_all();
}

// ---- applying changes (scheduling thread, m_cycleMutex held) -----------------------------------

void Scheduler::applyPending()
{
    Inbox pods, nodes;
    {
        std::lock_guard g(m_mutex);
        std::swap(pods, m_pendingPods);
        std::swap(nodes, m_pendingNodes);
    }
    // Nodes first: a pod bound to a node that arrives in the same batch finds it.
    for (const auto &name : nodes.order)
        applyNode(name, nodes.latest[name]);
    for (const auto &key : pods.order)
        applyPod(key, pods.latest[key]);
}

void Scheduler::applyNode(const std::string &name, const store::ObjectPtr &node)
{
    if (!node) {
        // Losing a node helps no waiting pod.
        m_cache.removeNode(name);
        return;
    }
    const store::ObjectPtr previous = m_cache.setNode(node);
    const uint32_t events = previous ? nodeChangeEvents(*previous, *node) : NodeAdd;
    if (events != NoEvent)
        m_queue.moveAllToActiveOrBackoff(events);
}

void Scheduler::applyPod(const std::string &key, const store::ObjectPtr &object)
{
    const PodInfo *cached = m_cache.pod(key);
    if (!object) {
        if (cached) {
            m_cache.removePod(key);
            m_queue.moveAllToActiveOrBackoff(AssignedPodDelete);
        }
        m_queue.remove(key);
        return;
    }
    PodInfoPtr pod = PodInfo::make(object);
    if (cached && cached->uid != pod->uid) {
        // Deleted and created again under the same name while we were not looking.
        m_cache.removePod(key);
        m_queue.moveAllToActiveOrBackoff(AssignedPodDelete);
        cached = nullptr;
    }

    if (!pod->nodeName.empty()) {
        m_queue.remove(key);
        if (pod->terminal) {
            // A finished pod holds nothing any more.
            if (cached) {
                m_cache.removePod(key);
                m_queue.moveAllToActiveOrBackoff(AssignedPodDelete);
            }
            return;
        }
        const bool shrank = cached && !m_cache.isAssumed(key)
                            && (pod->requests.requests.milliCpu < cached->requests.requests.milliCpu
                                || pod->requests.requests.memory < cached->requests.requests.memory);
        m_cache.addPod(std::move(pod));
        if (shrank)
            m_queue.moveAllToActiveOrBackoff(AssignedPodUpdate);
        return;
    }

    if (cached) // assumed or bound here while the object shown is older than our binding
        return;
    if (!isResponsibleFor(*pod) || pod->deleting || pod->terminal || pod->gated) {
        m_queue.remove(key);
        return;
    }
    m_queue.add(std::move(pod)); // or update, if queued
}

// ---- the cycle ---------------------------------------------------------------------------------

std::optional<Decision> Scheduler::scheduleOne()
{
    std::lock_guard cycle(m_cycleMutex);
    applyPending();
    std::optional<QueuedPodInfo> item = m_queue.pop();
    if (!item)
        return std::nullopt;

    const PodInfoPtr podPtr = item->pod;
    const PodInfo &pod = *podPtr;
    Decision d;
    d.pod = pod.object;
    d.podKey = pod.key;
    d.attempts = item->attempts;
    if (pod.deleting || m_cache.contains(pod.key)) {
        d.outcome = Decision::Outcome::Skipped;
        d.message = pod.deleting ? "pod is being deleted" : "pod is already assumed or bound";
        publish(d);
        return d;
    }

    const Framework::Result result = m_framework.schedule(pod, m_cache.nodes());
    d.totalNodes = result.totalNodes;
    d.evaluatedNodes = result.evaluatedNodes;
    d.feasibleNodes = static_cast<int>(result.feasible.size());
    if (m_options.decisionDetails && (m_onDecision || !m_running))
        fillDetails(d, result);

    if (!result.selected) {
        d.outcome = Decision::Outcome::Unschedulable;
        d.message = result.message;
        item->retryEvents = result.retryEvents;
        m_queue.addFailed(std::move(*item), true);
        ++m_failed;
        recordFailure(pod, "Unschedulable", result.message);
        publish(d);
        return d;
    }

    // Assume, then bind: the node's room is taken now, whatever the next cycle sees.
    d.node = result.selected->name();
    m_cache.assumePod(podPtr, d.node);
    auto bound = bind(*pod.object, d.node);
    if (bound) {
        auto confirmed = std::make_shared<PodInfo>(*m_cache.pod(pod.key));
        confirmed->object = *bound;
        m_cache.addPod(std::move(confirmed));
        d.outcome = Decision::Outcome::Scheduled;
        d.message = "Successfully assigned " + pod.ns + "/" + pod.name + " to " + d.node;
        ++m_scheduled;
        publish(d);
        return d;
    }

    m_cache.forgetPod(pod.key);
    m_queue.moveAllToActiveOrBackoff(AssignedPodDelete);
    d.outcome = Decision::Outcome::Error;
    d.message = bound.error().message();
    ++m_failed;
    const Reason why = bound.error().reason();
    if (why != Reason::NotFound && why != Reason::Conflict) {
        // The store failed us: try again after the back-off. (Gone or bound elsewhere:
        // the informers will tell what became of it.)
        m_queue.addFailed(std::move(*item), false);
        recordFailure(pod, "SchedulerError", "Binding rejected: " + d.message);
    }
    PS_LOG(Info, "scheduler") << "binding " << pod.key << " to " << d.node << " failed: " << d.message;
    publish(d);
    return d;
}

int Scheduler::scheduleUntilIdle()
{
    int n = 0;
    while (scheduleOne())
        ++n;
    return n;
}

Result<store::ObjectPtr> Scheduler::bind(const json &pod, const std::string &nodeName)
{
    const model::Object o(pod);
    auto bound = bindPod(m_store, m_clock, Binding{o.namespaceName(), o.name(), nodeName, o.uid()});
    if (bound) {
        m_events.record(pod, "Normal", "Scheduled",
                        "Successfully assigned " + o.namespaceName() + "/" + o.name() + " to " + nodeName);
    }
    return bound;
}

void Scheduler::recordFailure(const PodInfo &pod, const std::string &reason, const std::string &message)
{
    // Only a write that changes something: a pod failing the same way again is left as it is.
    const auto now = m_clock.now();
    auto updated = m_store.modify("pods", pod.ns, pod.name, [&](json &object) -> Result<bool> {
        const model::Pod current(object);
        if (current.uid() != pod.uid || !current.nodeName().empty())
            return false;
        return updatePodCondition(object, "PodScheduled", "False", reason, message, now);
    });
    if (!updated && updated.error().reason() != Reason::NotFound) {
        PS_LOG(Warning, "scheduler") << "condition for " << pod.key << ": " << updated.error().toString();
    }
    m_events.record(*pod.object, "Warning", "FailedScheduling", truncateMessage(message));
}

void Scheduler::fillDetails(Decision &d, const Framework::Result &r) const
{
    for (const auto &[node, status] : r.rejected)
        d.reasons[node->name()] = Decision::Rejection{status.plugin(), status.reasons()};
    if (r.totals.empty())
        return;
    const auto &plugins = m_framework.scorePlugins();
    for (size_t i = 0; i < r.feasible.size(); ++i) {
        Decision::NodeScore &ns = d.scores[r.feasible[i]->name()];
        ns.total = r.totals[i];
        for (size_t p = 0; p < plugins.size(); ++p)
            ns.plugins.push_back({std::string(plugins[p].plugin->name()), r.pluginScores[p][i], plugins[p].weight,
                                  bool(r.pluginSkipped[p])});
    }
}

void Scheduler::publish(const Decision &d)
{
    if (m_onDecision)
        m_onDecision(d);
}

Result<void> Scheduler::syncFromStore()
{
    auto nodes = m_store.list("nodes");
    if (!nodes)
        return nodes.takeError();
    auto pods = m_store.list("pods");
    if (!pods)
        return pods.takeError();

    std::lock_guard cycle(m_cycleMutex);
    std::set<std::string> seenNodes, seenPods;
    for (const auto &n : nodes->items) {
        const std::string name = model::Object(*n).name();
        seenNodes.insert(name);
        nodeChanged(name, n);
    }
    for (const NodeInfo *n : m_cache.nodes())
        if (!seenNodes.count(n->name()))
            nodeChanged(n->name(), nullptr);
    for (const auto &p : pods->items) {
        const std::string key = PodInfo::keyOf(*p);
        seenPods.insert(key);
        podChanged(key, p);
    }
    std::vector<std::string> known = m_cache.podKeys();
    const auto queued = m_queue.keys();
    known.insert(known.end(), queued.begin(), queued.end());
    for (const auto &key : known)
        if (!seenPods.count(key))
            podChanged(key, nullptr);
    applyPending();
    return {};
}

Scheduler::Stats Scheduler::stats() const
{
    std::lock_guard cycle(m_cycleMutex);
    Stats s;
    s.active = m_queue.activeCount();
    s.backoff = m_queue.backoffCount();
    s.unschedulable = m_queue.unschedulableCount();
    s.nodes = m_cache.nodeCount();
    s.podsOnNodes = m_cache.podCount();
    s.assumed = m_cache.assumedCount();
    s.scheduled = m_scheduled;
    s.failed = m_failed;
    return s;
}

// ---- the thread --------------------------------------------------------------------------------

void Scheduler::start()
{
    std::lock_guard lifecycle(m_lifecycleMutex);
    if (m_running)
        return;
    {
        std::lock_guard g(m_mutex);
        m_stopping = false;
    }
    auto makeInformer = [this](const char *resource, bool pods) {
        cache::InformerOptions options;
        options.name = std::string("scheduler: ") + resource;
        auto informer = std::make_unique<cache::Informer>(std::make_unique<cache::StoreListWatch>(m_store, resource),
                                                          m_clock, options);
        auto changed = [this, pods](const store::ObjectPtr &o, bool deleted) {
            if (!o)
                return;
            if (pods)
                podChanged(PodInfo::keyOf(*o), deleted ? nullptr : o);
            else
                nodeChanged(model::Object(*o).name(), deleted ? nullptr : o);
        };
        informer->addEventHandlers({[changed](const store::ObjectPtr &o) { changed(o, false); },
                                    [changed](const store::ObjectPtr &, const store::ObjectPtr &o) { changed(o, false); },
                                    [changed](const store::ObjectPtr &o) { changed(o, true); }});
        return informer;
    };
    m_podInformer = makeInformer("pods", true);
    m_nodeInformer = makeInformer("nodes", false);
    m_running = true;
    m_nodeInformer->start();
    m_podInformer->start();
    m_thread = std::thread([this] { run(); });
}

void Scheduler::stop()
{
    std::lock_guard lifecycle(m_lifecycleMutex);
    {
        std::lock_guard g(m_mutex);
        m_stopping = true;
    }
    m_cv.notify_all();
    if (m_podInformer)
        m_podInformer->stop();
    if (m_nodeInformer)
        m_nodeInformer->stop();
    if (m_thread.joinable())
        m_thread.join();
    m_podInformer.reset();
    m_nodeInformer.reset();
    m_running = false;
}

bool Scheduler::isRunning() const { return m_running; }

bool Scheduler::stopping() const
{
    std::lock_guard g(m_mutex);
    return m_stopping;
}

void Scheduler::run()
{
    // Scheduling on a partial picture would overcommit nodes whose pods are not known yet.
    while (!stopping()) {
        if (m_nodeInformer->waitForSync(std::chrono::seconds(1)) && m_podInformer->waitForSync(std::chrono::seconds(1)))
            break;
    }
    while (!stopping()) {
        try {
            if (scheduleOne())
                continue;
        } catch (const std::exception &e) {
            // A malformed object must not take the scheduler down; the pod is retried later.
            PS_LOG(Error, "scheduler") << "scheduling cycle failed: " << e.what();
        }
        Clock::TimePoint wake;
        {
            std::lock_guard cycle(m_cycleMutex);
            wake = m_queue.nextWakeup();
        }
        // An hour at most: keeps the real clock's arithmetic away from TimePoint::max().
        wake = std::min(wake, m_clock.now() + std::chrono::hours(1));
        std::unique_lock lock(m_mutex);
        m_clock.waitUntil(lock, m_cv, wake, [this] {
            return m_stopping || !m_pendingPods.order.empty() || !m_pendingNodes.order.empty();
        });
    }
}

} // namespace podscape::core::scheduler
