// The Service proxy against connecting to the backend directly, on loopback: throughput of
// one connection and of 8 parallel ones (upload: client -> backend; download: backend ->
// client), and the latency of 1-byte request/response round trips, sequential, over one
// persistent connection and over a new connection each time. Prints a table with the
// proxy / direct ratio (throughput: higher is better, 1.00 = no loss; latency: the proxy's
// added time shows as a ratio above 1).
//
//   build/tests/bench/bench_proxy [--mib 2048] [--parallel 8] [--pings 20000] [--connects 2000]
//                                 [--buffer 262144] [--threads 2] [--copy 1] [--repeat 3]
//
// --copy 1 relays through user-space buffers instead of splice(2). Each figure is the best of
// --repeat runs, direct and proxied runs alternating, so that other load on the machine
// disturbs both alike.

#include "core/controllers/sharedinformers.h"
#include "core/proxy/serviceproxy.h"
#include "core/store/store.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace podscape::core;
using nlohmann::json;
using Steady = std::chrono::steady_clock;

namespace {

constexpr size_t kChunk = 256 * 1024;
const char *kBackendIP = "127.244.9.1";
const char *kClusterIP = "127.96.99.1";

uint16_t backendPort() { return uint16_t(40000 + ::getpid() % 1000); }
uint16_t servicePort() { return uint16_t(41000 + ::getpid() % 1000); }

sockaddr_in addressOf(const char *ip, uint16_t port)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

bool writeAll(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= size_t(w);
    }
    return true;
}

bool readExactly(int fd, char *p, size_t n)
{
    while (n) {
        ssize_t r = ::recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        n -= size_t(r);
    }
    return true;
}

void noDelay(int fd)
{
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int connectTo(const char *ip, uint16_t port)
{
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = addressOf(ip, port);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
        std::fprintf(stderr, "connect %s:%u: %s\n", ip, port, std::strerror(errno));
        std::exit(1);
    }
    noDelay(fd);
    return fd;
}

// The backend. The first byte chooses: 'U' sink (reads to EOF, answers one byte), 'D' source
// (8-byte length follows; sends that many bytes, then closes), 'P' ping (echoes each byte).
class Backend
{
public:
    Backend()
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        ::setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a = addressOf(kBackendIP, backendPort());
        if (::bind(m_fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || ::listen(m_fd, 1024) != 0) {
            std::fprintf(stderr, "backend listen: %s\n", std::strerror(errno));
            std::exit(1);
        }
        m_thread = std::thread([this] { run(); });
    }
    ~Backend()
    {
        ::shutdown(m_fd, SHUT_RDWR);
        m_thread.join();
        ::close(m_fd);
        for (auto &t : m_workers)
            t.join();
    }

private:
    void run()
    {
        for (;;) {
            int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) {
                if (errno == EINTR || errno == ECONNABORTED)
                    continue;
                return;
            }
            noDelay(c);
            // Workers are joined at the end; a benchmark run makes a few thousand at most.
            m_workers.emplace_back([c] { serve(c); });
        }
    }
    static void serve(int fd)
    {
        char mode = 0;
        if (readExactly(fd, &mode, 1)) {
            if (mode == 'U') {
                std::vector<char> buffer(kChunk);
                while (::recv(fd, buffer.data(), buffer.size(), 0) > 0) {
                }
                writeAll(fd, "k", 1);
            } else if (mode == 'D') {
                uint64_t n = 0;
                if (readExactly(fd, reinterpret_cast<char *>(&n), sizeof n)) {
                    std::vector<char> buffer(kChunk, 'd');
                    while (n) {
                        size_t k = std::min<uint64_t>(n, buffer.size());
                        if (!writeAll(fd, buffer.data(), k))
                            break;
                        n -= k;
                    }
                }
            } else if (mode == 'P') {
                char c;
                while (::recv(fd, &c, 1, 0) == 1 && writeAll(fd, &c, 1)) {
                }
            }
        }
        ::close(fd);
    }

    int m_fd = -1;
    std::thread m_thread;
    std::vector<std::thread> m_workers;
};

double seconds(Steady::duration d) { return std::chrono::duration<double>(d).count(); }

void upload(const char *ip, uint16_t port, uint64_t bytes)
{
    int fd = connectTo(ip, port);
    std::vector<char> buffer(kChunk, 'u');
    buffer[0] = 'U';
    uint64_t left = bytes;
    while (left) {
        size_t k = std::min<uint64_t>(left, buffer.size());
        if (!writeAll(fd, buffer.data(), k)) {
            std::fprintf(stderr, "upload write failed\n");
            std::exit(1);
        }
        buffer[0] = 'u';
        left -= k;
    }
    ::shutdown(fd, SHUT_WR);
    char ack;
    if (!readExactly(fd, &ack, 1)) {
        std::fprintf(stderr, "upload: no acknowledgement\n");
        std::exit(1);
    }
    ::close(fd);
}

