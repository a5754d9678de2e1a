#include "serviceipallocator.h"

#include "core/base/logger.h"
#include "core/model/jsonmember.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

namespace podscape::core::controllers {

using nlohmann::json;

namespace {

using model::member;

std::string text(const json &o, const char *name)
{
    const json &v = member(o, name);
    return v.is_string() ? v.get<std::string>() : std::string();
}

std::string typeOf(const json &service)
{
    std::string t = text(member(service, "spec"), "type");
    return t.empty() ? "ClusterIP" : t;
}

std::string nameOf(const json &service)
{
    const json &meta = member(service, "metadata");
    std::string name = text(meta, "name");
    return name.empty() ? text(meta, "generateName") : name;
}

// Who holds a value: the Service's "namespace/name" (its generateName before it has a name).
std::string ownerOf(const json &service) { return text(member(service, "metadata"), "namespace") + "/" + nameOf(service); }

bool mayHaveNodePorts(const std::string &type) { return type == "NodePort" || type == "LoadBalancer"; }

// shouldAllocateNodePorts: LoadBalancers may opt out of node ports they did not ask for.
bool allocatesNodePorts(const json &service)
{
    const std::string type = typeOf(service);
    if (type == "NodePort")
        return true;
    if (type != "LoadBalancer")
        return false;
    const json &v = member(member(service, "spec"), "allocateLoadBalancerNodePorts");
    return !v.is_boolean() || v.get<bool>();
}

bool needsHealthCheckPort(const json &service)
{
    return typeOf(service) == "LoadBalancer" && text(member(service, "spec"), "externalTrafficPolicy") == "Local";
}

int nodePortOf(const json &port)
{
    const json &v = member(port, "nodePort");
    return v.is_number_integer() ? v.get<int>() : 0;
}

int healthCheckPortOf(const json &service)
{
    const json &v = member(member(service, "spec"), "healthCheckNodePort");
    return v.is_number_integer() ? v.get<int>() : 0;
}

std::vector<int> nodePortsOf(const json &service)
{
    std::vector<int> out;
    const json &ports = member(member(service, "spec"), "ports");
    if (ports.is_array())
        for (const auto &p : ports)
            if (int np = nodePortOf(p); np != 0)
                out.push_back(np);
    return out;
}

// Every port the Service holds: node ports and the health check port.
std::vector<int> heldPortsOf(const json &service)
{
    std::vector<int> out = nodePortsOf(service);
    if (int hc = healthCheckPortOf(service); hc != 0)
        out.push_back(hc);
    return out;
}

// The cluster IPs as written: clusterIPs when set, else clusterIP; "None" included.
std::vector<std::string> clusterIPsOf(const json &service)
{
    const json &spec = member(service, "spec");
    std::vector<std::string> out;
    const json &ips = member(spec, "clusterIPs");
    if (ips.is_array())
        for (const auto &ip : ips)
            if (ip.is_string() && !ip.get<std::string>().empty())
                out.push_back(ip.get<std::string>());
    if (out.empty())
        if (std::string ip = text(spec, "clusterIP"); !ip.empty())
            out.push_back(ip);
    return out;
}

// Go's %#v of a []string, as the API server prints an invalid clusterIPs value.
std::string goStrings(const std::vector<std::string> &values)
{
    std::string out = "[]string{";
    for (size_t i = 0; i < values.size(); ++i)
        out += (i ? ", \"" : "\"") + values[i] + "\"";
    return out + "}";
}

Error invalid(const json &service, std::string field, std::string message, std::string_view type = cause::Invalid)
{
    return Error::invalid("Service", nameOf(service), {{std::string(type), std::move(message), std::move(field)}});
}

json &specOf(json &service)
{
    json &spec = service["spec"];
    if (!spec.is_object())
        spec = json::object();
    return spec;
}

// Kubernetes' static subrange offsets: min(max(lo, size/step), hi), 0 for tiny ranges.
uint64_t rangeOffset(uint64_t size, uint64_t lo, uint64_t step, uint64_t hi)
{
    if (size < lo)
        return 0;
    return std::clamp<uint64_t>(size / step, lo, hi);
}

} // namespace

// ---- construction and queries --------------------------------------------------------------

std::optional<uint32_t> ServiceIPAllocator::parseIPv4(std::string_view s)
{
    uint32_t ip = 0;
    for (int octet = 0; octet < 4; ++octet) {
        if (octet > 0) {
            if (s.empty() || s.front() != '.')
                return std::nullopt;
            s.remove_prefix(1);
        }
        size_t digits = 0;
        while (digits < s.size() && digits < 4 && s[digits] >= '0' && s[digits] <= '9')
            ++digits;
        if (digits == 0 || digits > 3 || (digits > 1 && s[0] == '0'))
            return std::nullopt;
        unsigned value = 0;
        std::from_chars(s.data(), s.data() + digits, value);
        if (value > 255)
            return std::nullopt;
        ip = (ip << 8) | value;
        s.remove_prefix(digits);
    }
    if (!s.empty())
        return std::nullopt;
    return ip;
}

std::string ServiceIPAllocator::formatIPv4(uint32_t ip)
{
    return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 0xff) + "." + std::to_string((ip >> 8) & 0xff)
           + "." + std::to_string(ip & 0xff);
}

