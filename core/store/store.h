#pragma once
// The revisioned store: the one stateful part of the cluster (etcd's role). One global
// revision orders every write; every object carries it as metadata.resourceVersion. Writes
// are durable before they are acknowledged when a persistence backend is attached (group
// commit batches the fsyncs). Watches replay from a revision out of a bounded history and
// each watcher has a bounded queue: a watcher that falls behind is ended so that it relists.
//
// Objects are JSON documents handed out as shared_ptr<const json>: never mutate them.

#include "core/base/clock.h"
#include "core/base/result.h"
#include "core/model/fieldselector.h"
#include "core/model/labelselector.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace podscape::core::store {

using Revision = int64_t;
using ObjectPtr = std::shared_ptr<const nlohmann::json>;

class Backend;

// Where an object lives: resource is the plural with its group ("pods", "deployments.apps");
// namespace is empty for cluster-scoped objects.
struct ObjectKey {
    std::string resource;
    std::string ns;
    std::string name;

    std::string toString() const; // "pods/default/kubia", "nodes//node-1"
    static std::optional<ObjectKey> fromString(std::string_view s);
    bool operator<(const ObjectKey &o) const;
    bool operator==(const ObjectKey &) const = default;
};

enum class EventType { Added, Modified, Deleted, Bookmark, Error };

struct Event {
    EventType type = EventType::Added;
    Revision revision = 0;
    std::string resource;
    ObjectPtr object;   // the object after the change (for Deleted: as it was when deleted)
    ObjectPtr previous; // before the change (Modified, Deleted), for selector transitions
    Error error;        // type Error: why the watch ended (Gone, or fell too far behind)
};

struct ListOptions {
    std::string ns; // empty: all namespaces
    model::LabelSelector labels;
    model::FieldSelector fields;
    int64_t limit = 0;         // 0: no limit
    std::string continueToken; // from a previous page; pins the page to its revision
    Revision revision = 0;     // 0: latest; otherwise an exact revision still in history
};

struct ListResult {
    std::vector<ObjectPtr> items;
    Revision revision = 0;
    std::string continueToken;
    int64_t remainingItemCount = 0;
};

struct DeleteOptions {
    std::optional<std::string> preconditionUid;
    std::optional<std::string> preconditionResourceVersion;
    // Pods: seconds of graceful termination (nullopt: the pod's own grace period; 0: now).
    std::optional<int64_t> gracePeriodSeconds;
    // Orphan: remove the orphan finalizer path; Foreground: the foregroundDeletion finalizer.
    std::string propagationPolicy; // "", "Orphan", "Background", "Foreground"
};

struct WatchOptions {
    std::string ns;
    model::LabelSelector labels;
    model::FieldSelector fields;
    Revision fromRevision = 0; // 0: from now; otherwise every event after this revision
    bool bookmarks = false;
    size_t queueLimit = 0; // 0: the store's default
};

// A running watch. Events arrive in revision order; the watch ends with one Error event
// (Gone, or the consumer was too slow) or when stopped.
class Watcher
{
public:
    // Blocks until an event, the deadline (returns nullopt) or the end (returns nullopt and
    // isStopped()).
    std::optional<Event> next(std::chrono::milliseconds timeout);
    // Non-blocking: every queued event.
    std::vector<Event> drain();
    void stop();
    bool isStopped() const;
    // Called (on the store's thread) whenever events become available; must not block.
    void setNotify(std::function<void()> notify);

private:
    friend class Store;
    Revision m_after = 0; // events at or before this revision were already delivered
    bool matches(const Event &e) const;
    bool objectMatches(const nlohmann::json &object) const;
    // false when the queue overflowed and the watch was ended. Copies the event only when
    // this watcher takes it.
    bool push(const Event &e);
    void end(Error error);

    std::string m_resource;
    WatchOptions m_options;
    std::optional<std::string> m_nodeName; // pods watched by spec.nodeName=X (kubelets): indexed
    size_t m_limit = 0;
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<Event> m_queue;
    bool m_stopped = false;
    bool m_ending = false;
    std::function<void()> m_notify;
};

struct StoreOptions {
    // Events kept for watch-from-revision. Each holds two versions of an object, so this is
    // most of the store's memory beyond the live objects; a watcher further behind relists.
    size_t historyLimit = 20'000;
    size_t watcherQueueLimit = 10'000; // per watcher, before it is dropped
    std::chrono::milliseconds bookmarkInterval{std::chrono::seconds(60)};
};

