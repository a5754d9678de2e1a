#pragma once
// One forwarded connection's reading side: a thread that reads a node's StreamSession and
// hands each chunk on, then reports the end. The session's writing side stays with the
// owner (writes come from the WebSocket's I/O thread).

#include "core/kubelet/runtime/containerruntime.h"

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

namespace podscape::core::apiserver {

class StreamPump
{
public:
    using Chunk = kubelet::runtime::StreamSession::Chunk;
    // onChunk returns false to stop reading (the client went away); onEnd runs once when the
    // session ended by itself, not when the pump is stopped.
    StreamPump(std::unique_ptr<kubelet::runtime::StreamSession> session, std::function<bool(Chunk &&)> onChunk,
               std::function<void()> onEnd);
    // Closes the session and joins the thread: onChunk must not be blocked for ever by then
    // (close the queue it pushes to first).
    ~StreamPump();
    StreamPump(const StreamPump &) = delete;
    StreamPump &operator=(const StreamPump &) = delete;

    kubelet::runtime::StreamSession &session() { return *m_session; }
    bool done() const { return m_done; }

private:
    void run(std::function<bool(Chunk &&)> onChunk, std::function<void()> onEnd);

    std::unique_ptr<kubelet::runtime::StreamSession> m_session;
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_done{false};
    std::thread m_thread;
};

} // namespace podscape::core::apiserver
