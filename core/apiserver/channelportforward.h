#pragma once
// pods/portforward in the WebSocket channel protocol other clients use (the Python client,
// client-go's WebSocket dialer): ports come in the query (?ports=8080,9090), one forwarded
// connection per port for the life of the WebSocket. Port i has data channel 2i and error
// channel 2i+1; the server's first message on each channel is the port number (two bytes,
// little-endian), after which every message is the channel byte and bytes.

#include "core/apiserver/httpsserver.h"
#include "core/apiserver/outboundqueue.h"
#include "core/apiserver/spdyportforward.h"
#include "core/apiserver/streampump.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace podscape::core::apiserver {

class ChannelPortForward final : public WebSocketHandler
{
public:
    // The subprotocol served among those offered; empty when none is.
    static std::string negotiate(const std::string &offered);
    // The ports of a ?ports= query (repeated or comma-separated), or BadRequest.
    static Result<std::vector<int>> parsePorts(const std::vector<std::string> &values);

    // Dials every port at once; a port that cannot be dialled reports on its error channel.
    ChannelPortForward(PortDialer dialer, std::string pod, std::vector<int> ports);
    ~ChannelPortForward() override;

    void onMessage(std::string_view data) override;
    void onClosed() override;
    std::optional<std::string> next(std::chrono::milliseconds wait) override;
    bool finished() const override;

private:
    std::vector<int> m_ports;
    OutboundQueue m_out{1024 * 1024};
    mutable std::mutex m_mutex;
    std::vector<std::unique_ptr<StreamPump>> m_pumps; // by port index; null when the dial failed
    size_t m_open = 0;                                // pumps whose session has not ended
    bool m_clientGone = false;
};

} // namespace podscape::core::apiserver
