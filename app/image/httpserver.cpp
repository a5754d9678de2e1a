#include "httpserver.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <poll.h>

#include <cerrno>
#include <ctime>
#include <semaphore>
#include <thread>

namespace podscape::image {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using boost::beast::error_code;

namespace {

// Beast's synchronous reads and writes have no timeout, and a blocking socket waits forever
// for a client that never sends. This stream waits with poll() until an absolute deadline
// before each read or write, so a silent or slow client costs a slot for kRequestTimeout at most.
class DeadlineStream
{
public:
    explicit DeadlineStream(tcp::socket &socket)
        : m_socket(socket)
    {
    }

    void setDeadline(std::chrono::steady_clock::time_point deadline) { m_deadline = deadline; }

    template <class Buffers>
    std::size_t read_some(const Buffers &buffers, error_code &ec)
    {
        if (!waitFor(POLLIN, ec))
            return 0;
        return m_socket.read_some(buffers, ec);
    }
    template <class Buffers>
    std::size_t read_some(const Buffers &buffers)
    {
        error_code ec;
        std::size_t n = read_some(buffers, ec);
        if (ec)
            throw boost::system::system_error(ec);
        return n;
    }
    template <class Buffers>
    std::size_t write_some(const Buffers &buffers, error_code &ec)
    {
        if (!waitFor(POLLOUT, ec))
            return 0;
        return m_socket.write_some(buffers, ec);
    }
    template <class Buffers>
    std::size_t write_some(const Buffers &buffers)
    {
        error_code ec;
        std::size_t n = write_some(buffers, ec);
        if (ec)
            throw boost::system::system_error(ec);
        return n;
    }

private:
    bool waitFor(short events, error_code &ec)
    {
        for (;;) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(m_deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                ec = net::error::timed_out;
                return false;
            }
            pollfd p{m_socket.native_handle(), events, 0};
            int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 60'000)));
            if (n > 0)
                return true; // readable, writable, or an error the next call reports
            if (n < 0 && errno != EINTR) {
                ec = error_code(errno, boost::system::system_category());
                return false;
            }
        }
    }

    tcp::socket &m_socket;
    std::chrono::steady_clock::time_point m_deadline = std::chrono::steady_clock::now();
};

std::string httpDate()
{
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char text[64];
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return text;
}

std::string endpointText(const std::string &address, uint16_t port)
{
    bool v6 = address.find(':') != std::string::npos;
    return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

} // namespace

struct HttpServer::Impl {
    net::io_context io;
    tcp::acceptor acceptor{io};
    Handler handler;
    AccessLog accessLog;
    std::string serverName;
    std::counting_semaphore<kMaxConnections> slots{kMaxConnections};

