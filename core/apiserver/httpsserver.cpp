#include "httpsserver.h"

#include "core/base/logger.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <nlohmann/json.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <condition_variable>
#include <deque>
#include <mutex>

namespace podscape::core::apiserver {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

std::string HttpRequest::header(const std::string &lowercaseName) const
{
    auto it = headers.find(lowercaseName);
    return it == headers.end() ? std::string() : it->second;
}

HttpResponse HttpResponse::fromError(const Error &error)
{
    HttpResponse r;
    r.status = error.httpCode();
    r.body = error.toStatus().dump();
    return r;
}

struct HttpsServer::Impl {
    const Credentials &credentials;
    Handler handler;
    HttpsServerOptions options;
    // Declared before the io_context: sessions still queued in it are destroyed with it and
    // touch these (and the TLS context) on their way out.
    std::atomic<size_t> connections{0};
    std::atomic<bool> stopped{false};
    // Stream threads running; stop() waits for them (they hold sessions that refer to us).
    std::mutex streamMutex;
    std::condition_variable streamsDone;
    size_t streams = 0;
    ssl::context tls{ssl::context::tls_server};
    net::io_context io;
    tcp::acceptor acceptor{io};
    tcp::endpoint bound;
    std::vector<std::thread> threads;
    std::unique_ptr<net::thread_pool> handlers;

    Impl(const Credentials &c, Handler h, HttpsServerOptions o) : credentials(c), handler(std::move(h)), options(std::move(o)) {}
    void accept();
};

namespace {

class Session : public std::enable_shared_from_this<Session>
{
public:
    Session(tcp::socket socket, HttpsServer::Impl &server) : m_stream(std::move(socket), server.tls), m_server(server)
    {
        ++m_server.connections;
    }
    ~Session() { --m_server.connections; }

    void run()
    {
        net::dispatch(m_stream.get_executor(), [self = shared_from_this()] { self->handshake(); });
    }

    // Over the connection limit: answer 503 in plain words and go.
    void refuse()
    {
        m_refuse = true;
        run();
    }

private:
    void handshake()
    {
        beast::get_lowest_layer(m_stream).expires_after(m_server.options.handshakeTimeout);
        m_stream.async_handshake(ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
            if (ec)
                return; // a client that does not speak TLS, or gave up: nothing to answer
            if (self->m_refuse) {
                self->respond(HttpResponse::fromError(
                                  Error(Reason::ServiceUnavailable, "too many open connections; try again shortly")),
                              false);
                return;
            }
            self->read();
        });
    }

    void read()
    {
        m_parser.emplace();
        m_parser->body_limit(m_server.options.maxBodyBytes);
        m_parser->header_limit(static_cast<std::uint32_t>(m_server.options.maxHeaderBytes));
        // Idle until the request starts; then the whole request must arrive in readTimeout.
        beast::get_lowest_layer(m_stream).expires_after(m_buffer.size() ? m_server.options.readTimeout
                                                                        : m_server.options.idleTimeout);
        http::async_read_header(m_stream, m_buffer, *m_parser,
                                [self = shared_from_this()](beast::error_code ec, size_t) { self->onHeader(ec); });
    }

    void onHeader(beast::error_code ec)
    {
        if (ec)
            return onReadError(ec);
        beast::get_lowest_layer(m_stream).expires_after(m_server.options.readTimeout);
        http::async_read(m_stream, m_buffer, *m_parser,
                         [self = shared_from_this()](beast::error_code e, size_t) { self->onRead(e); });
    }

    void onReadError(beast::error_code ec)
    {
        if (ec == http::error::body_limit) {
            m_drainInput = true;
            respond(HttpResponse::fromError(Error(Reason::RequestEntityTooLarge,
                                                 "the request body is larger than the limit of "
                                                     + std::to_string(m_server.options.maxBodyBytes / (1024 * 1024)) + " MiB")),
                    false);
        } else if (ec == http::error::header_limit) {
            respond(HttpResponse::fromError(Error(Reason::BadRequest, "the request headers are too large")), false);
        } else if (ec != http::error::end_of_stream && ec != beast::error::timeout && ec != net::error::operation_aborted
                   && ec != net::ssl::error::stream_truncated && ec != net::error::eof) {
            respond(HttpResponse::fromError(Error(Reason::BadRequest, "malformed HTTP request: " + ec.message())), false);
        } else {
            shutdown();
        }
    }

