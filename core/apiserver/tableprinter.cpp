#include "tableprinter.h"

#include "core/base/timeformat.h"

#include <algorithm>
#include <map>

namespace podscape::core::apiserver {

using nlohmann::json;
using model::TableColumn;

namespace {

const json &member(const json &o, const char *key)
{
    static const json none;
    if (!o.is_object())
        return none;
    auto it = o.find(key);
    return it == o.end() ? none : *it;
}

std::string str(const json &o, const char *key)
{
    const json &v = member(o, key);
    return v.is_string() ? v.get<std::string>() : std::string();
}

int64_t integer(const json &o, const char *key)
{
    const json &v = member(o, key);
    return v.is_number_integer() ? v.get<int64_t>() : 0;
}

std::string orNone(std::string s) { return s.empty() ? "<none>" : s; }

std::string age(const json &object, Clock::TimePoint now)
{
    auto created = parseRfc3339(str(member(object, "metadata"), "creationTimestamp"));
    if (!created)
        return "<unknown>";
    return formatAge(now - *created);
}

std::string ageOf(const std::string &timestamp, Clock::TimePoint now)
{
    auto t = parseRfc3339(timestamp);
    return t ? formatAge(now - *t) : "<unknown>";
}

TableColumn col(const char *name, const char *description, int priority = 0, const char *type = "string",
                const char *format = "")
{
    return TableColumn{name, type, format, description, priority};
}

TableColumn nameColumn() { return col("Name", "Name must be unique within a namespace.", 0, "string", "name"); }
TableColumn ageColumn() { return col("Age", "CreationTimestamp is a timestamp representing the server time when this object was created."); }

std::string join(const std::vector<std::string> &parts, const char *separator = ",")
{
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i)
        out += (i ? separator : "") + parts[i];
    return out;
}

// "app=kubia,tier=front" from a selector map (sorted, as Kubernetes prints labels.Set).
std::string selectorText(const json &selector)
{
    if (!selector.is_object() || selector.empty())
        return "<none>";
    std::vector<std::string> parts;
    for (const auto &[k, v] : selector.items())
        parts.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
    return join(parts);
}

// A LabelSelector (matchLabels + matchExpressions) as kubectl prints it.
std::string labelSelectorText(const json &selector)
{
    std::vector<std::string> parts;
    for (const auto &[k, v] : member(selector, "matchLabels").items())
        parts.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
    for (const auto &e : member(selector, "matchExpressions")) {
        const std::string op = str(e, "operator"), key = str(e, "key");
        std::vector<std::string> values;
        for (const auto &v : member(e, "values"))
            if (v.is_string())
                values.push_back(v.get<std::string>());
        if (op == "Exists")
            parts.push_back(key);
        else if (op == "DoesNotExist")
            parts.push_back("!" + key);
        else
            parts.push_back(key + (op == "In" ? " in (" : " notin (") + join(values) + ")");
    }
    std::sort(parts.begin(), parts.end());
    return parts.empty() ? "<none>" : join(parts);
}

void containersAndImages(const json &podSpec, std::string &names, std::string &images)
{
    std::vector<std::string> n, i;
    for (const auto &c : member(podSpec, "containers")) {
        n.push_back(str(c, "name"));
        i.push_back(str(c, "image"));
    }
    names = join(n);
    images = join(i);
}

// --- pods ---------------------------------------------------------------------------------

std::vector<json> podCells(const json &pod, Clock::TimePoint now)
{
    const json &spec = member(pod, "spec"), &status = member(pod, "status");
    const size_t total = member(spec, "containers").size();
    size_t ready = 0;
    int64_t restarts = 0;
    std::string lastRestart;
    for (const auto &cs : member(status, "containerStatuses")) {
        ready += member(cs, "ready") == true ? 1 : 0;
        restarts += integer(cs, "restartCount");
        const std::string finished = str(member(member(cs, "lastState"), "terminated"), "finishedAt");
        if (!finished.empty() && finished > lastRestart)
            lastRestart = finished;
    }
    json restartsCell = restarts;
    if (restarts > 0 && !lastRestart.empty())
        restartsCell = std::to_string(restarts) + " (" + ageOf(lastRestart, now) + " ago)";
    std::string gates = "<none>";
    if (const json &g = member(spec, "readinessGates"); g.is_array() && !g.empty()) {
        size_t passed = 0;
        for (const auto &gate : g)
            for (const auto &c : member(status, "conditions"))
                if (str(c, "type") == str(gate, "conditionType") && str(c, "status") == "True")
                    ++passed;
        gates = std::to_string(passed) + "/" + std::to_string(g.size());
    }
    return {str(member(pod, "metadata"), "name"),
            std::to_string(ready) + "/" + std::to_string(total),
            TablePrinter::podStatus(pod),
            restartsCell,
            age(pod, now),
            orNone(str(status, "podIP")),
            orNone(str(spec, "nodeName")),
            orNone(str(status, "nominatedNodeName")),
            gates};
}

// --- the rest -----------------------------------------------------------------------------

std::string nodeStatus(const json &node)
{
    std::string ready = "Unknown";
    for (const auto &c : member(member(node, "status"), "conditions"))
        if (str(c, "type") == "Ready")
            ready = str(c, "status") == "True" ? "Ready" : str(c, "status") == "False" ? "NotReady" : "Unknown";
    if (member(member(node, "spec"), "unschedulable") == true)
        ready += ",SchedulingDisabled";
    return ready;
}

std::string nodeRoles(const json &node)
{
    std::vector<std::string> roles;
    for (const auto &[k, v] : member(member(node, "metadata"), "labels").items()) {
        constexpr std::string_view prefix = "node-role.kubernetes.io/";
        if (k.rfind(prefix, 0) == 0 && k.size() > prefix.size())
            roles.push_back(k.substr(prefix.size()));
        else if (k == "kubernetes.io/role" && v.is_string())
            roles.push_back(v.get<std::string>());
    }
    std::sort(roles.begin(), roles.end());
    return roles.empty() ? "<none>" : join(roles);
}

std::string nodeAddress(const json &node, const char *type)
{
    for (const auto &a : member(member(node, "status"), "addresses"))
        if (str(a, "type") == type)
            return str(a, "address");
    return "<none>";
}

std::string servicePorts(const json &spec)
{
    std::vector<std::string> parts;
    for (const auto &p : member(spec, "ports")) {
        std::string s = std::to_string(integer(p, "port"));
        if (integer(p, "nodePort"))
            s += ":" + std::to_string(integer(p, "nodePort"));
        parts.push_back(s + "/" + (str(p, "protocol").empty() ? "TCP" : str(p, "protocol")));
    }
    return parts.empty() ? "<none>" : join(parts);
}

std::string serviceExternalIP(const json &service)
{
    const json &spec = member(service, "spec");
    const std::string type = str(spec, "type");
    std::vector<std::string> ips;
    for (const auto &ip : member(spec, "externalIPs"))
        if (ip.is_string())
            ips.push_back(ip.get<std::string>());
    if (type == "ExternalName")
        return str(spec, "externalName");
    if (type == "LoadBalancer") {
        for (const auto &i : member(member(member(service, "status"), "loadBalancer"), "ingress"))
            ips.push_back(!str(i, "ip").empty() ? str(i, "ip") : str(i, "hostname"));
        return ips.empty() ? "<pending>" : join(ips);
    }
    return ips.empty() ? "<none>" : join(ips);
}

// "10.244.1.5:8080,10.244.2.3:8080 + 1 more..." as kubectl prints Endpoints (at most three).
std::string endpointsText(const json &endpoints)
{
    std::vector<std::string> list;
    size_t count = 0;
    for (const auto &subset : member(endpoints, "subsets")) {
        const json &ports = member(subset, "ports");
        for (const auto &a : member(subset, "addresses")) {
            if (!ports.is_array() || ports.empty()) {
                ++count;
                if (list.size() < 3)
                    list.push_back(str(a, "ip"));
                continue;
            }
            for (const auto &p : ports) {
                ++count;
                if (list.size() < 3)
                    list.push_back(str(a, "ip") + ":" + std::to_string(integer(p, "port")));
            }
        }
    }
    if (list.empty())
        return "<none>";
    std::string out = join(list);
    if (count > list.size())
        out += " + " + std::to_string(count - list.size()) + " more...";
    return out;
}

std::string eventObject(const json &e)
{
    const json &o = member(e, "involvedObject");
    std::string kind = str(o, "kind");
    std::transform(kind.begin(), kind.end(), kind.begin(), [](unsigned char c) { return std::tolower(c); });
    return kind + "/" + str(o, "name");
}

std::string eventLastSeen(const json &e, Clock::TimePoint now)
{
    for (const char *field : {"lastTimestamp", "eventTime", "firstTimestamp"})
        if (!str(e, field).empty())
            return ageOf(str(e, field), now);
    return age(e, now);
}

} // namespace

