#include "nodeproxy.h"

#include "core/apiserver/channelportforward.h"
#include "core/apiserver/remotecommandsession.h"
#include "core/apiserver/spdyportforward.h"
#include "core/base/timeformat.h"

#include <charconv>

namespace podscape::core::apiserver {

using nlohmann::json;
namespace rt = kubelet::runtime;

namespace {

Result<std::optional<int64_t>> intParam(const RequestInfo &info, const std::string &key, int64_t min)
{
    auto it = info.query.find(key);
    if (it == info.query.end() || it->second.empty())
        return std::optional<int64_t>();
    int64_t v = 0;
    const auto &s = it->second;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < min)
        return fail(Reason::BadRequest, "invalid " + key + " \"" + s + "\": it must be an integer of at least " + std::to_string(min));
    return std::optional<int64_t>(v);
}

Result<rt::LogOptions> logOptions(const RequestInfo &info, Clock &clock)
{
    rt::LogOptions o;
    o.follow = info.queryFlag("follow");
    o.previous = info.queryFlag("previous");
    o.timestamps = info.queryFlag("timestamps");
    auto tail = intParam(info, "tailLines", 0);
    if (!tail)
        return tail.takeError();
    o.tailLines = *tail;
    auto limit = intParam(info, "limitBytes", 1);
    if (!limit)
        return limit.takeError();
    o.limitBytes = *limit;
    auto sinceSeconds = intParam(info, "sinceSeconds", 1);
    if (!sinceSeconds)
        return sinceSeconds.takeError();
    const std::string sinceTime = info.queryValue("sinceTime");
    if (*sinceSeconds && !sinceTime.empty())
        return fail(Reason::BadRequest, "at most one of sinceTime or sinceSeconds may be specified");
    if (*sinceSeconds)
        o.since = clock.now() - std::chrono::seconds(**sinceSeconds);
    if (!sinceTime.empty()) {
        auto t = parseRfc3339(sinceTime);
        if (!t)
            return fail(Reason::BadRequest, "sinceTime \"" + sinceTime + "\" is not an RFC 3339 time (2024-05-01T10:00:00Z)");
        o.since = *t;
    }
    return o;
}

std::string render(const std::vector<rt::LogLine> &lines, bool timestamps)
{
    std::string out;
    for (const auto &l : lines) {
        out += l.format(timestamps);
        out += '\n';
    }
    return out;
}

// A followed log as a chunked text/plain body. limitBytes counts across chunks: the runtime
// applied it to the lines that existed, this counts what follows.
class LogResponseStream final : public ResponseStream
{
public:
    LogResponseStream(std::unique_ptr<rt::LogStream> stream, bool timestamps, std::optional<int64_t> limitBytes)
        : m_stream(std::move(stream)), m_timestamps(timestamps), m_left(limitBytes)
    {}
    ~LogResponseStream() override { m_stream->close(); }

    std::optional<std::string> next(std::chrono::milliseconds wait) override
    {
        if (m_done)
            return std::nullopt;
        auto chunk = m_stream->read(wait);
        m_done = chunk.ended;
        std::string text = render(chunk.lines, m_timestamps);
        if (m_left) {
            if (int64_t(text.size()) >= *m_left) {
                text.resize(size_t(*m_left));
                m_done = true;
            }
            *m_left -= int64_t(text.size());
        }
        if (text.empty())
            return std::nullopt;
        return text;
    }
    bool finished() const override { return m_done; }

private:
    std::unique_ptr<rt::LogStream> m_stream;
    bool m_timestamps;
    std::optional<int64_t> m_left;
    bool m_done = false;
};

} // namespace

Result<std::string> nodeOfPod(const json &pod)
{
    const json &spec = pod.value("spec", json::object());
    std::string node = spec.value("nodeName", "");
    if (!node.empty())
        return node;
    const std::string name = pod.value("metadata", json::object()).value("name", "");
    std::string why;
    for (const auto &c : pod.value("status", json::object()).value("conditions", json::array()))
        if (c.value("type", "") == "PodScheduled" && c.value("status", "") == "False")
            why = c.value("message", "");
    return fail(Reason::BadRequest, "pod \"" + name + "\" is not scheduled to a node yet" + (why.empty() ? "" : " (" + why + ")")
                                        + "; it has no running containers to reach");
}