    void onRead(beast::error_code ec)
    {
        if (ec)
            return onReadError(ec);
        auto request = m_parser->release();
        const bool keepAlive = request.keep_alive();
        const bool upgrade = websocket::is_upgrade(request);
        HttpRequest r;
        r.method = std::string(request.method_string());
        r.target = std::string(request.target());
        for (const auto &field : request) {
            std::string name(field.name_string());
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            r.headers[name] = std::string(field.value());
        }
        r.body = std::move(request.body());

        // Authentication: a bearer token, always.
        const std::string authorization = r.header("authorization");
        constexpr std::string_view bearer = "Bearer ";
        std::optional<Role> role;
        if (authorization.size() > bearer.size() && std::string_view(authorization).substr(0, bearer.size()) == bearer)
            role = m_server.credentials.authenticate(std::string_view(authorization).substr(bearer.size()));
        if (!role) {
            auto response = HttpResponse::fromError(Error(Reason::Unauthorized, "Unauthorized"));
            response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"podscape\"");
            return respond(std::move(response), keepAlive);
        }
        r.role = *role;
        if (r.role == Role::ReadOnly && r.method != "GET" && r.method != "HEAD")
            return respond(HttpResponse::fromError(Error(Reason::Forbidden, "this token is read-only: " + r.method
                                                                               + " " + r.target.substr(0, r.target.find('?'))
                                                                               + " is not allowed")),
                           keepAlive);
        // Answered on a handler thread (a write waits there until it is durable), then sent
        // from this connection's strand again.
        net::post(*m_server.handlers, [self = shared_from_this(), r = std::move(r), request = std::move(request), keepAlive,
                                       upgrade]() mutable {
            HttpResponse response = self->answer(r);
            net::dispatch(self->m_stream.get_executor(), [self, response = std::move(response), request = std::move(request),
                                                          keepAlive, upgrade]() mutable {
                self->finish(std::move(response), std::move(request), keepAlive, upgrade);
            });
        });
    }

    HttpResponse answer(const HttpRequest &r)
    {
        HttpResponse response;
        try {
            response = m_server.handler(r);
        } catch (const std::exception &e) {
            // A handler bug must not take the server down; say so and keep serving.
            PS_LOG(Error, "apiserver") << r.method << " " << r.target.substr(0, r.target.find('?')) << ": " << e.what();
            response = HttpResponse::fromError(Error(Reason::InternalError, "internal error while serving the request"));
        }
        PS_LOG(Debug, "apiserver") << r.method << " " << r.target.substr(0, r.target.find('?')) << " " << response.status;
        return response;
    }

    void finish(HttpResponse response, http::request<http::string_body> request, bool keepAlive, bool upgrade)
    {
        if (response.webSocket) {
            if (!upgrade)
                return respond(HttpResponse::fromError(Error(Reason::BadRequest, "this endpoint speaks WebSocket only: "
                                                                                  "send an Upgrade: websocket request")),
                               false);
            return upgradeTo(std::move(response), std::move(request));
        }
        respond(std::move(response), keepAlive);
    }

    void upgradeTo(HttpResponse response, http::request<http::string_body> request);

