#include "endpointscontroller.h"

#include "core/controllers/replicaset/replicasetcontroller.h"
#include "core/model/labelselector.h"
#include "core/model/jsonmember.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace podscape::core::controllers {

using nlohmann::json;

namespace {

constexpr const char *kHeadlessLabel = "service.kubernetes.io/headless";
constexpr const char *kOverCapacity = "endpoints.kubernetes.io/over-capacity";
// Endpoints that hold a leader-election record have no Service and must not be cleaned up.
constexpr const char *kLeaderAnnotation = "control-plane.alpha.kubernetes.io/leader";

std::string str(const json &o, std::string_view pointer)
{
    auto p = json::json_pointer(std::string(pointer));
    return o.contains(p) && o[p].is_string() ? o[p].get<std::string>() : std::string();
}

std::string keyOf(const json &o) { return str(o, "/metadata/namespace") + "/" + str(o, "/metadata/name"); }

using model::member;

model::Labels selectorOf(const json &service)
{
    return model::labelsFromJson(member(member(service, "spec"), "selector"));
}

model::Labels labelsOf(const json &o) { return model::labelsFromJson(member(member(o, "metadata"), "labels")); }

// The same on metadata.labels in place (runs for every pod of the namespace in a sync).
bool selectorMatchesJson(const model::Labels &selector, const json &labels)
{
    if (!labels.is_object())
        return selector.empty();
    for (const auto &[k, v] : selector) {
        auto it = labels.find(k);
        if (it == labels.end() || !it->is_string() || it->get_ref<const std::string &>() != v)
            return false;
    }
    return true;
}

bool selectorMatches(const model::Labels &selector, const model::Labels &labels)
{
    for (const auto &[k, v] : selector) {
        auto it = labels.find(k);
        if (it == labels.end() || it->second != v)
            return false;
    }
    return true;
}

bool isIPv6(const std::string &ip) { return ip.find(':') != std::string::npos; }

// The pod IP of the Service's family (podToEndpointAddressForService).
std::string podIPFor(const json &service, const json &pod)
{
    bool v6 = false;
    const json &families = member(member(service, "spec"), "ipFamilies");
    const std::string clusterIP = str(service, "/spec/clusterIP");
    if (families.is_array() && !families.empty() && families[0].is_string())
        v6 = families[0].get<std::string>() == "IPv6";
    else if (!clusterIP.empty() && clusterIP != "None")
        v6 = isIPv6(clusterIP);
    else
        v6 = isIPv6(str(pod, "/status/podIP"));
    const json &ips = member(member(pod, "status"), "podIPs");
    if (ips.is_array() && !ips.empty()) {
        for (const auto &entry : ips) {
            std::string ip = entry.is_object() ? entry.value("ip", std::string()) : std::string();
            if (!ip.empty() && isIPv6(ip) == v6)
                return ip;
        }
        return {};
    }
    std::string ip = str(pod, "/status/podIP");
    return !ip.empty() && isIPv6(ip) == v6 ? ip : std::string();
}

// ShouldPodBeInEndpoints: not finished, has an IP, and not terminating unless the Service
// publishes not-ready addresses (which then includes terminating ones).
bool shouldPodBeInEndpoints(const json &pod, bool includeTerminating)
{
    std::string phase = str(pod, "/status/phase");
    if (phase == "Succeeded" || phase == "Failed")
        return false;
    const json &ips = member(member(pod, "status"), "podIPs");
    if (str(pod, "/status/podIP").empty() && (!ips.is_array() || ips.empty()))
        return false;
    return includeTerminating || str(pod, "/metadata/deletionTimestamp").empty();
}

json endpointPort(const json &servicePort, int port)
{
    json p = json::object();
    if (std::string name = servicePort.value("name", std::string()); !name.empty())
        p["name"] = name;
    p["port"] = port;
    p["protocol"] = servicePort.value("protocol", std::string("TCP"));
    if (auto it = servicePort.find("appProtocol"); it != servicePort.end() && it->is_string())
        p["appProtocol"] = *it;
    return p;
}

// Kubernetes' LessEndpointAddress: by IP as bytes, then by the target's uid.
bool addressLess(const json &a, const json &b)
{
    std::string ai = a.value("ip", std::string()), bi = b.value("ip", std::string());
    if (ai != bi)
        return ai < bi;
    return str(a, "/targetRef/uid") < str(b, "/targetRef/uid");
}

bool portLess(const json &a, const json &b)
{
    auto key = [](const json &p) {
        return std::make_tuple(p.value("name", std::string()), p.value("port", 0), p.value("protocol", std::string()),
                               p.value("appProtocol", std::string()));
    };
    return key(a) < key(b);
}

// RepackSubsets: every (address, port) pair is spread out, then ports offered by exactly
// the same addresses (with the same readiness) are grouped into one subset. An address
// not ready for any port it offers is not ready for that port ("not ready trumps ready").
json repack(const std::vector<std::tuple<json, json, bool>> &entries)
{
    // address identity (ip + uid) -> address; port (serialized; "" for no ports) -> port.
    std::map<std::string, json> addresses;
    std::map<std::string, json> ports;
    std::map<std::string, std::map<std::string, bool>> readyByPort; // port -> address -> ready
    for (const auto &[address, port, ready] : entries) {
        std::string addressKey = address.value("ip", std::string()) + "\x1f" + str(address, "/targetRef/uid");
        addresses.emplace(addressKey, address);
        std::string portKey = port.is_null() ? std::string() : port.dump();
        ports.emplace(portKey, port);
        auto &byAddress = readyByPort[portKey];
        auto it = byAddress.find(addressKey);
        if (it == byAddress.end())
            byAddress.emplace(addressKey, ready);
        else
            it->second = it->second && ready;
    }
    // Group ports by the set of addresses (and readiness) that offer them.
    std::map<std::string, std::vector<std::string>> portsBySet;
    std::map<std::string, const std::map<std::string, bool> *> setOf;
    for (const auto &[portKey, byAddress] : readyByPort) {
        std::string signature;
        for (const auto &[addressKey, ready] : byAddress)
            signature += addressKey + (ready ? "\x1eR" : "\x1eN") + "\x1d";
        portsBySet[signature].push_back(portKey);
        setOf[signature] = &byAddress;
    }
    std::vector<json> subsets;
    for (const auto &[signature, portKeys] : portsBySet) {
        json ready = json::array(), notReady = json::array(), subsetPorts = json::array();
        for (const auto &[addressKey, isReady] : *setOf[signature])
            (isReady ? ready : notReady).push_back(addresses[addressKey]);
        for (const auto &k : portKeys)
            if (!k.empty())
                subsetPorts.push_back(ports[k]);
        std::sort(ready.begin(), ready.end(), addressLess);
        std::sort(notReady.begin(), notReady.end(), addressLess);
        std::sort(subsetPorts.begin(), subsetPorts.end(), portLess);
        json subset = json::object();
        if (!ready.empty())
            subset["addresses"] = std::move(ready);
        if (!notReady.empty())
            subset["notReadyAddresses"] = std::move(notReady);
        if (!subsetPorts.empty())
            subset["ports"] = std::move(subsetPorts);
        subsets.push_back(std::move(subset));
    }
    // Kubernetes orders subsets by a hash; any fixed order serves the same purpose.
    std::sort(subsets.begin(), subsets.end(), [](const json &a, const json &b) {
        std::string ap = a.value("ports", json::array()).dump(), bp = b.value("ports", json::array()).dump();
        if (ap != bp)
            return ap < bp;
        return a.dump() < b.dump();
    });
    json out = json::array();
    for (auto &s : subsets)
        out.push_back(std::move(s));
    return out;
}

size_t countAddresses(const json &subsets, const char *field)
{
    size_t n = 0;
    for (const auto &s : subsets)
        n += s.value(field, json::array()).size();
    return n;
}

// truncateEndpoints: keeps `max` addresses, ready ones first, each subset keeping its share.
bool truncate(json &subsets, size_t max)
{
    const size_t ready = countAddresses(subsets, "addresses"), notReady = countAddresses(subsets, "notReadyAddresses");
    if (ready + notReady <= max)
        return false;
    const bool truncateReady = ready > max;
    const size_t budget = truncateReady ? max : max - ready;
    const size_t total = truncateReady ? ready : notReady;
    size_t canBeAdded = budget;
    for (auto &s : subsets) {
        const char *field = truncateReady ? "addresses" : "notReadyAddresses";
        json list = s.value(field, json::array());
        size_t share = static_cast<size_t>(std::ceil(double(list.size()) / double(total) * double(budget)));
        share = std::min(share, canBeAdded);
        if (list.size() > share)
            list.erase(list.begin() + static_cast<std::ptrdiff_t>(share), list.end());
        canBeAdded -= list.size();
        if (list.empty())
            s.erase(field);
        else
            s[field] = std::move(list);
        if (truncateReady)
            s.erase("notReadyAddresses");
    }
    return true;
}

} // namespace

