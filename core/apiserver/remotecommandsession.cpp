#include "remotecommandsession.h"

#include "core/base/logger.h"

#include <nlohmann/json.hpp>

namespace podscape::core::apiserver {

using nlohmann::json;

namespace {
enum Channel : unsigned char { Stdin = 0, Stdout = 1, Stderr = 2, Status = 3, Resize = 4, Close = 255 };
}

const std::vector<std::string> &RemoteCommandSession::protocols()
{
    static const std::vector<std::string> served = {"v5.channel.k8s.io", "v4.channel.k8s.io"};
    return served;
}

std::string RemoteCommandSession::negotiate(const std::string &offered)
{
    std::vector<std::string> offers;
    size_t start = 0;
    while (start <= offered.size()) {
        size_t comma = offered.find(',', start);
        std::string item = offered.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (!item.empty())
            offers.push_back(item);
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    for (const auto &p : protocols())
        if (std::find(offers.begin(), offers.end(), p) != offers.end())
            return p;
    return {};
}

RemoteCommandSession::RemoteCommandSession(std::unique_ptr<kubelet::runtime::StreamSession> session, std::string protocol)
    : m_session(std::move(session)), m_protocol(std::move(protocol))
{}

RemoteCommandSession::~RemoteCommandSession() { m_session->close(); }

void RemoteCommandSession::onMessage(std::string_view data)
{
    if (data.empty())
        return;
    const auto channel = static_cast<unsigned char>(data.front());
    data.remove_prefix(1);
    switch (channel) {
    case Stdin:
        if (auto written = m_session->write(data); !written)
            PS_LOG(Debug, "apiserver") << "exec stdin: " << written.error().message();
        break;
    case Resize: {
        json size = json::parse(data, nullptr, false);
        if (size.is_object() && size.value("Width", 0) > 0 && size.value("Height", 0) > 0)
            m_session->resize(static_cast<uint16_t>(size.value("Width", 0)), static_cast<uint16_t>(size.value("Height", 0)));
        break;
    }
    case Close:
        // v5: the client closed one of its channels; only stdin can be closed.
        if (m_protocol == "v5.channel.k8s.io" && !data.empty() && static_cast<unsigned char>(data.front()) == Stdin)
            m_session->closeWrite();
        break;
    default: break; // a client has nothing to say on the output channels
    }
}

void RemoteCommandSession::onClosed()
{
    std::lock_guard g(m_mutex);
    m_clientGone = true;
    m_session->close(); // a command nobody reads any more ends with its connection
}

std::optional<std::string> RemoteCommandSession::next(std::chrono::milliseconds wait)
{
    {
        std::lock_guard g(m_mutex);
        if (m_statusSent || m_clientGone)
            return std::nullopt;
    }
    if (auto chunk = m_session->read(wait)) {
        std::string message(1, static_cast<char>(chunk->stream == 2 ? Stderr : Stdout));
        message += chunk->data;
        return message;
    }
    if (!m_session->isEnded())
        return std::nullopt;
    const int code = m_session->exitCode().value_or(0);
    json status = {{"metadata", json::object()}, {"status", code == 0 ? "Success" : "Failure"}};
    if (code != 0) {
        status["message"] = "command terminated with non-zero exit code: error executing command, exit status "
            + std::to_string(code);
        status["reason"] = "NonZeroExitCode";
        status["details"] = {{"causes", json::array({{{"reason", "ExitCode"}, {"message", std::to_string(code)}}})}};
    }
    std::lock_guard g(m_mutex);
    m_statusSent = true;
    return std::string(1, static_cast<char>(Status)) + status.dump();
}

bool RemoteCommandSession::finished() const
{
    std::lock_guard g(m_mutex);
    return m_statusSent || m_clientGone;
}

} // namespace podscape::core::apiserver
