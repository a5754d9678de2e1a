// The process runtime on real processes: start-to-ready of a kubia Deployment and what each
// running pod costs.
//
//   build/tests/bench/bench_processruntime [--replicas 10] [--nodes 3] [--probe 0|1]
//       Time from creating a Deployment of luksa/kubia until every replica is Ready (with
//       --probe 1 through an HTTP readiness probe every second, as the e2e test's manifest),
//       the engine's RSS before and after, and the RSS of the pods' processes (shims and
//       programs, read from /proc) per pod.
//       Then HTTP requests to the pods (GET /, kubia answers and logs each one), for --seconds
//       each: directly to the pod IPs (clients spread over them) and through the Service proxy
//       (ClusterIP, round robin over the same pods), with keep-alive and with a new connection
//       per request: requests/s and the proxy/direct ratio.

#include "benchutil.h"
#include "core/cluster/cluster.h"
#include "core/model/labelselector.h"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <vector>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

using namespace podscape::core;
using nlohmann::json;
using Steady = std::chrono::steady_clock;
using podscape::bench::statusKb;

namespace {

const char *arg(int argc, char **argv, const char *name, const char *fallback)
{
    for (int i = 1; i + 1 < argc; ++i)
        if (!std::strcmp(argv[i], name))
            return argv[i + 1];
    return fallback;
}

// RSS and PSS (shared pages divided among their users) in kB of every process running one of
// the build's programs, and how many there are.
struct ProgramMemory {
    long rssKb = 0;
    long pssKb = 0;
    int processes = 0;
};
ProgramMemory programRss(const std::string &dir)
{
    ProgramMemory m;
    for (const auto &entry : std::filesystem::directory_iterator("/proc")) {
        std::ifstream cmdline(entry.path() / "cmdline");
        std::string cmd((std::istreambuf_iterator<char>(cmdline)), {});
        if (cmd.rfind(dir + "/podscape-", 0) != 0)
            continue;
        std::ifstream rollup(entry.path() / "smaps_rollup");
        std::string line;
        while (std::getline(rollup, line)) {
            if (line.rfind("Rss:", 0) == 0)
                m.rssKb += std::atol(line.c_str() + 4);
            if (line.rfind("Pss:", 0) == 0)
                m.pssKb += std::atol(line.c_str() + 4);
        }
        ++m.processes;
    }
    return m;
}

int connectTo(const std::string &ip, int port)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// One request on `fd`; false when the answer is not a whole 200 response.
bool request(int fd, bool keepAlive)
{
    const char *req = keepAlive ? "GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
                                : "GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";
    if (::send(fd, req, std::strlen(req), MSG_NOSIGNAL) <= 0)
        return false;
    std::string resp;
    char buf[4096];
    while (true) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return !keepAlive && resp.rfind("HTTP/1.1 200", 0) == 0;
        resp.append(buf, size_t(n));
        auto head = resp.find("\r\n\r\n");
        auto cl = resp.find("Content-Length: ");
        if (keepAlive && head != std::string::npos && cl != std::string::npos
            && resp.size() >= head + 4 + std::stoul(resp.substr(cl + 16)))
            return resp.rfind("HTTP/1.1 200", 0) == 0;
    }
}

// Requests per second from `clients` threads for `seconds`; each client i uses targets[i % n].
double load(const std::vector<std::pair<std::string, int>> &targets, int clients, double seconds, bool keepAlive,
            int &failures)
{
    std::atomic<long> done{0}, failed{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < clients; ++i)
        threads.emplace_back([&, i] {
            const auto &[ip, port] = targets[size_t(i) % targets.size()];
            int fd = -1;
            while (!stop) {
                if (fd < 0)
                    fd = connectTo(ip, port);
                bool ok = fd >= 0 && request(fd, keepAlive);
                (ok ? done : failed)++;
                if (!ok || !keepAlive) {
                    if (fd >= 0)
                        ::close(fd);
                    fd = -1;
                }
            }
            if (fd >= 0)
                ::close(fd);
        });
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds)); // the measuring window
    stop = true;
    for (auto &t : threads)
        t.join();
    failures = int(failed);
    return double(done) / seconds;
}

} // namespace

