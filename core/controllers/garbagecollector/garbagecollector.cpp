#include "garbagecollector.h"

#include "core/base/logger.h"
#include "core/model/object.h"
#include "core/model/jsonmember.h"

#include <algorithm>
#include <set>

namespace podscape::core::controllers {

using nlohmann::json;

namespace {

constexpr const char *kOrphan = "orphan";
constexpr const char *kForeground = "foregroundDeletion";

using model::member;

std::string meta(const json &o, const char *key)
{
    const json &v = member(member(o, "metadata"), key);
    return v.is_string() ? v.get<std::string>() : std::string();
}

const json &ownerRefs(const json &o) { return member(member(o, "metadata"), "ownerReferences"); }

bool hasFinalizer(const json &o, const std::string &finalizer)
{
    const json &f = member(member(o, "metadata"), "finalizers");
    return f.is_array() && std::find(f.begin(), f.end(), json(finalizer)) != f.end();
}

bool isDeleting(const json &o) { return !meta(o, "deletionTimestamp").empty(); }

std::string refString(const json &ref, const char *key)
{
    const json &v = member(ref, key);
    return v.is_string() ? v.get<std::string>() : std::string();
}

bool refBlocks(const json &ref)
{
    const json &v = member(ref, "blockOwnerDeletion");
    return v.is_boolean() && v.get<bool>();
}

std::string groupOf(const std::string &apiVersion)
{
    auto slash = apiVersion.find('/');
    return slash == std::string::npos ? std::string() : apiVersion.substr(0, slash);
}

std::string storeName(const model::ResourceInfo &r) { return r.group.empty() ? r.plural : r.plural + "." + r.group; }

std::string cacheKey(const std::string &ns, const std::string &name) { return ns.empty() ? name : ns + "/" + name; }

std::vector<std::string> ownerUids(const json &o)
{
    std::vector<std::string> out;
    const json &refs = ownerRefs(o);
    if (refs.is_array())
        for (const auto &r : refs)
            if (std::string uid = refString(r, "uid"); !uid.empty())
                out.push_back(uid);
    return out;
}

} // namespace

std::string GarbageCollector::keyFor(const std::string &resource, const json &object)
{
    return store::ObjectKey{resource, meta(object, "namespace"), meta(object, "name")}.toString();
}

GarbageCollector::GarbageCollector(SharedInformers &informers, Options options, const model::SchemaRegistry &registry)
    : Controller("garbage-collector-controller", informers.clock())
    , m_options(std::move(options))
    , m_registry(registry)
    , m_store(informers.store())
    , m_recorder(informers.store(), informers.clock(), "garbage-collector-controller")
{
    std::vector<std::string> names = m_options.resources;
    if (names.empty())
        for (const auto &r : m_registry.resources())
            if (r.hasVerb("list") && r.hasVerb("watch") && r.hasVerb("delete") && r.plural != "events")
                names.push_back(storeName(r));
    std::vector<cache::Informer *> caches;
    for (const auto &name : names) {
        const model::ResourceInfo *info = nullptr;
        for (const auto &r : m_registry.resources())
            if (storeName(r) == name)
                info = &r;
        if (!info) {
            PS_LOG(Warning, "garbage-collector") << "not watching unknown resource " << name;
            continue;
        }
        if (m_watched.count(name))
            continue;
        cache::Informer &informer = informers.forResource(name);
        // Another collector on the same informers registered it already: same function.
        (void)informer.addIndex(OwnerUidIndex, ownerUids);
        informer.addEventHandlers({
            [this, name](const ObjectPtr &o) { onAdded(name, o); },
            [this, name](const ObjectPtr &o, const ObjectPtr &n) { onUpdated(name, o, n); },
            [this, name](const ObjectPtr &o) { onDeleted(name, o); },
        });
        m_watched[name] = {info, &informer};
        m_resourceNames.push_back(name);
        caches.push_back(&informer);
    }
    waitForCaches(caches);
}

// ---- event handlers: they only look up and enqueue -----------------------------------------

void GarbageCollector::onAdded(const std::string &resource, const ObjectPtr &object)
{
    // Every object with owners is checked once (at start, for everything listed): an owner
    // deleted while nobody watched leaves dependents to collect.
    if (!ownerUids(*object).empty() || (isDeleting(*object) && (hasFinalizer(*object, kOrphan) || hasFinalizer(*object, kForeground))))
        queue().add(keyFor(resource, *object));
}

void GarbageCollector::onUpdated(const std::string &resource, const ObjectPtr &oldObject, const ObjectPtr &newObject)
{
    // Only a change of owners or of deletion state matters: a pod's status updates do not
    // send it through the collector again.
    const bool refsChanged = ownerRefs(*oldObject) != ownerRefs(*newObject);
    const bool deletionChanged = isDeleting(*oldObject) != isDeleting(*newObject)
                                 || member(member(*oldObject, "metadata"), "finalizers") != member(member(*newObject, "metadata"), "finalizers");
    if (refsChanged || deletionChanged)
        onAdded(resource, newObject);
    // References removed or no longer blocking: an owner waiting for its dependents may be
    // free to go now.
    if (refsChanged)
        enqueueOwners(*oldObject, newObject.get());
}

void GarbageCollector::onDeleted(const std::string &, const ObjectPtr &object)
{
    // Its dependents may have lost their last owner; its owners may have been waiting for it.
    const std::string uid = meta(*object, "uid");
    if (!uid.empty())
        for (const auto &d : dependentsOf(uid))
            queue().add(keyFor(d.resource, *d.object));
    enqueueOwners(*object);
}

void GarbageCollector::enqueueOwners(const json &dependent, const json *onlyRefsMissingFrom)
{
    const json &refs = ownerRefs(dependent);
    if (!refs.is_array())
        return;
    for (const auto &ref : refs) {
        if (onlyRefsMissingFrom) {
            const json &now = ownerRefs(*onlyRefsMissingFrom);
            if (now.is_array() && std::find(now.begin(), now.end(), ref) != now.end())
                continue;
        }
        if (auto where = locateOwner(dependent, ref))
            queue().add(store::ObjectKey{where->first, where->second, refString(ref, "name")}.toString());
    }
}

std::vector<GarbageCollector::Dependent> GarbageCollector::dependentsOf(const std::string &uid) const
{
    std::vector<Dependent> out;
    for (const auto &[name, watched] : m_watched)
        for (auto &o : watched.informer->indexer().byIndex(OwnerUidIndex, uid))
            out.push_back({name, std::move(o)});
    return out;
}

Result<std::vector<GarbageCollector::Dependent>> GarbageCollector::storedDependentsOf(const json &owner) const
{
    const std::string uid = meta(owner, "uid"), ns = meta(owner, "namespace");
    std::vector<Dependent> out;
    for (const auto &[name, watched] : m_watched) {
        if (!ns.empty() && !watched.info->namespaced)
            continue; // a cluster-scoped object cannot have a namespaced owner
        store::ListOptions options;
        options.ns = ns;
        auto listed = m_store.list(name, options);
        if (!listed)
            return listed.takeError();
        for (auto &o : listed->items) {
            const auto uids = ownerUids(*o);
            if (std::find(uids.begin(), uids.end(), uid) != uids.end())
                out.push_back({name, std::move(o)});
        }
    }
    return out;
}

std::optional<std::pair<std::string, std::string>> GarbageCollector::locateOwner(const json &dependent, const json &ref) const
{
    const auto *info = m_registry.resourceForGroupKind(groupOf(refString(ref, "apiVersion")), refString(ref, "kind"));
    if (!info)
        return std::nullopt;
    const std::string ns = meta(dependent, "namespace");
    if (info->namespaced && ns.empty())
        return std::nullopt; // a cluster-scoped dependent cannot name a namespaced owner
    return std::make_pair(storeName(*info), info->namespaced ? ns : std::string());
}

// ---- deciding -----------------------------------------------------------------------------

bool GarbageCollector::knownAbsent(const std::string &uid) const
{
    std::lock_guard g(m_absentMutex);
    return m_absent.count(uid) > 0;
}

void GarbageCollector::rememberAbsent(const std::string &uid)
{
    std::lock_guard g(m_absentMutex);
    if (!m_absent.insert(uid).second)
        return;
    m_absentOrder.push_back(uid);
    while (m_absentOrder.size() > m_options.absentOwnerCacheSize) {
        m_absent.erase(m_absentOrder.front());
        m_absentOrder.pop_front();
    }
}

Result<GarbageCollector::OwnerState> GarbageCollector::classify(const json &dependent, const json &ref)
{
    const std::string uid = refString(ref, "uid"), name = refString(ref, "name");
    if (uid.empty() || name.empty())
        return OwnerState::Solid; // malformed: validation's business, never a reason to delete
    auto where = locateOwner(dependent, ref);
    if (!where) {
        if (m_registry.resourceForGroupKind(groupOf(refString(ref, "apiVersion")), refString(ref, "kind")))
            m_recorder.record(dependent, "Warning", "OwnerRefInvalidNamespace",
                              "ownerRef [" + refString(ref, "apiVersion") + "/" + refString(ref, "kind") + ", namespace: "
                                  + meta(dependent, "namespace") + ", name: " + name + ", uid: " + uid
                                  + "] does not exist in namespace \"" + meta(dependent, "namespace") + "\"");
        // An owner that cannot be looked up is never taken for an absent one.
        return OwnerState::Solid;
    }
    const auto &[resource, ns] = *where;
    ObjectPtr owner;
    if (auto it = m_watched.find(resource); it != m_watched.end())
        if (auto cached = it->second.informer->indexer().get(cacheKey(ns, name)); cached && meta(*cached, "uid") == uid)
            owner = cached;
    if (!owner) {
        if (knownAbsent(uid))
            return OwnerState::Dangling;
        // The cache may be behind: only the store can say the owner is gone.
        auto live = m_store.get(resource, ns, name);
        if (!live && live.error().reason() != Reason::NotFound)
            return live.takeError();
        if (!live || meta(**live, "uid") != uid) {
            rememberAbsent(uid);
            return OwnerState::Dangling;
        }
        owner = *live;
    }
    if (isDeleting(*owner) && hasFinalizer(*owner, kForeground))
        return OwnerState::WaitingForDependents;
    return OwnerState::Solid;
}

Result<void> GarbageCollector::sync(const std::string &key)
{
    auto k = store::ObjectKey::fromString(key);
    if (!k)
        return {};
    auto watched = m_watched.find(k->resource);
    if (watched == m_watched.end())
        return {};
    ObjectPtr object = watched->second.informer->indexer().get(cacheKey(k->ns, k->name));
    if (!object)
        return {}; // gone: its delete already enqueued its dependents
    if (isDeleting(*object)) {
        if (hasFinalizer(*object, kOrphan))
            return orphanDependents(k->resource, *object);
        if (hasFinalizer(*object, kForeground))
            return processDeletingDependents(k->resource, *object);
        return {}; // being deleted already, nothing of ours to finish
    }
    return attemptToDelete(k->resource, *object);
}

Result<void> GarbageCollector::attemptToDelete(const std::string &resource, const json &cached)
{
    std::set<std::string> solid, dangling, waiting;
    auto classifyAll = [&](const json &o) -> Result<void> {
        solid.clear(), dangling.clear(), waiting.clear();
        const json &refs = ownerRefs(o);
        if (!refs.is_array())
            return {};
        for (const auto &ref : refs) {
            auto state = classify(o, ref);
            if (!state)
                return state.takeError();
            const std::string uid = refString(ref, "uid");
            switch (*state) {
            case OwnerState::Solid: solid.insert(uid); break;
            case OwnerState::Dangling: dangling.insert(uid); break;
            case OwnerState::WaitingForDependents: waiting.insert(uid); break;
            }
        }
        return {};
    };
    if (auto r = classifyAll(cached); !r)
        return r;
    if (dangling.empty() && waiting.empty())
        return {}; // the common case, decided on the cache alone
    // About to act: decide again on the stored object, whose references may have changed
    // since the cache saw it (its owner orphaned it a moment ago, say).
    auto live = m_store.get(resource, meta(cached, "namespace"), meta(cached, "name"));
    if (!live)
        return live.error().reason() == Reason::NotFound ? Result<void>() : Result<void>(live.takeError());
    const json &object = **live;
    if (meta(object, "uid") != meta(cached, "uid") || isDeleting(object))
        return {};
    if (auto r = classifyAll(object); !r)
        return r;
    if (dangling.empty() && waiting.empty())
        return {};
    if (!solid.empty()) {
        if (dangling.empty() && waiting.empty())
            return {};
        // It keeps an owner: it stays, but without the references to owners that are gone
        // or waiting for it.
        const std::string uid = meta(object, "uid");
        auto patched = m_store.modify(resource, meta(object, "namespace"), meta(object, "name"), [&](json &o) -> Result<bool> {
            if (meta(o, "uid") != uid)
                return false;
            json &live = o["metadata"]["ownerReferences"];
            if (!live.is_array())
                return false;
            const size_t before = live.size();
            live.erase(std::remove_if(live.begin(), live.end(),
                                      [&](const json &r) {
                                          std::string u = refString(r, "uid");
                                          return dangling.count(u) || waiting.count(u);
                                      }),
                       live.end());
            if (live.size() == before)
                return false;
            if (live.empty())
                o["metadata"].erase("ownerReferences");
            return true;
        });
        if (!patched && patched.error().reason() != Reason::NotFound)
            return patched.takeError();
        return {};
    }
    auto dependents = waiting.empty() ? Result<std::vector<Dependent>>(std::vector<Dependent>()) : storedDependentsOf(object);
    if (!dependents)
        return dependents.takeError();
    if (!dependents->empty()) {
        // An owner waits for it and it has dependents of its own: it goes in the foreground
        // too, so that the wait covers the whole chain.
        return deleteObject(resource, object, "Foreground");
    }
    // No owner left: collect it, honouring a policy its own finalizers already ask for.
    std::string policy = hasFinalizer(object, kOrphan) ? "Orphan" : hasFinalizer(object, kForeground) ? "Foreground" : "Background";
    return deleteObject(resource, object, policy);
}

Result<void> GarbageCollector::deleteObject(const std::string &resource, const json &object, const std::string &policy)
{
    store::DeleteOptions options;
    options.preconditionUid = meta(object, "uid");
    // Exactly the version decided on: a change since (a new owner reference) is decided again.
    options.preconditionResourceVersion = meta(object, "resourceVersion");
    options.propagationPolicy = policy;
    auto removed = m_store.remove(resource, meta(object, "namespace"), meta(object, "name"), options);
    if (!removed) {
        if (removed.error().reason() == Reason::NotFound)
            return {}; // gone already
        return removed.takeError(); // Conflict: changed since; the retry decides again
    }
    PS_LOG(Debug, "garbage-collector") << "deleted " << keyFor(resource, object) << " (" << policy << ")";
    return {};
}

Result<void> GarbageCollector::orphanDependents(const std::string &resource, const json &owner)
{
    const std::string uid = meta(owner, "uid");
    auto dependents = storedDependentsOf(owner);
    if (!dependents)
        return dependents.takeError();
    for (const auto &d : *dependents) {
        auto patched = m_store.modify(d.resource, meta(*d.object, "namespace"), meta(*d.object, "name"), [&](json &o) -> Result<bool> {
            json &refs = o["metadata"]["ownerReferences"];
            if (!refs.is_array())
                return false;
            const size_t before = refs.size();
            refs.erase(std::remove_if(refs.begin(), refs.end(), [&](const json &r) { return refString(r, "uid") == uid; }),
                       refs.end());
            if (refs.size() == before)
                return false;
            if (refs.empty())
                o["metadata"].erase("ownerReferences");
            return true;
        });
        if (!patched && patched.error().reason() != Reason::NotFound)
            return patched.takeError();
    }
    return removeFinalizer(resource, owner, kOrphan);
}

Result<void> GarbageCollector::processDeletingDependents(const std::string &resource, const json &owner)
{
    const std::string uid = meta(owner, "uid");
    auto dependents = storedDependentsOf(owner);
    if (!dependents)
        return dependents.takeError();
    size_t blocking = 0;
    for (const auto &d : *dependents) {
        const json &refs = ownerRefs(*d.object);
        bool blocks = false;
        for (const auto &r : refs)
            if (refString(r, "uid") == uid && refBlocks(r))
                blocks = true;
        blocking += blocks ? 1 : 0;
        // Every dependent goes; those already deleting their own dependents are under way.
        if (!(isDeleting(*d.object) && hasFinalizer(*d.object, kForeground)))
            queue().add(keyFor(d.resource, *d.object));
    }
    if (blocking > 0)
        return {}; // their deletes will enqueue this owner again
    return removeFinalizer(resource, owner, kForeground);
}

Result<void> GarbageCollector::removeFinalizer(const std::string &resource, const json &object, const std::string &finalizer)
{
    const std::string uid = meta(object, "uid");
    auto updated = m_store.modify(resource, meta(object, "namespace"), meta(object, "name"), [&](json &o) -> Result<bool> {
        if (meta(o, "uid") != uid)
            return false;
        json &f = o["metadata"]["finalizers"];
        if (!f.is_array())
            return false;
        const size_t before = f.size();
        f.erase(std::remove(f.begin(), f.end(), json(finalizer)), f.end());
        if (f.size() == before)
            return false;
        if (f.empty())
            o["metadata"].erase("finalizers");
        return true;
    });
    if (!updated && updated.error().reason() != Reason::NotFound)
        return updated.takeError();
    return {};
}

} // namespace podscape::core::controllers
