#pragma once
// An informer's cache: objects by key ("namespace/name", or "name" when cluster-scoped) plus
// named secondary indexes, so that "the pods of this ReplicaSet" or "the pods on this node"
// is a lookup, not a scan. Thread-safe: the informer writes, any thread reads.
//
// Objects are immutable snapshots (shared_ptr<const json>): a reader keeps what it got even
// while the cache moves on, and must never modify it.
//
// Built-in indexes: namespace (metadata.namespace), owner (the uid of the controller
// ownerReference), node (spec.nodeName) and label ("key=value" for every label). An index
// function returns the values an object is filed under; objects are found by any of them.

#include "core/base/result.h"
#include "core/model/labelselector.h"
#include "core/store/store.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace podscape::core::cache {

using ObjectPtr = std::shared_ptr<const nlohmann::json>;

class Indexer
{
public:
    using IndexFunc = std::function<std::vector<std::string>(const nlohmann::json &object)>;

    static constexpr std::string_view NamespaceIndex = "namespace";
    static constexpr std::string_view OwnerIndex = "owner";
    static constexpr std::string_view NodeIndex = "node";
    static constexpr std::string_view LabelIndex = "label";

    // One difference found by replace(): an add (no old object), a delete (no new object) or
    // an update (both).
    struct Change {
        ObjectPtr oldObject;
        ObjectPtr newObject;
    };

    Indexer(); // with the built-in indexes
    Indexer(const Indexer &) = delete;
    Indexer &operator=(const Indexer &) = delete;

    static std::string keyOf(const nlohmann::json &object);
    static std::string keyOf(std::string_view ns, std::string_view name);
    static std::string resourceVersionOf(const nlohmann::json &object);

    // Registers an index; objects already cached are filed now. AlreadyExists if the name is
    // taken. `func` must be a pure function of the object and must not throw.
    Result<void> addIndex(std::string name, IndexFunc func);
    bool hasIndex(std::string_view name) const;

    // Inserts or replaces the object under its key; returns the object it replaced (or null).
    ObjectPtr upsert(ObjectPtr object);
    // Returns the removed object, or null if the key was not cached.
    ObjectPtr remove(std::string_view key);
    // Makes `objects` the whole content (after a list) and returns what changed: adds, updates
    // where the resourceVersion differs, deletes for keys that are gone. A key now held by a
    // different object (another uid: deleted and recreated) is a delete and an add.
    std::vector<Change> replace(std::vector<ObjectPtr> objects, store::Revision revision);
    // The revision of the last list, watch event or bookmark applied.
    void setResourceVersion(store::Revision revision);
    store::Revision resourceVersion() const;

    ObjectPtr get(std::string_view key) const;
    ObjectPtr get(std::string_view ns, std::string_view name) const;
    // Everything, in key order.
    std::vector<ObjectPtr> list() const;
    // Objects whose labels match, in `ns` only unless it is empty.
    std::vector<ObjectPtr> list(const model::LabelSelector &selector, std::string_view ns = {}) const;
    // Objects filed under `value` in the named index, in key order. An unknown index is a
    // programmer error: it is logged and gives nothing.
    std::vector<ObjectPtr> byIndex(std::string_view index, std::string_view value) const;
    std::vector<std::string> keysByIndex(std::string_view index, std::string_view value) const;
    // Every value the named index holds objects under.
    std::vector<std::string> indexValues(std::string_view index) const;
    std::vector<std::string> keys() const;
    size_t size() const;

private:
    struct Index {
        IndexFunc func;
        std::map<std::string, std::set<std::string>, std::less<>> buckets; // value -> keys
    };
    static std::vector<std::string> valuesOf(const Index &index, const nlohmann::json &object);
    void fileLocked(const std::string &key, const ObjectPtr &oldObject, const ObjectPtr &newObject);
    const Index *findIndexLocked(std::string_view name) const;

    mutable std::shared_mutex m_mutex;
    std::map<std::string, ObjectPtr, std::less<>> m_items;
    std::map<std::string, Index, std::less<>> m_indexes;
    store::Revision m_revision = 0;
};

} // namespace podscape::core::cache