EndpointsController::EndpointsController(SharedInformers &informers, Options options)
    : Controller("endpoint-controller", informers.clock())
    , m_options(options)
    , m_store(informers.store())
    , m_services(informers.forResource("services"))
    , m_pods(informers.forResource("pods"))
    , m_endpoints(informers.forResource("endpoints"))
    , m_recorder(informers.store(), informers.clock(), name())
{
    waitForCaches({&m_services, &m_pods, &m_endpoints});
    m_services.addEventHandlers({
        [this](const ObjectPtr &s) { queue().add(keyOf(*s)); },
        [this](const ObjectPtr &, const ObjectPtr &s) { queue().add(keyOf(*s)); },
        [this](const ObjectPtr &s) { queue().add(keyOf(*s)); },
    });
    m_pods.addEventHandlers({
        [this](const ObjectPtr &p) {
            for (const auto &key : servicesSelecting(*p))
                queue().add(key);
        },
        [this](const ObjectPtr &o, const ObjectPtr &n) { onPodUpdated(o, n); },
        [this](const ObjectPtr &p) {
            for (const auto &key : servicesSelecting(*p))
                queue().add(key);
        },
    });
    m_endpoints.addEventHandlers({
        // Endpoints listed at start whose Service may be gone (checkLeftoverEndpoints): later
        // adds are someone's hand-made Endpoints and stay alone.
        [this](const ObjectPtr &e) {
            if (!m_endpoints.hasSynced() && !member(member(*e, "metadata"), "annotations").contains(kLeaderAnnotation))
                queue().add(keyOf(*e));
        },
        // An edited or deleted Endpoints of a managed Service is put back; any other is
        // someone else's.
        [this](const ObjectPtr &, const ObjectPtr &e) { enqueueIfManaged(keyOf(*e)); },
        [this](const ObjectPtr &e) { enqueueIfManaged(keyOf(*e)); },
    });
}

