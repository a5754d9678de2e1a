#pragma once
// The Store's persistence in one SQLite file (WAL journal, synchronous=FULL): one row per live
// key and a one-row meta table holding the last revision written, deletes included.
//
// Group commit: append() only queues. One committer thread takes everything queued, writes it
// in one transaction and commits (one fsync), then reports the batch durable. Appends that
// arrive while a commit is in progress form the next batch, so N concurrent writers share
// roughly one fsync instead of paying N.
//
// Failure is sticky: when a commit fails (disk full, I/O error) every waiter gets the Error,
// later records are dropped and later waits fail too, so nothing is acknowledged that was not
// written. The process keeps the file's exclusive lock while it is open: a second process
// (or a second backend) on the same file fails to open instead of interleaving writes.

#include "backend.h"

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

struct sqlite3;
struct sqlite3_stmt;

namespace podscape::core::store {

struct SqliteBackendOptions {
    // Back-pressure bound. append() never blocks or fails (the store calls it under its write
    // lock), so the queue is bounded from the other side: while more than this many records
    // or bytes are queued, waitDurable() also waits for the queue to drain below the bound,
    // even when its own revision is already durable. Writers that wait (the Store waits for
    // every write) are thereby slowed to the disk's pace; the queue can only exceed the bound
    // by what writers append without waiting.
    size_t maxPendingRecords = 10'000;
    size_t maxPendingBytes = 64u << 20;
    // How long to wait for a lock held by another connection before giving up.
    int busyTimeoutMs = 5000;
    // Refuse to grow the file beyond this size (0: no limit). Reaching it fails the commit
    // like a full disk does.
    uint64_t maxDatabaseBytes = 0;
};

class SqliteBackend final : public Backend
{
public:
    // The schema version this build writes and understands (PRAGMA user_version).
    static constexpr int SchemaVersion = 1;

    // Opens or creates the store file (and its parent folders, mode 0700) with mode 0600.
    // Fails, with an Error naming the file and what to do, when the file is not a SQLite
    // database, is damaged, was written by a newer schema or is in use by another process.
    static Result<std::unique_ptr<SqliteBackend>> open(const std::string &path, SqliteBackendOptions options = {});
    ~SqliteBackend() override; // close()

    SqliteBackend(const SqliteBackend &) = delete;
    SqliteBackend &operator=(const SqliteBackend &) = delete;

    Result<Snapshot> load() override;
    void append(Record record) override;
    // Revisions at or below the last durable one return at once, even after a failure.
    Result<void> waitDurable(Revision revision) override;
    void setDurableCallback(std::function<void(Revision)> callback) override;
    // Commits what is queued and joins the committer. Must not be called from the durable
    // callback (it runs on the committer thread).
    void close() override;

    struct BatchStats {
        uint64_t commits = 0;      // transactions committed
        uint64_t records = 0;      // records they carried (before per-key coalescing)
        uint64_t bytes = 0;        // value bytes they carried
        size_t largestBatch = 0;   // records in the largest transaction
        size_t pendingRecords = 0; // queued now, not yet taken by the committer
        uint64_t dropped = 0;      // records appended after a failure (never written)
        Revision durable = 0;      // last durable revision
        bool failed = false;
    };
    BatchStats batchStats() const;
    uint64_t commitCount() const { return batchStats().commits; }
    const std::string &path() const { return m_path; }

private:
    SqliteBackend(std::string path, SqliteBackendOptions options);
    Result<void> initialize();
    Result<void> prepareStatements();
    void run();
    Result<void> writeBatch(const std::vector<Record> &batch, Revision last);
    Error commitError(int rc, const char *step) const;
    bool overBound() const;

    const std::string m_path;
    const SqliteBackendOptions m_options;

    // The connection is used by load() on the caller's thread and by the committer: m_dbMutex
    // serialises them. Never held together with m_mutex.
    std::mutex m_dbMutex;
    sqlite3 *m_db = nullptr;
    sqlite3_stmt *m_upsert = nullptr;
    sqlite3_stmt *m_delete = nullptr;
    sqlite3_stmt *m_setRevision = nullptr;
    Revision m_metaRevision = 0; // the revision in meta (committer's copy)

    mutable std::mutex m_mutex;
    std::condition_variable m_queued;    // committer: records queued or stopping
    std::condition_variable m_durableCv; // waiters: a batch finished, failed, or closing
    std::vector<Record> m_queue;
    size_t m_queuedBytes = 0;
    Revision m_lastAppended = 0;
    Revision m_durable = 0;
    bool m_stopping = false;
    bool m_closed = false;
    std::optional<Error> m_failure;
    BatchStats m_stats;
    std::function<void(Revision)> m_callback;

    std::mutex m_closeMutex; // serialises close() callers
    std::thread m_committer;
};

} // namespace podscape::core::store
