#include "proxyconnection.h"

#include "core/base/logger.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace podscape::core::proxy {

namespace net = boost::asio;
using boost::system::error_code;

namespace {
// Bytes one direction may move before it lets the other direction (and other connections
// on the thread) have a turn.
constexpr size_t kTurnBytes = 1024 * 1024;
} // namespace

size_t ProxyConnection::Registry::size() const
{
    std::lock_guard lock(m_mutex);
    return m_connections.size();
}

void ProxyConnection::Registry::add(const std::shared_ptr<ProxyConnection> &c)
{
    std::lock_guard lock(m_mutex);
    m_connections.emplace(c.get(), c);
}

void ProxyConnection::Registry::remove(ProxyConnection *c)
{
    std::lock_guard lock(m_mutex);
    m_connections.erase(c);
}

void ProxyConnection::Registry::closeAllNow()
{
    std::vector<std::shared_ptr<ProxyConnection>> live;
    {
        std::lock_guard lock(m_mutex);
        for (auto &[ptr, weak] : m_connections)
            if (auto c = weak.lock())
                live.push_back(std::move(c));
    }
    // Outside the lock: closing ends the connection, which unregisters it.
    for (auto &c : live)
        c->closeNow();
}

ProxyConnection::ProxyConnection(tcp::socket client, Backend backend, Options options,
                                 std::shared_ptr<Counters> counters, std::shared_ptr<Registry> registry)
    : m_client(std::move(client))
    , m_upstream(m_client.get_executor())
    , m_connectTimer(m_client.get_executor())
    , m_backend(std::move(backend))
    , m_options(options)
    , m_counters(std::move(counters))
    , m_registry(std::move(registry))
{
    m_counters->total.fetch_add(1, std::memory_order_relaxed);
    m_counters->active.fetch_add(1, std::memory_order_relaxed);
}

ProxyConnection::~ProxyConnection()
{
    for (Direction *d : {&m_toUpstream, &m_toClient})
        for (int fd : d->pipe)
            if (fd >= 0)
                ::close(fd);
    m_counters->active.fetch_sub(1, std::memory_order_relaxed);
    m_registry->remove(this);
}

void ProxyConnection::reset(tcp::socket &socket)
{
    error_code ignored;
    socket.set_option(net::socket_base::linger(true, 0), ignored);
    socket.close(ignored);
}

void ProxyConnection::start()
{
    m_registry->add(shared_from_this());
    // The caller runs on the acceptor's thread; everything else happens on the connection's.
    net::post(m_client.get_executor(), [self = shared_from_this()] { self->connect(); });
}

void ProxyConnection::connect()
{
    if (m_finished)
        return;
    error_code ec;
    const auto address = net::ip::make_address(m_backend.ip, ec);
    if (ec) { // the ServiceProxy only hands out parsed addresses; be safe anyway
        m_counters->failed.fetch_add(1, std::memory_order_relaxed);
        finish(true);
        return;
    }
    m_connectTimer.expires_after(m_options.connectTimeout);
    m_connectTimer.async_wait([self = shared_from_this()](const error_code &e) {
        // A timer that expired as the connect completed may still run: m_connected says.
        if (!e && !self->m_finished && !self->m_connected) {
            error_code ignored;
            self->m_upstream.cancel(ignored); // onConnected sees operation_aborted
        }
    });
    m_upstream.async_connect(tcp::endpoint(address, m_backend.port),
                             [self = shared_from_this()](const error_code &e) { self->onConnected(e); });
}

void ProxyConnection::onConnected(const error_code &ec)
{
    m_connectTimer.cancel();
    if (m_finished)
        return;
    if (ec) {
        m_counters->failed.fetch_add(1, std::memory_order_relaxed);
        PS_LOG(Debug, "proxy") << "connect to " << m_backend.toString() << " failed: " << ec.message();
        finish(true);
        return;
    }
    m_connected = true;
    error_code ignored;
    // Data is passed on as it arrives; Nagle at the proxy would only add latency.
    m_client.set_option(tcp::no_delay(true), ignored);
    m_upstream.set_option(tcp::no_delay(true), ignored);
    m_toUpstream.from = &m_client;
    m_toUpstream.to = &m_upstream;
    m_toClient.from = &m_upstream;
    m_toClient.to = &m_client;
    if (m_options.zeroCopy && setUpSplice(m_toUpstream) && setUpSplice(m_toClient)) {
        m_client.non_blocking(true, ignored);
        m_upstream.non_blocking(true, ignored);
        splicePump(m_toUpstream);
        splicePump(m_toClient);
        return;
    }
    // Not zeroed: a large allocation's pages are then committed only as far as reads reach.
    m_toUpstream.buffer.reset(new char[m_options.bufferSize]);
    m_toClient.buffer.reset(new char[m_options.bufferSize]);
    pump(m_toUpstream);
    pump(m_toClient);
}

