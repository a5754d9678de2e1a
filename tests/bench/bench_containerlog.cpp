// Container log files (core/kubelet/runtime/containerlogfile): append throughput, in pipe-sized
// chunks and one line per call, then on a 50 MB log (5 files of 10 MiB) the latency of
// `tail 100` (live and from the files alone), of a since that selects the last lines, and the
// speed of reading everything, as a list and as a follower.
//
//   build/tests/bench/bench_containerlog [--dir DIR] [--mb N]

#include "benchutil.h"
#include "core/kubelet/runtime/containerlogfile.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

using namespace podscape::core;
using namespace podscape::core::kubelet::runtime;
using SteadyClock = std::chrono::steady_clock;

namespace {

double secondsSince(SteadyClock::time_point start)
{
    return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// 100-byte lines (with the newline), numbered.
std::string lines(int first, size_t bytes)
{
    std::string out;
    char buf[128];
    for (int i = first; out.size() < bytes; ++i) {
        std::snprintf(buf, sizeof buf, "%08d some log text of a web server: GET /api/items?page=%d 200 ", i, i % 97);
        std::string line = buf;
        line.resize(99, '.');
        out += line + "\n";
    }
    return out;
}

struct Latency {
    double median = 0, p99 = 0, max = 0;
};

template<typename F>
Latency measure(int runs, F &&f)
{
    std::vector<double> us;
    for (int i = 0; i < runs; ++i) {
        const auto start = SteadyClock::now();
        f();
        us.push_back(secondsSince(start) * 1e6);
    }
    std::sort(us.begin(), us.end());
    return {us[us.size() / 2], us[us.size() * 99 / 100], us.back()};
}

} // namespace

int main(int argc, char **argv)
{
    std::string dir = "/tmp";
    size_t mb = 256;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--dir"))
            dir = argv[i + 1];
        else if (!std::strcmp(argv[i], "--mb"))
            mb = size_t(std::atol(argv[i + 1]));
    }
    const std::string base = dir + "/bench_containerlog." + std::to_string(::getpid());
    std::filesystem::create_directories(base);
    const Clock::TimePoint t0 = SystemClock().now();

    // 1. Pipe-sized chunks (64 KiB, lines cut at chunk ends), default options: 10 MiB x 5.
    {
        auto log = *ContainerLogFile::create(base + "/chunks.log");
        const std::string chunk = lines(0, 64 * 1024).substr(0, 64 * 1024);
        const size_t total = mb * 1024 * 1024;
        const auto start = SteadyClock::now();
        size_t written = 0;
        while (written < total) {
            log->append(false, chunk, t0);
            written += chunk.size();
        }
        log->close(t0);
        const double s = secondsSince(start);
        std::printf("append 64 KiB chunks: %zu MB in %.2f s: %.0f lines/s, %.0f MB/s of input (%llu rotations)\n", mb, s,
                    double(written) / 100 / s, double(written) / 1048576 / s, (unsigned long long)log->rotations());
    }
    // 2. One line per call.
    {
        auto log = *ContainerLogFile::create(base + "/single.log");
        const std::string text = lines(0, 100).substr(0, 100);
        const int count = 1'000'000;
        const auto start = SteadyClock::now();
        for (int i = 0; i < count; ++i)
            log->append(i % 4 == 0, text, t0 + std::chrono::microseconds(i));
        const double s = secondsSince(start);
        std::printf("append one line per call: %d lines in %.2f s: %.0f lines/s, %.0f MB/s\n", count, s, count / s,
                    count * 100.0 / 1048576 / s);
    }
    // 3. A 50 MB log.
    const std::string path = base + "/big.log";
    auto log = *ContainerLogFile::create(path);
    {
        const std::string chunk = lines(0, 64 * 1024);
        int i = 0;
        for (; log->rotations() < 4; ++i)
            log->append(false, chunk, t0 + std::chrono::milliseconds(i));
        for (; std::filesystem::file_size(path) + chunk.size() * 3 / 2 < 10 * 1024 * 1024; ++i)
            log->append(false, chunk, t0 + std::chrono::milliseconds(i));
        uint64_t bytes = 0;
        for (const char *suffix : {"", ".1", ".2", ".3", ".4"})
            bytes += std::filesystem::file_size(path + suffix);
        std::printf("log on disk: %.1f MB in 5 files\n", double(bytes) / 1048576);
    }
    LogOptions tail;
    tail.tailLines = 100;
    size_t got = 0;
    auto live = measure(200, [&] { got = log->read(tail)->size(); });
    std::printf("tail 100 (live): median %.0f us, p99 %.0f us, max %.0f us (%zu lines)\n", live.median, live.p99,
                live.max, got);
    auto disk = measure(200, [&] { got = readContainerLogFile(path, tail)->size(); });
    std::printf("tail 100 (files only): median %.0f us, p99 %.0f us, max %.0f us\n", disk.median, disk.p99, disk.max);
    LogOptions since;
    since.since = log->read(tail)->back().time; // the last chunk's lines
    auto recent = measure(200, [&] { got = log->read(since)->size(); });
    std::printf("since (the last append's lines): median %.0f us, p99 %.0f us (%zu lines)\n", recent.median,
                recent.p99, got);
    LogOptions tail10k;
    tail10k.tailLines = 10000;
    auto big = measure(20, [&] { got = log->read(tail10k)->size(); });
    std::printf("tail 10000: median %.0f us (%zu lines)\n", big.median, got);
    {
        const auto start = SteadyClock::now();
        const auto all = *log->read({});
        const double s = secondsSince(start);
        std::printf("read all: %zu lines in %.3f s: %.0f lines/s (peak RSS %ld MB)\n", all.size(), s, all.size() / s,
                    podscape::bench::statusKb("VmHWM:") / 1024);
    }
    {
        const long rssBefore = podscape::bench::statusKb("VmRSS:");
        auto stream = log->follow({}, Clock::system());
        log->close(t0);
        size_t count = 0;
        const auto start = SteadyClock::now();
        while (true) {
            auto chunk = stream->read(std::chrono::seconds(1));
            count += chunk.lines.size();
            if (chunk.ended)
                break;
        }
        const double s = secondsSince(start);
        std::printf("follower catching up: %zu lines in %.3f s: %.0f lines/s (RSS +%ld kB)\n", count, s, count / s,
                    podscape::bench::statusKb("VmRSS:") - rssBefore);
    }
    std::filesystem::remove_all(base);
    return 0;
}