void EndpointsController::enqueueIfManaged(const std::string &key)
{
    if (auto service = m_services.indexer().get(key); service && !selectorOf(*service).empty())
        queue().add(key);
}

std::vector<std::string> EndpointsController::servicesSelecting(const json &pod) const
{
    std::vector<std::string> keys;
    const model::Labels labels = labelsOf(pod);
    for (const auto &service : m_services.indexer().byIndex("namespace", str(pod, "/metadata/namespace"))) {
        model::Labels selector = selectorOf(*service);
        if (!selector.empty() && selectorMatches(selector, labels))
            keys.push_back(keyOf(*service));
    }
    return keys;
}

void EndpointsController::onPodUpdated(const ObjectPtr &oldPod, const ObjectPtr &newPod)
{
    // Only what the Endpoints reflect matters; a status heartbeat changes none of it.
    auto relevant = [](const json &p) {
        return json{{"labels", member(member(p, "metadata"), "labels")},
                    {"deleting", !str(p, "/metadata/deletionTimestamp").empty()},
                    {"uid", str(p, "/metadata/uid")},
                    {"ip", str(p, "/status/podIP")},
                    {"ips", member(member(p, "status"), "podIPs")},
                    {"phase", str(p, "/status/phase")},
                    {"ready", isPodReady(p)},
                    {"node", str(p, "/spec/nodeName")},
                    {"hostname", str(p, "/spec/hostname")},
                    {"subdomain", str(p, "/spec/subdomain")},
                    {"containers", member(member(p, "spec"), "containers")},
                    {"initContainers", member(member(p, "spec"), "initContainers")}};
    };
    if (relevant(*oldPod) == relevant(*newPod))
        return;
    std::set<std::string> keys;
    for (const auto &k : servicesSelecting(*oldPod))
        keys.insert(k);
    for (const auto &k : servicesSelecting(*newPod))
        keys.insert(k);
    for (const auto &k : keys)
        queue().add(k);
}