    void respond(HttpResponse response, bool keepAlive)
    {
        if (response.stream)
            return stream(std::move(response));
        auto message = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(response.status), 11);
        message->set(http::field::server, "podscape");
        message->set(http::field::content_type, response.contentType);
        for (const auto &[name, value] : response.headers)
            message->insert(name, value);
        message->body() = std::move(response.body);
        message->keep_alive(keepAlive && !m_server.stopped);
        message->prepare_payload();
        beast::get_lowest_layer(m_stream).expires_after(m_server.options.readTimeout);
        http::async_write(m_stream, *message, [self = shared_from_this(), message](beast::error_code ec, size_t) {
            if (ec)
                return;
            if (message->keep_alive())
                self->read();
            else if (self->m_drainInput)
                self->drain(0);
            else
                self->shutdown();
        });
    }

    // A streamed body on a thread of its own: the client sends nothing meanwhile, so the
    // socket is this thread's alone until the stream ends; then the connection closes.
    void stream(HttpResponse response)
    {
        {
            std::lock_guard g(m_server.streamMutex);
            if (m_server.streams >= m_server.options.maxStreams || m_server.stopped) {
                response.stream.reset();
                auto busy = HttpResponse::fromError(Error(Reason::TooManyRequests, "too many open watches; try again shortly"));
                return respond(std::move(busy), false);
            }
            ++m_server.streams;
        }
        // Blocking writes from here on: no async timer, but a client that stops reading
        // fails the write after 10 s instead of holding the thread (and stop()) forever.
        beast::get_lowest_layer(m_stream).expires_never();
        timeval sendTimeout{10, 0};
        ::setsockopt(beast::get_lowest_layer(m_stream).socket().native_handle(), SOL_SOCKET, SO_SNDTIMEO, &sendTimeout,
                     sizeof sendTimeout);
        std::thread([self = shared_from_this(), response = std::move(response)]() mutable {
            self->pump(response);
            std::lock_guard g(self->m_server.streamMutex);
            --self->m_server.streams;
            self->m_server.streamsDone.notify_all();
        }).detach();
    }

    void pump(HttpResponse &response)
    {
        http::response<http::empty_body> header{static_cast<http::status>(response.status), 11};
        header.set(http::field::server, "podscape");
        header.set(http::field::content_type, response.contentType);
        for (const auto &[name, value] : response.headers)
            header.insert(name, value);
        header.chunked(true);
        header.keep_alive(false);
        beast::error_code ec;
        http::response_serializer<http::empty_body> serializer{header};
        http::write_header(m_stream, serializer, ec);
        while (!ec && !m_server.stopped) {
            auto chunk = response.stream->next(std::chrono::milliseconds(250));
            if (!chunk) {
                if (response.stream->finished())
                    break;
                continue;
            }
            net::write(m_stream, http::make_chunk(net::buffer(*chunk)), ec);
        }
        if (!ec)
            net::write(m_stream, http::make_chunk_last(), ec);
        m_stream.shutdown(ec);
        beast::get_lowest_layer(m_stream).socket().close(ec);
    }

    // After refusing a request whose body is still arriving: read and drop the rest for a
    // while before closing. Closing with unread input makes the kernel send a reset, and the
    // client, still writing, would see "connection reset" instead of the 413 it was sent.
    void drain(size_t drained)
    {
        constexpr size_t kMaxDrain = 64 * 1024 * 1024;
        if (drained == 0)
            beast::get_lowest_layer(m_stream).expires_after(std::chrono::seconds(5));
        if (drained > kMaxDrain)
            return shutdown();
        m_scratch.resize(64 * 1024);
        m_stream.async_read_some(net::buffer(m_scratch), [self = shared_from_this(), drained](beast::error_code ec, size_t n) {
            if (ec)
                return self->shutdown();
            self->drain(drained + n);
        });
    }

    void shutdown()
    {
        beast::get_lowest_layer(m_stream).expires_after(std::chrono::seconds(5));
        m_stream.async_shutdown([self = shared_from_this()](beast::error_code) {
            beast::error_code ignored;
            beast::get_lowest_layer(self->m_stream).socket().close(ignored);
        });
    }

    TlsStream m_stream;
    HttpsServer::Impl &m_server;
    beast::flat_buffer m_buffer;
    std::optional<http::request_parser<http::string_body>> m_parser;
    bool m_refuse = false;
    bool m_drainInput = false;
    std::vector<char> m_scratch;
};

// An upgraded connection: the client's messages go to the handler as they arrive (reads on
// the connection's strand); the handler's messages are pulled on a stream thread and queued
// to the strand, which writes one at a time. The queue is bounded: the pulling thread waits
// while a slow client has too much unsent.
class WebSocketSession : public std::enable_shared_from_this<WebSocketSession>
{
public:
    WebSocketSession(TlsStream stream, HttpsServer::Impl &server, std::shared_ptr<WebSocketHandler> handler)
        : m_ws(std::move(stream)), m_server(server), m_handler(std::move(handler))
    {
        ++m_server.connections;
    }
    ~WebSocketSession() { --m_server.connections; }

