#include "clock.h"

#include <algorithm>

namespace podscape::core {

Clock &Clock::system()
{
    static SystemClock clock;
    return clock;
}

Clock::TimePoint SystemClock::now() const
{
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

bool SystemClock::waitUntil(std::unique_lock<std::mutex> &lock, std::condition_variable &cv,
                            TimePoint deadline, const std::function<bool()> &wake)
{
    // Waiting on the steady clock keeps a wall-clock jump from stretching the wait.
    auto steadyDeadline = std::chrono::steady_clock::now() + (deadline - now());
    return cv.wait_until(lock, steadyDeadline, wake);
}

FakeClock::FakeClock(TimePoint start) : m_now(start) {}

Clock::TimePoint FakeClock::now() const
{
    std::lock_guard g(m_mutex);
    return m_now;
}

bool FakeClock::waitUntil(std::unique_lock<std::mutex> &lock, std::condition_variable &cv,
                          TimePoint deadline, const std::function<bool()> &wake)
{
    const auto entry = std::make_pair(lock.mutex(), &cv);
    {
        std::lock_guard g(m_mutex);
        m_waiting.push_back(entry);
    }
    bool woken = wake();
    while (!woken && now() < deadline) {
        cv.wait(lock);
        woken = wake();
    }
    std::lock_guard g(m_mutex);
    m_waiting.erase(std::find(m_waiting.begin(), m_waiting.end(), entry));
    return woken;
}

void FakeClock::set(TimePoint t)
{
    std::vector<std::pair<std::mutex *, std::condition_variable *>> waiting;
    {
        std::lock_guard g(m_mutex);
        m_now = t;
        waiting = m_waiting;
    }
    for (auto [mutex, cv] : waiting) {
        // Taking the waiter's mutex orders this notify after its check-then-sleep.
        std::lock_guard g(*mutex);
        cv->notify_all();
    }
}

void FakeClock::advance(Duration d) { set(now() + d); }

int FakeClock::waiters() const
{
    std::lock_guard g(m_mutex);
    return static_cast<int>(m_waiting.size());
}

} // namespace podscape::core
