#include "spdyportforward.h"

#include "core/base/logger.h"

#include <charconv>

namespace podscape::core::apiserver {

namespace {
constexpr size_t kDataChunk = 32 * 1024; // what kubectl's own copies use
}

SpdyPortForward::SpdyPortForward(PortDialer dialer, std::string pod) : m_dialer(std::move(dialer)), m_pod(std::move(pod)) {}

SpdyPortForward::~SpdyPortForward()
{
    // Producers blocked on a full queue wake up and stop; then the pumps can be joined.
    m_out.close();
    std::vector<std::unique_ptr<StreamPump>> pumps;
    {
        std::lock_guard g(m_mutex);
        for (auto &[id, c] : m_connections)
            if (c.pump)
                pumps.push_back(std::move(c.pump));
        for (auto &p : m_retired)
            pumps.push_back(std::move(p));
        m_retired.clear();
    }
    pumps.clear();
}

void SpdyPortForward::onMessage(std::string_view data)
{
    std::vector<std::unique_ptr<StreamPump>> finished;
    {
        std::lock_guard g(m_mutex);
        if (m_broken || m_clientGone)
            return;
        auto frames = m_framer.feed(data);
        if (!frames) {
            protocolError(frames.error().message());
            return;
        }
        for (auto &f : *frames)
            onFrame(f);
        // Pumps whose thread has ended can be joined without waiting.
        for (auto it = m_retired.begin(); it != m_retired.end();)
            if ((*it)->done()) {
                finished.push_back(std::move(*it));
                it = m_retired.erase(it);
            } else {
                ++it;
            }
    }
}

void SpdyPortForward::protocolError(const std::string &message)
{
    m_broken = true;
    PS_LOG(Warning, "apiserver") << "port-forward to " << m_pod << " ended: " << message;
    send(SpdyFramer::goAway(0, SpdyFrame::kProtocolError));
    for (auto &[id, c] : m_connections)
        if (c.pump)
            c.pump->session().close();
}

void SpdyPortForward::onFrame(SpdyFrame &f)
{
    switch (f.type) {
    case SpdyFrame::SynStream: onSynStream(f); break;
    case SpdyFrame::Data: {
        auto s = m_streams.find(f.streamId);
        if (s == m_streams.end())
            break; // a stream already reset: its late data is dropped
        auto c = m_connections.find(s->second);
        if (c == m_connections.end() || f.streamId != c->second.dataStream || !c->second.pump)
            break; // nothing is read from the client's error stream
        auto &session = c->second.pump->session();
        if (!f.data.empty())
            (void)session.write(f.data); // a failed write shows as the session's end
        if (f.fin())
            session.closeWrite();
        break;
    }
    case SpdyFrame::RstStream: {
        auto s = m_streams.find(f.streamId);
        if (s == m_streams.end())
            break;
        const std::string requestId = s->second;
        auto c = m_connections.find(requestId);
        if (c != m_connections.end() && f.streamId == c->second.dataStream) {
            // kubectl is done with this connection: forget both of its streams.
            if (c->second.pump) {
                c->second.pump->session().close();
                m_retired.push_back(std::move(c->second.pump));
            }
            m_streams.erase(c->second.errorStream);
            m_streams.erase(c->second.dataStream);
            m_connections.erase(c);
        } else if (c != m_connections.end()) {
            c->second.errorClosed = true;
        }
        break;
    }
    case SpdyFrame::Ping: send(SpdyFramer::ping(f.value)); break;
    default: break; // SETTINGS, WINDOW_UPDATE, HEADERS, GOAWAY: nothing to do
    }
}

void SpdyPortForward::onSynStream(const SpdyFrame &f)
{
    const std::string type = f.header("streamtype");
    const std::string requestId = f.header("requestid");
    const std::string portText = f.header("port");
    int port = 0;
    auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
    const bool portOk = ec == std::errc() && end == portText.data() + portText.size() && port > 0 && port < 65536;
    if (m_streams.count(f.streamId) || (type != "error" && type != "data") || !portOk) {
        send(SpdyFramer::rstStream(f.streamId, SpdyFrame::kProtocolError));
        return;
    }
    auto existing = m_connections.find(requestId);
    if (existing == m_connections.end() && m_connections.size() >= kMaxConnections) {
        send(SpdyFramer::rstStream(f.streamId, SpdyFrame::kRefusedStream));
        return;
    }
    Connection &c = m_connections[requestId];
    uint32_t &slot = type == "error" ? c.errorStream : c.dataStream;
    if (slot != 0 || (c.port != 0 && c.port != port)) {
        send(SpdyFramer::rstStream(f.streamId, SpdyFrame::kProtocolError));
        return;
    }
    slot = f.streamId;
    c.port = port;
    m_streams[f.streamId] = requestId;
    send(m_framer.synReply(f.streamId, {}, false));
    if (c.errorStream && c.dataStream)
        start(requestId, c);
}

void SpdyPortForward::start(const std::string &requestId, Connection &c)
{
    auto session = m_dialer(c.port);
    if (!session) {
        // As the kubelet words it; kubectl prints it after "an error occurred forwarding".
        failConnection(c, "error forwarding port " + std::to_string(c.port) + " to pod " + m_pod + ": "
                              + session.error().message());
        return;
    }
    c.pump = std::make_unique<StreamPump>(
        std::move(*session),
        [this, requestId](StreamPump::Chunk &&chunk) {
            uint32_t stream = 0;
            {
                std::lock_guard g(m_mutex);
                auto it = m_connections.find(requestId);
                if (it == m_connections.end())
                    return false;
                if (chunk.stream == 2 && it->second.errorClosed)
                    return true;
                stream = chunk.stream == 2 ? it->second.errorStream : it->second.dataStream;
            }
            std::string_view rest = chunk.data;
            while (!rest.empty()) {
                const auto piece = rest.substr(0, kDataChunk);
                rest.remove_prefix(piece.size());
                if (!m_out.push(SpdyFramer::data(stream, piece, false)))
                    return false;
            }
            return true;
        },
        [this, requestId] {
            std::lock_guard g(m_mutex);
            auto it = m_connections.find(requestId);
            if (it == m_connections.end())
                return;
            send(SpdyFramer::data(it->second.dataStream, {}, true));
            if (!it->second.errorClosed) {
                it->second.errorClosed = true;
                send(SpdyFramer::data(it->second.errorStream, {}, true));
            }
        });
}

void SpdyPortForward::failConnection(Connection &c, const std::string &message)
{
    c.errorClosed = true;
    send(SpdyFramer::data(c.errorStream, message, true));
    send(SpdyFramer::data(c.dataStream, {}, true));
}

void SpdyPortForward::onClosed()
{
    std::lock_guard g(m_mutex);
    m_clientGone = true;
    for (auto &[id, c] : m_connections)
        if (c.pump)
            c.pump->session().close();
    m_out.close();
}

std::optional<std::string> SpdyPortForward::next(std::chrono::milliseconds wait)
{
    return m_out.pop(wait, true);
}

bool SpdyPortForward::finished() const
{
    std::lock_guard g(m_mutex);
    return (m_clientGone || m_broken) && m_out.empty();
}

} // namespace podscape::core::apiserver
