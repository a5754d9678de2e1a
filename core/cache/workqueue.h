#pragma once
// The queue between event handlers and a controller's workers, with client-go's semantics:
//
//   - a key is queued at most once however often it is added (memory is bounded by the
//     number of distinct keys, and bursts of events collapse into one sync);
//   - a key is never handed to two workers at once: added while it is being processed, it
//     is queued again only when the worker calls done();
//   - addAfter() holds a key back for a while, addRateLimited() for as long as the
//     RateLimiter says (per-key exponential back-off and an overall token bucket).
//
// Time is the injected Clock's, so tests step through back-off sequences without sleeping.

#include "core/base/clock.h"
#include "ratelimiter.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_set>

namespace podscape::core::cache {

class WorkQueue
{
public:
    explicit WorkQueue(Clock &clock = Clock::system());
    WorkQueue(Clock &clock, RateLimiter::Options rateLimits);
    ~WorkQueue(); // shuts down, releasing blocked getters
    WorkQueue(const WorkQueue &) = delete;
    WorkQueue &operator=(const WorkQueue &) = delete;

    void add(const std::string &key);
    // Adds `key` once `delay` has passed; a key already waiting keeps the earlier time.
    void addAfter(const std::string &key, Clock::Duration delay);
    // Adds `key` after the rate limiter's delay, counting one more requeue.
    void addRateLimited(const std::string &key);
    // Stops tracking the key's failures (call after a successful sync).
    void forget(const std::string &key);
    int numRequeues(const std::string &key) const;

    // Blocks until a key is ready; nullopt once shut down and drained. Every key returned
    // must be given back with done().
    std::optional<std::string> get();
    void done(const std::string &key);

    // Wakes every blocked get(). Keys already queued are still handed out; later adds and
    // keys still waiting for their delay are dropped.
    void shutDown();
    bool isShuttingDown() const;

    // Keys ready to be handed out (not counting those being processed or still delayed).
    size_t len() const;
    // Keys waiting for their delay to pass.
    size_t delayedLen() const;

private:
    void addLocked(const std::string &key);
    // Moves delayed keys whose time has come into the queue.
    void promoteReadyLocked();

    Clock &m_clock;
    RateLimiter m_limiter;

    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<std::string> m_queue;
    std::unordered_set<std::string> m_dirty; // queued, or to be requeued by done()
    std::unordered_set<std::string> m_processing;
    // Delayed keys by due time (ties in order of addition), and each key's entry.
    using Delayed = std::tuple<Clock::TimePoint, uint64_t, std::string>;
    std::set<Delayed> m_delayed;
    std::map<std::string, std::pair<Clock::TimePoint, uint64_t>> m_delayedByKey;
    uint64_t m_sequence = 0;
    // Bumped when the earliest due time moves earlier, so that waiting getters re-arm.
    uint64_t m_delayGeneration = 0;
    bool m_shuttingDown = false;
};

} // namespace podscape::core::cache
