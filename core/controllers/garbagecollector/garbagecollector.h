#pragma once
// Deletes what ownerReferences say should go (Kubernetes' garbagecollector package), over
// every kind the engine serves through one generic graph:
//
//   - background: a dependent whose owners (matched by uid) are all gone is deleted;
//   - foreground: an owner deleted with propagationPolicy Foreground carries the
//     `foregroundDeletion` finalizer; its dependents are deleted first (a dependent that
//     has dependents of its own is deleted in the foreground too), and the finalizer is
//     removed, letting the owner go, once no dependent with blockOwnerDeletion is left;
//   - orphan: an owner deleted with propagationPolicy Orphan carries the `orphan`
//     finalizer; its ownerReference is removed from every dependent, then the finalizer.
//
// The graph is not a structure of its own: each watched informer indexes objects by the
// uids of their owners, so "the dependents of X" is a lookup in the caches and every
// handler only enqueues. An owner the caches do not show is confirmed absent with a read
// from the store before anything is deleted: a cache that is behind (an owner created a
// moment before its dependent) must never cost a dependent its life.
//
// Keys are store::ObjectKey strings: "replicasets.apps/default/web-7d4b9", "nodes//node-1".

#include "core/controllers/controller.h"
#include "core/controllers/sharedinformers.h"
#include "core/events/eventrecorder.h"
#include "core/model/schemaregistry.h"

#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_set>

namespace podscape::core::controllers {

class GarbageCollector final : public Controller
{
public:
    struct Options {
        // Store resources to watch ("pods", "replicasets.apps"). Empty: every resource of the
        // schema registry that can be listed, watched and deleted, except events (which,
        // as in Kubernetes, are never owners nor collected).
        std::vector<std::string> resources;
        // Owner uids confirmed absent, remembered so that many dependents of one deleted
        // owner cost one store read (uids never come back).
        size_t absentOwnerCacheSize = 500;
    };

    static constexpr const char *OwnerUidIndex = "gc-owner-uids";

    GarbageCollector(SharedInformers &informers, Options options,
                     const model::SchemaRegistry &registry = model::SchemaRegistry::builtin());
    explicit GarbageCollector(SharedInformers &informers) : GarbageCollector(informers, Options{}) {}

    Result<void> sync(const std::string &key) override;

    // The queue key of an object of a watched resource.
    static std::string keyFor(const std::string &resource, const nlohmann::json &object);
    const std::vector<std::string> &resources() const { return m_resourceNames; }

private:
    using ObjectPtr = std::shared_ptr<const nlohmann::json>;
    struct Watched {
        const model::ResourceInfo *info = nullptr;
        cache::Informer *informer = nullptr;
    };
    struct Dependent {
        std::string resource;
        ObjectPtr object;
    };
    enum class OwnerState { Solid, Dangling, WaitingForDependents };

    void onAdded(const std::string &resource, const ObjectPtr &object);
    void onUpdated(const std::string &resource, const ObjectPtr &oldObject, const ObjectPtr &newObject);
    void onDeleted(const std::string &resource, const ObjectPtr &object);
    void enqueueOwners(const nlohmann::json &dependent, const nlohmann::json *onlyRefsMissingFrom = nullptr);

    // From the caches: cheap, for deciding what to enqueue.
    std::vector<Dependent> dependentsOf(const std::string &uid) const;
    // From the store: before an owner's finalizer goes (orphan, foreground), a dependent
    // created a moment ago and not yet cached must not be missed.
    Result<std::vector<Dependent>> storedDependentsOf(const nlohmann::json &owner) const;
    // Where an owner reference points: the store resource and namespace, or nullopt when
    // the kind is unknown or the reference is invalid (a namespaced owner of a
    // cluster-scoped dependent).
    std::optional<std::pair<std::string, std::string>> locateOwner(const nlohmann::json &dependent,
                                                                   const nlohmann::json &ref) const;
    Result<OwnerState> classify(const nlohmann::json &dependent, const nlohmann::json &ref);

    Result<void> attemptToDelete(const std::string &resource, const nlohmann::json &object);
    Result<void> orphanDependents(const std::string &resource, const nlohmann::json &owner);
    Result<void> processDeletingDependents(const std::string &resource, const nlohmann::json &owner);
    Result<void> removeFinalizer(const std::string &resource, const nlohmann::json &object, const std::string &finalizer);
    Result<void> deleteObject(const std::string &resource, const nlohmann::json &object, const std::string &policy);

    bool knownAbsent(const std::string &uid) const;
    void rememberAbsent(const std::string &uid);

    Options m_options;
    const model::SchemaRegistry &m_registry;
    store::Store &m_store;
    std::map<std::string, Watched> m_watched; // by store resource name
    std::vector<std::string> m_resourceNames;
    events::EventRecorder m_recorder;

    mutable std::mutex m_absentMutex;
    std::deque<std::string> m_absentOrder;
    std::unordered_set<std::string> m_absent;
};

} // namespace podscape::core::controllers