std::optional<int> EndpointsController::findPort(const json &pod, const json &servicePort)
{
    const json *target = nullptr;
    if (auto it = servicePort.find("targetPort"); it != servicePort.end() && !it->is_null())
        target = &*it;
    if (!target || (target->is_number_integer() && target->get<int>() == 0)) {
        // Unset targetPort defaults to the port.
        if (auto it = servicePort.find("port"); it != servicePort.end() && it->is_number_integer())
            return it->get<int>();
        return std::nullopt;
    }
    if (target->is_number_integer())
        return target->get<int>();
    if (!target->is_string())
        return std::nullopt;
    const std::string name = target->get<std::string>();
    const std::string protocol = servicePort.value("protocol", std::string("TCP"));
    auto search = [&](const json &containers, bool sidecarsOnly) -> std::optional<int> {
        if (!containers.is_array())
            return std::nullopt;
        for (const auto &c : containers) {
            if (!c.is_object())
                continue;
            // Init containers count only as sidecars (restartPolicy Always): others have ended.
            if (sidecarsOnly && c.value("restartPolicy", std::string()) != "Always")
                continue;
            for (const auto &p : c.value("ports", json::array()))
                if (p.is_object() && p.value("name", std::string()) == name
                    && p.value("protocol", std::string("TCP")) == protocol && p.contains("containerPort")
                    && p["containerPort"].is_number_integer())
                    return p["containerPort"].get<int>();
        }
        return std::nullopt;
    };
    const json &spec = member(pod, "spec");
    if (auto port = search(member(spec, "containers"), false))
        return port;
    return search(member(spec, "initContainers"), true);
}

json EndpointsController::computeSubsets(const json &service, const std::vector<ObjectPtr> &pods)
{
    const json &spec = member(service, "spec");
    const bool publishNotReady = spec.is_object() && spec.value("publishNotReadyAddresses", false);
    const json &ports = member(spec, "ports");
    const bool noPorts = !ports.is_array() || ports.empty();
    const bool headless = str(service, "/spec/clusterIP") == "None";
    const std::string serviceName = str(service, "/metadata/name");
    std::vector<std::tuple<json, json, bool>> entries;
    for (const auto &pod : pods) {
        if (!shouldPodBeInEndpoints(*pod, publishNotReady))
            continue;
        std::string ip = podIPFor(service, *pod);
        if (ip.empty())
            continue;
        json address = {{"ip", ip}};
        // ShouldSetHostname: a pod naming this Service as its subdomain gets its hostname.
        if (std::string hostname = str(*pod, "/spec/hostname");
            !hostname.empty() && str(*pod, "/spec/subdomain") == serviceName
            && str(*pod, "/metadata/namespace") == str(service, "/metadata/namespace"))
            address["hostname"] = hostname;
        if (std::string node = str(*pod, "/spec/nodeName"); !node.empty())
            address["nodeName"] = node;
        address["targetRef"] = {{"kind", "Pod"},
                                {"namespace", str(*pod, "/metadata/namespace")},
                                {"name", str(*pod, "/metadata/name")},
                                {"uid", str(*pod, "/metadata/uid")}};
        const bool ready = publishNotReady || isPodReady(*pod);
        if (noPorts) {
            // A headless Service may have no ports: its addresses alone are published.
            if (headless)
                entries.emplace_back(address, json(), ready);
            continue;
        }
        for (const auto &servicePort : ports) {
            if (!servicePort.is_object())
                continue;
            auto port = findPort(*pod, servicePort);
            if (!port)
                continue; // this pod lacks the named port: it serves the others only
            entries.emplace_back(address, endpointPort(servicePort, *port), ready);
        }
    }
    return repack(entries);
}

