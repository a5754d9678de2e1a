#pragma once
// One container's back-off, with the semantics of Kubernetes' flowcontrol.Backoff as the
// kubelet uses it for CrashLoopBackOff and ImagePullBackOff: the first failure costs
// nothing, each later one doubles the wait (10 s, 20 s, 40 s ... capped at 5 min), and an
// entry last bumped more than twice the cap before the failure is forgotten, so a container
// that ran for 10 minutes starts over at 10 s.

#include "core/base/clock.h"

#include <optional>

namespace podscape::core::kubelet {

class Backoff
{
public:
    using Duration = Clock::Duration;
    using TimePoint = Clock::TimePoint;

    explicit Backoff(Duration initial = std::chrono::seconds(10), Duration max = std::chrono::minutes(5))
        : m_initial(initial), m_max(max)
    {}

    // A failure at `eventTime` (a container's finishedAt) still waits at `now`.
    bool isInBackoffSince(TimePoint eventTime, TimePoint now) const;
    // The wait since the last next() has not ended at `now` (image pulls).
    bool isInBackoffSinceUpdate(TimePoint now) const;
    // Records a retry at `now` for a failure at `eventTime`: starts at `initial` or doubles.
    void next(TimePoint eventTime, TimePoint now);
    void reset() { m_entry.reset(); }

    // The current wait (0 when there is no entry) and when the last retry was recorded.
    Duration current() const { return m_entry ? m_entry->backoff : Duration(0); }
    std::optional<TimePoint> lastUpdate() const;

private:
    struct Entry {
        Duration backoff;
        TimePoint lastUpdate;
    };
    bool expired(TimePoint eventTime) const { return eventTime - m_entry->lastUpdate > 2 * m_max; }

    Duration m_initial;
    Duration m_max;
    std::optional<Entry> m_entry;
};

} // namespace podscape::core::kubelet
