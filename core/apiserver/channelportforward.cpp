#include "channelportforward.h"

#include <charconv>
#include <sstream>

namespace podscape::core::apiserver {

namespace {

std::string channelMessage(size_t channel, std::string_view data)
{
    std::string m(1, char(channel));
    m += data;
    return m;
}

std::string portMessage(size_t channel, int port)
{
    const char bytes[2] = {char(port & 0xFF), char((port >> 8) & 0xFF)};
    return channelMessage(channel, std::string_view(bytes, 2));
}

} // namespace

std::string ChannelPortForward::negotiate(const std::string &offered)
{
    std::stringstream in(offered);
    std::string p;
    while (std::getline(in, p, ',')) {
        p.erase(0, p.find_first_not_of(' '));
        p.erase(p.find_last_not_of(' ') + 1);
        if (p == "v4.channel.k8s.io" || p == "channel.k8s.io")
            return p;
    }
    return {};
}

Result<std::vector<int>> ChannelPortForward::parsePorts(const std::vector<std::string> &values)
{
    std::vector<int> ports;
    for (const auto &v : values) {
        std::stringstream in(v);
        std::string p;
        while (std::getline(in, p, ',')) {
            int port = 0;
            auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
            if (ec != std::errc() || end != p.data() + p.size() || port <= 0 || port > 65535)
                return fail(Reason::BadRequest, "invalid port \"" + p + "\": ports must be numbers from 1 to 65535");
            ports.push_back(port);
        }
    }
    if (ports.empty())
        return fail(Reason::BadRequest, "pods/portforward over this protocol needs the ports in the query: ?ports=8080");
    if (ports.size() > 64)
        return fail(Reason::BadRequest, "at most 64 ports can be forwarded over one connection");
    return ports;
}

ChannelPortForward::ChannelPortForward(PortDialer dialer, std::string pod, std::vector<int> ports)
    : m_ports(std::move(ports))
{
    std::lock_guard g(m_mutex);
    for (size_t i = 0; i < m_ports.size(); ++i) {
        m_out.push(portMessage(2 * i, m_ports[i]), true);
        m_out.push(portMessage(2 * i + 1, m_ports[i]), true);
    }
    for (size_t i = 0; i < m_ports.size(); ++i) {
        auto session = dialer(m_ports[i]);
        if (!session) {
            m_out.push(channelMessage(2 * i + 1, "error forwarding port " + std::to_string(m_ports[i]) + " to pod " + pod
                                                     + ": " + session.error().message()),
                       true);
            m_pumps.push_back(nullptr);
            continue;
        }
        ++m_open;
        m_pumps.push_back(std::make_unique<StreamPump>(
            std::move(*session),
            [this, i](StreamPump::Chunk &&chunk) {
                return m_out.push(channelMessage(chunk.stream == 2 ? 2 * i + 1 : 2 * i, chunk.data));
            },
            [this] {
                std::lock_guard g(m_mutex);
                --m_open;
            }));
    }
}

ChannelPortForward::~ChannelPortForward()
{
    m_out.close();
    std::vector<std::unique_ptr<StreamPump>> pumps;
    {
        std::lock_guard g(m_mutex);
        pumps = std::move(m_pumps);
    }
    pumps.clear();
}

void ChannelPortForward::onMessage(std::string_view data)
{
    if (data.empty())
        return;
    const size_t channel = uint8_t(data.front());
    data.remove_prefix(1);
    std::lock_guard g(m_mutex);
    // Only data channels carry bytes from the client; a write to an ended connection is dropped.
    if (channel % 2 == 0 && channel / 2 < m_pumps.size() && m_pumps[channel / 2] && !data.empty())
        (void)m_pumps[channel / 2]->session().write(data);
}

void ChannelPortForward::onClosed()
{
    std::lock_guard g(m_mutex);
    m_clientGone = true;
    for (auto &p : m_pumps)
        if (p)
            p->session().close();
    m_out.close();
}

std::optional<std::string> ChannelPortForward::next(std::chrono::milliseconds wait)
{
    return m_out.pop(wait, false);
}

bool ChannelPortForward::finished() const
{
    std::lock_guard g(m_mutex);
    // Every connection has ended (or none could be made) and all was sent: the server closes.
    return m_clientGone || (m_open == 0 && m_out.empty());
}

} // namespace podscape::core::apiserver