Result<std::unique_ptr<ServiceIPAllocator>> ServiceIPAllocator::create(Options options)
{
    const std::string &cidr = options.serviceCIDR;
    const auto slash = cidr.find('/');
    int prefix = -1;
    std::optional<uint32_t> address;
    if (slash != std::string::npos) {
        address = parseIPv4(std::string_view(cidr).substr(0, slash));
        const std::string bits = cidr.substr(slash + 1);
        if (!bits.empty() && bits.size() <= 2 && std::all_of(bits.begin(), bits.end(), [](char c) { return c >= '0' && c <= '9'; }))
            prefix = std::stoi(bits);
    }
    if (!address || prefix < 0 || prefix > 32)
        return fail(Reason::BadRequest, "invalid service CIDR \"" + cidr + "\": expected an IPv4 network such as 127.96.0.0/12");
    if (prefix < 12)
        return fail(Reason::BadRequest, "service CIDR " + cidr + " is too large; for 32-bit addresses, the mask must be >= 12");
    if (prefix > 30)
        return fail(Reason::BadRequest, "service CIDR " + cidr + " has no usable addresses; use a mask of 30 or less");
    if (options.nodePortMin < 1 || options.nodePortMax > 65535 || options.nodePortMin > options.nodePortMax)
        return fail(Reason::BadRequest, "invalid node port range " + std::to_string(options.nodePortMin) + "-"
                                            + std::to_string(options.nodePortMax));
    options.serviceCIDR = formatIPv4(*address & (prefix == 0 ? 0 : ~uint32_t(0) << (32 - prefix))) + "/"
                          + std::to_string(prefix);
    return std::unique_ptr<ServiceIPAllocator>(new ServiceIPAllocator(options));
}

ServiceIPAllocator::ServiceIPAllocator(const Options &options)
    : m_portMin(options.nodePortMin)
    , m_portMax(options.nodePortMax)
    , m_cidrText(options.serviceCIDR)
    , m_random(options.seed ? options.seed : std::random_device{}())
{
    const auto slash = m_cidrText.find('/');
    m_network = *parseIPv4(std::string_view(m_cidrText).substr(0, slash));
    m_prefix = std::stoi(m_cidrText.substr(slash + 1));
    const uint64_t size = uint64_t(1) << (32 - m_prefix);
    m_ipCount = static_cast<uint32_t>(size - 2); // neither the network nor the broadcast address
    m_ipOffset = static_cast<uint32_t>(rangeOffset(size, 16, 16, 256));
    m_portOffset = static_cast<int>(rangeOffset(static_cast<uint64_t>(m_portMax - m_portMin + 1), 16, 32, 128));
    if (static_cast<uint64_t>(m_portMax - m_portMin + 1) <= 16)
        m_portOffset = 0;
}

