#pragma once
// Hands out Services' cluster IPs and node ports, as the API server's Service REST storage
// does with its bitmap allocators (pkg/registry/core/service/{ipallocator,portallocator}):
//
//   - cluster IPs come from one IPv4 CIDR (default 127.96.0.0/12, loopback so the embedded
//     proxy can bind them). The network and broadcast addresses are never used, and the
//     first address is kept for the `kubernetes` Service: it is given only on request.
//     Dynamic picks are random and prefer the upper part of the range, leaving the lower
//     band (Kubernetes' static subrange, min(max(16, size/16), 256) addresses) to requests;
//   - node ports come from 30000-32767 the same way (static band min(max(16, size/32), 128)).
//
// Whoever creates or updates Services calls allocate() / reconcileUpdate() before the
// write and release() after a delete; refusals carry the API server's wording. Each value
// remembers the Service ("namespace/name") holding it, so release() never frees another
// Service's value. rebuild() recovers the maps from the stored Services after a restart;
// repair() (run periodically by ServiceIPRepair) re-marks values Services use and frees
// values nobody has used for several sweeps, which also cleans up after writes that were
// allocated for but never stored. Thread-safe.

#include "core/base/result.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace podscape::core::controllers {

class ServiceIPAllocator
{
public:
    struct Options {
        std::string serviceCIDR = "127.96.0.0/12"; // IPv4, /12 (as Kubernetes allows) to /30
        int nodePortMin = 30000;
        int nodePortMax = 32767;
        uint64_t seed = 0; // 0: random; otherwise reproducible picks (tests)
    };

    // Something a rebuild or repair found wrong with a stored Service, to be reported as a
    // Warning event on it (reasons as Kubernetes' repair controllers use them).
    struct Problem {
        size_t service = 0; // index into the list given
        std::string reason; // ClusterIPAlreadyAllocated, ClusterIPOutOfRange, ClusterIPNotAllocated,
                            // PortAlreadyAllocated, PortOutOfRange, PortNotAllocated
        std::string message;
    };
    struct RepairResult {
        std::vector<Problem> problems;
        size_t released = 0; // values no stored Service used for `leakSweeps` sweeps
    };

    // Invalid options (a malformed or too large CIDR, an empty port range) are an error.
    static Result<std::unique_ptr<ServiceIPAllocator>> create(Options options);
    static Result<std::unique_ptr<ServiceIPAllocator>> create() { return create(Options{}); }

    // Fills spec.clusterIP / clusterIPs (not for headless "None" or ExternalName Services),
    // spec.ipFamilies / ipFamilyPolicy when unset, each port's nodePort for NodePort and
    // LoadBalancer Services and healthCheckNodePort for LoadBalancer with
    // externalTrafficPolicy Local. Requested values are honoured or refused (Invalid, with the
    // field and the API server's message); nothing stays allocated when it fails. dryRun
    // checks and fills in values without keeping them.
    Result<void> allocate(nlohmann::json &service, bool dryRun = false);
    // An update of `oldService` into `newService`: values the new object leaves unset are
    // kept from the old one, new requests are allocated, and values the new object no
    // longer uses are released (NodePort -> ClusterIP drops and frees the node ports; a
    // change to ExternalName frees the cluster IP). A changed cluster IP is refused.
    Result<void> reconcileUpdate(const nlohmann::json &oldService, nlohmann::json &newService, bool dryRun = false);
    // Frees what `service` holds (values held by another Service stay).
    void release(const nlohmann::json &service);
    // As release(), keeping what `keep` (a Service of the same name created since) uses.
    void release(const nlohmann::json &service, const nlohmann::json &keep);

    // Forgets everything and marks what `services` use (after a restart). Duplicates and
    // values out of range are reported, not marked.
    std::vector<Problem> rebuild(const std::vector<nlohmann::json> &services);
    std::vector<Problem> rebuild(const std::vector<std::shared_ptr<const nlohmann::json>> &services);
    // Marks what `services` use and is not marked; frees what none of them used in the last
    // `leakSweeps` calls (values allocated for a write still in flight survive the sweep
    // that misses them).
    RepairResult repair(const std::vector<std::shared_ptr<const nlohmann::json>> &services, int leakSweeps = 3);

    std::string serviceCIDR() const { return m_cidrText; }
    std::string nodePortRange() const { return std::to_string(m_portMin) + "-" + std::to_string(m_portMax); }
    // The first address of the range, kept for the `kubernetes` Service.
    std::string kubernetesServiceIP() const;
    bool isIPAllocated(const std::string &ip) const;
    bool isNodePortAllocated(int port) const;
    size_t allocatedIPs() const;
    size_t allocatedNodePorts() const;
    // Usable addresses (the reserved first one included) and ports.
    size_t ipCapacity() const { return m_ipCount; }
    size_t nodePortCapacity() const { return static_cast<size_t>(m_portMax - m_portMin + 1); }

    // "10.0.0.1" -> 0x0a000001; nullopt unless four decimal octets.
    static std::optional<uint32_t> parseIPv4(std::string_view text);
    static std::string formatIPv4(uint32_t ip);

private:
    struct Holder {
        std::string owner; // "namespace/name" of the Service
        int unusedSweeps = 0;
    };
    // What one allocate/update took, so that a failure (or a dry run) gives it back.
    struct Transaction {
        std::vector<uint32_t> ips;
        std::vector<int> ports;
    };

    explicit ServiceIPAllocator(const Options &options);

    // All *Locked functions expect m_mutex held.
    // `requested` is the clusterIPs value as the error message shows it.
    Result<uint32_t> claimIPLocked(const std::string &ip, const std::string &owner, Transaction &tx,
                                   const nlohmann::json &service, const std::string &requested);
    Result<uint32_t> nextIPLocked(const std::string &owner, Transaction &tx);
    // "" when claimed; otherwise Kubernetes' reason (already allocated / not in range).
    std::string claimPortLocked(int port, const std::string &owner, Transaction &tx);
    Result<int> nextPortLocked(const std::string &owner, Transaction &tx);
    Result<void> allocateClusterIPLocked(nlohmann::json &service, const std::string &owner, Transaction &tx);
    Result<void> allocateNodePortsLocked(nlohmann::json &service, const nlohmann::json *oldService,
                                         const std::string &owner, Transaction &tx);
    Result<void> allocateHealthCheckPortLocked(nlohmann::json &service, const nlohmann::json *oldService,
                                               const std::string &owner, Transaction &tx);
    void rollbackLocked(const Transaction &tx);
    void releaseValuesLocked(const std::vector<uint32_t> &ips, const std::vector<int> &ports,
                             const nlohmann::json &service);
    std::optional<uint32_t> indexOf(uint32_t ip) const; // position in the range, if inside

    uint32_t m_network = 0;
    int m_prefix = 0;
    uint32_t m_ipCount = 0;  // usable addresses: index i is m_network + 1 + i
    uint32_t m_ipOffset = 0; // dynamic picks prefer indices >= this
    int m_portMin = 0;
    int m_portMax = 0;
    int m_portOffset = 0;
    std::string m_cidrText;

    mutable std::mutex m_mutex;
    std::unordered_map<uint32_t, Holder> m_ips; // by index
    std::unordered_map<int, Holder> m_ports;    // by port
    std::mt19937_64 m_random;
};

} // namespace podscape::core::controllers
