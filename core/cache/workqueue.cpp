#include "workqueue.h"

namespace podscape::core::cache {

namespace {
// A getter with nothing delayed still wakes now and then; adds and shutDown() wake it anyway.
constexpr auto kIdleWait = std::chrono::hours(1);
} // namespace

WorkQueue::WorkQueue(Clock &clock) : WorkQueue(clock, RateLimiter::Options{}) {}

WorkQueue::WorkQueue(Clock &clock, RateLimiter::Options rateLimits) : m_clock(clock), m_limiter(clock, rateLimits) {}

WorkQueue::~WorkQueue() { shutDown(); }

void WorkQueue::addLocked(const std::string &key)
{
    if (m_shuttingDown || m_dirty.count(key))
        return;
    m_dirty.insert(key);
    if (m_processing.count(key))
        return; // requeued by done()
    m_queue.push_back(key);
    m_cv.notify_one();
}

void WorkQueue::add(const std::string &key)
{
    std::lock_guard g(m_mutex);
    addLocked(key);
}

void WorkQueue::addAfter(const std::string &key, Clock::Duration delay)
{
    std::lock_guard g(m_mutex);
    if (m_shuttingDown)
        return;
    if (delay <= Clock::Duration::zero()) {
        addLocked(key);
        return;
    }
    const auto due = m_clock.now() + delay;
    if (auto it = m_delayedByKey.find(key); it != m_delayedByKey.end()) {
        if (it->second.first <= due)
            return;
        m_delayed.erase({it->second.first, it->second.second, key});
        m_delayedByKey.erase(it);
    }
    const bool earliest = m_delayed.empty() || due < std::get<0>(*m_delayed.begin());
    const uint64_t seq = m_sequence++;
    m_delayed.emplace(due, seq, key);
    m_delayedByKey.emplace(key, std::make_pair(due, seq));
    if (earliest) {
        ++m_delayGeneration;
        m_cv.notify_all();
    }
}

void WorkQueue::addRateLimited(const std::string &key) { addAfter(key, m_limiter.when(key)); }

void WorkQueue::forget(const std::string &key) { m_limiter.forget(key); }

int WorkQueue::numRequeues(const std::string &key) const { return m_limiter.numRequeues(key); }

void WorkQueue::promoteReadyLocked()
{
    if (m_delayed.empty())
        return;
    const auto now = m_clock.now();
    while (!m_delayed.empty() && std::get<0>(*m_delayed.begin()) <= now) {
        auto node = m_delayed.extract(m_delayed.begin());
        m_delayedByKey.erase(std::get<2>(node.value()));
        addLocked(std::get<2>(node.value()));
    }
}

std::optional<std::string> WorkQueue::get()
{
    std::unique_lock lock(m_mutex);
    while (true) {
        promoteReadyLocked();
        if (!m_queue.empty())
            break;
        if (m_shuttingDown)
            return std::nullopt;
        // Sleep until the earliest delayed key is due, an add, a new earlier due time, or
        // shutdown; then look again.
        const uint64_t generation = m_delayGeneration;
        const auto deadline = m_delayed.empty() ? m_clock.now() + kIdleWait : std::get<0>(*m_delayed.begin());
        m_clock.waitUntil(lock, m_cv, deadline, [&] {
            return m_shuttingDown || !m_queue.empty() || m_delayGeneration != generation
                || (!m_delayed.empty() && std::get<0>(*m_delayed.begin()) <= m_clock.now());
        });
    }
    std::string key = std::move(m_queue.front());
    m_queue.pop_front();
    m_processing.insert(key);
    m_dirty.erase(key);
    return key;
}

void WorkQueue::done(const std::string &key)
{
    std::lock_guard g(m_mutex);
    m_processing.erase(key);
    if (m_dirty.count(key)) {
        m_queue.push_back(key);
        m_cv.notify_one();
    }
}

void WorkQueue::shutDown()
{
    std::lock_guard g(m_mutex);
    m_shuttingDown = true;
    m_delayed.clear();
    m_delayedByKey.clear();
    m_cv.notify_all();
}

bool WorkQueue::isShuttingDown() const
{
    std::lock_guard g(m_mutex);
    return m_shuttingDown;
}

size_t WorkQueue::len() const
{
    std::lock_guard g(m_mutex);
    // Due keys count as queued even before a get() moves them: what get() would see.
    size_t n = m_queue.size();
    if (!m_shuttingDown) {
        const auto now = m_clock.now();
        for (auto it = m_delayed.begin(); it != m_delayed.end() && std::get<0>(*it) <= now; ++it)
            if (!m_dirty.count(std::get<2>(*it)) && !m_processing.count(std::get<2>(*it)))
                ++n;
    }
    return n;
}

size_t WorkQueue::delayedLen() const
{
    std::lock_guard g(m_mutex);
    const auto now = m_clock.now();
    size_t n = 0;
    for (auto it = m_delayed.rbegin(); it != m_delayed.rend() && std::get<0>(*it) > now; ++it)
        ++n;
    return n;
}

} // namespace podscape::core::cache
