#pragma once
// pods/portforward as kubectl 1.31+ speaks it: SPDY/3.1 inside a WebSocket
// (subprotocol SPDY/3.1+portforward.k8s.io). For every local connection kubectl opens two
// SPDY streams with headers streamtype=error|data, port and requestid; once both exist the
// pod's port is dialled through the node. The data stream carries the bytes both ways; the
// error stream carries a message when the dial or the connection fails. Each side ends its
// half with FIN; kubectl resets the streams when it is done.
//
// SPDY flow control is not applied: kubectl's SPDY library does not use it either, and the
// WebSocket's own back-pressure bounds what is in flight.

#include "core/apiserver/httpsserver.h"
#include "core/apiserver/outboundqueue.h"
#include "core/apiserver/spdyframer.h"
#include "core/apiserver/streampump.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace podscape::core::apiserver {

// Dials a port of the pod: one StreamSession per forwarded connection.
using PortDialer = std::function<Result<std::unique_ptr<kubelet::runtime::StreamSession>>(int port)>;

class SpdyPortForward final : public WebSocketHandler
{
public:
    static constexpr const char *kProtocol = "SPDY/3.1+portforward.k8s.io";
    static constexpr size_t kMaxConnections = 256; // at once, per kubectl port-forward

    // `pod` names the pod in error messages ("default/kubia").
    SpdyPortForward(PortDialer dialer, std::string pod);
    ~SpdyPortForward() override;

    void onMessage(std::string_view data) override;
    void onClosed() override;
    std::optional<std::string> next(std::chrono::milliseconds wait) override;
    bool finished() const override;

private:
    struct Connection {
        uint32_t errorStream = 0, dataStream = 0;
        int port = 0;
        bool dataReset = false;
        bool errorClosed = false;
        std::unique_ptr<StreamPump> pump;
    };
    void onFrame(SpdyFrame &frame);
    void onSynStream(const SpdyFrame &frame);
    void start(const std::string &requestId, Connection &c);
    void failConnection(Connection &c, const std::string &message);
    void send(std::string frame) { m_out.push(std::move(frame), true); }
    void protocolError(const std::string &message);

    PortDialer m_dialer;
    std::string m_pod;
    OutboundQueue m_out{1024 * 1024};
    mutable std::mutex m_mutex;
    SpdyFramer m_framer;
    std::map<std::string, Connection> m_connections; // by requestid
    std::map<uint32_t, std::string> m_streams;       // stream id -> requestid
    // Pumps of connections kubectl reset, joined once their thread has ended (joining one
    // still running could wait on the queue, which this I/O thread must never do).
    std::vector<std::unique_ptr<StreamPump>> m_retired;
    bool m_clientGone = false;
    bool m_broken = false;
};

} // namespace podscape::core::apiserver
