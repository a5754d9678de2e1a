#include "endpointpicker.h"

#include <algorithm>

namespace podscape::core::proxy {

void EndpointPicker::setOptions(Options options)
{
    if (!options.clientIPAffinity)
        m_affinity.clear();
    m_options = options;
}

void EndpointPicker::setBackends(std::vector<Backend> backends)
{
    std::sort(backends.begin(), backends.end());
    backends.erase(std::unique(backends.begin(), backends.end()), backends.end());
    m_backends = std::move(backends);
    for (auto it = m_affinity.begin(); it != m_affinity.end();) {
        if (std::binary_search(m_backends.begin(), m_backends.end(), it->second.backend))
            ++it;
        else
            it = m_affinity.erase(it);
    }
}

const Backend &EndpointPicker::nextRoundRobin()
{
    const Backend &b = m_backends[m_next % m_backends.size()];
    m_next = (m_next + 1) % m_backends.size();
    return b;
}

std::optional<Backend> EndpointPicker::pick(const std::string &clientIP, Clock::TimePoint now)
{
    if (m_backends.empty())
        return std::nullopt;
    if (!m_options.clientIPAffinity)
        return nextRoundRobin();
    if (auto it = m_affinity.find(clientIP); it != m_affinity.end()) {
        // Backends that went away were dropped by setBackends(); only the timeout is left.
        if (now - it->second.lastUsed <= m_options.affinityTimeout) {
            it->second.lastUsed = now;
            return it->second.backend;
        }
        m_affinity.erase(it);
    }
    makeRoomForAffinity(now);
    const Backend &b = nextRoundRobin();
    m_affinity[clientIP] = Affinity{b, now};
    return b;
}

void EndpointPicker::makeRoomForAffinity(Clock::TimePoint now)
{
    const size_t limit = std::max<size_t>(1, m_options.maxAffinityEntries);
    if (m_affinity.size() < limit)
        return;
    // A full table is rare (one entry per client IP): a linear sweep is fine then.
    for (auto it = m_affinity.begin(); it != m_affinity.end();) {
        if (now - it->second.lastUsed > m_options.affinityTimeout)
            it = m_affinity.erase(it);
        else
            ++it;
    }
    if (m_affinity.size() < limit)
        return;
    auto oldest = std::min_element(m_affinity.begin(), m_affinity.end(), [](const auto &a, const auto &b) {
        return a.second.lastUsed < b.second.lastUsed;
    });
    m_affinity.erase(oldest);
}

} // namespace podscape::core::proxy
