#pragma once
// Kubernetes objects as JSON documents. An Object owns its document, so fields the model
// does not know (newer API fields, CRD data) round-trip untouched; typed subclasses add
// accessors for what code reads and writes. Accessors never throw: a missing or mistyped
// field reads as empty/zero, and validation is where wrong types are reported.

#include "core/base/result.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podscape::core::model {

using Labels = std::map<std::string, std::string>;

struct GroupVersionKind {
    std::string group;
    std::string version;
    std::string kind;

    // "apps/v1" -> {apps, v1}; "v1" -> {"", v1}.
    static GroupVersionKind fromApiVersion(std::string_view apiVersion, std::string_view kind);
    std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
    bool operator==(const GroupVersionKind &) const = default;
};

struct OwnerReference {
    std::string apiVersion;
    std::string kind;
    std::string name;
    std::string uid;
    bool controller = false;
    bool blockOwnerDeletion = false;

    nlohmann::json toJson() const;
    static OwnerReference fromJson(const nlohmann::json &j);
};

// The controller owner reference of an object, read in place (no copy of the object).
std::optional<OwnerReference> controllerRefOf(const nlohmann::json &doc);

class Object
{
public:
    Object() : m_doc(nlohmann::json::object()) {}
    explicit Object(nlohmann::json doc) : m_doc(doc.is_object() ? std::move(doc) : nlohmann::json::object()) {}

    const nlohmann::json &doc() const { return m_doc; }
    nlohmann::json &doc() { return m_doc; }

    std::string apiVersion() const { return str("/apiVersion"); }
    std::string kind() const { return str("/kind"); }
    GroupVersionKind gvk() const { return GroupVersionKind::fromApiVersion(apiVersion(), kind()); }
    std::string name() const { return str("/metadata/name"); }
    std::string generateName() const { return str("/metadata/generateName"); }
    std::string namespaceName() const { return str("/metadata/namespace"); }
    std::string uid() const { return str("/metadata/uid"); }
    std::string resourceVersion() const { return str("/metadata/resourceVersion"); }
    int64_t generation() const { return integer("/metadata/generation"); }
    std::string creationTimestamp() const { return str("/metadata/creationTimestamp"); }
    std::string deletionTimestamp() const { return str("/metadata/deletionTimestamp"); }
    bool isBeingDeleted() const { return !deletionTimestamp().empty(); }
    Labels labels() const { return stringMap("/metadata/labels"); }
    std::map<std::string, std::string> annotations() const { return stringMap("/metadata/annotations"); }
    std::string label(std::string_view key) const;
    std::string annotation(std::string_view key) const;
    std::vector<OwnerReference> ownerReferences() const;
    // The owner with controller: true, if any.
    std::optional<OwnerReference> controllerRef() const;
    std::vector<std::string> finalizers() const;
    // "namespace/name", or "name" for cluster-scoped objects: the key caches and queues use.
    std::string key() const;

    void setApiVersionKind(std::string_view apiVersion, std::string_view kind);
    void setName(std::string_view name);
    void setNamespace(std::string_view ns);
    void setLabel(std::string_view key, std::string_view value);
    void removeLabel(std::string_view key);
    void setAnnotation(std::string_view key, std::string_view value);
    void removeAnnotation(std::string_view key);
    void setResourceVersion(std::string_view rv);
    void setOwnerReferences(const std::vector<OwnerReference> &refs);

    // The value at a JSON Pointer, or nullptr; never throws.
    const nlohmann::json *at(std::string_view pointer) const;
    std::string str(std::string_view pointer) const;
    int64_t integer(std::string_view pointer, int64_t fallback = 0) const;
    bool boolean(std::string_view pointer, bool fallback = false) const;

    bool operator==(const Object &o) const { return m_doc == o.m_doc; }

protected:
    std::map<std::string, std::string> stringMap(std::string_view pointer) const;
    nlohmann::json &metadata();

    nlohmann::json m_doc;
};

struct ContainerInfo {
    std::string name;
    std::string image;
};

class Pod : public Object
{
public:
    using Object::Object;
    std::string phase() const { return str("/status/phase"); }
    std::string nodeName() const { return str("/spec/nodeName"); }
    std::string podIP() const { return str("/status/podIP"); }
    std::string hostIP() const { return str("/status/hostIP"); }
    std::string restartPolicy() const { return str("/spec/restartPolicy"); }
    std::string schedulerName() const { return str("/spec/schedulerName"); }
    int64_t terminationGracePeriodSeconds() const { return integer("/spec/terminationGracePeriodSeconds", 30); }
    std::vector<ContainerInfo> containers() const;
    // The Ready condition's status is "True".
    bool isReady() const;
    // The status of a pod condition ("True", "False", "Unknown"), or "" when absent.
    std::string conditionStatus(std::string_view type) const;
    int restartCount() const; // summed over containers
    Labels nodeSelector() const { return stringMap("/spec/nodeSelector"); }
};

class Node : public Object
{
public:
    using Object::Object;
    bool isReady() const;
    bool isUnschedulable() const { return boolean("/spec/unschedulable"); }
    std::string capacity(std::string_view resource) const;
    std::string allocatable(std::string_view resource) const;
    std::string internalIP() const;
};

class Service : public Object
{
public:
    using Object::Object;
    std::string type() const;
    std::string clusterIP() const { return str("/spec/clusterIP"); }
    Labels selector() const { return stringMap("/spec/selector"); }
    std::vector<int> nodePorts() const;
};

