#include "ratelimiter.h"

#include <algorithm>
#include <cmath>

namespace podscape::core::cache {

RateLimiter::RateLimiter(Clock &clock) : RateLimiter(clock, Options{}) {}

RateLimiter::RateLimiter(Clock &clock, Options options)
    : m_clock(clock), m_options(options), m_tokens(options.burst), m_last(clock.now())
{}

Clock::Duration RateLimiter::itemDelay(int failures) const
{
    // In floating point: 2^failures overflows any integer duration long before it matters.
    const double ns = double(m_options.baseDelay.count()) * std::pow(2.0, failures);
    if (ns >= double(m_options.maxDelay.count()))
        return m_options.maxDelay;
    return Clock::Duration(static_cast<Clock::Duration::rep>(ns));
}

Clock::Duration RateLimiter::reserveToken()
{
    if (m_options.qps <= 0)
        return Clock::Duration::zero();
    const auto now = m_clock.now();
    if (now > m_last) {
        const double elapsed = std::chrono::duration<double>(now - m_last).count();
        m_tokens = std::min(double(m_options.burst), m_tokens + elapsed * m_options.qps);
        m_last = now;
    }
    // A reservation may drive the bucket negative: the debt is the wait.
    m_tokens -= 1;
    if (m_tokens >= 0)
        return Clock::Duration::zero();
    return std::chrono::duration_cast<Clock::Duration>(std::chrono::duration<double>(-m_tokens / m_options.qps));
}

Clock::Duration RateLimiter::when(const std::string &key)
{
    std::lock_guard g(m_mutex);
    const int failures = m_failures[key]++;
    return std::max(itemDelay(failures), reserveToken());
}

void RateLimiter::forget(const std::string &key)
{
    std::lock_guard g(m_mutex);
    m_failures.erase(key);
}

int RateLimiter::numRequeues(const std::string &key) const
{
    std::lock_guard g(m_mutex);
    auto it = m_failures.find(key);
    return it == m_failures.end() ? 0 : it->second;
}

} // namespace podscape::core::cache