Result<void> EndpointsController::sync(const std::string &key)
{
    const auto slash = key.find('/');
    if (slash == std::string::npos)
        return {};
    const std::string ns = key.substr(0, slash), name = key.substr(slash + 1);
    ObjectPtr service = m_services.indexer().get(key);
    if (!service) {
        auto removed = m_store.remove("endpoints", ns, name);
        if (!removed && removed.error().reason() != Reason::NotFound)
            return removed.takeError();
        return {};
    }
    if (str(*service, "/spec/type") == "ExternalName")
        return {};
    const model::Labels selector = selectorOf(*service);
    if (selector.empty())
        return {}; // endpoints of a Service without selector are managed by hand

    std::vector<ObjectPtr> pods;
    for (const auto &pod : m_pods.indexer().byIndex("namespace", ns))
        if (selectorMatchesJson(selector, member(member(*pod, "metadata"), "labels")))
            pods.push_back(pod);
    json subsets = computeSubsets(*service, pods);
    const bool truncated = truncate(subsets, m_options.maxAddresses);

    json labels = member(member(*service, "metadata"), "labels");
    if (!labels.is_object())
        labels = json::object();
    if (str(*service, "/spec/clusterIP") == "None")
        labels[kHeadlessLabel] = "";
    else
        labels.erase(kHeadlessLabel);

    // Brings a (copy of the) Endpoints to the desired content; false when it already is.
    auto apply = [&](json &endpoints) {
        json before = endpoints;
        json &meta = endpoints["metadata"];
        if (labels.empty())
            meta.erase("labels");
        else
            meta["labels"] = labels;
        json annotations = meta.value("annotations", json::object());
        if (truncated)
            annotations[kOverCapacity] = "truncated";
        else
            annotations.erase(kOverCapacity);
        if (annotations.empty())
            meta.erase("annotations");
        else
            meta["annotations"] = annotations;
        if (subsets.empty())
            endpoints.erase("subsets");
        else
            endpoints["subsets"] = subsets;
        return endpoints != before;
    };

    auto update = [&]() -> Result<ObjectPtr> {
        return m_store.modify("endpoints", ns, name, [&](json &e) -> Result<bool> { return apply(e); });
    };
    ObjectPtr current = m_endpoints.indexer().get(key);
    if (current) {
        json copy = *current;
        if (!apply(copy))
            return {}; // the cache already shows the desired state: no write
        auto updated = update();
        if (updated)
            return {};
        if (updated.error().reason() != Reason::NotFound) {
            m_recorder.record(*current, "Warning", "FailedToUpdateEndpoint",
                              "Failed to update endpoint " + key + ": " + updated.error().message());
            return updated.takeError();
        }
        // Deleted meanwhile: create it again below.
    }
    json endpoints = {{"apiVersion", "v1"}, {"kind", "Endpoints"}, {"metadata", {{"name", name}, {"namespace", ns}}}};
    apply(endpoints);
    auto created = m_store.create("endpoints", endpoints);
    if (created)
        return {};
    if (created.error().reason() == Reason::AlreadyExists) {
        // Our cache is behind a write of our own: bring the stored object up to date instead.
        auto updated = update();
        return updated ? Result<void>() : Result<void>(updated.takeError());
    }
    m_recorder.record(endpoints, "Warning", "FailedToCreateEndpoint",
                      "Failed to create endpoint for service " + key + ": " + created.error().message());
    return created.takeError();
}

} // namespace podscape::core::controllers