// ReplicationController, ReplicaSet and Deployment share the replica-count shape.
class Workload : public Object
{
public:
    using Object::Object;
    // spec.replicas, defaulting to 1 as the API server does.
    int replicas() const { return static_cast<int>(integer("/spec/replicas", 1)); }
    int statusReplicas() const { return static_cast<int>(integer("/status/replicas")); }
    int readyReplicas() const { return static_cast<int>(integer("/status/readyReplicas")); }
    int availableReplicas() const { return static_cast<int>(integer("/status/availableReplicas")); }
    int64_t observedGeneration() const { return integer("/status/observedGeneration"); }
    const nlohmann::json *podTemplate() const { return at("/spec/template"); }
    void setReplicas(int n);
};

class ReplicationController : public Workload
{
public:
    using Workload::Workload;
    Labels selector() const { return stringMap("/spec/selector"); }
};

class ReplicaSet : public Workload
{
public:
    using Workload::Workload;
};

class Deployment : public Workload
{
public:
    using Workload::Workload;
    bool isPaused() const { return boolean("/spec/paused"); }
    std::string strategyType() const;
    int minReadySeconds() const { return static_cast<int>(integer("/spec/minReadySeconds")); }
    int revisionHistoryLimit() const { return static_cast<int>(integer("/spec/revisionHistoryLimit", 10)); }
    int progressDeadlineSeconds() const { return static_cast<int>(integer("/spec/progressDeadlineSeconds", 600)); }
    // deployment.kubernetes.io/revision, 0 when absent.
    int64_t revision() const;
};

class Event : public Object
{
public:
    using Object::Object;
    std::string reason() const { return str("/reason"); }
    std::string message() const { return str("/message"); }
    std::string type() const { return str("/type"); }
    int count() const { return static_cast<int>(integer("/count", 1)); }
};

class ConfigMap : public Object
{
public:
    using Object::Object;
    std::map<std::string, std::string> data() const { return stringMap("/data"); }
};

class Secret : public Object
{
public:
    using Object::Object;
    std::string type() const { return str("/type"); }
    // Decoded values of `data` (base64) merged with `stringData`; nullopt if data is not base64.
    std::optional<std::map<std::string, std::string>> decodedData() const;
};

// ---- the API's envelope kinds ---------------------------------------------------------------

// A list response: {"kind": "PodList", "apiVersion": "v1", "metadata": {...}, "items": [...]}.
nlohmann::json makeList(std::string_view itemKind, std::string_view apiVersion, std::vector<nlohmann::json> items,
                        std::string_view resourceVersion, std::string_view continueToken = {},
                        std::optional<int64_t> remainingItemCount = std::nullopt);

struct WatchEvent {
    enum class Type { Added, Modified, Deleted, Bookmark, Error };
    Type type = Type::Added;
    nlohmann::json object;

    static std::string_view typeName(Type t);
    nlohmann::json toJson() const;
    static Result<WatchEvent> fromJson(const nlohmann::json &j);
};

// autoscaling/v1 Scale: what `kubectl scale` reads and writes.
class Scale : public Object
{
public:
    using Object::Object;
    static Scale forWorkload(const Object &workload, int specReplicas, int statusReplicas, std::string_view selector);
    int specReplicas() const { return static_cast<int>(integer("/spec/replicas")); }
    int statusReplicas() const { return static_cast<int>(integer("/status/replicas")); }
    std::string selector() const { return str("/status/selector"); }
};

// meta.k8s.io/v1 Table, the server-side printing kubectl asks for.
struct TableColumn {
    std::string name;
    std::string type; // string, integer, date, number, boolean
    std::string format;
    std::string description;
    int priority = 0; // 0: always shown; 1: only with -o wide
};

class Table
{
public:
    void addColumn(TableColumn column) { m_columns.push_back(std::move(column)); }
    // `object` is the row's object: partial metadata or the full object, as the client asked.
    void addRow(std::vector<nlohmann::json> cells, nlohmann::json object);
    // A row whose object is PartialObjectMetadata of `metadata`, which is read (not copied)
    // when the table is serialized: it must outlive the table.
    void addPartialRow(std::vector<nlohmann::json> cells, const nlohmann::json &metadata);
    void setResourceVersion(std::string rv) { m_resourceVersion = std::move(rv); }
    void setContinue(std::string token) { m_continue = std::move(token); }
    const std::vector<TableColumn> &columns() const { return m_columns; }
    size_t rowCount() const { return m_rows.size(); }
    nlohmann::json toJson(bool includeColumns = true) const;
    // toJson().dump(), written directly: no tree of the rows is built (a list of 10,000 pods
    // as a Table is served twice as fast).
    std::string dump(bool includeColumns = true) const;

private:
    struct Row {
        std::vector<nlohmann::json> cells;
        nlohmann::json object;
        const nlohmann::json *metadata = nullptr; // set: the object is PartialObjectMetadata of it
    };
    nlohmann::json header(bool includeColumns) const;
    std::vector<TableColumn> m_columns;
    std::vector<Row> m_rows;
    std::string m_resourceVersion;
    std::string m_continue;
};

// The success Status some deletes answer with.
nlohmann::json makeSuccessStatus(std::string_view kind = {}, std::string_view name = {}, std::string_view uid = {});

} // namespace podscape::core::model
