#pragma once
// The scheduler: finds a node for every pending pod and binds it there, as kube-scheduler.
//
//   informers (pods, nodes) --> inbox (latest object per key) --> SchedulerCache + queue
//                                                                  |
//   scheduleOne(): pop a pod -> Framework (filter, score) -> assume on the node -> bind
//                  or: PodScheduled=False + FailedScheduling event -> back to the queue
//
// Informer handlers only record the latest state of a key (so bursts coalesce and memory is
// bounded by the number of objects); the scheduling thread applies them between cycles and
// is the only one touching the cache and the queue. The pods it is responsible for: no
// spec.nodeName, spec.schedulerName "default-scheduler" (or empty), not being deleted, not
// held by scheduling gates, not finished.
//
// start()/stop() run it on its own thread, fed by informers. Tests and tools drive it by
// hand instead: syncFromStore() reads the store as the informers would, scheduleOne() runs
// one cycle; no thread is involved and time is the injected Clock's.

#include "core/events/eventrecorder.h"
#include "framework.h"
#include "schedulercache.h"
#include "schedulingqueue.h"

#include "core/base/clock.h"
#include "core/base/result.h"
#include "core/store/store.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace podscape::core::cache {
class Informer;
}

namespace podscape::core::scheduler {

struct SchedulerOptions {
    std::string schedulerName = "default-scheduler";
    SchedulingQueueOptions queue;
    FrameworkOptions framework;
    // Per-node reasons and scores in each Decision (costs a little per node and pod; built
    // only when someone can see them: a decision callback, or scheduleOne() called by hand).
    bool decisionDetails = true;
};

// One scheduling cycle, for narration ("why did my pod land on node-2?").
struct Decision {
    enum class Outcome {
        Scheduled,     // bound to `node`
        Unschedulable, // no node fits: `message` is the FailedScheduling text
        Error,         // a node was chosen but the binding failed: `message` says why
        Skipped,       // popped but no longer needs scheduling (deleted, bound meanwhile)
    };
    struct Rejection {
        std::string plugin;
        std::vector<std::string> reasons;
    };
    struct PluginScore {
        std::string plugin;
        int64_t score = 0; // 0..100 after normalization
        int64_t weight = 0;
        bool skipped = false; // the plugin had nothing to say about this pod
    };
    struct NodeScore {
        int64_t total = 0; // sum of score * weight
        std::vector<PluginScore> plugins;
    };

    Outcome outcome = Outcome::Skipped;
    store::ObjectPtr pod; // as it was when popped
    std::string podKey;   // "namespace/name"
    std::string node;     // the chosen node ("" when unschedulable)
    int attempts = 0;
    int feasibleNodes = 0;
    int evaluatedNodes = 0;
    int totalNodes = 0;
    std::string message;
    // With details: every node filtered out, and the scores of the feasible ones (empty when
    // only one node was feasible: nothing was compared).
    std::map<std::string, Rejection> reasons;
    std::map<std::string, NodeScore> scores;
};

class Scheduler
{
public:
    using DecisionCallback = std::function<void(const Decision &)>;

    Scheduler(store::Store &store, Clock &clock, SchedulerOptions options = {});
    ~Scheduler(); // stops
    Scheduler(const Scheduler &) = delete;
    Scheduler &operator=(const Scheduler &) = delete;

    // Starts the informers and the scheduling thread; it schedules once both have synced.
    void start();
    void stop();
    bool isRunning() const;

    // One cycle: applies what changed, pops the next ready pod, schedules and binds it.
    // nullopt when no pod is ready now. Not while start()ed (the thread runs the cycles).
    std::optional<Decision> scheduleOne();
    // Cycles until no pod is ready now; returns how many ran.
    int scheduleUntilIdle();
    // Lists pods and nodes from the store and applies the differences, as an informer relist
    // would. For driving the scheduler by hand; start() does not need it.
    Result<void> syncFromStore();

    // The binding write (bindPod) plus the Scheduled event. scheduleOne() assumes the pod on
    // the node before calling it and forgets it again if it fails.
    Result<store::ObjectPtr> bind(const nlohmann::json &pod, const std::string &nodeName);

    // Called after every cycle, on the scheduling thread; must not call back into the
    // scheduler. Set it before start().
    void setOnDecision(DecisionCallback callback);

    // What informers deliver: the latest state of a pod ("namespace/name") or node, null
    // when deleted. Thread-safe and cheap; applied at the next cycle.
    void podChanged(const std::string &key, store::ObjectPtr latest);
    void nodeChanged(const std::string &name, store::ObjectPtr latest);

    bool isResponsibleFor(const PodInfo &pod) const;

    struct Stats {
        size_t active = 0;
        size_t backoff = 0;
        size_t unschedulable = 0;
        size_t nodes = 0;
        size_t podsOnNodes = 0; // bound or assumed
        size_t assumed = 0;
        uint64_t scheduled = 0; // bindings written
        uint64_t failed = 0;    // unschedulable or binding errors
    };
    Stats stats() const;

    events::EventRecorder &eventRecorder() { return m_events; }
    // The profile; add or replace plugins before start().
    Framework &framework() { return m_framework; }
    const SchedulingQueue &queue() const { return m_queue; }
    const SchedulerCache &cache() const { return m_cache; }

    // Events are limited to 1 KiB of message, as the API server accepts; kube-scheduler
    // shortens longer FitError messages with " ...".
    static std::string truncateMessage(std::string message, size_t limit = 1024);

private:
    struct Inbox {
        std::unordered_map<std::string, store::ObjectPtr> latest;
        std::vector<std::string> order; // first-change order
        void put(const std::string &key, store::ObjectPtr object);
    };

    void run();
    bool stopping() const;
    void applyPending();
    void applyNode(const std::string &name, const store::ObjectPtr &node);
    void applyPod(const std::string &key, const store::ObjectPtr &object);
    void recordFailure(const PodInfo &pod, const std::string &reason, const std::string &message);
    void fillDetails(Decision &d, const Framework::Result &r) const;
    void publish(const Decision &d);

    store::Store &m_store;
    Clock &m_clock;
    SchedulerOptions m_options;
    Framework m_framework;
    events::EventRecorder m_events;

    // The scheduling cycle's state: cache, queue, framework. One cycle at a time.
    mutable std::mutex m_cycleMutex;
    SchedulerCache m_cache;
    SchedulingQueue m_queue;
    DecisionCallback m_onDecision;

    // Lock order: m_cycleMutex -> m_mutex. Informer threads take m_mutex only.
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    Inbox m_pendingPods;
    Inbox m_pendingNodes;
    bool m_stopping = false;

    std::mutex m_lifecycleMutex;
    std::unique_ptr<cache::Informer> m_podInformer;
    std::unique_ptr<cache::Informer> m_nodeInformer;
    std::thread m_thread;
    std::atomic<bool> m_running{false};
    std::atomic<uint64_t> m_scheduled{0};
    std::atomic<uint64_t> m_failed{0};
};

} // namespace podscape::core::scheduler
