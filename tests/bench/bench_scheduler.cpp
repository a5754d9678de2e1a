// Schedules P pending pods onto N nodes held in an in-memory Store, the way the embedded
// cluster does it: the scheduler's informers list the store, its thread runs the cycles and
// writes every binding (spec.nodeName + PodScheduled) and a Scheduled event back. Reports the
// time from start() until the last binding, pods per second, and the peak resident memory.
//
//   build/tests/bench/bench_scheduler [--nodes 1000] [--pods 30000] [--replicasets 300]
//                                     [--percentage 0] [--direct]
//
// --direct drives the cycles on the main thread (syncFromStore + scheduleUntilIdle) instead
// of start(), to separate the algorithm from the informer plumbing.

#include "benchutil.h"
#include "core/base/clock.h"
#include "core/scheduler/scheduler.h"
#include "core/store/store.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <string>

using namespace podscape::core;
using nlohmann::json;
using Steady = std::chrono::steady_clock;

using podscape::bench::statusKb;

namespace {

json makeNode(int i)
{
    const std::string name = "node-" + std::to_string(i);
    json resources = {{"cpu", "32"}, {"memory", "128Gi"}, {"pods", "110"}, {"ephemeral-storage", "100Gi"}};
    return {{"apiVersion", "v1"},
            {"kind", "Node"},
            {"metadata",
             {{"name", name},
              {"labels",
               {{"kubernetes.io/hostname", name},
                {"kubernetes.io/os", "linux"},
                {"topology.kubernetes.io/zone", "zone-" + std::to_string(i % 3)}}}}},
            {"spec", json::object()},
            {"status",
             {{"capacity", resources},
              {"allocatable", resources},
              {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
}

json makePod(int i, int replicaSets)
{
    const int rs = i % replicaSets;
    const std::string rsName = "web-" + std::to_string(rs);
    return {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata",
             {{"name", rsName + "-" + std::to_string(i)},
              {"namespace", "default"},
              {"labels", {{"app", rsName}}},
              {"ownerReferences",
               json::array({{{"apiVersion", "apps/v1"},
                             {"kind", "ReplicaSet"},
                             {"name", rsName},
                             {"uid", "rs-uid-" + std::to_string(rs)},
                             {"controller", true}}})}}},
            {"spec",
             {{"schedulerName", "default-scheduler"},
              {"containers",
               json::array({{{"name", "app"},
                             {"image", "luksa/kubia"},
                             {"resources", {{"requests", {{"cpu", "100m"}, {"memory", "128Mi"}}}}}}})},
              {"tolerations",
               json::array({{{"key", "node.kubernetes.io/not-ready"},
                             {"operator", "Exists"},
                             {"effect", "NoExecute"},
                             {"tolerationSeconds", 300}}})}}},
            {"status", {{"phase", "Pending"}}}};
}

} // namespace

int main(int argc, char **argv)
{
    int nodes = 1000, pods = 30000, replicaSets = 300, percentage = 0;
    bool direct = false;
    for (int i = 1; i < argc; ++i) {
        auto next = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
        if (!std::strcmp(argv[i], "--nodes"))
            nodes = next();
        else if (!std::strcmp(argv[i], "--pods"))
            pods = next();
        else if (!std::strcmp(argv[i], "--replicasets"))
            replicaSets = std::max(1, next());
        else if (!std::strcmp(argv[i], "--percentage"))
            percentage = next();
        else if (!std::strcmp(argv[i], "--direct"))
            direct = true;
    }

    store::StoreOptions storeOptions;
    storeOptions.historyLimit = 200'000;
    store::Store store(Clock::system(), storeOptions);
    const auto t0 = Steady::now();
    for (int i = 0; i < nodes; ++i)
        if (!store.create("nodes", makeNode(i)).ok())
            return 1;
    for (int i = 0; i < pods; ++i)
        if (!store.create("pods", makePod(i, replicaSets)).ok())
            return 1;
    const double setup = std::chrono::duration<double>(Steady::now() - t0).count();
    const long rssBefore = statusKb("VmRSS:");
    std::printf("bench_scheduler: %d nodes, %d pending pods (%d ReplicaSets), %s, percentageOfNodesToScore %d\n",
                nodes, pods, replicaSets, direct ? "cycles on the main thread" : "scheduler thread + informers",
                percentage);
    std::printf("  store filled in %.2f s, RSS %.1f MB\n", setup, rssBefore / 1024.0);

    scheduler::SchedulerOptions options;
    options.decisionDetails = false;
    options.framework.percentageOfNodesToScore = percentage;
    scheduler::Scheduler sched(store, Clock::system(), options);

    std::mutex mutex;
    std::condition_variable done;
    int finished = 0, scheduled = 0;
    sched.setOnDecision([&](const scheduler::Decision &d) {
        std::lock_guard g(mutex);
        ++finished;
        scheduled += d.outcome == scheduler::Decision::Outcome::Scheduled;
        if (scheduled == pods)
            done.notify_all();
    });

    const auto t1 = Steady::now();
    if (direct) {
        if (!sched.syncFromStore().ok())
            return 1;
        sched.scheduleUntilIdle();
    } else {
        sched.start();
        std::unique_lock lock(mutex);
        if (!done.wait_for(lock, std::chrono::minutes(10), [&] { return scheduled == pods; }))
            std::printf("  timed out\n");
    }
    const double seconds = std::chrono::duration<double>(Steady::now() - t1).count();
    sched.stop();

    // Check in the store: every pod bound, and how evenly.
    std::map<std::string, int> perNode;
    int bound = 0;
    const auto listed = store.list("pods");
    for (const auto &p : listed->items)
        if (auto node = (*p)["spec"].value("nodeName", std::string()); !node.empty()) {
            ++bound;
            ++perNode[node];
        }
    int lo = pods, hi = 0;
    for (const auto &[node, n] : perNode) {
        lo = std::min(lo, n);
        hi = std::max(hi, n);
    }
    if (static_cast<int>(perNode.size()) < nodes)
        lo = 0;
    const auto stats = sched.stats();
    std::printf("  scheduled %d/%d in %.2f s: %.0f pods/s (%d cycles, %llu failed)\n", bound, pods, seconds,
                bound / seconds, finished, static_cast<unsigned long long>(stats.failed));
    std::printf("  pods per node: min %d, max %d; events in store: %zu\n", lo, hi, store.list("events")->items.size());
    std::printf("  peak RSS %.1f MB (%.1f MB before the scheduler started)\n", statusKb("VmHWM:") / 1024.0,
                rssBefore / 1024.0);
    return bound == pods ? 0 : 1;
}