int main(int argc, char **argv)
{
    const int replicas = std::atoi(arg(argc, argv, "--replicas", "10"));
    const int nodes = std::atoi(arg(argc, argv, "--nodes", "3"));
    const bool probe = std::atoi(arg(argc, argv, "--probe", "0")) != 0;
    cluster::ClusterConfig config;
    config.nodes = nodes;
    config.runtime = "process";
    config.programDir = PODSCAPE_PROGRAM_DIR;
    auto started = cluster::Cluster::start(config);
    if (!started) {
        std::fprintf(stderr, "start: %s\n", started.error().toString().c_str());
        return 1;
    }
    auto &c = **started;
    const long rssBefore = statusKb("VmRSS:");
    json container = {{"name", "kubia"}, {"image", "luksa/kubia"}, {"ports", json::array({{{"containerPort", 8080}}})}};
    if (probe)
        container["readinessProbe"] = {{"periodSeconds", 1}, {"httpGet", {{"path", "/"}, {"port", 8080}}}};
    json deployment = {{"apiVersion", "apps/v1"},
                       {"kind", "Deployment"},
                       {"metadata", {{"name", "kubia"}, {"namespace", "default"}}},
                       {"spec",
                        {{"replicas", replicas},
                         {"selector", {{"matchLabels", {{"app", "kubia"}}}}},
                         {"template",
                          {{"metadata", {{"labels", {{"app", "kubia"}}}}},
                           {"spec", {{"containers", json::array({container})}}}}}}}};
    auto t0 = Steady::now();
    if (auto r = c.api().create(deployment); !r) {
        std::fprintf(stderr, "create: %s\n", r.error().toString().c_str());
        return 1;
    }
    // Polling is this benchmark's observer; 10 ms is the resolution of the figure.
    while (true) {
        auto d = c.store().get("deployments.apps", "default", "kubia");
        int available = d ? (**d).value("status", json::object()).value("availableReplicas", 0) : 0;
        if (available >= replicas)
            break;
        if (std::chrono::duration<double>(Steady::now() - t0).count() > 300) {
            std::fprintf(stderr, "gave up after 300 s at %d available\n", available);
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const double seconds = std::chrono::duration<double>(Steady::now() - t0).count();
    // Let the first requests and probes settle before measuring memory.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const long rssAfter = statusKb("VmRSS:");
    const ProgramMemory programs = programRss(PODSCAPE_PROGRAM_DIR);
    std::printf("%d kubia replicas on %d nodes Ready in %.2f s (%s)\n", replicas, nodes, seconds,
                probe ? "HTTP readiness probe every 1 s" : "no readiness probe");
    std::printf("engine RSS %ld -> %ld MiB: %.0f KiB per pod\n", rssBefore / 1024, rssAfter / 1024,
                double(rssAfter - rssBefore) / replicas);
    std::printf("pod processes: %d (shims and programs): RSS %.0f KiB, PSS %.0f KiB per pod\n", programs.processes,
                double(programs.rssKb) / replicas, double(programs.pssKb) / replicas);
    // Requests: the pods directly, then their Service.
    const double window = std::atof(arg(argc, argv, "--seconds", "5"));
    const int clients = std::atoi(arg(argc, argv, "--clients", "8"));
    std::vector<std::pair<std::string, int>> pods;
    store::ListOptions selector;
    selector.labels = *model::LabelSelector::parse("app=kubia");
    if (auto list = c.store().list("pods", selector))
        for (const auto &p : list->items)
            pods.push_back({(*p)["status"].value("podIP", ""), 8080});
    json service = {{"apiVersion", "v1"},
                    {"kind", "Service"},
                    {"metadata", {{"name", "kubia"}, {"namespace", "default"}}},
                    {"spec", {{"selector", {{"app", "kubia"}}}, {"ports", json::array({{{"port", 8080}, {"targetPort", 8080}}})}}}};
    auto created = c.api().create(service);
    if (!created) {
        std::fprintf(stderr, "service: %s\n", created.error().toString().c_str());
        return 1;
    }
    const std::string clusterIP = (*created->object)["spec"].value("clusterIP", "");
    // The proxy opens the Service's listener once the endpoints are in.
    while (connectTo(clusterIP, 8080) < 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::printf("HTTP GET / with %d clients, %.0f s each (kubia answers and logs every request):\n", clients, window);
    std::printf("  %-28s %12s %12s %8s\n", "", "direct", "proxy", "ratio");
    for (bool keepAlive : {true, false}) {
        int failDirect = 0, failProxy = 0;
        double direct = load(pods, clients, window, keepAlive, failDirect);
        double proxied = load({{clusterIP, 8080}}, clients, window, keepAlive, failProxy);
        std::printf("  %-28s %12.0f %12.0f %8.2f   (failed: %d direct, %d proxy)\n",
                    keepAlive ? "keep-alive (requests/s)" : "new connection (requests/s)", direct, proxied,
                    proxied / direct, failDirect, failProxy);
    }

    auto t1 = Steady::now();
    c.stop();
    std::printf("stop: %.2f s\n", std::chrono::duration<double>(Steady::now() - t1).count());
    return 0;
}
