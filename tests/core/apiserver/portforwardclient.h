#pragma once
// The local side of `kubectl port-forward` for tests: start it, read the ports it listens
// on, and talk to them over plain TCP.
#include <QDeadlineTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <vector>

namespace podscape::tests {

// A plain TCP client for the local end of a port-forward.
class Tcp
{
public:
    explicit Tcp(int port)
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(uint16_t(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        m_connected = ::connect(m_fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0;
    }
    ~Tcp() { ::close(m_fd); }
    bool connected() const { return m_connected; }
    bool send(std::string_view data)
    {
        while (!data.empty()) {
            const ssize_t n = ::send(m_fd, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            data.remove_prefix(size_t(n));
        }
        return true;
    }
    void shutdownWrite() { ::shutdown(m_fd, SHUT_WR); }
    // Reads until `size` bytes came, the peer closed, or 20 s passed without a byte.
    std::string receive(size_t size)
    {
        std::string out;
        char buf[65536];
        while (out.size() < size) {
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, 20000) <= 0)
                break;
            const ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
            if (n <= 0)
                break;
            out.append(buf, size_t(n));
        }
        return out;
    }

private:
    int m_fd = -1;
    bool m_connected = false;
};

// Starts `kubectl port-forward` and returns the local ports it printed, in order.
inline std::vector<int> startPortForward(QProcess &p, const std::string &kubeconfig, const QStringList &args, size_t count)
{
    p.setProcessChannelMode(QProcess::SeparateChannels);
    p.start(QStandardPaths::findExecutable("kubectl"), QStringList{"--kubeconfig", QString::fromStdString(kubeconfig),
                                                                   "port-forward"} + args);
    std::vector<int> ports;
    QByteArray out;
    QRegularExpression line(R"(Forwarding from 127\.0\.0\.1:(\d+) -> (\d+))");
    QDeadlineTimer deadline(30000);
    while (ports.size() < count && !deadline.hasExpired() && p.state() != QProcess::NotRunning) {
        p.waitForReadyRead(500);
        out += p.readAllStandardOutput();
        ports.clear();
        for (auto it = line.globalMatch(QString::fromUtf8(out)); it.hasNext();)
            ports.push_back(it.next().captured(1).toInt());
    }
    return ports;
}

} // namespace podscape::tests
