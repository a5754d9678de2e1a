#include "streampump.h"

namespace podscape::core::apiserver {

StreamPump::StreamPump(std::unique_ptr<kubelet::runtime::StreamSession> session, std::function<bool(Chunk &&)> onChunk,
                       std::function<void()> onEnd)
    : m_session(std::move(session))
{
    m_thread = std::thread([this, onChunk = std::move(onChunk), onEnd = std::move(onEnd)]() mutable {
        run(std::move(onChunk), std::move(onEnd));
    });
}

StreamPump::~StreamPump()
{
    m_stop = true;
    m_session->close();
    if (m_thread.joinable())
        m_thread.join();
}

void StreamPump::run(std::function<bool(Chunk &&)> onChunk, std::function<void()> onEnd)
{
    // A short read timeout keeps the thread responsive to m_stop whatever the session does.
    constexpr auto kPoll = std::chrono::milliseconds(100);
    bool clientGone = false;
    while (!m_stop) {
        auto chunk = m_session->read(kPoll);
        if (chunk) {
            if (!onChunk(std::move(*chunk))) {
                clientGone = true;
                break;
            }
            continue;
        }
        if (m_session->isEnded())
            break;
    }
    if (!m_stop && !clientGone)
        onEnd();
    m_done = true;
}

} // namespace podscape::core::apiserver