HttpResponse NodeProxy::logs(const RequestInfo &info, const json &pod)
{
    auto node = nodeOfPod(pod);
    if (!node)
        return HttpResponse::fromError(node.error());
    auto options = logOptions(info, m_clock);
    if (!options)
        return HttpResponse::fromError(options.error());
    const std::string container = info.queryValue("container");
    HttpResponse r;
    r.contentType = "text/plain";
    if (options->follow) {
        auto stream = m_nodes.followContainerLogs(*node, info.ns, info.name, container, *options);
        if (!stream)
            return HttpResponse::fromError(stream.error());
        r.stream = std::make_shared<LogResponseStream>(std::move(*stream), options->timestamps, options->limitBytes);
        return r;
    }
    auto lines = m_nodes.containerLogs(*node, info.ns, info.name, container, *options);
    if (!lines)
        return HttpResponse::fromError(lines.error());
    r.body = render(*lines, options->timestamps);
    // A line the limit cut has no newline: the output stops at exactly limitBytes.
    if (options->limitBytes && int64_t(r.body.size()) > *options->limitBytes)
        r.body.resize(size_t(*options->limitBytes));
    return r;
}

HttpResponse NodeProxy::remoteCommand(const HttpRequest &request, const RequestInfo &info, const json &pod, bool attach)
{
    auto node = nodeOfPod(pod);
    if (!node)
        return HttpResponse::fromError(node.error());
    const bool in = info.queryFlag("stdin"), out = info.queryFlag("stdout"), err = info.queryFlag("stderr");
    const bool tty = info.queryFlag("tty");
    if (!in && !out && !err)
        return HttpResponse::fromError(Error(Reason::BadRequest, "you must specify at least one of stdin, stdout, stderr"));
    const std::string container = info.queryValue("container");
    Result<std::unique_ptr<rt::StreamSession>> session = fail(Reason::InternalError, "no session");
    if (attach) {
        rt::AttachOptions o{in, out, err && !tty, tty};
        session = m_nodes.attach(*node, info.ns, info.name, container, o);
    } else {
        rt::ExecOptions o;
        o.command = info.queryValues("command");
        if (o.command.empty())
            return HttpResponse::fromError(Error(Reason::BadRequest, "you must specify at least 1 command"));
        o.stdinOpen = in, o.stdoutOpen = out, o.stderrOpen = err && !tty, o.tty = tty;
        session = m_nodes.exec(*node, info.ns, info.name, container, o);
    }
    if (!session)
        return HttpResponse::fromError(session.error());
    const std::string protocol = RemoteCommandSession::negotiate(request.header("sec-websocket-protocol"));
    if (protocol.empty() || request.method != "GET")
        // kubectl before 1.30 (or with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false) asks for SPDY.
        return HttpResponse::fromError(Error(
            Reason::BadRequest, "this server streams exec and attach over WebSocket only (v5.channel.k8s.io or "
                                "v4.channel.k8s.io); use kubectl 1.30 or newer without KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false"));
    HttpResponse r;
    r.status = 101;
    r.webSocket = std::make_shared<RemoteCommandSession>(std::move(*session), protocol);
    r.webSocketProtocol = protocol;
    return r;
}

HttpResponse NodeProxy::portForward(const HttpRequest &request, const RequestInfo &info, const json &pod)
{
    auto node = nodeOfPod(pod);
    if (!node)
        return HttpResponse::fromError(node.error());
    const std::string offered = request.header("sec-websocket-protocol");
    const std::string podName = info.ns + "/" + info.name;
    PortDialer dialer = [&nodes = m_nodes, node = *node, ns = info.ns, name = info.name](int port) {
        return nodes.portForward(node, ns, name, port);
    };
    HttpResponse r;
    r.status = 101;
    if (request.method == "GET" && offered.find(SpdyPortForward::kProtocol) != std::string::npos) {
        r.webSocket = std::make_shared<SpdyPortForward>(std::move(dialer), podName);
        r.webSocketProtocol = SpdyPortForward::kProtocol;
        return r;
    }
    const std::string channel = ChannelPortForward::negotiate(offered);
    if (request.method != "GET" || channel.empty())
        // kubectl before 1.31 (or with KUBECTL_PORT_FORWARD_WEBSOCKETS=false) upgrades to bare SPDY.
        return HttpResponse::fromError(Error(
            Reason::BadRequest, "this server forwards ports over WebSocket only (SPDY/3.1+portforward.k8s.io or "
                                "v4.channel.k8s.io); use kubectl 1.31 or newer without KUBECTL_PORT_FORWARD_WEBSOCKETS=false"));
    auto ports = ChannelPortForward::parsePorts(info.queryValues("ports"));
    if (!ports)
        return HttpResponse::fromError(ports.error());
    r.webSocket = std::make_shared<ChannelPortForward>(std::move(dialer), podName, std::move(*ports));
    r.webSocketProtocol = channel;
    return r;
}

} // namespace podscape::core::apiserver
