#include "schedulingqueue.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

namespace podscape::core::scheduler {

using nlohmann::json;

namespace {

// The pod without what changes on its own (status, versions): kube-scheduler's isPodUpdated.
json withoutStatus(const store::ObjectPtr &object)
{
    if (!object || !object->is_object())
        return json();
    json copy = *object;
    copy.erase("status");
    if (auto it = copy.find("metadata"); it != copy.end() && it->is_object())
        for (const char *field : {"resourceVersion", "generation", "managedFields", "finalizers"})
            it->erase(field);
    return copy;
}

} // namespace

// Pods leave unschedulable oldest first (then by key), whatever the hash order: equal
// timestamps are common under a FakeClock and the active order must not depend on hashing.
void SchedulingQueue::sortByAge(std::vector<std::string> &keys) const
{
    std::sort(keys.begin(), keys.end(), [this](const std::string &a, const std::string &b) {
        const auto ta = m_entries.at(a).info.timestamp, tb = m_entries.at(b).info.timestamp;
        return ta != tb ? ta < tb : a < b;
    });
}

SchedulingQueue::SchedulingQueue(Clock &clock, SchedulingQueueOptions options)
    : m_clock(clock), m_options(options), m_nextFlush(clock.now() + options.unschedulableFlushInterval)
{}

Clock::Duration SchedulingQueue::backoffDuration(int attempts) const
{
    if (attempts <= 0)
        return Clock::Duration::zero();
    Clock::Duration d = m_options.initialBackoff;
    for (int i = 1; i < attempts; ++i) {
        if (d > m_options.maxBackoff - d)
            return m_options.maxBackoff;
        d += d;
    }
    return std::min(d, m_options.maxBackoff);
}

Clock::TimePoint SchedulingQueue::backoffExpiry(const QueuedPodInfo &info) const
{
    return info.timestamp + backoffDuration(info.attempts);
}

void SchedulingQueue::place(const std::string &key, Entry &entry, Where where)
{
    entry.where = where;
    entry.seq = ++m_seq;
    switch (where) {
    case Where::Active:
        m_active.emplace(-entry.info.pod->priority, entry.info.timestamp, entry.seq, key);
        break;
    case Where::Backoff:
        entry.expiry = backoffExpiry(entry.info);
        m_backoff.emplace(entry.expiry, entry.seq, key);
        break;
    case Where::Unschedulable: m_unschedulable.insert(key); break;
    case Where::Nowhere: break;
    }
}

void SchedulingQueue::unplace(const std::string &key, Entry &entry)
{
    switch (entry.where) {
    case Where::Active: m_active.erase({-entry.info.pod->priority, entry.info.timestamp, entry.seq, key}); break;
    case Where::Backoff: m_backoff.erase({entry.expiry, entry.seq, key}); break;
    case Where::Unschedulable: m_unschedulable.erase(key); break;
    case Where::Nowhere: break;
    }
    entry.where = Where::Nowhere;
}

void SchedulingQueue::moveOut(const std::string &key, Entry &entry, Clock::TimePoint now)
{
    unplace(key, entry);
    place(key, entry, now < backoffExpiry(entry.info) ? Where::Backoff : Where::Active);
}

void SchedulingQueue::add(PodInfoPtr pod)
{
    if (!pod)
        return;
    if (m_entries.count(pod->key)) {
        update(std::move(pod));
        return;
    }
    const std::string key = pod->key;
    Entry &entry = m_entries[key];
    entry.info.pod = std::move(pod);
    entry.info.timestamp = m_clock.now();
    place(key, entry, Where::Active);
}

void SchedulingQueue::update(PodInfoPtr pod)
{
    if (!pod)
        return;
    auto it = m_entries.find(pod->key);
    if (it == m_entries.end()) {
        add(std::move(pod));
        return;
    }
    Entry &entry = it->second;
    const bool changed = entry.where == Where::Unschedulable
                         && withoutStatus(entry.info.pod->object) != withoutStatus(pod->object);
    // The ordering keys hold the priority, which cannot change on a pod; swap in place.
    entry.info.pod = std::move(pod);
    if (changed)
        moveOut(it->first, entry, m_clock.now());
}

void SchedulingQueue::remove(const std::string &key)
{
    auto it = m_entries.find(key);
    if (it == m_entries.end())
        return;
    unplace(key, it->second);
    m_entries.erase(it);
}

SchedulingQueue::Where SchedulingQueue::where(const std::string &key) const
{
    auto it = m_entries.find(key);
    return it == m_entries.end() ? Where::Nowhere : it->second.where;
}

const QueuedPodInfo *SchedulingQueue::find(const std::string &key) const
{
    auto it = m_entries.find(key);
    return it == m_entries.end() ? nullptr : &it->second.info;
}

std::vector<std::string> SchedulingQueue::keys() const
{
    std::vector<std::string> out;
    out.reserve(m_entries.size());
    for (const auto &[key, entry] : m_entries)
        out.push_back(key);
    return out;
}

void SchedulingQueue::flush(Clock::TimePoint now)
{
    while (!m_backoff.empty() && std::get<0>(*m_backoff.begin()) <= now) {
        const std::string key = std::get<2>(*m_backoff.begin());
        Entry &entry = m_entries.at(key);
        unplace(key, entry);
        place(key, entry, Where::Active);
    }
    if (now >= m_nextFlush) {
        // On a fixed 30 s grid, as kube-scheduler's ticker, however late we look.
        const auto interval = std::max(m_options.unschedulableFlushInterval, Clock::Duration(1));
        m_nextFlush += ((now - m_nextFlush) / interval + 1) * interval;
        std::vector<std::string> stale;
        for (const auto &key : m_unschedulable)
            if (now - m_entries.at(key).info.timestamp > m_options.maxInUnschedulable)
                stale.push_back(key);
        sortByAge(stale);
        for (const auto &key : stale)
            moveOut(key, m_entries.at(key), now);
    }
}

std::optional<QueuedPodInfo> SchedulingQueue::pop()
{
    const auto now = m_clock.now();
    flush(now);
    if (m_active.empty())
        return std::nullopt;
    const std::string key = std::get<3>(*m_active.begin());
    auto it = m_entries.find(key);
    unplace(key, it->second);
    QueuedPodInfo info = std::move(it->second.info);
    m_entries.erase(it);
    if (info.attempts++ == 0)
        info.initialAttempt = now;
    return info;
}

void SchedulingQueue::addFailed(QueuedPodInfo info, bool unschedulable)
{
    if (!info.pod)
        return;
    const std::string key = info.pod->key;
    if (auto it = m_entries.find(key); it != m_entries.end()) {
        // Re-added while it was being scheduled: the newer object wins, the history stays.
        info.pod = it->second.info.pod;
        unplace(key, it->second);
        m_entries.erase(it);
    }
    info.timestamp = m_clock.now();
    Entry &entry = m_entries[key];
    entry.info = std::move(info);
    place(key, entry, unschedulable ? Where::Unschedulable : Where::Backoff);
}

size_t SchedulingQueue::moveAllToActiveOrBackoff(uint32_t event)
{
    if (m_unschedulable.empty())
        return 0;
    const auto now = m_clock.now();
    std::vector<std::string> moving;
    for (const auto &key : m_unschedulable)
        if (m_entries.at(key).info.retryEvents & event)
            moving.push_back(key);
    sortByAge(moving);
    for (const auto &key : moving)
        moveOut(key, m_entries.at(key), now);
    return moving.size();
}

Clock::TimePoint SchedulingQueue::nextWakeup() const
{
    if (!m_active.empty())
        return m_clock.now();
    auto next = Clock::TimePoint::max();
    if (!m_backoff.empty())
        next = std::get<0>(*m_backoff.begin());
    if (!m_unschedulable.empty())
        next = std::min(next, m_nextFlush);
    return next;
}

} // namespace podscape::core::scheduler
