#pragma once
// Pending pods waiting for a scheduling cycle, in kube-scheduler's three places:
//
//   active         ready now; popped by priority (spec.priority, higher first), then FIFO
//   backoff        failed recently; back in active once its back-off has passed (1 s after
//                  the first attempt, doubling per attempt, at most 10 s)
//   unschedulable  no node fitted; waits for a cluster event that could change that (a node
//                  added or changed, a bound pod gone), or more than 5 minutes, checked every
//                  30 s (so a pod stuck since t is retried at the first check after t + 5 min)
//
// A pod moved out of unschedulable while its back-off still runs goes to backoff first, so a
// busy cluster cannot make a hopeless pod spin. Memory is bounded by the number of pending
// pods: a pod is queued once, however often it changes.
//
// Time is the injected Clock's. Owned by the scheduling cycle: not thread-safe.

#include "clusterevent.h"
#include "podinfo.h"

#include "core/base/clock.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace podscape::core::scheduler {

struct QueuedPodInfo {
    PodInfoPtr pod;
    Clock::TimePoint timestamp{};      // queued, or failed last: FIFO order and back-off base
    Clock::TimePoint initialAttempt{}; // first popped
    int attempts = 0;                  // scheduling attempts so far
    // The events that may make it schedulable: those of the plugins that rejected it.
    uint32_t retryEvents = AnyEvent;
};

struct SchedulingQueueOptions {
    Clock::Duration initialBackoff = std::chrono::seconds(1);
    Clock::Duration maxBackoff = std::chrono::seconds(10);
    Clock::Duration maxInUnschedulable = std::chrono::minutes(5);
    Clock::Duration unschedulableFlushInterval = std::chrono::seconds(30);
};

class SchedulingQueue
{
public:
    enum class Where { Nowhere, Active, Backoff, Unschedulable };

    explicit SchedulingQueue(Clock &clock, SchedulingQueueOptions options = {});

    // A new pending pod: active at once. One already queued is updated instead.
    void add(PodInfoPtr pod);
    // The pod changed. Waiting as unschedulable, a change to anything but its status (a new
    // toleration, a relaxed selector) sends it back to be tried again.
    void update(PodInfoPtr pod);
    void remove(const std::string &key);
    Where where(const std::string &key) const;
    const QueuedPodInfo *find(const std::string &key) const;
    std::vector<std::string> keys() const;

    // The next pod to schedule, its attempt counted; nullopt when none is ready now.
    std::optional<QueuedPodInfo> pop();
    // After a failed attempt: unschedulable waits for an event; anything else (the binding
    // failed) is retried after its back-off.
    void addFailed(QueuedPodInfo info, bool unschedulable);
    // A cluster event: the unschedulable pods it may help move on. Returns how many.
    size_t moveAllToActiveOrBackoff(uint32_t event);

    // When pop() may next have something new without any event: now if a pod is active,
    // the earliest back-off expiry, the next unschedulable flush; TimePoint::max() if never.
    Clock::TimePoint nextWakeup() const;
    Clock::Duration backoffDuration(int attempts) const;

    size_t activeCount() const { return m_active.size(); }
    size_t backoffCount() const { return m_backoff.size(); }
    size_t unschedulableCount() const { return m_unschedulable.size(); }
    size_t size() const { return m_entries.size(); }
    const SchedulingQueueOptions &options() const { return m_options; }

private:
    struct Entry {
        QueuedPodInfo info;
        Where where = Where::Nowhere;
        uint64_t seq = 0;
        Clock::TimePoint expiry{}; // back-off end, while in backoff
    };
    using ActiveKey = std::tuple<int64_t, Clock::TimePoint, uint64_t, std::string>; // -priority, time, seq
    using BackoffKey = std::tuple<Clock::TimePoint, uint64_t, std::string>;

    Clock::TimePoint backoffExpiry(const QueuedPodInfo &info) const;
    void place(const std::string &key, Entry &entry, Where where);
    void unplace(const std::string &key, Entry &entry);
    void moveOut(const std::string &key, Entry &entry, Clock::TimePoint now);
    void flush(Clock::TimePoint now);
    void sortByAge(std::vector<std::string> &keys) const;

    Clock &m_clock;
    SchedulingQueueOptions m_options;
    std::unordered_map<std::string, Entry> m_entries;
    std::set<ActiveKey> m_active;
    std::set<BackoffKey> m_backoff;
    std::unordered_set<std::string> m_unschedulable;
    uint64_t m_seq = 0;
    Clock::TimePoint m_nextFlush;
};

} // namespace podscape::core::scheduler