void download(const char *ip, uint16_t port, uint64_t bytes)
{
    int fd = connectTo(ip, port);
    char request[9] = {'D'};
    std::memcpy(request + 1, &bytes, sizeof bytes);
    writeAll(fd, request, sizeof request);
    std::vector<char> buffer(kChunk);
    uint64_t got = 0;
    for (;;) {
        ssize_t r = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (r <= 0)
            break;
        got += uint64_t(r);
    }
    ::close(fd);
    if (got != bytes) {
        std::fprintf(stderr, "download: %llu of %llu bytes\n", (unsigned long long)got, (unsigned long long)bytes);
        std::exit(1);
    }
}

// CPU seconds (user + system) this process has used: client, backend and proxy together.
double cpuSeconds()
{
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    auto s = [](const timeval &t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
    return s(u.ru_utime) + s(u.ru_stime);
}

struct Throughput {
    double mbps = 0;
    double cpuPerGB = 0; // CPU seconds per 10^9 bytes moved
};

// MB/s (10^6 bytes) of `connections` parallel transfers of `bytes` each.
Throughput throughput(bool up, const char *ip, uint16_t port, uint64_t bytes, int connections)
{
    const auto start = Steady::now();
    const double cpu = cpuSeconds();
    std::vector<std::thread> threads;
    for (int i = 0; i < connections; ++i)
        threads.emplace_back([=] { up ? upload(ip, port, bytes) : download(ip, port, bytes); });
    for (auto &t : threads)
        t.join();
    const double total = double(bytes) * connections;
    return {total / 1e6 / seconds(Steady::now() - start), (cpuSeconds() - cpu) / (total / 1e9)};
}

struct Percentiles {
    double p50 = 0, p99 = 0; // microseconds
};

Percentiles percentiles(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    auto at = [&](double q) { return v[std::min(v.size() - 1, size_t(q * double(v.size())))]; };
    return {at(0.50), at(0.99)};
}

Percentiles persistentPings(const char *ip, uint16_t port, int n)
{
    int fd = connectTo(ip, port);
    writeAll(fd, "P", 1);
    std::vector<double> samples;
    samples.reserve(size_t(n));
    char c = 'x';
    for (int i = 0; i < n + 100; ++i) { // the first 100 warm up
        const auto start = Steady::now();
        if (!writeAll(fd, &c, 1) || !readExactly(fd, &c, 1)) {
            std::fprintf(stderr, "ping failed\n");
            std::exit(1);
        }
        if (i >= 100)
            samples.push_back(seconds(Steady::now() - start) * 1e6);
    }
    ::close(fd);
    return percentiles(std::move(samples));
}

// connect + one round trip + close, each time.
Percentiles connectPings(const char *ip, uint16_t port, int n)
{
    std::vector<double> samples;
    samples.reserve(size_t(n));
    for (int i = 0; i < n; ++i) {
        const auto start = Steady::now();
        int fd = connectTo(ip, port);
        char request[2] = {'P', 'x'}, c;
        if (!writeAll(fd, request, 2) || !readExactly(fd, &c, 1)) {
            std::fprintf(stderr, "connect ping failed\n");
            std::exit(1);
        }
        ::close(fd);
        samples.push_back(seconds(Steady::now() - start) * 1e6);
    }
    return percentiles(std::move(samples));
}

long argOr(int argc, char **argv, const char *name, long fallback)
{
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], name) == 0)
            return std::atol(argv[i + 1]);
    return fallback;
}

} // namespace

