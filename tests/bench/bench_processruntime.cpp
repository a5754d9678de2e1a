// The process runtime on real processes: start-to-ready of a kubia Deployment and what each
// running pod costs.
//
//   build/tests/bench/bench_processruntime [--replicas 10] [--nodes 3] [--probe 0|1]
//       Time from creating a Deployment of luksa/kubia until every replica is Ready (with
//       --probe 1 through an HTTP readiness probe every second, as the e2e test's manifest),
//       the engine's RSS before and after, and the RSS of the pods' processes (shims and
//       programs, read from /proc) per pod.

#include "benchutil.h"
#include "core/cluster/cluster.h"

#include <nlohmann/json.hpp>

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

// RSS in kB of every process running one of the build's programs, and how many there are.
std::pair<long, int> programRss(const std::string &dir)
{
    long kb = 0;
    int count = 0;
    for (const auto &entry : std::filesystem::directory_iterator("/proc")) {
        std::ifstream cmdline(entry.path() / "cmdline");
        std::string cmd((std::istreambuf_iterator<char>(cmdline)), {});
        if (cmd.rfind(dir + "/podscape-", 0) != 0)
            continue;
        std::ifstream status(entry.path() / "status");
        std::string line;
        while (std::getline(status, line))
            if (line.rfind("VmRSS:", 0) == 0)
                kb += std::atol(line.c_str() + 6);
        ++count;
    }
    return {kb, count};
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
    auto [programKb, processes] = programRss(PODSCAPE_PROGRAM_DIR);
    std::printf("%d kubia replicas on %d nodes Ready in %.2f s (%s)\n", replicas, nodes, seconds,
                probe ? "HTTP readiness probe every 1 s" : "no readiness probe");
    std::printf("engine RSS %ld -> %ld MiB: %.0f KiB per pod\n", rssBefore / 1024, rssAfter / 1024,
                double(rssAfter - rssBefore) / replicas);
    std::printf("pod processes: %d (shims and programs), RSS %.1f MiB in all, %.0f KiB per pod\n", processes,
                programKb / 1024.0, double(programKb) / replicas);
    auto t1 = Steady::now();
    c.stop();
    std::printf("stop: %.2f s\n", std::chrono::duration<double>(Steady::now() - t1).count());
    return 0;
}
