// The embedded cluster at scale, whole: controllers, scheduler and one kubelet per node on
// their own threads, the simulated runtime with `instant` timing.
//
//   build/tests/bench/bench_cluster rollout [--nodes 1000] [--replicas 30000]
//       A Deployment of R replicas on N nodes: time from creating it until every pod is
//       Running and Ready (the Deployment's availableReplicas), pods/s, peak RSS.
//   build/tests/bench/bench_cluster coldstart [--objects 10000] [--dir DIR]
//       Persists that many objects (ConfigMaps and a 3-node cluster's own), stops, then times
//       Cluster::start on the same data folder until it is up with everything loaded.

#include "benchutil.h"
#include "core/base/logger.h"
#include "core/cluster/cluster.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
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

double since(Steady::time_point t) { return std::chrono::duration<double>(Steady::now() - t).count(); }

const char *arg(int argc, char **argv, const char *name, const char *fallback)
{
    for (int i = 2; i + 1 < argc; ++i)
        if (!std::strcmp(argv[i], name))
            return argv[i + 1];
    return fallback;
}

int rollout(int nodes, int replicas)
{
    cluster::ClusterConfig config;
    config.nodes = nodes;
    config.timing = "instant";
    config.maxPodsPerNode = std::max(110, replicas / std::max(1, nodes) * 2);
    auto t0 = Steady::now();
    auto started = cluster::Cluster::start(config);
    if (!started) {
        std::fprintf(stderr, "start: %s\n", started.error().toString().c_str());
        return 1;
    }
    auto &c = **started;
    // Every node registered and Ready before the clock starts.
    while (true) {
        store::ListOptions o;
        auto l = c.store().list("nodes", o);
        if (l && l->items.size() == size_t(nodes))
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::printf("cluster of %d nodes up in %.2f s, RSS %ld MiB\n", nodes, since(t0), statusKb("VmRSS:") / 1024);

    json deployment = {{"apiVersion", "apps/v1"},
                       {"kind", "Deployment"},
                       {"metadata", {{"name", "scale"}, {"namespace", "default"}}},
                       {"spec",
                        {{"replicas", replicas},
                         {"selector", {{"matchLabels", {{"app", "scale"}}}}},
                         {"template",
                          {{"metadata", {{"labels", {{"app", "scale"}}}}},
                           {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "registry.k8s.io/pause:3.9"}}})}}}}}}}};
    auto t1 = Steady::now();
    if (auto r = c.api().create(deployment); !r) {
        std::fprintf(stderr, "create: %s\n", r.error().toString().c_str());
        return 1;
    }
    int lastReported = -1;
    auto lastPrint = Steady::now();
    // Polling the status here is the benchmark's own observer, not synchronisation in a test.
    while (true) {
        auto d = c.store().get("deployments.apps", "default", "scale");
        int available = d ? (**d).value("status", json::object()).value("availableReplicas", 0) : 0;
        if (available >= replicas)
            break;
        if (since(lastPrint) > 5 && available != lastReported) {
            std::printf("  %.1f s: %d available\n", since(t1), available);
            lastReported = available;
            lastPrint = Steady::now();
        }
        if (since(t1) > 1800) {
            std::fprintf(stderr, "gave up after 30 min at %d available\n", available);
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const double seconds = since(t1);
    std::printf("rollout: %d replicas Running and Ready on %d nodes in %.2f s = %.0f pods/s\n", replicas, nodes, seconds,
                replicas / seconds);
    std::printf("memory: RSS now %ld MiB, peak %ld MiB, store revision %lld\n", statusKb("VmRSS:") / 1024,
                statusKb("VmHWM:") / 1024, static_cast<long long>(c.store().revision()));
    auto t2 = Steady::now();
    c.stop();
    std::printf("stop: %.2f s\n", since(t2));
    return 0;
}

int coldstart(int objects, std::string dir)
{
    const bool temporary = dir.empty();
    if (temporary)
        dir = (std::filesystem::temp_directory_path() / ("bench_cluster." + std::to_string(::getpid()))).string();
    std::filesystem::create_directories(dir);
    cluster::ClusterConfig config;
    config.nodes = 3;
    config.timing = "instant";
    config.dataDir = dir;
    {
        auto started = cluster::Cluster::start(config);
        if (!started) {
            std::fprintf(stderr, "start: %s\n", started.error().toString().c_str());
            return 1;
        }
        auto &c = **started;
        auto t0 = Steady::now();
        for (int i = 0; i < objects; ++i) {
            json cm = {{"apiVersion", "v1"},
                       {"kind", "ConfigMap"},
                       {"metadata", {{"name", "cm-" + std::to_string(i)}, {"namespace", "default"}, {"labels", {{"app", "bench"}}}}},
                       {"data", {{"config.yaml", std::string(400, 'x')}, {"index", std::to_string(i)}}}};
            if (auto r = c.api().create(cm); !r) {
                std::fprintf(stderr, "create: %s\n", r.error().toString().c_str());
                return 1;
            }
        }
        std::printf("wrote %d ConfigMaps in %.2f s (one writer, each durable before the next)\n", objects, since(t0));
        c.stop();
    }
    const auto size = std::filesystem::file_size(dir + "/store.db");
    auto t1 = Steady::now();
    auto started = cluster::Cluster::start(config);
    const double seconds = since(t1);
    if (!started) {
        std::fprintf(stderr, "restart: %s\n", started.error().toString().c_str());
        return 1;
    }
    store::ListOptions o;
    auto listed = (*started)->store().list("configmaps", o);
    std::printf("cold start with %zu objects (store.db %.1f MiB): %.3f s to a running cluster; RSS %ld MiB\n",
                listed ? listed->items.size() : 0, size / 1048576.0, seconds, statusKb("VmRSS:") / 1024);
    (*started)->stop();
    started->reset();
    if (temporary)
        std::filesystem::remove_all(dir);
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    Logger::instance().setLevel(LogLevel::Warning);
    std::setvbuf(stdout, nullptr, _IOLBF, 0); // progress lines show as they come, also into a file
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "rollout")
        return rollout(std::atoi(arg(argc, argv, "--nodes", "1000")), std::atoi(arg(argc, argv, "--replicas", "30000")));
    if (mode == "coldstart")
        return coldstart(std::atoi(arg(argc, argv, "--objects", "10000")), arg(argc, argv, "--dir", ""));
    std::fprintf(stderr, "usage: %s rollout [--nodes N] [--replicas R] | coldstart [--objects N] [--dir DIR]\n", argv[0]);
    return 2;
}
