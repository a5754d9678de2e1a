#pragma once
// Persistence behind the Store. The store appends each write, in revision order, while it
// holds its write lock; the backend makes batches durable on its own thread (group commit)
// and reports how far durability has reached. The store acknowledges a write and publishes
// its watch event only once the write is durable.

#include "core/base/result.h"
#include "store.h"

#include <functional>
#include <string>
#include <vector>

namespace podscape::core::store {

class Backend
{
public:
    struct Record {
        ObjectKey key;
        Revision revision = 0;
        std::string value; // the object as JSON text; empty: the key was deleted
    };
    struct Snapshot {
        Revision revision = 0;       // the last revision written (deletes included)
        std::vector<Record> objects; // every live object
    };

    virtual ~Backend() = default;

    // Reads the persisted state. Called once, before any append.
    virtual Result<Snapshot> load() = 0;
    // Queues a record; called in strictly increasing revision order. Must not wait for I/O.
    virtual void append(Record record) = 0;
    // Blocks until every record up to `revision` is durable. Fails if the backend cannot
    // write (disk full, file removed): the write was not acknowledged and must be reported.
    virtual Result<void> waitDurable(Revision revision) = 0;
    // Called on the backend's thread after each batch is durable, with its last revision.
    virtual void setDurableCallback(std::function<void(Revision)> callback) = 0;
    // Makes everything appended durable and stops the backend's thread.
    virtual void close() = 0;
};

} // namespace podscape::core::store
