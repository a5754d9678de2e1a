// Durable writes through the SQLite backend with group commit: W writers each append a ~1 KiB
// JSON object and wait until it is durable, as the Store does for every write. Reports
// writes/s, commits/s, the average batch and the latency of a write (append + waitDurable).
// Then the time to open and load() 10,000 objects of ~2 KiB from a file not in the page cache.
//
//   build/tests/bench/bench_store_sqlite [--seconds S] [--writers 1,8,64] [--objects N] [--dir DIR]

#include "core/store/sqlitebackend.h"

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

using namespace podscape::core;
using namespace podscape::core::store;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

// A ConfigMap-like object whose JSON is about `size` bytes.
std::string objectJson(const std::string &name, Revision rev, size_t size)
{
    json v = {{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata",
               {{"name", name},
                {"namespace", "default"},
                {"uid", "2f0c6a5e-6d7b-4c1e-9a53-" + std::to_string(100000000000 + rev)},
                {"resourceVersion", std::to_string(rev)},
                {"labels", {{"app", "bench"}, {"tier", "web"}}}}},
              {"data", json::object()}};
    std::string base = v.dump();
    if (size > base.size() + 20)
        v["data"]["payload"] = std::string(size - base.size() - 20, char('a' + rev % 26));
    return v.dump();
}

double percentile(std::vector<double> &sorted, double p)
{
    if (sorted.empty())
        return 0;
    size_t i = std::min(sorted.size() - 1, size_t(p * double(sorted.size() - 1) + 0.5));
    return sorted[i];
}

// Evicts the file's pages from the page cache so the next read comes from the disk.
void dropFromPageCache(const std::string &path)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
}

bool runWriters(const std::string &path, int writers, double seconds)
{
    std::filesystem::remove(path);
    auto opened = SqliteBackend::open(path);
    if (!opened) {
        std::fprintf(stderr, "%s\n", opened.error().message().c_str());
        return false;
    }
    SqliteBackend &backend = **opened;
    (void)backend.load();

    std::mutex order; // the Store's write lock: revisions are appended in order
    Revision next = 0;
    std::vector<std::vector<double>> latencies(static_cast<size_t>(writers));
    bool failed = false;
    const auto start = SteadyClock::now();
    const auto deadline = start + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(seconds));
    std::vector<std::thread> threads;
    for (int t = 0; t < writers; ++t) {
        threads.emplace_back([&, t] {
            auto &mine = latencies[size_t(t)];
            mine.reserve(100'000);
            while (SteadyClock::now() < deadline) {
                auto begin = SteadyClock::now();
                Revision r;
                {
                    std::lock_guard g(order);
                    r = ++next;
                    std::string name = "cm-" + std::to_string(r % 5000);
                    backend.append({ObjectKey{"configmaps", "default", name}, r, objectJson(name, r, 1024)});
                }
                if (!backend.waitDurable(r)) {
                    std::lock_guard g(order);
                    failed = true;
                    return;
                }
                mine.push_back(std::chrono::duration<double, std::micro>(SteadyClock::now() - begin).count());
            }
        });
    }
    for (auto &t : threads)
        t.join();
    double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
    auto stats = backend.batchStats();
    backend.close();
    if (failed) {
        std::fprintf(stderr, "a write failed\n");
        return false;
    }

    std::vector<double> all;
    for (auto &l : latencies)
        all.insert(all.end(), l.begin(), l.end());
    std::sort(all.begin(), all.end());
    std::printf("%8d %12.0f %10.0f %10.1f %10.2f %10.2f %10.2f\n", writers, double(all.size()) / elapsed,
                double(stats.commits) / elapsed, stats.commits ? double(stats.records) / double(stats.commits) : 0.0,
                percentile(all, 0.5) / 1000.0, percentile(all, 0.99) / 1000.0, all.empty() ? 0.0 : all.back() / 1000.0);
    std::fflush(stdout);
    return true;
}

bool runLoad(const std::string &path, int objects)
{
    std::filesystem::remove(path);
    size_t bytes = 0;
    {
        auto opened = SqliteBackend::open(path);
        if (!opened) {
            std::fprintf(stderr, "%s\n", opened.error().message().c_str());
            return false;
        }
        for (int i = 1; i <= objects; ++i) {
            std::string name = "cm-" + std::to_string(i);
            std::string value = objectJson(name, i, 2048);
            bytes += value.size();
            (*opened)->append({ObjectKey{"configmaps", "ns-" + std::to_string(i % 20), name}, i, std::move(value)});
        }
        if (!(*opened)->waitDurable(objects))
            return false;
    } // closed: the WAL is checkpointed into the file
    std::printf("\nload(): %d objects, %.1f MiB of JSON, file %.1f MiB\n", objects, double(bytes) / (1 << 20),
                double(std::filesystem::file_size(path)) / (1 << 20));
    for (const char *mode : {"cold", "warm"}) {
        if (std::strcmp(mode, "cold") == 0)
            dropFromPageCache(path);
        auto begin = SteadyClock::now();
        auto opened = SqliteBackend::open(path);
        if (!opened)
            return false;
        auto snapshot = (*opened)->load();
        double loadMs = std::chrono::duration<double, std::milli>(SteadyClock::now() - begin).count();
        if (!snapshot || snapshot->objects.size() != size_t(objects)) {
            std::fprintf(stderr, "load failed\n");
            return false;
        }
        // What the Store does next: parse every object.
        auto parseBegin = SteadyClock::now();
        size_t parsed = 0;
        for (const auto &r : snapshot->objects)
            parsed += json::parse(r.value).size();
        double parseMs = std::chrono::duration<double, std::milli>(SteadyClock::now() - parseBegin).count();
        std::printf("  %s: open+load %.1f ms (%.0f objects/s), then JSON parse %.1f ms (%zu fields)\n", mode,
                    loadMs, objects / (loadMs / 1000.0), parseMs, parsed);
    }
    return true;
}

std::vector<int> parseList(const char *text)
{
    std::vector<int> out;
    for (const char *p = text; *p;) {
        out.push_back(std::atoi(p));
        const char *comma = std::strchr(p, ',');
        if (!comma)
            break;
        p = comma + 1;
    }
    return out;
}

} // namespace

int main(int argc, char **argv)
{
    double seconds = 3;
    std::vector<int> writers{1, 8, 64};
    int objects = 10'000;
    std::string dir;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--seconds"))
            seconds = std::atof(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--writers"))
            writers = parseList(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--objects"))
            objects = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--dir"))
            dir = argv[i + 1];
    }
    bool ownDir = dir.empty();
    if (ownDir) {
        char tmpl[] = "/tmp/bench_store_sqlite.XXXXXX";
        if (!::mkdtemp(tmpl)) {
            std::perror("mkdtemp");
            return 1;
        }
        dir = tmpl;
    }
    std::string path = dir + "/bench.db";
    std::printf("SQLite %s, WAL, synchronous=FULL, file %s, %.1f s per run\n\n", sqlite3_libversion(),
                path.c_str(), seconds);
    std::printf("%8s %12s %10s %10s %10s %10s %10s\n", "writers", "writes/s", "commits/s", "avg batch", "p50 ms",
                "p99 ms", "max ms");
    bool ok = true;
    for (int w : writers)
        ok = runWriters(path, w, seconds) && ok;
    ok = runLoad(path, objects) && ok;
    std::filesystem::remove(path);
    if (ownDir)
        std::filesystem::remove_all(dir);
    return ok ? 0 : 1;
}