    void accept(http::request<http::string_body> request, const std::string &protocol)
    {
        beast::get_lowest_layer(m_ws).expires_never(); // the websocket's own timeouts from here on
        websocket::stream_base::timeout timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
        timeouts.idle_timeout = std::chrono::seconds(m_server.options.idleTimeout);
        timeouts.keep_alive_pings = true;
        m_ws.set_option(timeouts);
        m_ws.set_option(websocket::stream_base::decorator([protocol](websocket::response_type &res) {
            res.set(http::field::server, "podscape");
            res.set(http::field::sec_websocket_protocol, protocol);
        }));
        m_ws.read_message_max(m_server.options.maxWebSocketMessage);
        m_ws.binary(true);
        m_ws.async_accept(request, [self = shared_from_this()](beast::error_code ec) {
            if (ec) {
                self->closed();
                return self->releaseStream();
            }
            self->read();
            std::thread([self] {
                self->pump();
                self->releaseStream();
            }).detach();
        });
    }

private:
    void read()
    {
        m_ws.async_read(m_in, [self = shared_from_this()](beast::error_code ec, size_t) {
            if (ec)
                return self->closed();
            const auto data = self->m_in.cdata();
            self->m_handler->onMessage(std::string_view(static_cast<const char *>(data.data()), data.size()));
            self->m_in.consume(self->m_in.size());
            self->read();
        });
    }

    void closed()
    {
        {
            std::lock_guard g(m_mutex);
            if (m_closed)
                return;
            m_closed = true;
        }
        m_room.notify_all();
        m_handler->onClosed();
    }

    // On the stream thread: the handler's messages until it finishes or the client goes.
    void pump()
    {
        constexpr size_t kMaxQueued = 1024 * 1024;
        while (!m_server.stopped) {
            {
                std::unique_lock lock(m_mutex);
                m_room.wait_for(lock, std::chrono::milliseconds(250), [&] { return m_closed || m_queued < kMaxQueued; });
                if (m_closed)
                    return;
                if (m_queued >= kMaxQueued)
                    continue;
            }
            auto message = m_handler->next(std::chrono::milliseconds(250));
            if (message) {
                {
                    std::lock_guard g(m_mutex);
                    m_queued += message->size();
                }
                net::post(m_ws.get_executor(), [self = shared_from_this(), m = std::move(*message)]() mutable {
                    self->m_out.push_back(std::move(m));
                    if (self->m_out.size() == 1)
                        self->write();
                });
            } else if (m_handler->finished()) {
                net::post(m_ws.get_executor(), [self = shared_from_this()] {
                    self->m_closeWhenDrained = true;
                    if (self->m_out.empty())
                        self->close();
                });
                std::unique_lock lock(m_mutex);
                // The strand writes the rest and closes; wait for that (or the client going).
                m_room.wait_for(lock, std::chrono::seconds(10), [&] { return m_closed; });
                return;
            }
        }
    }

    void write()
    {
        m_ws.async_write(net::buffer(m_out.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
            {
                std::lock_guard g(self->m_mutex);
                self->m_queued -= self->m_out.front().size();
            }
            self->m_room.notify_all();
            self->m_out.pop_front();
            if (ec)
                return self->closed();
            if (!self->m_out.empty())
                self->write();
            else if (self->m_closeWhenDrained)
                self->close();
        });
    }

    void close()
    {
        m_ws.async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) { self->closed(); });
    }

    void releaseStream()
    {
        std::lock_guard g(m_server.streamMutex);
        --m_server.streams;
        m_server.streamsDone.notify_all();
    }

    websocket::stream<TlsStream> m_ws;
    HttpsServer::Impl &m_server;
    std::shared_ptr<WebSocketHandler> m_handler;
    beast::flat_buffer m_in;
    std::deque<std::string> m_out; // on the strand only
    bool m_closeWhenDrained = false; // on the strand only
    std::mutex m_mutex;
    std::condition_variable m_room;
    size_t m_queued = 0;
    bool m_closed = false;
};

