#include "expectations.h"

#include "core/base/logger.h"

namespace podscape::core::cache {

Expectations::Expectations(Clock &clock) : m_clock(clock) {}

void Expectations::setExpectations(const std::string &key, int64_t adds, int64_t deletes)
{
    std::lock_guard g(m_mutex);
    m_entries[key] = Entry{{adds, deletes, m_clock.now()}, {}};
}

void Expectations::expectDeletionsOf(const std::string &key, const std::vector<std::string> &uids)
{
    std::set<std::string> set(uids.begin(), uids.end());
    std::lock_guard g(m_mutex);
    auto &entry = m_entries[key];
    if (!entry.uids.empty()) {
        PS_LOG(Warning, "expectations") << key << ": replacing " << entry.uids.size() << " expected deletions";
    }
    entry.counts = {0, int64_t(set.size()), m_clock.now()};
    entry.uids = std::move(set);
}

void Expectations::raiseExpectations(const std::string &key, int64_t adds, int64_t deletes)
{
    std::lock_guard g(m_mutex);
    if (auto it = m_entries.find(key); it != m_entries.end()) {
        it->second.counts.adds += adds;
        it->second.counts.deletes += deletes;
    }
}

void Expectations::lowerExpectations(const std::string &key, int64_t adds, int64_t deletes)
{
    raiseExpectations(key, -adds, -deletes);
}

void Expectations::deletionObserved(const std::string &key, const std::string &uid)
{
    std::lock_guard g(m_mutex);
    auto it = m_entries.find(key);
    if (it == m_entries.end() || it->second.uids.erase(uid) == 0)
        return;
    it->second.counts.deletes -= 1;
}

bool Expectations::satisfied(const std::string &key) const
{
    std::lock_guard g(m_mutex);
    auto it = m_entries.find(key);
    if (it == m_entries.end())
        return true; // never set (a new controller) or deleted: sync
    const Counts &c = it->second.counts;
    if (c.adds <= 0 && c.deletes <= 0)
        return true;
    return m_clock.now() - c.timestamp > Timeout;
}

void Expectations::deleteExpectations(const std::string &key)
{
    std::lock_guard g(m_mutex);
    m_entries.erase(key);
}

std::optional<Expectations::Counts> Expectations::expectations(const std::string &key) const
{
    std::lock_guard g(m_mutex);
    auto it = m_entries.find(key);
    if (it == m_entries.end())
        return std::nullopt;
    return it->second.counts;
}

size_t Expectations::size() const
{
    std::lock_guard g(m_mutex);
    return m_entries.size();
}

} // namespace podscape::core::cache
