#pragma once
// Messages waiting for a WebSocket client, bounded in bytes: producers (one thread per
// forwarded connection) wait while it is full, so a slow client slows its own streams and
// memory stays bounded. Small control messages may go past the bound.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

namespace podscape::core::apiserver {

class OutboundQueue
{
public:
    explicit OutboundQueue(size_t maxBytes) : m_maxBytes(maxBytes) {}

    // Waits while the queue is full (unless `force`); false once closed.
    bool push(std::string message, bool force = false);
    // The oldest message, or with `concatenate` as many as fit in maxBytes joined into one;
    // nullopt when none came within `wait`.
    std::optional<std::string> pop(std::chrono::milliseconds wait, bool concatenate);
    // Wakes and refuses producers; what is queued can still be popped.
    void close();
    bool empty() const;

private:
    const size_t m_maxBytes;
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<std::string> m_messages;
    size_t m_bytes = 0;
    bool m_closed = false;
};

} // namespace podscape::core::apiserver