bool ProxyConnection::setUpSplice(Direction &d)
{
    if (::pipe2(d.pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        d.pipe[0] = d.pipe[1] = -1;
        return false; // the destructor closes a pipe the other direction may have got
    }
    // The pipe is this direction's buffer. The kernel rounds up to pages and may refuse a
    // size over its limits (fs.pipe-max-size); the default 64 KiB pipe is fine then.
    ::fcntl(d.pipe[1], F_SETPIPE_SZ, static_cast<int>(m_options.bufferSize));
    return true;
}

void ProxyConnection::splicePump(Direction &d)
{
    size_t moved = 0;
    while (!m_finished) {
        if (d.inPipe > 0) {
            const ssize_t n = ::splice(d.pipe[0], nullptr, d.to->native_handle(), nullptr, d.inPipe,
                                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n > 0) {
                d.inPipe -= size_t(n);
                moved += size_t(n);
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno == EAGAIN) {
                d.to->async_wait(tcp::socket::wait_write, [self = shared_from_this(), &d](const error_code &ec) {
                    if (ec)
                        self->finish(ec != net::error::operation_aborted);
                    else
                        self->splicePump(d);
                });
                return;
            }
            finish(true); // the receiver is gone
            return;
        }
        if (moved >= kTurnBytes) {
            net::post(m_client.get_executor(), [self = shared_from_this(), &d] { self->splicePump(d); });
            return;
        }
        const ssize_t n = ::splice(d.from->native_handle(), nullptr, d.pipe[1], nullptr, m_options.bufferSize,
                                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
            d.inPipe = size_t(n);
            continue;
        }
        if (n == 0) {
            onEof(d);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN) {
            d.from->async_wait(tcp::socket::wait_read, [self = shared_from_this(), &d](const error_code &ec) {
                if (ec)
                    self->finish(ec != net::error::operation_aborted);
                else
                    self->splicePump(d);
            });
            return;
        }
        finish(true); // reset by the sender
        return;
    }
}

void ProxyConnection::onEof(Direction &d)
{
    d.ended = true;
    error_code ignored;
    d.to->shutdown(tcp::socket::shutdown_send, ignored);
    if (m_toUpstream.ended && m_toClient.ended)
        finish(false);
}

void ProxyConnection::pump(Direction &d)
{
    d.from->async_read_some(net::buffer(d.buffer.get(), m_options.bufferSize),
                            [self = shared_from_this(), &d](const error_code &ec, size_t n) { self->onRead(d, ec, n); });
}

void ProxyConnection::onRead(Direction &d, const error_code &ec, size_t n)
{
    if (m_finished)
        return;
    if (ec == net::error::eof) {
        onEof(d);
        return;
    }
    if (ec) {
        finish(ec != net::error::operation_aborted);
        return;
    }
    net::async_write(*d.to, net::buffer(d.buffer.get(), n), [self = shared_from_this(), &d](const error_code &e, size_t) {
        if (self->m_finished)
            return;
        if (e) {
            self->finish(true);
            return;
        }
        self->pump(d);
    });
}

void ProxyConnection::finish(bool resetPeers)
{
    if (m_finished)
        return;
    m_finished = true;
    m_connectTimer.cancel();
    if (resetPeers) {
        reset(m_client);
        reset(m_upstream);
    } else {
        error_code ignored;
        m_client.close(ignored);
        m_upstream.close(ignored);
    }
}

void ProxyConnection::closeNow()
{
    finish(true);
}

} // namespace podscape::core::proxy
