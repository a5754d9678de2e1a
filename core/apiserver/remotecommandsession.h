#pragma once
// exec and attach over WebSocket, in the channel protocol kubectl speaks (v5.channel.k8s.io,
// and v4.channel.k8s.io for older clients): every binary message starts with its channel
// byte: 0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 terminal resize ({"Width":120,
// "Height":40}), and in v5 255 to close one of the client's channels (255 0: end of stdin).
//
// The session ends after the command exits, with a Status on channel 3: Success, or Failure
// with reason NonZeroExitCode and the code as an ExitCode cause, which kubectl turns into
// its own exit code.

#include "core/apiserver/httpsserver.h"
#include "core/kubelet/runtime/containerruntime.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace podscape::core::apiserver {

class RemoteCommandSession final : public WebSocketHandler
{
public:
    // The subprotocols served, best first.
    static const std::vector<std::string> &protocols();
    // The best protocol among those a client offers in Sec-WebSocket-Protocol
    // ("v5.channel.k8s.io, v4.channel.k8s.io"); empty when none is served.
    static std::string negotiate(const std::string &offered);

    RemoteCommandSession(std::unique_ptr<kubelet::runtime::StreamSession> session, std::string protocol);
    ~RemoteCommandSession() override;

    void onMessage(std::string_view data) override;
    void onClosed() override;
    std::optional<std::string> next(std::chrono::milliseconds wait) override;
    bool finished() const override;

private:
    std::unique_ptr<kubelet::runtime::StreamSession> m_session;
    std::string m_protocol;
    mutable std::mutex m_mutex;
    bool m_statusSent = false;
    bool m_clientGone = false;
};

} // namespace podscape::core::apiserver
