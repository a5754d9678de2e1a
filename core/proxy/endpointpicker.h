#pragma once
// Chooses the backend of each new connection to one Service port, as kube-proxy's rules do:
// round robin over the ready endpoints, or with `sessionAffinity: ClientIP` the backend a
// client IP last used, for as long as that backend stays ready and the client came back
// within the timeout (counted from its last connection, like iptables' `recent` match).
// Pure and not thread-safe: the ServiceProxy serialises access.

#include "core/base/clock.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace podscape::core::proxy {

struct Backend {
    std::string ip;
    uint16_t port = 0;

    std::string toString() const { return ip + ":" + std::to_string(port); }
    auto operator<=>(const Backend &) const = default;
};

class EndpointPicker
{
public:
    struct Options {
        bool clientIPAffinity = false;
        std::chrono::seconds affinityTimeout{10800}; // Kubernetes' default
        // Client IPs remembered at most; when full, expired entries go first, then the
        // least recently used one.
        size_t maxAffinityEntries = 65536;
    };

    EndpointPicker() = default;
    explicit EndpointPicker(Options options) : m_options(options) {}

    // Turning affinity off forgets every client.
    void setOptions(Options options);
    const Options &options() const { return m_options; }

    // Replaces the ready backends (sorted and de-duplicated here). Clients whose backend is
    // no longer ready lose their affinity; the round-robin position carries over.
    void setBackends(std::vector<Backend> backends);
    const std::vector<Backend> &backends() const { return m_backends; }
    bool empty() const { return m_backends.empty(); }

    // The backend for a new connection from `clientIP` at `now`; nullopt when none is ready.
    std::optional<Backend> pick(const std::string &clientIP, Clock::TimePoint now);

    size_t affinityEntries() const { return m_affinity.size(); }

private:
    struct Affinity {
        Backend backend;
        Clock::TimePoint lastUsed;
    };
    const Backend &nextRoundRobin();
    void makeRoomForAffinity(Clock::TimePoint now);

    Options m_options;
    std::vector<Backend> m_backends;
    size_t m_next = 0;
    std::unordered_map<std::string, Affinity> m_affinity;
};

} // namespace podscape::core::proxy
