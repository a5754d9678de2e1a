#pragma once
// What a simulated container does, worked out once when it is created from its image, its
// command and the pod's sim.podscape.io annotations (core/kubelet/README.md lists them):
// the lines it logs and when, whether and how it exits, how it takes SIGTERM, how it answers
// probes and requests, and how much CPU and memory it uses.
//
// Images are recognised by name: web servers (kubia, nginx, http-echo, httpd) log their
// startup and every request; shells (busybox, alpine, ubuntu...) run their `sh -c` script
// through a small interpreter of the forms manifests use (echo, printf, sleep, exit, date,
// hostname, while/for loops, variables). A shell with nothing to run exits at once, as the
// real one does without a terminal.

#include "containerruntime.h"

#include <optional>
#include <string>
#include <vector>

namespace podscape::core::kubelet::runtime {

enum class ImageKind { Kubia, Nginx, HttpEcho, Httpd, Fortune, Shell, Generic };

// Where the container runs, for what it prints and answers.
struct SimContext {
    std::string podName;
    std::string podNamespace;
    std::string podIP;
    std::string hostIP;
};

class SimProgram
{
public:
    // One line of output, `at` after the start (of the program, or of a loop iteration).
    // The text may hold date placeholders that render() fills in for the time it is logged.
    struct Line {
        Duration at{0};
        std::string text;
        bool stderrStream = false;
    };
    // An endless loop: `body` runs every `period`, the first time `firstAt` after the start.
    struct Loop {
        Duration firstAt{0};
        Duration period{std::chrono::seconds(1)};
        std::vector<Line> body;
    };
    struct Response {
        int status = 200;
        std::string body;
    };

    // Errors (Invalid) name a malformed annotation, so the kubelet can show it as
    // CreateContainerError instead of silently ignoring it.
    static Result<SimProgram> build(const ContainerConfig &config, const SimContext &context);

    ImageKind kind() const { return m_kind; }
    const std::vector<Line> &startup() const { return m_startup; }
    const std::optional<Loop> &loop() const { return m_loop; }

    // Exiting by itself: after exitAfter() from the start, with exitCode() and exitReason()
    // (Completed, Error or OOMKilled).
    std::optional<Duration> exitAfter() const { return m_exitAfter; }
    int exitCode() const { return m_exitCode; }
    const std::string &exitReason() const { return m_exitReason; }

    // SIGTERM: exits stopAfter() later (the runtime's default when nullopt and it handles the
    // signal), or never when it ignores the signal (a shell or node as PID 1): then SIGKILL
    // at the end of the grace period ends it with 137.
    bool ignoresSigterm() const { return m_ignoresSigterm; }
    std::optional<Duration> stopAfter() const { return m_stopAfter; }
    int termExitCode() const { return m_termExitCode; }
    std::vector<Line> termLines() const;

    // A probe `sinceStart` after the start, after `requests` earlier requests to the program.
    // HTTP probes are requests too: the caller counts them and logs requestLine().
    ProbeResult probe(const ProbeSpec &spec, Duration sinceStart, int requests) const;
    bool listensOn(int port) const;
    // The answer to request number `requests` + 1.
    Response respond(const std::string &path, Duration sinceStart, int requests) const;
    // What the program logs for a request (nullopt: nothing).
    std::optional<std::string> requestLine(const std::string &fromIp, const std::string &path, int status,
                                           size_t bytes, bool fromProbe) const;

    // Usage at `sinceStart`, with a little deterministic noise so charts look alive.
    int64_t cpuMilli(Duration sinceStart, uint64_t seed) const;
    int64_t memoryBytes(Duration sinceStart, uint64_t seed) const;
    int64_t baseCpuMilli() const { return m_cpuMilli; }
    int64_t baseMemoryBytes() const { return m_memoryBytes; }

    // Fills in the date placeholders of a line for the time it is logged.
    static std::string render(const std::string &text, TimePoint at);
    // Go-style durations as annotations write them: "500ms", "5s", "1m30s", "2h"; a bare
    // number is seconds.
    static Result<Duration> parseDuration(std::string_view text);

private:
    ImageKind m_kind = ImageKind::Generic;
    SimContext m_context;
    std::string m_image;
    std::string m_tag;
    std::vector<int> m_ports;
    std::vector<Line> m_startup;
    std::optional<Loop> m_loop;
    std::optional<Duration> m_exitAfter;
    int m_exitCode = 0;
    std::string m_exitReason = "Completed";
    bool m_ignoresSigterm = false;
    std::optional<Duration> m_stopAfter;
    int m_termExitCode = 143;
    Duration m_readyAfter{0};
    Duration m_startupAfter{0};
    bool m_failReadiness = false;
    std::optional<Duration> m_failLivenessAfter;
    int m_healthyRequests = -1;  // kubia-unhealthy: answers 500 after this many requests
    int m_errorAfterRequests = -1; // kubia:v3: answers 500 after this many requests
    std::string m_echoText = "hello-world";
    int m_listenPort = 0; // 0: any declared port
    int64_t m_cpuMilli = 1;
    int64_t m_memoryBytes = 8 << 20;
};

} // namespace podscape::core::kubelet::runtime