class Store
{
public:
    // Without a backend the store is memory-only. With one, it loads the backend's state
    // first and continues its revision sequence.
    explicit Store(Clock &clock = Clock::system(), StoreOptions options = {});
    Store(Clock &clock, std::unique_ptr<Backend> backend, StoreOptions options = {});
    ~Store();
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;

    // Loading a persisted state may fail (corrupt file, newer schema): check after construction.
    const Result<void> &openStatus() const { return m_openStatus; }

    // Sets uid, resourceVersion, creationTimestamp, generation 1 (generateName is resolved
    // here too). AlreadyExists if the name is taken.
    Result<ObjectPtr> create(const std::string &resource, nlohmann::json object);
    Result<ObjectPtr> get(const std::string &resource, const std::string &ns, const std::string &name) const;
    Result<ListResult> list(const std::string &resource, const ListOptions &options = {}) const;
    // Replaces the object. With a resourceVersion in the object, it must match (Conflict
    // otherwise); without one the write is unconditional. generation is bumped when anything
    // but metadata and status changed. An object with a deletionTimestamp and no finalizers
    // left is removed.
    Result<ObjectPtr> update(const std::string &resource, nlohmann::json object);
    // Reads, applies `mutate`, writes; retries on Conflict. `mutate` returns false to leave
    // the object as it is (no write), or an error to abort.
    Result<ObjectPtr> modify(const std::string &resource, const std::string &ns, const std::string &name,
                             const std::function<Result<bool>(nlohmann::json &)> &mutate);
    // Deletes, honouring preconditions, finalizers (sets deletionTimestamp and waits for them
    // to be removed) and pods' graceful deletion. Returns the object as it now is (with a
    // deletionTimestamp) or as it was when removed.
    Result<ObjectPtr> remove(const std::string &resource, const std::string &ns, const std::string &name,
                             const DeleteOptions &options = {});
    Result<std::shared_ptr<Watcher>> watch(const std::string &resource, const WatchOptions &options = {});

    Revision revision() const;
    Revision oldestRevision() const; // the oldest revision a watch can start after
    // Waits until every write so far is durable (no-op without a backend).
    void flush();
    size_t objectCount() const;

private:
    struct Entry {
        ObjectPtr object;
        Revision revision;
    };
    // Records a change under the write lock: state, history, backend and pending events.
    Revision commitLocked(const ObjectKey &key, ObjectPtr object, ObjectPtr previous, EventType type);
    // After the write lock is released: waits for durability, then publishes.
    Result<void> acknowledge(Revision revision);
    // Publishes pending events up to `upTo`, in revision order, to the watchers.
    void publishPending(Revision upTo);
    Result<ObjectPtr> deleteNow(const ObjectKey &key, const Entry &entry, std::unique_lock<std::shared_mutex> &lock);
    void bookmarkLoop();
    std::string newUid();

    Clock &m_clock;
    std::unique_ptr<Backend> m_backend;
    StoreOptions m_options;
    Result<void> m_openStatus;

    // Lock order: m_watchMutex -> m_mutex -> m_pendingMutex. Nothing is published while
    // m_mutex is held.
    mutable std::shared_mutex m_mutex;
    std::map<ObjectKey, Entry> m_objects;
    Revision m_revision = 0;
    std::deque<Event> m_history; // every change, bounded by historyLimit
    bool m_failed = false;       // the backend failed: the store refuses writes

    std::mutex m_pendingMutex;
    std::deque<Event> m_pending; // changes not yet published (waiting to be durable)

    mutable std::mutex m_watchMutex;
    std::vector<std::shared_ptr<Watcher>> m_watchers; // all of them
    // Where events go: watchers by resource, and pod watchers pinned to a node by the node
    // name (as the API server's watch cache indexes kubelets' watches), so that an event is
    // offered to the few watchers that may want it, not to a thousand kubelets.
    std::unordered_map<std::string, std::vector<std::shared_ptr<Watcher>>> m_watchersByResource;
    std::unordered_map<std::string, std::vector<std::shared_ptr<Watcher>>> m_podWatchersByNode;
    uint64_t m_publishes = 0;
    void dropStoppedWatchersLocked();
    Revision m_published = 0;

    std::mutex m_bookmarkMutex;
    std::condition_variable m_bookmarkCv;
    std::thread m_bookmarks;
    bool m_stopping = false;
};

} // namespace podscape::core::store
