#include "namespacecontroller.h"

#include "core/base/logger.h"
#include "core/base/timeformat.h"
#include "core/model/jsonmember.h"

#include <algorithm>

namespace podscape::core::controllers {

using nlohmann::json;

namespace {

constexpr const char *kNameLabel = "kubernetes.io/metadata.name";

using model::member;

std::string meta(const json &o, const char *key)
{
    const json &v = member(member(o, "metadata"), key);
    return v.is_string() ? v.get<std::string>() : std::string();
}

bool contains(const json &list, const std::string &value)
{
    return list.is_array() && std::find(list.begin(), list.end(), json(value)) != list.end();
}

void addTo(json &list, const std::string &value)
{
    if (!list.is_array())
        list = json::array();
    if (!contains(list, value))
        list.push_back(value);
}

void removeFrom(json &parent, const char *key, const std::string &value)
{
    auto it = parent.find(key);
    if (it == parent.end() || !it->is_array())
        return;
    it->erase(std::remove(it->begin(), it->end(), json(value)), it->end());
    if (it->empty())
        parent.erase(it);
}

std::string storeName(const model::ResourceInfo &r) { return r.group.empty() ? r.plural : r.plural + "." + r.group; }

// The order and "all is well" wording of Kubernetes' namespace deletion conditions.
struct ConditionKind {
    const char *type;
    const char *okReason;
    const char *okMessage;
};
constexpr ConditionKind kConditions[] = {
    {"NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered", "All resources successfully discovered"},
    {"NamespaceDeletionGroupVersionParsingFailure", "ParsedGroupVersions", "All legacy kube types successfully parsed"},
    {"NamespaceDeletionContentFailure", "ContentDeleted", "All content successfully deleted, may be waiting on finalization"},
    {"NamespaceContentRemaining", "ContentRemoved", "All content successfully removed"},
    {"NamespaceFinalizersRemaining", "ContentHasNoFinalizers", "All content-preserving finalizers finished"},
};

} // namespace

void NamespaceController::initializeNamespace(json &ns)
{
    if (!ns.is_object())
        return;
    json &metadata = ns["metadata"];
    if (!metadata.is_object())
        metadata = json::object();
    json &spec = ns["spec"];
    if (!spec.is_object())
        spec = json::object();
    if (!spec.contains("finalizers"))
        spec["finalizers"] = json::array({Finalizer});
    if (contains(spec["finalizers"], Finalizer))
        addTo(metadata["finalizers"], Finalizer);
    if (metadata.contains("name") && metadata["name"].is_string()) {
        if (!metadata["labels"].is_object())
            metadata["labels"] = json::object();
        metadata["labels"][kNameLabel] = metadata["name"];
    }
    json &status = ns["status"];
    if (!status.is_object())
        status = json::object();
    if (!status.contains("phase"))
        status["phase"] = "Active";
}

NamespaceController::NamespaceController(SharedInformers &informers, Options options, const model::SchemaRegistry &registry)
    : Controller("namespace-controller", informers.clock())
    , m_options(std::move(options))
    , m_registry(registry)
    , m_store(informers.store())
    , m_namespaces(informers.forResource("namespaces"))
{
    std::vector<cache::Informer *> caches{&m_namespaces};
    for (const auto &r : m_registry.resources()) {
        if (!r.namespaced || !r.hasVerb("list") || !r.hasVerb("delete"))
            continue;
        const std::string name = storeName(r);
        if (std::find(m_content.begin(), m_content.end(), name) != m_content.end())
            continue;
        m_content.push_back(name);
        m_resourceLabels[name] = r.plural + "." + r.group;
        // Deletes of content wake a terminating namespace up (events excepted: they are
        // deleted at once and churn too much to watch for this).
        if (r.plural == "events" || !r.hasVerb("watch"))
            continue;
        cache::Informer &informer = informers.forResource(name);
        informer.addEventHandlers({nullptr, nullptr, [this](const ObjectPtr &o) { onContentDeleted(o); }});
        caches.push_back(&informer);
    }
    waitForCaches(caches);
    m_namespaces.addEventHandlers({
        [this](const ObjectPtr &ns) { queue().add(meta(*ns, "name")); },
        [this](const ObjectPtr &, const ObjectPtr &ns) { queue().add(meta(*ns, "name")); },
        [this](const ObjectPtr &ns) {
            // Gone without our finalizer having run: its content is still there.
            if (contains(member(member(*ns, "spec"), "finalizers"), Finalizer)) {
                std::lock_guard g(m_mutex);
                m_unfinalized.insert(meta(*ns, "name"));
            }
            queue().add(meta(*ns, "name"));
        },
    });
    for (const auto &name : m_options.initialNamespaces)
        queue().add(name);
}

void NamespaceController::onContentDeleted(const ObjectPtr &object)
{
    const std::string ns = meta(*object, "namespace");
    if (auto n = m_namespaces.indexer().get(ns); n && !meta(*n, "deletionTimestamp").empty())
        queue().add(ns);
}

Result<void> NamespaceController::sync(const std::string &key)
{
    ObjectPtr ns = m_namespaces.indexer().get(key);
    if (!ns) {
        bool unfinalized;
        {
            std::lock_guard g(m_mutex);
            unfinalized = m_unfinalized.count(key) > 0;
        }
        auto live = m_store.get("namespaces", "", key);
        if (live)
            return {}; // the cache is behind; its add will bring us back
        if (live.error().reason() != Reason::NotFound)
            return live.takeError();
        if (unfinalized) {
            Remaining remaining = deleteAllContent(key);
            if (remaining.total > 0) {
                queue().addAfter(key, std::chrono::seconds(remaining.estimateSeconds / 2 + 1));
                return {};
            }
            std::lock_guard g(m_mutex);
            m_unfinalized.erase(key);
        }
        if (std::find(m_options.initialNamespaces.begin(), m_options.initialNamespaces.end(), key)
            != m_options.initialNamespaces.end()) {
            json object = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", key}}}};
            initializeNamespace(object);
            auto created = m_store.create("namespaces", std::move(object));
            if (!created && created.error().reason() != Reason::AlreadyExists)
                return created.takeError();
        }
        return {};
    }
    if (meta(*ns, "deletionTimestamp").empty())
        return ensureActive(*ns);
    return finalizeDeletion(*ns);
}

Result<void> NamespaceController::ensureActive(const json &ns)
{
    const std::string uid = meta(ns, "uid");
    auto apply = [&](json &o) -> bool {
        json before = o;
        initializeNamespace(o);
        // The mirror follows spec.finalizers: someone may have finalized it by hand.
        if (!contains(o["spec"]["finalizers"], Finalizer))
            removeFrom(o["metadata"], "finalizers", Finalizer);
        return o != before;
    };
    json copy = ns;
    if (!apply(copy))
        return {};
    auto updated = m_store.modify("namespaces", "", meta(ns, "name"), [&](json &o) -> Result<bool> {
        if (meta(o, "uid") != uid || !meta(o, "deletionTimestamp").empty())
            return false;
        return apply(o);
    });
    if (!updated && updated.error().reason() != Reason::NotFound)
        return updated.takeError();
    return {};
}

Result<void> NamespaceController::finalizeDeletion(const json &ns)
{
    const std::string name = meta(ns, "name"), uid = meta(ns, "uid");
    // Terminating first, so that `kubectl get ns` shows it while the content goes.
    if (member(member(ns, "status"), "phase") != json("Terminating")) {
        auto updated = m_store.modify("namespaces", "", name, [&](json &o) -> Result<bool> {
            if (meta(o, "uid") != uid || member(member(o, "status"), "phase") == json("Terminating"))
                return false;
            if (!o["status"].is_object())
                o["status"] = json::object();
            o["status"]["phase"] = "Terminating";
            return true;
        });
        if (!updated)
            return updated.error().reason() == Reason::NotFound ? Result<void>() : Result<void>(updated.takeError());
    }
    if (!contains(member(member(ns, "spec"), "finalizers"), Finalizer)) {
        // Finalized already (by us or by hand): only a stale mirror could keep it.
        if (!contains(member(member(ns, "metadata"), "finalizers"), Finalizer))
            return {};
    } else {
        Remaining remaining = deleteAllContent(name);
        if (auto r = updateConditions(ns, remaining); !r)
            return r;
        if (remaining.total > 0) {
            // Pods in their grace period or objects waiting for finalizers: look again later
            // (their deletes also wake this namespace up).
            queue().addAfter(name, std::chrono::seconds(remaining.estimateSeconds / 2 + 1));
            return {};
        }
    }
    auto finalized = m_store.modify("namespaces", "", name, [&](json &o) -> Result<bool> {
        if (meta(o, "uid") != uid)
            return false;
        bool inSpec = o.contains("spec") && contains(o["spec"]["finalizers"], Finalizer);
        bool inMeta = contains(member(member(o, "metadata"), "finalizers"), Finalizer);
        if (!inSpec && !inMeta)
            return false;
        if (o["spec"].is_object()) {
            auto &f = o["spec"]["finalizers"];
            if (f.is_array())
                f.erase(std::remove(f.begin(), f.end(), json(Finalizer)), f.end());
        }
        removeFrom(o["metadata"], "finalizers", Finalizer);
        return true;
    });
    if (!finalized && finalized.error().reason() != Reason::NotFound)
        return finalized.takeError();
    return {};
}

NamespaceController::Remaining NamespaceController::deleteAllContent(const std::string &ns)
{
    Remaining remaining;
    const auto now = clock().now();
    store::ListOptions options;
    options.ns = ns;
    for (const auto &resource : m_content) {
        auto listed = m_store.list(resource, options);
        if (!listed) {
            remaining.errors.push_back(resource + ": " + listed.error().message());
            continue;
        }
        if (listed->items.empty())
            continue;
        for (const auto &o : listed->items) {
            if (!meta(*o, "deletionTimestamp").empty())
                continue;
            store::DeleteOptions precondition;
            precondition.preconditionUid = meta(*o, "uid");
            auto removed = m_store.remove(resource, ns, meta(*o, "name"), precondition);
            if (!removed && removed.error().reason() != Reason::NotFound && removed.error().reason() != Reason::Conflict)
                remaining.errors.push_back(removed.error().message());
        }
        auto left = m_store.list(resource, options);
        if (!left) {
            remaining.errors.push_back(resource + ": " + left.error().message());
            continue;
        }
        for (const auto &o : left->items) {
            ++remaining.total;
            ++remaining.byResource[m_resourceLabels[resource]];
            const json &finalizers = member(member(*o, "metadata"), "finalizers");
            if (finalizers.is_array() && !finalizers.empty()) {
                for (const auto &f : finalizers)
                    if (f.is_string())
                        ++remaining.byFinalizer[f.get<std::string>()];
                remaining.estimateSeconds = std::max<int64_t>(
                    remaining.estimateSeconds,
                    std::chrono::duration_cast<std::chrono::seconds>(m_options.finalizerEstimate).count());
            }
            // A pod in its grace period: wait about as long as it has left.
            if (auto at = parseRfc3339(meta(*o, "deletionTimestamp")); at)
                remaining.estimateSeconds = std::max<int64_t>(
                    remaining.estimateSeconds, std::chrono::duration_cast<std::chrono::seconds>(*at - now).count());
        }
    }
    if (remaining.total > 0 && remaining.estimateSeconds <= 0)
        remaining.estimateSeconds = 1;
    return remaining;
}

Result<void> NamespaceController::updateConditions(const json &ns, const Remaining &remaining)
{
    // The failing variants of this pass, by type; absent types are reported as fine.
    std::map<std::string, std::pair<std::string, std::string>> failing; // type -> reason, message
    auto joined = [](const std::map<std::string, size_t> &counts, const char *format) {
        std::vector<std::string> parts;
        for (const auto &[what, n] : counts)
            if (n > 0)
                parts.push_back(what + std::string(format) + std::to_string(n) + " resource instances");
        std::sort(parts.begin(), parts.end());
        std::string out;
        for (size_t i = 0; i < parts.size(); ++i)
            out += (i ? ", " : "") + parts[i];
        return out;
    };
    if (!remaining.byResource.empty())
        failing["NamespaceContentRemaining"] = {"SomeResourcesRemain",
                                                "Some resources are remaining: " + joined(remaining.byResource, " has ")};
    if (!remaining.byFinalizer.empty())
        failing["NamespaceFinalizersRemaining"] = {"SomeFinalizersRemain",
                                                   "Some content in the namespace has finalizers remaining: "
                                                       + joined(remaining.byFinalizer, " in ")};
    if (!remaining.errors.empty()) {
        std::vector<std::string> errors = remaining.errors;
        std::sort(errors.begin(), errors.end());
        std::string list;
        for (size_t i = 0; i < errors.size(); ++i)
            list += (i ? ", " : "") + errors[i];
        failing["NamespaceDeletionContentFailure"] = {"ContentDeletionFailed",
                                                      "Failed to delete all resource types, " + std::to_string(errors.size())
                                                          + " remaining: " + list};
    }
    const std::string now = formatRfc3339(clock().now());
    auto apply = [&](json &o) -> bool {
        json &status = o["status"];
        if (!status.is_object())
            status = json::object();
        json &conditions = status["conditions"];
        if (!conditions.is_array())
            conditions = json::array();
        const json before = conditions;
        for (const auto &kind : kConditions) {
            json wanted = {{"type", kind.type}, {"status", "False"}, {"reason", kind.okReason}, {"message", kind.okMessage}};
            if (auto it = failing.find(kind.type); it != failing.end())
                wanted = {{"type", kind.type}, {"status", "True"}, {"reason", it->second.first}, {"message", it->second.second}};
            auto existing = std::find_if(conditions.begin(), conditions.end(),
                                         [&](const json &c) { return c.is_object() && c.value("type", std::string()) == kind.type; });
            if (existing == conditions.end()) {
                wanted["lastTransitionTime"] = now;
                conditions.push_back(wanted);
                continue;
            }
            if ((*existing).value("status", std::string()) != wanted["status"])
                (*existing)["lastTransitionTime"] = now;
            for (const char *k : {"status", "reason", "message"})
                (*existing)[k] = wanted[k];
        }
        return conditions != before;
    };
    json copy = ns;
    if (!apply(copy))
        return {};
    const std::string uid = meta(ns, "uid");
    auto updated = m_store.modify("namespaces", "", meta(ns, "name"), [&](json &o) -> Result<bool> {
        if (meta(o, "uid") != uid)
            return false;
        return apply(o);
    });
    if (!updated && updated.error().reason() != Reason::NotFound)
        return updated.takeError();
    return {};
}

} // namespace podscape::core::controllers
