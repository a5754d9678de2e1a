#include "outboundqueue.h"

namespace podscape::core::apiserver {

bool OutboundQueue::push(std::string message, bool force)
{
    std::unique_lock lock(m_mutex);
    if (!force)
        m_changed.wait(lock, [&] { return m_closed || m_bytes + message.size() <= m_maxBytes || m_messages.empty(); });
    if (m_closed)
        return false;
    m_bytes += message.size();
    m_messages.push_back(std::move(message));
    m_changed.notify_all();
    return true;
}

std::optional<std::string> OutboundQueue::pop(std::chrono::milliseconds wait, bool concatenate)
{
    std::unique_lock lock(m_mutex);
    if (!m_changed.wait_for(lock, wait, [&] { return !m_messages.empty(); }))
        return std::nullopt;
    std::string out = std::move(m_messages.front());
    m_messages.pop_front();
    while (concatenate && !m_messages.empty() && out.size() + m_messages.front().size() <= m_maxBytes) {
        out += m_messages.front();
        m_messages.pop_front();
    }
    m_bytes -= out.size();
    m_changed.notify_all();
    return out;
}

void OutboundQueue::close()
{
    std::lock_guard g(m_mutex);
    m_closed = true;
    m_changed.notify_all();
}

bool OutboundQueue::empty() const
{
    std::lock_guard g(m_mutex);
    return m_messages.empty();
}

} // namespace podscape::core::apiserver
