#pragma once
// The embedded cluster's Service proxy (kube-proxy's job, in user space on loopback):
//
//   services + endpoints informers --(key)--> sync on the control context --> listeners
//   client --> clusterIP:port or nodeAddress:nodePort --accept--> EndpointPicker --> backend
//
// For every TCP port of a Service whose clusterIP is a 127.0.0.0/8 address it listens on
// clusterIP:port, and for NodePort/LoadBalancer Services also on every node address at the
// nodePort. UDP and SCTP ports are ignored: a user-space UDP relay needs per-client session
// tracking that nothing in the embedded cluster uses yet. A new connection goes to a ready
// endpoint (Endpoints subsets[].addresses, never notReadyAddresses) at the endpoint port named
// like the Service port, round robin, or sticky per client IP with `sessionAffinity: ClientIP`.
//
// A Service port without ready endpoints has its listening sockets closed, so clients get
// "connection refused" at once, as kube-proxy's REJECT rule gives them; the sockets reopen
// when an endpoint becomes ready (listen errors such as "address in use" therefore show only
// while there are endpoints). A listener that fails to open is retried periodically and its
// error is shown in rules(). Deleting a Service (or a port) closes its listeners; connections
// already relayed carry on until either side closes.
//
// Handlers only mark a Service dirty; syncs run on the proxy's own I/O threads, so the
// informer threads never wait on a socket. Memory is bounded: at most maxConnections relayed
// connections (more are reset at accept), each with two buffers of bufferSize bytes.

#include "core/controllers/sharedinformers.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace podscape::core::proxy {

struct ServiceProxyOptions {
    std::vector<std::string> nodeAddresses = {"127.0.0.1"}; // where NodePorts listen
    size_t maxConnections = 4096;                           // relayed at once, all Services
    // Per connection and direction: a pipe's pages (or a buffer's) hold only the bytes in
    // flight, so idle connections cost little. Larger means fewer system calls per byte
    // (bench_proxy: 256 KiB moved one stream ~1.1 GB/s where 64 KiB moved ~0.8).
    size_t bufferSize = 256 * 1024;
    int ioThreads = 2;
    std::chrono::milliseconds connectTimeout{5000};         // to a backend
    std::chrono::milliseconds listenRetryInterval{2000};    // for listeners that failed to open
    // splice(2) through a pipe per direction (2 more descriptors per connection) instead of
    // copying through user space: less CPU per byte (bench_proxy, one upload: 1.05 instead
    // of 1.42 CPU seconds per GB), much the same throughput on a 2-core machine.
    bool zeroCopy = true;
};

// One listening address of one Service port, for views and tests.
struct ProxyRule {
    std::string ns;
    std::string service;
    std::string portName;        // the Service port's name ("" for a single unnamed port)
    int port = 0;                // the Service port
    std::string kind;            // "ClusterIP" or "NodePort"
    std::string listenAddress;   // "127.96.0.10:80"
    size_t readyEndpoints = 0;
    bool listening = false;      // false while there is no ready endpoint, or after an error
    std::string lastError;       // why the listener is not open ("" if it is, or has no endpoints)
    bool clientIPAffinity = false;
    // Of this listener (add a Service's rules up for the Service's figures).
    uint64_t connectionsTotal = 0;
    uint64_t connectionsActive = 0;
    uint64_t connectionsFailed = 0; // the backend could not be reached
};

class ServiceProxy
{
public:
    // Registers handlers on the "services" and "endpoints" informers; the caller starts them.
    // The handlers hold only a weak link, so the proxy may be destroyed before the informers.
    ServiceProxy(controllers::SharedInformers &informers, ServiceProxyOptions options = {});
    ~ServiceProxy(); // stops
    ServiceProxy(const ServiceProxy &) = delete;
    ServiceProxy &operator=(const ServiceProxy &) = delete;

    // Starts the I/O threads and syncs every Service the informers hold. Bad options (no I/O
    // thread, an unparsable node address, a zero buffer) are an Invalid error.
    Result<void> start();
    // Closes every listener and connection and joins the threads. start() may follow.
    void stop();
    bool isRunning() const;

    // Sorted by namespace, Service, port, listen address.
    std::vector<ProxyRule> rules() const;
    // Connections being relayed now, over all Services.
    size_t activeConnections() const;
    // Connections reset at accept because maxConnections were being relayed.
    uint64_t rejectedConnections() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace podscape::core::proxy
