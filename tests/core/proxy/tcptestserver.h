#pragma once
// Small blocking-socket TCP servers and clients for the proxy tests: a backend that answers
// each connection with its identity, or echoes everything and then reports the byte count
// after the client's half-close (so a test sees that EOF went through while its own read
// side stayed open).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace podscape::test {

inline sockaddr_in socketAddress(const std::string &ip, uint16_t port)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    return a;
}

inline bool writeAll(int fd, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        data += w;
        n -= size_t(w);
    }
    return true;
}

inline void setTimeouts(int fd, int seconds)
{
    timeval tv{seconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

class TcpTestServer
{
public:
    enum class Mode { Identity, Echo };

    TcpTestServer(std::string ip, uint16_t port, Mode mode, std::string identity = {})
        : m_mode(mode), m_identity(std::move(identity))
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        ::setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a = socketAddress(ip, port);
        if (::bind(m_fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || ::listen(m_fd, 128) != 0) {
            m_error = std::string("listen on ") + ip + ":" + std::to_string(port) + ": " + std::strerror(errno);
            ::close(m_fd);
            m_fd = -1;
            return;
        }
        m_thread = std::thread([this] { acceptLoop(); });
    }
    ~TcpTestServer()
    {
        m_stopping = true;
        if (m_fd >= 0) {
            ::shutdown(m_fd, SHUT_RDWR); // wakes accept()
            m_thread.join();
            ::close(m_fd);
        }
        {
            std::lock_guard lock(m_mutex);
            for (int fd : m_open)
                ::shutdown(fd, SHUT_RDWR);
        }
        for (auto &t : m_connections)
            t.join();
    }
    bool ok() const { return m_fd >= 0; }
    const std::string &error() const { return m_error; }
    int accepted() const { return m_accepted; }

private:
    void acceptLoop()
    {
        while (!m_stopping) {
            int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) {
                if (errno == EINTR || errno == ECONNABORTED)
                    continue;
                return;
            }
            ++m_accepted;
            std::lock_guard lock(m_mutex);
            m_open.push_back(c);
            m_connections.emplace_back([this, c] { serve(c); });
        }
    }
    void serve(int fd)
    {
        setTimeouts(fd, 30);
        std::vector<char> buffer(64 * 1024);
        if (m_mode == Mode::Identity) {
            writeAll(fd, m_identity.data(), m_identity.size());
            ::shutdown(fd, SHUT_WR);
            while (::recv(fd, buffer.data(), buffer.size(), 0) > 0) {
            }
        } else {
            size_t total = 0;
            for (;;) {
                ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0) {
                    if (n == 0) { // half-closed by the client: we can still send
                        std::string trailer = "|bytes=" + std::to_string(total);
                        writeAll(fd, trailer.data(), trailer.size());
                        ::shutdown(fd, SHUT_WR);
                    }
                    break;
                }
                total += size_t(n);
                if (!writeAll(fd, buffer.data(), size_t(n)))
                    break;
            }
        }
        std::lock_guard lock(m_mutex);
        std::erase(m_open, fd);
        ::close(fd);
    }

    Mode m_mode;
    std::string m_identity;
    int m_fd = -1;
    std::string m_error;
    std::atomic<bool> m_stopping{false};
    std::atomic<int> m_accepted{0};
    std::thread m_thread;
    std::mutex m_mutex;
    std::vector<int> m_open;
    std::vector<std::thread> m_connections;
};

// A connected client socket (optionally from `source`), or -1 with errno set.
inline int connectTo(const std::string &ip, uint16_t port, const std::string &source = {})
{
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setTimeouts(fd, 10);
    if (!source.empty()) {
        sockaddr_in s = socketAddress(source, 0);
        if (::bind(fd, reinterpret_cast<sockaddr *>(&s), sizeof s) != 0) {
            int e = errno;
            ::close(fd);
            errno = e;
            return -1;
        }
    }
    sockaddr_in a = socketAddress(ip, port);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
        int e = errno;
        ::close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

struct Reply {
    int error = 0; // errno of connect or read; 0 when the reply ended with EOF
    std::string data;
};

// Reads until EOF (or an error).
inline Reply readAll(int fd)
{
    Reply r;
    char buffer[64 * 1024];
    for (;;) {
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r.error = errno;
            return r;
        }
        if (n == 0)
            return r;
        r.data.append(buffer, size_t(n));
    }
}

// One connection: whatever the server says until it closes.
inline Reply fetch(const std::string &ip, uint16_t port, const std::string &source = {})
{
    int fd = connectTo(ip, port, source);
    if (fd < 0)
        return Reply{errno, {}};
    Reply r = readAll(fd);
    ::close(fd);
    return r;
}

} // namespace podscape::test
