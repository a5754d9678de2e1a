#include "backoff.h"

#include <algorithm>

namespace podscape::core::kubelet {

bool Backoff::isInBackoffSince(TimePoint eventTime, TimePoint now) const
{
    if (!m_entry || expired(eventTime))
        return false;
    return now - eventTime < m_entry->backoff;
}

bool Backoff::isInBackoffSinceUpdate(TimePoint now) const
{
    if (!m_entry || expired(now))
        return false;
    return now - m_entry->lastUpdate < m_entry->backoff;
}

void Backoff::next(TimePoint eventTime, TimePoint now)
{
    if (!m_entry || expired(eventTime))
        m_entry = Entry{m_initial, now};
    else
        m_entry = Entry{std::min(m_entry->backoff * 2, m_max), now};
}

std::optional<Backoff::TimePoint> Backoff::lastUpdate() const
{
    if (!m_entry)
        return std::nullopt;
    return m_entry->lastUpdate;
}

} // namespace podscape::core::kubelet
