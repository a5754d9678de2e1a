#pragma once
// One proxied TCP connection: the accepted client socket, a connection to the chosen
// backend, and two relays (client -> backend, backend -> client), each with one fixed
// buffer, so a connection holds at most 2 x bufferSize bytes however fast either side
// writes. The buffer is a pipe moved with splice(2) (zero-copy: the bytes never enter user
// space, which is what lets a user-space proxy keep up with loopback), or a plain buffer
// when zero-copy is off or the pipe cannot be had (out of descriptors). A side's EOF is passed on as a half-close (shutdown of the other socket's send
// side) and the connection ends when both directions ended; a reset or write failure ends
// both at once, passing the reset on. Everything runs on the client socket's executor,
// which must be a single-threaded context or a strand.

#include "endpointpicker.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace podscape::core::proxy {

class ProxyConnection : public std::enable_shared_from_this<ProxyConnection>
{
public:
    using tcp = boost::asio::ip::tcp;

    // Figures of one listener, shared with the connections it accepted (they may outlive it).
    struct Counters {
        std::atomic<uint64_t> total{0};
        std::atomic<uint64_t> active{0};
        std::atomic<uint64_t> failed{0}; // the backend could not be reached
    };

    // The live connections of a proxy, so that stopping it can close them all.
    class Registry
    {
    public:
        size_t size() const;
        // Closes every connection's sockets now. Only while no thread runs the executor.
        void closeAllNow();

    private:
        friend class ProxyConnection;
        void add(const std::shared_ptr<ProxyConnection> &c);
        void remove(ProxyConnection *c);
        mutable std::mutex m_mutex;
        std::unordered_map<ProxyConnection *, std::weak_ptr<ProxyConnection>> m_connections;
    };

    struct Options {
        size_t bufferSize = 256 * 1024; // per direction
        std::chrono::milliseconds connectTimeout{5000};
        bool zeroCopy = true;
    };

    ProxyConnection(tcp::socket client, Backend backend, Options options, std::shared_ptr<Counters> counters,
                    std::shared_ptr<Registry> registry);
    ~ProxyConnection();
    ProxyConnection(const ProxyConnection &) = delete;
    ProxyConnection &operator=(const ProxyConnection &) = delete;

    // Connects to the backend, then relays. A failed connect resets the client connection
    // and tries no other backend (as a DNAT rule would not either).
    void start();

    // Resets a client we will not serve (no backend, too many connections): SO_LINGER 0
    // makes close() send RST, so the client fails at once instead of reading an empty reply.
    static void reset(tcp::socket &socket);

private:
    struct Direction {
        tcp::socket *from = nullptr;
        tcp::socket *to = nullptr;
        std::unique_ptr<char[]> buffer; // copying relay
        int pipe[2] = {-1, -1};         // splicing relay: read end, write end
        size_t inPipe = 0;              // bytes taken from `from`, not yet given to `to`
        bool ended = false;
    };

    void connect();
    void onConnected(const boost::system::error_code &ec);
    bool setUpSplice(Direction &d);
    void pump(Direction &d);
    void onRead(Direction &d, const boost::system::error_code &ec, size_t n);
    void splicePump(Direction &d);
    void onEof(Direction &d);
    // `resetPeers`: the failure was a reset (or a failed write) and the peers should see one too.
    void finish(bool resetPeers);
    void closeNow();

    tcp::socket m_client;
    tcp::socket m_upstream;
    boost::asio::steady_timer m_connectTimer;
    Backend m_backend;
    Options m_options;
    std::shared_ptr<Counters> m_counters;
    std::shared_ptr<Registry> m_registry;
    Direction m_toUpstream;
    Direction m_toClient;
    bool m_connected = false;
    bool m_finished = false;
};

} // namespace podscape::core::proxy
