#pragma once
// How long a failed key waits before it is retried: client-go's default controller rate
// limiter, the larger of a per-key exponential back-off (one key failing over and over backs
// off alone) and an overall token bucket (many keys failing at once cannot flood the store).

#include "core/base/clock.h"

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace podscape::core::cache {

class RateLimiter
{
public:
    struct Options {
        Clock::Duration baseDelay = std::chrono::milliseconds(5); // doubled per failure...
        Clock::Duration maxDelay = std::chrono::seconds(1000);    // ...up to this
        double qps = 10;                                          // the bucket's refill rate
        int burst = 100;                                          // and its size
    };

    explicit RateLimiter(Clock &clock = Clock::system());
    RateLimiter(Clock &clock, Options options);

    // Records one more failure of `key` and returns how long it must wait.
    Clock::Duration when(const std::string &key);
    // The key succeeded (or was given up on): its back-off starts again from baseDelay.
    void forget(const std::string &key);
    int numRequeues(const std::string &key) const;

private:
    Clock::Duration itemDelay(int failures) const;
    Clock::Duration reserveToken();

    Clock &m_clock;
    Options m_options;
    mutable std::mutex m_mutex;
    std::unordered_map<std::string, int> m_failures;
    double m_tokens;
    Clock::TimePoint m_last;
};

} // namespace podscape::core::cache