std::optional<uint32_t> ServiceIPAllocator::indexOf(uint32_t ip) const
{
    if (ip <= m_network || ip - m_network - 1 >= m_ipCount)
        return std::nullopt;
    return ip - m_network - 1;
}

std::string ServiceIPAllocator::kubernetesServiceIP() const { return formatIPv4(m_network + 1); }

bool ServiceIPAllocator::isIPAllocated(const std::string &ip) const
{
    auto parsed = parseIPv4(ip);
    auto index = parsed ? indexOf(*parsed) : std::nullopt;
    std::lock_guard g(m_mutex);
    return index && m_ips.count(*index);
}

bool ServiceIPAllocator::isNodePortAllocated(int port) const
{
    std::lock_guard g(m_mutex);
    return m_ports.count(port) > 0;
}

size_t ServiceIPAllocator::allocatedIPs() const
{
    std::lock_guard g(m_mutex);
    return m_ips.size();
}

size_t ServiceIPAllocator::allocatedNodePorts() const
{
    std::lock_guard g(m_mutex);
    return m_ports.size();
}

// ---- the primitives ------------------------------------------------------------------------

Result<uint32_t> ServiceIPAllocator::claimIPLocked(const std::string &ip, const std::string &owner, Transaction &tx,
                                                  const json &service, const std::string &requested)
{
    auto parsed = parseIPv4(ip);
    if (!parsed)
        return fail(invalid(service, "spec.clusterIPs[0]",
                            "Invalid value: \"" + ip + "\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
    const std::string prefix = "Invalid value: " + requested + ": failed to allocate IP " + ip + ": ";
    auto index = indexOf(*parsed);
    if (!index)
        return fail(invalid(service, "spec.clusterIPs",
                            prefix + "provided IP is not in the valid range. The range of valid IPs is " + m_cidrText));
    if (m_ips.count(*index))
        return fail(invalid(service, "spec.clusterIPs", prefix + "provided IP is already allocated"));
    m_ips[*index] = {owner, 0};
    tx.ips.push_back(*index);
    return *index;
}

Result<uint32_t> ServiceIPAllocator::nextIPLocked(const std::string &owner, Transaction &tx)
{
    // The first address is never handed out dynamically: it is the `kubernetes` Service's.
    const uint32_t reservedTaken = m_ips.count(0) ? 1 : 0;
    if (m_ips.size() - reservedTaken >= m_ipCount - 1)
        return fail(Error::internal("failed to allocate a serviceIP: range is full"));
    // Random in the upper band first, then the lower (static) band: requests for specific
    // low addresses rarely collide with dynamic picks.
    const uint32_t upper = std::max<uint32_t>(m_ipOffset, 1);
    auto scan = [&](uint32_t from, uint32_t to) -> std::optional<uint32_t> {
        if (from >= to)
            return std::nullopt;
        const uint32_t span = to - from;
        const uint32_t start = static_cast<uint32_t>(m_random() % span);
        for (uint32_t i = 0; i < span; ++i) {
            uint32_t at = from + (start + i) % span;
            if (!m_ips.count(at))
                return at;
        }
        return std::nullopt;
    };
    auto index = scan(upper, m_ipCount);
    if (!index)
        index = scan(1, upper);
    if (!index)
        return fail(Error::internal("failed to allocate a serviceIP: range is full"));
    m_ips[*index] = {owner, 0};
    tx.ips.push_back(*index);
    return *index;
}

std::string ServiceIPAllocator::claimPortLocked(int port, const std::string &owner, Transaction &tx)
{
    if (port < m_portMin || port > m_portMax)
        return "provided port is not in the valid range. The range of valid ports is " + nodePortRange();
    if (m_ports.count(port))
        return "provided port is already allocated";
    m_ports[port] = {owner, 0};
    tx.ports.push_back(port);
    return {};
}

Result<int> ServiceIPAllocator::nextPortLocked(const std::string &owner, Transaction &tx)
{
    const int size = m_portMax - m_portMin + 1;
    if (m_ports.size() >= static_cast<size_t>(size))
        return fail(Error::internal("failed to allocate a nodePort: range is full"));
    auto scan = [&](int from, int to) -> std::optional<int> { // [from, to)
        if (from >= to)
            return std::nullopt;
        const int span = to - from;
        const int start = static_cast<int>(m_random() % static_cast<uint64_t>(span));
        for (int i = 0; i < span; ++i) {
            int at = from + (start + i) % span;
            if (!m_ports.count(at))
                return at;
        }
        return std::nullopt;
    };
    auto port = scan(m_portMin + m_portOffset, m_portMax + 1);
    if (!port)
        port = scan(m_portMin, m_portMin + m_portOffset);
    if (!port)
        return fail(Error::internal("failed to allocate a nodePort: range is full"));
    m_ports[*port] = {owner, 0};
    tx.ports.push_back(*port);
    return *port;
}

void ServiceIPAllocator::rollbackLocked(const Transaction &tx)
{
    for (auto i : tx.ips)
        m_ips.erase(i);
    for (auto p : tx.ports)
        m_ports.erase(p);
}

void ServiceIPAllocator::releaseValuesLocked(const std::vector<uint32_t> &ips, const std::vector<int> &ports,
                                             const json &service)
{
    const std::string owner = ownerOf(service);
    // A Service created with generateName was allocated for before it had its name.
    const json &meta = member(service, "metadata");
    const std::string pending = text(meta, "generateName").empty()
                                    ? std::string()
                                    : text(meta, "namespace") + "/" + text(meta, "generateName");
    auto mine = [&](const Holder &h) { return h.owner == owner || (!pending.empty() && h.owner == pending); };
    for (auto i : ips)
        if (auto it = m_ips.find(i); it != m_ips.end() && mine(it->second))
            m_ips.erase(it);
    for (auto p : ports)
        if (auto it = m_ports.find(p); it != m_ports.end() && mine(it->second))
            m_ports.erase(it);
}

// ---- allocation ----------------------------------------------------------------------------

Result<void> ServiceIPAllocator::allocateClusterIPLocked(json &service, const std::string &owner, Transaction &tx)
{
    json &spec = specOf(service);
    const std::string type = typeOf(service);
    std::vector<std::string> requested;
    if (const json &ips = member(spec, "clusterIPs"); ips.is_array())
        for (const auto &ip : ips)
            if (ip.is_string() && !ip.get<std::string>().empty())
                requested.push_back(ip.get<std::string>());
    const std::string clusterIP = text(spec, "clusterIP");
    if (!clusterIP.empty() && !requested.empty() && requested.front() != clusterIP)
        return fail(invalid(service, "spec.clusterIPs[0]",
                            "Invalid value: " + goStrings(requested) + ": must match `clusterIP` (\"" + clusterIP + "\")"));
    if (requested.empty() && !clusterIP.empty())
        requested.push_back(clusterIP);
    if (requested.size() > 1)
        return fail(invalid(service, "spec.clusterIPs",
                            "Invalid value: " + goStrings(requested) + ": this cluster serves one IP family (IPv4); "
                                "give at most one cluster IP"));
    if (!requested.empty() && requested.front() == "None") {
        if (type == "NodePort" || type == "LoadBalancer")
            return fail(invalid(service, "spec.clusterIP",
                                "Invalid value: \"None\": may not be set to 'None' for " + type + " services"));
    } else if (!requested.empty()) {
        auto claimed = claimIPLocked(requested.front(), owner, tx, service, goStrings(requested));
        if (!claimed)
            return claimed.takeError();
    } else {
        auto next = nextIPLocked(owner, tx);
        if (!next)
            return next.takeError();
        requested.push_back(formatIPv4(m_network + 1 + *next));
    }
    spec["clusterIP"] = requested.front();
    spec["clusterIPs"] = json::array({requested.front()});
    if (!member(spec, "ipFamilies").is_array() || spec["ipFamilies"].empty())
        spec["ipFamilies"] = json::array({"IPv4"});
    if (text(spec, "ipFamilyPolicy").empty())
        spec["ipFamilyPolicy"] = "SingleStack";
    return {};
}

Result<void> ServiceIPAllocator::allocateNodePortsLocked(json &service, const json *oldService, const std::string &owner,
                                                         Transaction &tx)
{
    json &spec = specOf(service);
    json &ports = spec["ports"];
    if (!ports.is_array()) {
        if (ports.is_null())
            spec.erase("ports");
        return {};
    }
    const std::string type = typeOf(service);
    const bool oldHadNodePorts = oldService && mayHaveNodePorts(typeOf(*oldService));
    std::set<int> oldNumbers;
    if (oldService)
        for (int np : nodePortsOf(*oldService))
            oldNumbers.insert(np);

    if (!mayHaveNodePorts(type)) {
        // Switching away from NodePort/LoadBalancer with the node ports left as they were:
        // they are dropped (and freed by the caller), as the API server does.
        if (oldHadNodePorts) {
            std::vector<int> now = nodePortsOf(service), before = nodePortsOf(*oldService);
            std::sort(now.begin(), now.end());
            std::sort(before.begin(), before.end());
            if (now.empty() || now == before)
                for (auto &p : ports)
                    if (p.is_object())
                        p.erase("nodePort");
        }
        for (size_t i = 0; i < ports.size(); ++i)
            if (nodePortOf(ports[i]) != 0)
                return fail(invalid(service, "spec.ports[" + std::to_string(i) + "].nodePort",
                                    "Forbidden: may not be used when `type` is '" + type + "'", cause::Forbidden));
        return {};
    }

    // Ports the update leaves unset keep their old node port (matched by port name), unless
    // another port of the new object took that value.
    if (oldHadNodePorts) {
        std::set<int> usedNow;
        for (const auto &p : ports)
            if (int np = nodePortOf(p); np != 0)
                usedNow.insert(np);
        std::map<std::string, int> byName;
        for (const auto &p : member(member(*oldService, "spec"), "ports"))
            if (int np = nodePortOf(p); np != 0)
                byName[text(p, "name")] = np;
        for (auto &p : ports)
            if (p.is_object() && nodePortOf(p) == 0)
                if (auto it = byName.find(text(p, "name")); it != byName.end() && !usedNow.count(it->second)) {
                    p["nodePort"] = it->second;
                    usedNow.insert(it->second);
                }
    }

    const bool allocateNew = allocatesNodePorts(service);
    std::map<int, int> byServicePort; // TCP and UDP on one port number share a node port
    std::set<int> claimed;
    // Requests first, so that a port number shared with a later request reuses its value.
    for (size_t i = 0; i < ports.size(); ++i) {
        const json &p = ports[i];
        const int np = nodePortOf(p);
        if (np == 0)
            continue;
        if (oldNumbers.count(np)) {
            // Kept from the old object: already held (re-marked if the maps lost it).
            if (!m_ports.count(np) && np >= m_portMin && np <= m_portMax) {
                m_ports[np] = {owner, 0};
                tx.ports.push_back(np);
            }
        } else if (!claimed.count(np)) {
            std::string why = claimPortLocked(np, owner, tx);
            if (!why.empty())
                return fail(invalid(service, "spec.ports[" + std::to_string(i) + "].nodePort",
                                    "Invalid value: " + std::to_string(np) + ": " + why));
            claimed.insert(np);
        }
        byServicePort.emplace(member(p, "port").is_number_integer() ? p["port"].get<int>() : 0, np);
    }
    for (auto &p : ports) {
        if (!p.is_object() || nodePortOf(p) != 0 || !allocateNew)
            continue;
        const int servicePort = member(p, "port").is_number_integer() ? p["port"].get<int>() : 0;
        if (auto it = byServicePort.find(servicePort); it != byServicePort.end()) {
            p["nodePort"] = it->second;
            continue;
        }
        auto next = nextPortLocked(owner, tx);
        if (!next)
            return next.takeError();
        p["nodePort"] = *next;
        byServicePort[servicePort] = *next;
    }
    return {};
}

Result<void> ServiceIPAllocator::allocateHealthCheckPortLocked(json &service, const json *oldService,
                                                               const std::string &owner, Transaction &tx)
{
    json &spec = specOf(service);
    const int oldPort = oldService && needsHealthCheckPort(*oldService) ? healthCheckPortOf(*oldService) : 0;
    int port = healthCheckPortOf(service);
    if (!needsHealthCheckPort(service)) {
        if (oldPort != 0 && (port == 0 || port == oldPort))
            spec.erase("healthCheckNodePort");
        return {};
    }
    if (port == 0 && oldPort != 0)
        spec["healthCheckNodePort"] = port = oldPort;
    if (port != 0 && port == oldPort)
        return {};
    if (port != 0) {
        std::string why = claimPortLocked(port, owner, tx);
        if (!why.empty())
            return fail(invalid(service, "spec.healthCheckNodePort",
                                "Invalid value: " + std::to_string(port) + ": failed to allocate requested HealthCheck NodePort "
                                    + std::to_string(port) + ": " + why));
        return {};
    }
    auto next = nextPortLocked(owner, tx);
    if (!next)
        return fail(Error::internal("failed to allocate a health check nodePort: range is full"));
    spec["healthCheckNodePort"] = *next;
    return {};
}

Result<void> ServiceIPAllocator::allocate(json &service, bool dryRun)
{
    if (!service.is_object())
        return fail(Reason::BadRequest, "a Service must be a JSON object");
    if (typeOf(service) == "ExternalName")
        return {}; // a DNS alias: no cluster IP, no node ports
    const std::string owner = ownerOf(service);
    std::lock_guard g(m_mutex);
    Transaction tx;
    Result<void> result = allocateClusterIPLocked(service, owner, tx);
    if (result)
        result = allocateNodePortsLocked(service, nullptr, owner, tx);
    if (result)
        result = allocateHealthCheckPortLocked(service, nullptr, owner, tx);
    if (!result || dryRun)
        rollbackLocked(tx);
    return result;
}

Result<void> ServiceIPAllocator::reconcileUpdate(const json &oldService, json &newService, bool dryRun)
{
    if (!newService.is_object() || !oldService.is_object())
        return fail(Reason::BadRequest, "a Service must be a JSON object");
    const std::string owner = ownerOf(newService);
    const std::string oldType = typeOf(oldService), newType = typeOf(newService);
    const std::vector<std::string> oldIPs = clusterIPsOf(oldService);
    const bool oldHadIP = oldType != "ExternalName" && !oldIPs.empty() && oldIPs.front() != "None";

    std::lock_guard g(m_mutex);
    Transaction tx;
    Result<void> result;
    json &spec = specOf(newService);
    if (newType == "ExternalName") {
        // The cluster IP goes with the change to a DNS alias, unless the update changed it.
        std::vector<std::string> now = clusterIPsOf(newService);
        if (oldType != "ExternalName" && (now.empty() || now == oldIPs))
            for (const char *k : {"clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"})
                spec.erase(k);
    } else if (oldType == "ExternalName" || oldIPs.empty()) {
        result = allocateClusterIPLocked(newService, owner, tx);
    } else {
        // Unset fields keep the allocated values (the API server's patchAllocatedValues).
        if (clusterIPsOf(newService).empty()) {
            spec["clusterIP"] = oldIPs.front();
            spec["clusterIPs"] = json::array({oldIPs.front()});
        }
        for (const char *k : {"ipFamilies", "ipFamilyPolicy"})
            if (const json &v = member(member(oldService, "spec"), k); !spec.contains(k) && !v.is_null())
                spec[k] = v;
        std::vector<std::string> now = clusterIPsOf(newService);
        if (now != oldIPs) {
            result = fail(invalid(newService, "spec.clusterIPs[0]", "Invalid value: " + goStrings(now) + ": may not change once set"));
        } else if (oldHadIP) {
            // Re-mark the kept address if the maps lost it (a restart without rebuild).
            if (auto ip = parseIPv4(oldIPs.front()); ip)
                if (auto index = indexOf(*ip); index && !m_ips.count(*index)) {
                    m_ips[*index] = {owner, 0};
                    tx.ips.push_back(*index);
                }
        }
    }
    if (result)
        result = allocateNodePortsLocked(newService, &oldService, owner, tx);
    if (result)
        result = allocateHealthCheckPortLocked(newService, &oldService, owner, tx);
    if (!result || dryRun) {
        rollbackLocked(tx);
        return result;
    }
    // Release what the old object held and the new one no longer does.
    std::vector<uint32_t> dropIPs;
    const std::vector<std::string> newIPs = newType == "ExternalName" ? std::vector<std::string>() : clusterIPsOf(newService);
    if (oldHadIP)
        for (const auto &ip : oldIPs)
            if (std::find(newIPs.begin(), newIPs.end(), ip) == newIPs.end())
                if (auto parsed = parseIPv4(ip); parsed)
                    if (auto index = indexOf(*parsed))
                        dropIPs.push_back(*index);
    std::vector<int> dropPorts;
    const std::vector<int> newPorts = heldPortsOf(newService);
    for (int p : heldPortsOf(oldService))
        if (std::find(newPorts.begin(), newPorts.end(), p) == newPorts.end())
            dropPorts.push_back(p);
    releaseValuesLocked(dropIPs, dropPorts, oldService);
    return {};
}

void ServiceIPAllocator::release(const json &service)
{
    std::vector<uint32_t> ips;
    if (typeOf(service) != "ExternalName")
        for (const auto &ip : clusterIPsOf(service))
            if (auto parsed = parseIPv4(ip); parsed)
                if (auto index = indexOf(*parsed))
                    ips.push_back(*index);
    std::lock_guard g(m_mutex);
    releaseValuesLocked(ips, heldPortsOf(service), service);
}

void ServiceIPAllocator::release(const json &service, const json &keep)
{
    std::vector<std::string> keptIPs = typeOf(keep) == "ExternalName" ? std::vector<std::string>() : clusterIPsOf(keep);
    std::vector<int> keptPorts = heldPortsOf(keep);
    std::vector<uint32_t> ips;
    if (typeOf(service) != "ExternalName")
        for (const auto &ip : clusterIPsOf(service))
            if (std::find(keptIPs.begin(), keptIPs.end(), ip) == keptIPs.end())
                if (auto parsed = parseIPv4(ip); parsed)
                    if (auto index = indexOf(*parsed))
                        ips.push_back(*index);
    std::vector<int> ports;
    for (int p : heldPortsOf(service))
        if (std::find(keptPorts.begin(), keptPorts.end(), p) == keptPorts.end())
            ports.push_back(p);
    std::lock_guard g(m_mutex);
    releaseValuesLocked(ips, ports, service);
}

// ---- recovery ------------------------------------------------------------------------------

std::vector<ServiceIPAllocator::Problem> ServiceIPAllocator::rebuild(const std::vector<json> &services)
{
    std::vector<std::shared_ptr<const json>> ptrs;
    ptrs.reserve(services.size());
    for (const auto &s : services)
        ptrs.push_back(std::shared_ptr<const json>(&s, [](const json *) {}));
    return rebuild(ptrs);
}

std::vector<ServiceIPAllocator::Problem> ServiceIPAllocator::rebuild(const std::vector<std::shared_ptr<const json>> &services)
{
    {
        std::lock_guard g(m_mutex);
        m_ips.clear();
        m_ports.clear();
    }
    // A repair over empty maps marks everything in use and frees nothing; "not allocated"
    // is the normal state here, not a problem.
    auto result = repair(services, 1);
    std::erase_if(result.problems, [](const Problem &p) {
        return p.reason == "ClusterIPNotAllocated" || p.reason == "PortNotAllocated";
    });
    return std::move(result.problems);
}

ServiceIPAllocator::RepairResult ServiceIPAllocator::repair(const std::vector<std::shared_ptr<const json>> &services,
                                                            int leakSweeps)
{
    RepairResult result;
    std::lock_guard g(m_mutex);
    std::map<uint32_t, std::string> usedIPs; // index -> owner, first Service wins
    std::map<int, std::string> usedPorts;
    for (size_t i = 0; i < services.size(); ++i) {
        const json &service = *services[i];
        const std::string owner = ownerOf(service);
        if (typeOf(service) != "ExternalName")
            for (const auto &ip : clusterIPsOf(service)) {
                if (ip == "None")
                    continue;
                auto parsed = parseIPv4(ip);
                auto index = parsed ? indexOf(*parsed) : std::nullopt;
                if (!index) {
                    result.problems.push_back({i, "ClusterIPOutOfRange",
                                               "Cluster IP [IPv4]:" + ip + " is not within the configured Service CIDR "
                                                   + m_cidrText + "; please recreate service"});
                    continue;
                }
                if (auto [it, fresh] = usedIPs.emplace(*index, owner); !fresh && it->second != owner) {
                    result.problems.push_back({i, "ClusterIPAlreadyAllocated",
                                               "Cluster IP [IPv4]:" + ip
                                                   + " was assigned to multiple services; please recreate service"});
                    continue;
                }
                auto held = m_ips.find(*index);
                if (held == m_ips.end()) {
                    result.problems.push_back(
                        {i, "ClusterIPNotAllocated", "Cluster IP [IPv4]:" + ip + " is not allocated; repairing"});
                    m_ips[*index] = {owner, 0};
                } else {
                    held->second = {owner, 0}; // the stored Service is the truth about ownership
                }
            }
        std::set<int> own;
        for (int port : heldPortsOf(service)) {
            if (!own.insert(port).second)
                continue; // TCP and UDP on one port number share it
            if (port < m_portMin || port > m_portMax) {
                result.problems.push_back({i, "PortOutOfRange",
                                           "Port " + std::to_string(port) + " is not within the port range "
                                               + nodePortRange() + "; please recreate service"});
                continue;
            }
            if (auto [it, fresh] = usedPorts.emplace(port, owner); !fresh && it->second != owner) {
                result.problems.push_back({i, "PortAlreadyAllocated",
                                           "Port " + std::to_string(port)
                                               + " was assigned to multiple services; please recreate service"});
                continue;
            }
            auto held = m_ports.find(port);
            if (held == m_ports.end()) {
                result.problems.push_back(
                    {i, "PortNotAllocated", "Port " + std::to_string(port) + " is not allocated; repairing"});
                m_ports[port] = {owner, 0};
            } else {
                held->second = {owner, 0};
            }
        }
    }
    // Held but unused: count the sweeps, free after `leakSweeps` (Kubernetes waits three).
    for (auto it = m_ips.begin(); it != m_ips.end();) {
        if (!usedIPs.count(it->first) && ++it->second.unusedSweeps >= leakSweeps) {
            PS_LOG(Info, "serviceip") << "cluster IP " << formatIPv4(m_network + 1 + it->first)
                                      << " appears to have leaked: cleaning up";
            it = m_ips.erase(it);
            ++result.released;
        } else {
            ++it;
        }
    }
    for (auto it = m_ports.begin(); it != m_ports.end();) {
        if (!usedPorts.count(it->first) && ++it->second.unusedSweeps >= leakSweeps) {
            PS_LOG(Info, "serviceip") << "node port " << it->first << " appears to have leaked: cleaning up";
            it = m_ports.erase(it);
            ++result.released;
        } else {
            ++it;
        }
    }
    return result;
}

} // namespace podscape::core::controllers