std::string TablePrinter::podStatus(const json &pod)
{
    const json &status = member(pod, "status"), &spec = member(pod, "spec");
    std::string reason = str(status, "phase");
    if (!str(status, "reason").empty())
        reason = str(status, "reason");

    // Init containers first: a pod still initialising says which step it is at.
    bool initializing = false;
    const json &initStatuses = member(status, "initContainerStatuses");
    const size_t initCount = member(spec, "initContainers").size();
    for (size_t i = 0; i < initStatuses.size(); ++i) {
        const json &cs = initStatuses[i], &state = member(cs, "state");
        const json &terminated = member(state, "terminated"), &waiting = member(state, "waiting");
        if (terminated.is_object() && integer(terminated, "exitCode") == 0)
            continue;
        if (terminated.is_object()) {
            if (!str(terminated, "reason").empty())
                reason = "Init:" + str(terminated, "reason");
            else if (integer(terminated, "signal"))
                reason = "Init:Signal:" + std::to_string(integer(terminated, "signal"));
            else
                reason = "Init:ExitCode:" + std::to_string(integer(terminated, "exitCode"));
        } else if (waiting.is_object() && !str(waiting, "reason").empty() && str(waiting, "reason") != "PodInitializing") {
            reason = "Init:" + str(waiting, "reason");
        } else {
            reason = "Init:" + std::to_string(i) + "/" + std::to_string(initCount);
        }
        initializing = true;
        break;
    }

    if (!initializing) {
        bool hasRunning = false;
        const json &statuses = member(status, "containerStatuses");
        for (size_t n = statuses.size(); n-- > 0;) {
            const json &state = member(statuses[n], "state");
            const json &waiting = member(state, "waiting"), &terminated = member(state, "terminated");
            if (waiting.is_object() && !str(waiting, "reason").empty()) {
                reason = str(waiting, "reason");
            } else if (terminated.is_object() && !str(terminated, "reason").empty()) {
                reason = str(terminated, "reason");
            } else if (terminated.is_object()) {
                reason = integer(terminated, "signal") ? "Signal:" + std::to_string(integer(terminated, "signal"))
                                                       : "ExitCode:" + std::to_string(integer(terminated, "exitCode"));
            } else if (member(state, "running").is_object() && member(statuses[n], "ready") == true) {
                hasRunning = true;
            }
        }
        // A pod with one container done and others running is still Running.
        if (reason == "Completed" && hasRunning) {
            reason = "Running";
            for (const auto &c : member(status, "conditions"))
                if (str(c, "type") == "Ready" && str(c, "status") != "True")
                    reason = "NotReady";
        }
    }

    if (!str(member(pod, "metadata"), "deletionTimestamp").empty())
        reason = str(status, "reason") == "NodeLost" ? "Unknown" : "Terminating";
    return reason;
}

