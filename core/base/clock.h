#pragma once
// Time as a dependency: everything in core/ that reads the time or waits takes a Clock, so
// tests and simulations run a cluster's minutes in milliseconds and reproducibly.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace podscape::core {

class Clock
{
public:
    using Duration = std::chrono::nanoseconds;
    using TimePoint = std::chrono::time_point<std::chrono::system_clock, Duration>;

    virtual ~Clock() = default;
    // Wall-clock time (what timestamps in objects carry).
    virtual TimePoint now() const = 0;
    // Blocks until `deadline` has passed on this clock or `wake` returns true after a
    // notifyAll(). Returns wake()'s last value. Waiters on a FakeClock are released by advance().
    virtual bool waitUntil(std::unique_lock<std::mutex> &lock, std::condition_variable &cv,
                           TimePoint deadline, const std::function<bool()> &wake) = 0;

    // The process-wide real clock.
    static Clock &system();
};

class SystemClock final : public Clock
{
public:
    TimePoint now() const override;
    bool waitUntil(std::unique_lock<std::mutex> &lock, std::condition_variable &cv, TimePoint deadline,
                   const std::function<bool()> &wake) override;
};

// A clock that moves only when told to. Threads waiting on it register their own mutex and
// condition variable for the duration of the wait; advance() notifies each one under its
// mutex, so a wake-up can never be lost between a waiter's check and its sleep.
class FakeClock final : public Clock
{
public:
    explicit FakeClock(TimePoint start = TimePoint(std::chrono::seconds(1'700'000'000)));

    TimePoint now() const override;
    bool waitUntil(std::unique_lock<std::mutex> &lock, std::condition_variable &cv, TimePoint deadline,
                   const std::function<bool()> &wake) override;

    void set(TimePoint t);
    void advance(Duration d);
    // How many threads are blocked in waitUntil right now (lets a test step time only once
    // the code under test has gone to sleep, instead of sleeping itself).
    int waiters() const;

private:
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    TimePoint m_now;
    std::vector<std::pair<std::mutex *, std::condition_variable *>> m_waiting;
};

} // namespace podscape::core