void Session::upgradeTo(HttpResponse response, http::request<http::string_body> request)
{
    {
        std::lock_guard g(m_server.streamMutex);
        if (m_server.streams >= m_server.options.maxStreams || m_server.stopped)
            return respond(HttpResponse::fromError(Error(Reason::TooManyRequests, "too many open streams; try again shortly")),
                           false);
        ++m_server.streams;
    }
    auto session = std::make_shared<WebSocketSession>(std::move(m_stream), m_server, std::move(response.webSocket));
    session->accept(std::move(request), response.webSocketProtocol);
}

bool isLoopback(const net::ip::address &a) { return a.is_loopback(); }

} // namespace

void HttpsServer::Impl::accept()
{
    acceptor.async_accept(net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
        if (stopped)
            return;
        if (!ec) {
            auto session = std::make_shared<Session>(std::move(socket), *this);
            if (connections > options.maxConnections)
                session->refuse();
            else
                session->run();
        }
        accept();
    });
}

HttpsServer::HttpsServer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

HttpsServer::~HttpsServer() { stop(); }

Result<void> HttpsServer::checkListenAddress(const std::string &address, bool allowRemote)
{
    beast::error_code ec;
    const auto parsed = net::ip::make_address(address, ec);
    if (ec)
        return fail(Reason::BadRequest, "invalid listen address \"" + address + "\": give an IP address such as 127.0.0.1");
    if (!isLoopback(parsed) && !allowRemote)
        return fail(Reason::Forbidden, "refusing to listen on " + address
                                           + ": not a loopback address; serving other machines must be allowed explicitly "
                                             "(podscape-agent --allow-remote)");
    return {};
}

Result<std::unique_ptr<HttpsServer>> HttpsServer::start(const Credentials &credentials, Handler handler,
                                                        HttpsServerOptions options, bool allowRemote)
{
    if (auto checked = checkListenAddress(options.address, allowRemote); !checked)
        return checked.takeError();
    beast::error_code ec;
    const auto address = net::ip::make_address(options.address, ec);
    auto impl = std::make_unique<Impl>(credentials, std::move(handler), options);
    impl->tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3
                          | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    impl->tls.use_certificate_chain(net::buffer(credentials.certPem()), ec);
    if (!ec)
        impl->tls.use_private_key(net::buffer(credentials.keyPem()), ssl::context::pem, ec);
    if (ec)
        return fail(Reason::InternalError, "the serving certificate or key is not usable: " + ec.message());

    const tcp::endpoint endpoint(address, options.port);
    impl->acceptor.open(endpoint.protocol(), ec);
    if (!ec)
        impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec)
        impl->acceptor.bind(endpoint, ec);
    if (!ec)
        impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
        return fail(Reason::InternalError, "cannot listen on " + options.address + ":" + std::to_string(options.port) + ": "
                                               + ec.message());
    impl->bound = impl->acceptor.local_endpoint(ec);
    impl->accept();
    impl->handlers = std::make_unique<net::thread_pool>(size_t(std::max(1, options.handlerThreads)));
    for (int i = 0; i < std::max(1, options.threads); ++i)
        impl->threads.emplace_back([io = &impl->io] { io->run(); });
    return std::unique_ptr<HttpsServer>(new HttpsServer(std::move(impl)));
}

void HttpsServer::stop()
{
    if (!m_impl || m_impl->stopped.exchange(true))
        return;
    net::post(m_impl->io, [impl = m_impl.get()] {
        beast::error_code ignored;
        impl->acceptor.close(ignored);
    });
    {
        // Streams notice `stopped` within their poll interval and end.
        std::unique_lock lock(m_impl->streamMutex);
        m_impl->streamsDone.wait(lock, [&] { return m_impl->streams == 0; });
    }
    m_impl->io.stop();
    for (auto &t : m_impl->threads)
        if (t.joinable())
            t.join();
    // No connection reads any more: the requests being answered finish, their replies go nowhere.
    m_impl->handlers->join();
}

uint16_t HttpsServer::port() const { return m_impl->bound.port(); }

std::string HttpsServer::url() const
{
    const auto a = m_impl->bound.address();
    return "https://" + (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(port());
}

size_t HttpsServer::openConnections() const { return m_impl->connections; }

size_t HttpsServer::openStreams() const
{
    std::lock_guard g(m_impl->streamMutex);
    return m_impl->streams;
}

} // namespace podscape::core::apiserver