std::vector<TableColumn> TablePrinter::columns(std::string_view kind)
{
    if (kind == "Pod")
        return {nameColumn(),
                col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
                col("Status", "The aggregate status of the containers in this pod."),
                col("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
                ageColumn(),
                col("IP", "IP address allocated to the pod. Routable at least within the cluster.", 1),
                col("Node", "Name of the node this pod runs on.", 1),
                col("Nominated Node", "Name of the node where the pod would run if preemption made room.", 1),
                col("Readiness Gates", "Readiness gates that must pass, and how many do.", 1)};
    if (kind == "Node")
        return {nameColumn(),
                col("Status", "The status of the node"),
                col("Roles", "The roles of the node"),
                ageColumn(),
                col("Version", "Kubelet Version reported by the node."),
                col("Internal-IP", "List of internal IPs for the node.", 1),
                col("External-IP", "List of external IPs for the node.", 1),
                col("OS-Image", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1),
                col("Kernel-Version", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
                col("Container-Runtime", "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", 1)};
    if (kind == "Namespace")
        return {nameColumn(), col("Status", "The status of the namespace"), ageColumn()};
    if (kind == "Service")
        return {nameColumn(),
                col("Type", "The type of the service."),
                col("Cluster-IP", "The cluster IP of the service."),
                col("External-IP", "External IPs of the service."),
                col("Port(s)", "The ports the service exposes (port:nodePort/protocol)."),
                ageColumn(),
                col("Selector", "Route service traffic to pods with label keys and values matching this selector.", 1)};
    if (kind == "Endpoints")
        return {nameColumn(), col("Endpoints", "Endpoints of the service: up to three ready addresses with their ports."), ageColumn()};
    if (kind == "Deployment")
        return {nameColumn(),
                col("Ready", "Number of the pod with ready state"),
                col("Up-to-date", "Total number of non-terminated pods targeted by this deployment that have the desired template spec.", 0, "integer"),
                col("Available", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.", 0, "integer"),
                ageColumn(),
                col("Containers", "Names of each container in the template.", 1),
                col("Images", "Images referenced by each container in the template.", 1),
                col("Selector", "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.", 1)};
    if (kind == "ReplicaSet" || kind == "ReplicationController")
        return {nameColumn(),
                col("Desired", "Replicas is the number of desired replicas.", 0, "integer"),
                col("Current", "Replicas is the most recently observed number of replicas.", 0, "integer"),
                col("Ready", "The number of ready replicas for this replica set.", 0, "integer"),
                ageColumn(),
                col("Containers", "Names of each container in the template.", 1),
                col("Images", "Images referenced by each container in the template.", 1),
                col("Selector", "Label selector for pods.", 1)};
    if (kind == "Event")
        return {col("Last Seen", "Time the event was last seen."),
                col("Type", "Type of this event (Normal, Warning)."),
                col("Reason", "Why the action was taken, in machine-readable form."),
                col("Object", "The object this event is about."),
                col("Subobject", "The part of the object this event is about (a container).", 1),
                col("Source", "The component reporting this event.", 1),
                col("Message", "A human-readable description of the status of this operation."),
                col("First Seen", "The time at which the event was first recorded.", 1),
                col("Count", "The number of times this event has occurred.", 1, "integer"),
                col("Name", "The event's own name.", 1, "string", "name")};
    if (kind == "ConfigMap")
        return {nameColumn(), col("Data", "Number of keys in the config map.", 0, "integer"), ageColumn()};
    if (kind == "Secret")
        return {nameColumn(), col("Type", "The type of the secret"), col("Data", "Number of keys in the secret.", 0, "integer"), ageColumn()};
    return {nameColumn(), ageColumn()};
}

std::vector<json> TablePrinter::cells(std::string_view kind, const json &o, Clock::TimePoint now)
{
    const json &meta = member(o, "metadata"), &spec = member(o, "spec"), &status = member(o, "status");
    const std::string name = str(meta, "name");
    if (kind == "Pod")
        return podCells(o, now);
    if (kind == "Node") {
        const json &info = member(status, "nodeInfo");
        return {name, nodeStatus(o), nodeRoles(o), age(o, now), str(info, "kubeletVersion"), nodeAddress(o, "InternalIP"),
                nodeAddress(o, "ExternalIP"), orNone(str(info, "osImage")), orNone(str(info, "kernelVersion")),
                orNone(str(info, "containerRuntimeVersion"))};
    }
    if (kind == "Namespace")
        return {name, str(status, "phase"), age(o, now)};
    if (kind == "Service")
        return {name, str(spec, "type").empty() ? "ClusterIP" : str(spec, "type"), orNone(str(spec, "clusterIP")),
                serviceExternalIP(o), servicePorts(spec), age(o, now), selectorText(member(spec, "selector"))};
    if (kind == "Endpoints")
        return {name, endpointsText(o), age(o, now)};
    if (kind == "Deployment") {
        std::string containers, images;
        containersAndImages(member(member(spec, "template"), "spec"), containers, images);
        const int64_t desired = member(spec, "replicas").is_number_integer() ? integer(spec, "replicas") : 1;
        return {name, std::to_string(integer(status, "readyReplicas")) + "/" + std::to_string(desired),
                integer(status, "updatedReplicas"), integer(status, "availableReplicas"), age(o, now), containers, images,
                labelSelectorText(member(spec, "selector"))};
    }
    if (kind == "ReplicaSet" || kind == "ReplicationController") {
        std::string containers, images;
        containersAndImages(member(member(spec, "template"), "spec"), containers, images);
        const int64_t desired = member(spec, "replicas").is_number_integer() ? integer(spec, "replicas") : 1;
        const std::string selector = kind == "ReplicaSet" ? labelSelectorText(member(spec, "selector"))
                                                          : selectorText(member(spec, "selector"));
        return {name, desired, integer(status, "replicas"), integer(status, "readyReplicas"), age(o, now), containers, images, selector};
    }
    if (kind == "Event") {
        const json &source = member(o, "source");
        std::string sourceText = str(source, "component");
        if (!str(source, "host").empty())
            sourceText += ", " + str(source, "host");
        return {eventLastSeen(o, now), str(o, "type"), str(o, "reason"), eventObject(o),
                str(member(o, "involvedObject"), "fieldPath"), sourceText, str(o, "message"),
                str(o, "firstTimestamp").empty() ? std::string("<unknown>") : ageOf(str(o, "firstTimestamp"), now),
                integer(o, "count"), name};
    }
    if (kind == "ConfigMap")
        return {name, int64_t(member(o, "data").size() + member(o, "binaryData").size()), age(o, now)};
    if (kind == "Secret")
        return {name, str(o, "type"), int64_t(member(o, "data").size()), age(o, now)};
    return {name, age(o, now)};
}

model::Table TablePrinter::print(std::string_view kind, const std::vector<const json *> &objects, Clock::TimePoint now)
{
    model::Table table;
    for (auto &c : columns(kind))
        table.addColumn(std::move(c));
    for (const json *o : objects)
        table.addPartialRow(cells(kind, *o, now), member(*o, "metadata"));
    return table;
}

} // namespace podscape::core::apiserver
