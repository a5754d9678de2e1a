#pragma once
// An informer keeps an Indexer equal to what a ListWatch source holds and tells handlers
// about every change (client-go's reflector + shared informer, on one thread of its own):
//
//   list (pages of pageSize)  ->  replace the cache  ->  watch from the list's revision
//        ^                                                   |
//        |  Expired/Gone (history compacted, or this         |  events: apply to the cache,
//        +-- watcher was dropped for falling behind)  <------+  then call the handlers
//
// A watch that ends normally resumes from the last revision seen (events or bookmarks); any
// other failure is retried after an exponential back-off with jitter, on the injected Clock.
// A relist compares the fresh list with the cache and reports the differences as adds,
// updates (changed resourceVersion) and deletes (objects gone), so a handler never misses a
// delete that happened while the informer was disconnected, and never sees one twice.
//
// Handlers run on the informer's thread, after the cache was updated: they must only
// enqueue (a key into a WorkQueue), never block or call stop().

#include "core/base/clock.h"
#include "core/base/result.h"
#include "indexer.h"
#include "listwatch.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace podscape::core::cache {

struct InformerOptions {
    std::string name;       // for logs; empty: the source's describe()
    int64_t pageSize = 500; // list page size (0: one page)
    bool bookmarks = true;  // ask for bookmarks, so a quiet watch still advances its revision
    size_t watchQueueLimit = 0; // 0: the source's default
    Clock::Duration initialBackoff = std::chrono::milliseconds(800);
    Clock::Duration maxBackoff = std::chrono::seconds(30);
    // Each back-off is stretched by a random factor in [1, 1 + jitter], so that informers
    // failing together do not retry in lockstep.
    double jitter = 1.0;
    // How often a waiting watch looks whether its stream ended without a wake-up.
    Clock::Duration streamCheckInterval = std::chrono::seconds(1);
};

struct EventHandlers {
    std::function<void(const ObjectPtr &object)> onAdd;
    std::function<void(const ObjectPtr &oldObject, const ObjectPtr &newObject)> onUpdate;
    // The object as it was last known (for a delete found by a relist: as last cached).
    std::function<void(const ObjectPtr &object)> onDelete;
};

class Informer
{
public:
    // What `source` reads from (a Store, a connection) must outlive the running informer.
    explicit Informer(std::unique_ptr<ListWatch> source, Clock &clock = Clock::system(), InformerOptions options = {});
    ~Informer(); // stops
    Informer(const Informer &) = delete;
    Informer &operator=(const Informer &) = delete;

    // Before start(): handlers added later miss what was already delivered.
    void addEventHandlers(EventHandlers handlers);
    // Safe at any time: objects already cached are filed at once.
    Result<void> addIndex(std::string name, Indexer::IndexFunc func);
    const Indexer &indexer() const { return m_indexer; }

    // Starts the thread; after stop() it starts again, resuming from the last revision seen
    // (or relisting when that is too old).
    void start();
    // Stops and joins the thread. Not from a handler.
    void stop();
    bool isRunning() const;

    // The first list has been applied and its handlers called.
    bool hasSynced() const;
    // Waits (on the informer's Clock) until synced; false on timeout or when stopped first.
    bool waitForSync(Clock::Duration timeout);
    // Why the last list or watch attempt failed; cleared by the next success.
    std::optional<Error> lastError() const;
    // The revision the cache reflects (list, events and bookmarks).
    store::Revision revision() const;
    // Full lists applied so far, handlers included: 1 after the initial sync, +1 per relist.
    uint64_t listCount() const;

    // The wait after `failures` consecutive failures (1-based), given a random01 in [0, 1).
    static Clock::Duration backoffFor(int failures, const InformerOptions &options, double random01);

private:
    struct State;
    struct StreamEnd {
        enum Kind { Stopped, Ended, Failed } kind = Ended;
        Error error;
        bool progressed = false; // at least one event (bookmarks included) arrived
    };

    void run();
    Result<store::ListResult> listAll();
    void applyList(store::ListResult list);
    StreamEnd consume(WatchStream &stream);
    void applyEvent(const store::Event &event);
    void advanceRevision(store::Revision revision);
    void waitBackoff(int failures);
    void setError(const Error &error);
    void clearError();
    bool stopping() const;

    template<typename Call>
    void dispatch(const char *what, const Call &call);
    void dispatchAdd(const ObjectPtr &object);
    void dispatchUpdate(const ObjectPtr &oldObject, const ObjectPtr &newObject);
    void dispatchDelete(const ObjectPtr &object);

    std::unique_ptr<ListWatch> m_source;
    Clock &m_clock;
    InformerOptions m_options;
    Indexer m_indexer;

    std::mutex m_handlersMutex;
    std::vector<EventHandlers> m_handlers;

    // Shared with the stream's notify callback, which may outlive a stream's consumer.
    std::shared_ptr<State> m_state;
    std::mutex m_lifecycleMutex; // serialises start() and stop()
    std::thread m_thread;
    std::mt19937_64 m_random; // back-off jitter; used on the informer's thread only
};

} // namespace podscape::core::cache