    void serve(tcp::socket socket);
    template <class Message>
    void addCommonHeaders(Message &message, const HttpResponse &response, bool keepAlive);
};

template <class Message>
void HttpServer::Impl::addCommonHeaders(Message &message, const HttpResponse &response, bool keepAlive)
{
    message.set(http::field::date, httpDate());
    if (!serverName.empty())
        message.set(http::field::server, serverName);
    for (const auto &[name, value] : response.headers)
        message.set(name, value);
    message.keep_alive(keepAlive);
}

void HttpServer::Impl::serve(tcp::socket socket)
{
    error_code ec;
    HttpRequest base;
    tcp::endpoint remote = socket.remote_endpoint(ec);
    if (ec)
        return;
    net::ip::address client = remote.address();
    if (client.is_v6() && client.to_v6().is_v4_mapped())
        client = net::ip::make_address_v4(net::ip::v4_mapped, client.to_v6());
    base.clientAddress = client.to_string();
    base.clientPort = remote.port();

    DeadlineStream stream(socket);
    boost::beast::flat_buffer buffer(kHeaderLimit + 64 * 1024);
    for (;;) {
        stream.setDeadline(std::chrono::steady_clock::now() + kRequestTimeout);
        http::request_parser<http::string_body> parser;
        parser.header_limit(kHeaderLimit);
        parser.body_limit(kBodyLimit);
        http::read_header(stream, buffer, parser, ec);
        if (!ec && parser.get()[http::field::expect] == "100-continue") {
            http::response<http::empty_body> goOn{http::status::continue_, 11};
            http::write(stream, goOn, ec);
        }
        if (!ec)
            http::read(stream, buffer, parser, ec);
        if (ec) {
            // A malformed or oversized request gets an answer; a closed or silent one does not.
            if (ec.category() == http::make_error_code(http::error::bad_target).category()
                && ec != http::error::end_of_stream && ec != http::error::partial_message) {
                bool tooLarge = ec == http::error::header_limit || ec == http::error::body_limit;
                http::response<http::string_body> bad{tooLarge ? http::status::payload_too_large : http::status::bad_request, 11};
                bad.set(http::field::content_type, "text/plain");
                bad.body() = std::string(tooLarge ? "Request Too Large\n" : "Bad Request\n");
                bad.keep_alive(false);
                bad.prepare_payload();
                http::write(stream, bad, ec);
            }
            break;
        }

        auto started = std::chrono::steady_clock::now();
        const auto &message = parser.get();
        HttpRequest request = base;
        request.method = std::string(message.method_string());
        request.target = std::string(message.target());
        request.version = message.version() == 10 ? "HTTP/1.0" : "HTTP/1.1";
        request.host = std::string(message[http::field::host]);
        request.userAgent = std::string(message[http::field::user_agent]);
        request.referer = std::string(message[http::field::referer]);
        request.body = message.body();
        bool keepAlive = message.keep_alive();
        bool head = message.method() == http::verb::head;

        HttpResponse response;
        try {
            response = handler ? handler(request) : HttpResponse{404, {}, "Not Found\n", {}};
        } catch (const std::exception &) {
            response = HttpResponse{500, {{"Content-Type", "text/plain"}}, "Internal Server Error\n", {}};
        }
        if (response.status < 100 || response.status > 999)
            response.status = 500;

        uint64_t bodyBytes = 0;
        if (!response.filePath.empty()) {
            http::response<http::file_body> out;
            out.body().open(response.filePath.c_str(), boost::beast::file_mode::scan, ec);
            if (ec) {
                response = HttpResponse{500, {{"Content-Type", "text/plain"}}, "Cannot read file\n", {}};
                ec = {};
            } else {
                out.result(static_cast<unsigned>(response.status));
                out.version(request.version == "HTTP/1.0" ? 10 : 11);
                addCommonHeaders(out, response, keepAlive);
                out.prepare_payload();
                if (head) {
                    http::response<http::empty_body> headOnly{out.base()};
                    http::write(stream, headOnly, ec);
                } else {
                    bodyBytes = out.body().size();
                    http::write(stream, out, ec);
                }
            }
        }
        if (response.filePath.empty()) {
            http::response<http::string_body> out;
            out.result(static_cast<unsigned>(response.status));
            out.version(request.version == "HTTP/1.0" ? 10 : 11);
            addCommonHeaders(out, response, keepAlive);
            out.body() = std::move(response.body);
            out.prepare_payload();
            if (head) {
                http::response<http::empty_body> headOnly{out.base()};
                http::write(stream, headOnly, ec);
            } else {
                bodyBytes = out.body().size();
                http::write(stream, out, ec);
            }
        }
        if (accessLog)
            accessLog(HttpExchange{request, response.status, ec ? 0 : bodyBytes,
                                   std::chrono::steady_clock::now() - started});
        if (ec || !keepAlive)
            break;
    }
    socket.shutdown(tcp::socket::shutdown_send, ec);
    socket.close(ec);
}

HttpServer::HttpServer()
    : d(std::make_unique<Impl>())
{
}

HttpServer::~HttpServer() = default;

void HttpServer::setHandler(Handler handler)
{
    d->handler = std::move(handler);
}

void HttpServer::setAccessLog(AccessLog log)
{
    d->accessLog = std::move(log);
}

void HttpServer::setServerName(std::string name)
{
    d->serverName = std::move(name);
}

bool HttpServer::listen(const std::string &address, uint16_t port, std::string &error)
{
    error_code ec;
    std::string where = endpointText(address, port);
    net::ip::address ip = net::ip::make_address(address, ec);
    if (ec) {
        error = "bind " + where + ": \"" + address + "\" is not an IP address (check POD_IP)";
        return false;
    }
    tcp::endpoint endpoint(ip, port);
    d->acceptor.open(endpoint.protocol(), ec);
    if (!ec) // restarts may find the old socket in TIME_WAIT; two listeners still conflict
        d->acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec)
        d->acceptor.bind(endpoint, ec);
    if (!ec)
        d->acceptor.listen(511, ec);
    if (!ec)
        return true;

    if (ec == net::error::access_denied && port < 1024) {
        error = "bind " + where + ": permission denied. Ports below 1024 need privilege; allow them with "
                "\"sysctl net.ipv4.ip_unprivileged_port_start=0\" or use a port >= 1024";
    } else if (ec == net::error::address_in_use) {
        error = "bind " + where + ": address already in use (another process listens on port "
                + std::to_string(port) + " of this address)";
    } else if (ec == boost::system::errc::address_not_available) {
        error = "bind " + where + ": cannot assign requested address (" + address + " is not an address of this host)";
    } else {
        error = "bind " + where + ": " + ec.message();
    }
    d->acceptor.close(ec);
    return false;
}

void HttpServer::run()
{
    for (;;) {
        d->slots.acquire();
        tcp::socket socket(d->io);
        error_code ec;
        d->acceptor.accept(socket, ec);
        if (ec) {
            d->slots.release();
            // Out of descriptors or memory: nothing to wait on, so back off briefly, as Go's
            // and nginx's accept loops do, instead of spinning.
            if (ec == net::error::no_descriptors || ec == net::error::no_buffer_space || ec == net::error::no_memory)
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        try {
            std::thread([this, s = std::move(socket)]() mutable {
                d->serve(std::move(s));
                d->slots.release();
            }).detach();
        } catch (const std::system_error &) {
            d->slots.release(); // no thread: the socket closes here, the client sees a reset
        }
    }
}

} // namespace podscape::image