int main(int argc, char **argv)
{
    const uint64_t mib = uint64_t(argOr(argc, argv, "--mib", 2048));
    const int parallel = int(argOr(argc, argv, "--parallel", 8));
    const int pings = int(argOr(argc, argv, "--pings", 20000));
    const int connects = int(argOr(argc, argv, "--connects", 2000));
    const int repeat = std::max(1, int(argOr(argc, argv, "--repeat", 3)));

    Backend backend;
    store::Store store;
    controllers::SharedInformers informers(store, Clock::system());
    proxy::ServiceProxyOptions options;
    options.bufferSize = size_t(argOr(argc, argv, "--buffer", long(options.bufferSize)));
    options.ioThreads = int(argOr(argc, argv, "--threads", 2));
    options.zeroCopy = argOr(argc, argv, "--copy", 0) == 0;
    proxy::ServiceProxy serviceProxy(informers, options);
    informers.start();
    informers.waitForSync(std::chrono::seconds(10));
    if (auto started = serviceProxy.start(); !started) {
        std::fprintf(stderr, "proxy: %s\n", started.error().toString().c_str());
        return 1;
    }
    (void)store.create("services", {{"apiVersion", "v1"},
                                    {"kind", "Service"},
                                    {"metadata", {{"name", "bench"}, {"namespace", "default"}}},
                                    {"spec", {{"clusterIP", kClusterIP}, {"ports", json::array({{{"port", servicePort()}}})}}}});
    (void)store.create("endpoints", {{"apiVersion", "v1"},
                                     {"kind", "Endpoints"},
                                     {"metadata", {{"name", "bench"}, {"namespace", "default"}}},
                                     {"subsets", json::array({{{"addresses", json::array({{{"ip", kBackendIP}}})},
                                                               {"ports", json::array({{{"port", backendPort()}}})}}})}});
    const auto deadline = Steady::now() + std::chrono::seconds(10);
    for (;;) {
        auto rules = serviceProxy.rules();
        if (!rules.empty() && rules[0].listening)
            break;
        if (Steady::now() > deadline) {
            std::fprintf(stderr, "the proxy did not open its listener%s%s\n", rules.empty() ? "" : ": ",
                         rules.empty() ? "" : rules[0].lastError.c_str());
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10)); // polling a condition, not timing
    }

    const uint64_t total = mib * 1024 * 1024;
    std::printf("bench_proxy: %llu MiB per throughput row, %d parallel, buffer %zu B, %s, %d I/O threads, %u cores\n",
                (unsigned long long)mib, parallel, options.bufferSize, options.zeroCopy ? "splice" : "copying",
                options.ioThreads, std::thread::hardware_concurrency());
    std::printf("%-34s %12s %12s %8s\n", "", "direct", "proxy", "ratio");
    auto row = [](const char *name, double direct, double viaProxy, const char *unit) {
        std::printf("%-34s %9.2f %-2s %9.2f %-2s %8.2f\n", name, direct, unit, viaProxy, unit, viaProxy / direct);
        std::fflush(stdout);
    };
    const uint16_t bp = backendPort(), sp = servicePort();
    // Best of `repeat` (highest throughput), direct and proxied alternating.
    auto best = [repeat](auto measure) {
        Throughput direct, viaProxy;
        for (int i = 0; i < repeat; ++i) {
            if (Throughput t = measure(true); t.mbps > direct.mbps)
                direct = t;
            if (Throughput t = measure(false); t.mbps > viaProxy.mbps)
                viaProxy = t;
        }
        return std::pair{direct, viaProxy};
    };
    auto mbps = [&](bool up, int connections) {
        return best([&](bool direct) {
            return throughput(up, direct ? kBackendIP : kClusterIP, direct ? bp : sp, total / connections, connections);
        });
    };
    // Throughput, then the CPU the whole process spent per GB (the proxy's share is the
    // difference: on a machine with few cores that, not the relay loop, bounds the ratio).
    auto throughputRows = [&](const std::string &name, bool up, int connections) {
        auto [d, p] = mbps(up, connections);
        row((name + " (MB/s)").c_str(), d.mbps, p.mbps, "");
        row("  CPU seconds per GB", d.cpuPerGB, p.cpuPerGB, "");
    };
    throughputRows("upload, 1 connection", true, 1);
    throughputRows("download, 1 connection", false, 1);
    throughputRows("upload, " + std::to_string(parallel) + " connections", true, parallel);
    throughputRows("download, " + std::to_string(parallel) + " connections", false, parallel);
    // Latency: the lowest percentiles over the repeats.
    auto latency = [&](auto measure) {
        Percentiles d{1e18, 1e18}, p{1e18, 1e18};
        for (int i = 0; i < repeat; ++i) {
            Percentiles x = measure(kBackendIP, bp), y = measure(kClusterIP, sp);
            d = {std::min(d.p50, x.p50), std::min(d.p99, x.p99)};
            p = {std::min(p.p50, y.p50), std::min(p.p99, y.p99)};
        }
        return std::pair{d, p};
    };
    auto [pd, pp] = latency([&](const char *ip, uint16_t port) { return persistentPings(ip, port, pings); });
    row("round trip, persistent, p50 (us)", pd.p50, pp.p50, "");
    row("round trip, persistent, p99 (us)", pd.p99, pp.p99, "");
    auto [cd, cp] = latency([&](const char *ip, uint16_t port) { return connectPings(ip, port, connects); });
    row("connect+round trip+close, p50 (us)", cd.p50, cp.p50, "");
    row("connect+round trip+close, p99 (us)", cd.p99, cp.p99, "");
    const auto rules = serviceProxy.rules();
    std::printf("proxied connections: %llu (failed %llu)\n", (unsigned long long)rules[0].connectionsTotal,
                (unsigned long long)rules[0].connectionsFailed);
    serviceProxy.stop();
    informers.stop();
    return 0;
}
