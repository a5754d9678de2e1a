#include "sqlitebackend.h"

#include "core/base/logger.h"

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <unordered_map>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace podscape::core::store {

namespace {

constexpr const char *Component = "store.sqlite";

// Creates the missing folders above `file` with mode 0700: the store holds secrets.
Result<void> createParentFolders(const std::filesystem::path &file)
{
    std::vector<std::filesystem::path> missing;
    std::error_code ec;
    for (auto dir = file.parent_path(); !dir.empty() && !std::filesystem::exists(dir, ec); dir = dir.parent_path()) {
        missing.push_back(dir);
        if (dir == dir.parent_path())
            break;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST)
            return fail(Error::internal("cannot create the folder " + it->string() + " for the store: "
                                       + std::strerror(errno)));
    }
    return {};
}

// Creates the file with mode 0600 before SQLite does (SQLite would use 0644 & ~umask), and
// tightens an existing file and its WAL files left behind by an older build or a copy.
Result<void> createPrivateFile(const std::string &path)
{
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(Error::internal("cannot open the store " + path + ": " + std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return fail(Error::internal("cannot use " + path + " as the store: it is not a regular file"));
    }
    if ((st.st_mode & 07777) != 0600 && ::fchmod(fd, 0600) != 0) {
        PS_LOG(Warning, Component) << "cannot make " << path << " private (mode 0600): " << std::strerror(errno);
    }
    ::close(fd);
    for (const char *suffix : {"-wal", "-shm"}) {
        std::string side = path + suffix;
        if (::stat(side.c_str(), &st) == 0 && (st.st_mode & 07777) != 0600)
            (void)::chmod(side.c_str(), 0600);
    }
    return {};
}

// An opening or reading error, in words that say what to do about it.
Error fileError(const std::string &path, sqlite3 *db, int rc)
{
    std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    switch (rc & 0xff) {
    case SQLITE_NOTADB:
        return Error::internal(path + " is not a Podscape store: SQLite cannot read it (" + detail
                               + "). Move the file away (or restore a backup) and start again; "
                                 "a new, empty store is then created in its place.");
    case SQLITE_CORRUPT:
        return Error::internal(path + " is damaged (" + detail
                               + "). Move it away and start again with an empty store, or restore a "
                                 "backup; keep the damaged file: `sqlite3 " + path + " .recover` may save part of it.");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return Error::internal(path + " is in use by another process (is another Podscape running on this "
                                      "store?). Stop it, or use a different store file.");
    default:
        if (detail != sqlite3_errstr(rc))
            detail += std::string(" (") + sqlite3_errstr(rc) + ")";
        return Error::internal("cannot open the store " + path + ": " + detail);
    }
}

// A statement that finalizes itself; for the one-off statements of open() and load().
class Statement
{
public:
    Statement() = default;
    ~Statement() { sqlite3_finalize(m_stmt); }
    Statement(const Statement &) = delete;
    Statement &operator=(const Statement &) = delete;
    int prepare(sqlite3 *db, const char *sql) { return sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr); }
    sqlite3_stmt *get() const { return m_stmt; }

private:
    sqlite3_stmt *m_stmt = nullptr;
};

// Runs `sql` and returns the first column of its first row as text ("" when no row).
Result<std::string> queryText(sqlite3 *db, const std::string &path, const char *sql)
{
    Statement stmt;
    int rc = stmt.prepare(db, sql);
    if (rc != SQLITE_OK)
        return fail(fileError(path, db, rc));
    rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE)
        return std::string();
    if (rc != SQLITE_ROW)
        return fail(fileError(path, db, rc));
    auto text = reinterpret_cast<const char *>(sqlite3_column_text(stmt.get(), 0));
    return std::string(text ? text : "");
}

Result<void> exec(sqlite3 *db, const std::string &path, const char *sql)
{
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
        return fail(fileError(path, db, rc));
    return {};
}

} // namespace

SqliteBackend::SqliteBackend(std::string path, SqliteBackendOptions options)
    : m_path(std::move(path)), m_options(options)
{}

SqliteBackend::~SqliteBackend() { close(); }

Result<std::unique_ptr<SqliteBackend>> SqliteBackend::open(const std::string &path, SqliteBackendOptions options)
{
    std::unique_ptr<SqliteBackend> backend(new SqliteBackend(path, options));
    if (auto ok = backend->initialize(); !ok) {
        backend->close(); // releases the connection; no thread was started
        return ok.takeError();
    }
    backend->m_committer = std::thread([b = backend.get()] { b->run(); });
    return backend;
}

Result<void> SqliteBackend::initialize()
{
    if (auto ok = createParentFolders(m_path); !ok)
        return ok;
    if (auto ok = createPrivateFile(m_path); !ok)
        return ok;

    int rc = sqlite3_open_v2(m_path.c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK)
        return fail(fileError(m_path, m_db, rc));
    sqlite3_extended_result_codes(m_db, 1);
    sqlite3_busy_timeout(m_db, m_options.busyTimeoutMs);
    // One writer per file: the lock taken by the first transaction is kept until close.
    if (auto ok = exec(m_db, m_path, "PRAGMA locking_mode=EXCLUSIVE"); !ok)
        return ok;

    // Read the version before changing anything: a file we refuse is left untouched.
    auto version = queryText(m_db, m_path, "PRAGMA user_version");
    if (!version)
        return fail(version.takeError());
    int found = std::atoi(version->c_str());
    if (found > SchemaVersion)
        return fail(Error::internal(m_path + " has store schema version " + std::to_string(found)
                                    + ", but this build of Podscape understands versions up to "
                                    + std::to_string(SchemaVersion)
                                    + ". Use a newer Podscape, or move the file away to start with an empty store."));
    auto tables = queryText(m_db, m_path,
                            "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master "
                            "WHERE type='table' AND name IN ('objects','meta') ORDER BY name)");
    if (!tables)
        return fail(tables.takeError());
    auto anyTables = queryText(m_db, m_path, "SELECT count(*) FROM sqlite_master");
    if (!anyTables)
        return fail(anyTables.takeError());
    if (found == 0 && *anyTables != "0")
        return fail(Error::internal(m_path + " is a SQLite database but not a Podscape store (it has tables and "
                                             "no store schema version). Use another file for the store, or move "
                                             "this one away."));
    if (found == SchemaVersion && *tables != "meta,objects")
        return fail(Error::internal(m_path + " is damaged (the store's tables are missing). Move it away and "
                                             "start again with an empty store, or restore a backup."));

    auto mode = queryText(m_db, m_path, "PRAGMA journal_mode=WAL");
    if (!mode)
        return fail(mode.takeError());
    if (*mode != "wal")
        return fail(Error::internal("cannot use write-ahead logging for the store " + m_path + " (journal mode stays "
                                    + *mode + "); the file system may not support it."));
    // FULL: the WAL is synced at every commit, so a commit is durable when COMMIT returns.
    if (auto ok = exec(m_db, m_path, "PRAGMA synchronous=FULL"); !ok)
        return ok;
    if (m_options.maxDatabaseBytes > 0) {
        auto pageSize = queryText(m_db, m_path, "PRAGMA page_size");
        if (!pageSize)
            return fail(pageSize.takeError());
        uint64_t pages = std::max<uint64_t>(1, m_options.maxDatabaseBytes / std::max(1, std::atoi(pageSize->c_str())));
        std::string sql = "PRAGMA max_page_count=" + std::to_string(pages);
        if (auto ok = queryText(m_db, m_path, sql.c_str()); !ok)
            return fail(ok.takeError());
    }

    if (found == 0) {
        // A rowid table, not WITHOUT ROWID: values are kilobytes, larger than such tables suit.
        if (auto ok = exec(m_db, m_path,
                           "BEGIN IMMEDIATE;"
                           "CREATE TABLE objects(key TEXT PRIMARY KEY NOT NULL, revision INTEGER NOT NULL,"
                           " value BLOB NOT NULL);"
                           "CREATE TABLE meta(id INTEGER PRIMARY KEY CHECK (id = 0), revision INTEGER NOT NULL);"
                           "INSERT INTO meta(id, revision) VALUES (0, 0);"
                           "PRAGMA user_version=1;"
                           "COMMIT;");
            !ok) {
            (void)sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
            return ok;
        }
    }
    static_assert(SchemaVersion == 1, "create the new schema above and migrate older files");

    auto revision = queryText(m_db, m_path, "SELECT revision FROM meta WHERE id = 0");
    if (!revision)
        return fail(revision.takeError());
    if (revision->empty())
        return fail(Error::internal(m_path + " is damaged (the store's revision is missing). Move it away and "
                                             "start again with an empty store, or restore a backup."));
    m_metaRevision = std::atoll(revision->c_str());
    m_durable = m_lastAppended = m_metaRevision;
    m_stats.durable = m_metaRevision;
    return prepareStatements();
}

Result<void> SqliteBackend::prepareStatements()
{
    struct {
        sqlite3_stmt **stmt;
        const char *sql;
    } statements[] = {
        {&m_upsert, "INSERT INTO objects(key, revision, value) VALUES (?1, ?2, ?3) "
                    "ON CONFLICT(key) DO UPDATE SET revision = excluded.revision, value = excluded.value"},
        {&m_delete, "DELETE FROM objects WHERE key = ?1"},
        {&m_setRevision, "UPDATE meta SET revision = ?1 WHERE id = 0"},
    };
    for (auto &s : statements) {
        int rc = sqlite3_prepare_v3(m_db, s.sql, -1, SQLITE_PREPARE_PERSISTENT, s.stmt, nullptr);
        if (rc != SQLITE_OK)
            return fail(fileError(m_path, m_db, rc));
    }
    return {};
}

Result<Backend::Snapshot> SqliteBackend::load()
{
    std::lock_guard db(m_dbMutex);
    if (!m_db)
        return fail(Error::internal("the store " + m_path + " is closed"));
    Snapshot snapshot;
    auto revision = queryText(m_db, m_path, "SELECT revision FROM meta WHERE id = 0");
    if (!revision)
        return fail(revision.takeError());
    snapshot.revision = std::atoll(revision->c_str());

    Statement rows;
    int rc = rows.prepare(m_db, "SELECT key, revision, value FROM objects");
    if (rc != SQLITE_OK)
        return fail(fileError(m_path, m_db, rc));
    while ((rc = sqlite3_step(rows.get())) == SQLITE_ROW) {
        auto keyText = reinterpret_cast<const char *>(sqlite3_column_text(rows.get(), 0));
        auto key = ObjectKey::fromString(keyText ? keyText : "");
        if (!key)
            return fail(Error::internal(m_path + " is damaged (a row has the malformed key \"" + (keyText ? keyText : "")
                                        + "\"). Move it away and start again with an empty store, or restore a backup."));
        Record record;
        record.key = std::move(*key);
        record.revision = sqlite3_column_int64(rows.get(), 1);
        auto data = static_cast<const char *>(sqlite3_column_blob(rows.get(), 2));
        record.value.assign(data ? data : "", static_cast<size_t>(sqlite3_column_bytes(rows.get(), 2)));
        snapshot.revision = std::max(snapshot.revision, record.revision);
        snapshot.objects.push_back(std::move(record));
    }
    if (rc != SQLITE_DONE)
        return fail(fileError(m_path, m_db, rc));
    return snapshot;
}

void SqliteBackend::append(Record record)
{
    {
        std::lock_guard lock(m_mutex);
        if (m_failure) {
            ++m_stats.dropped; // its waiter gets the failure
            return;
        }
        if (m_stopping) {
            PS_LOG(Error, Component) << "revision " << record.revision << " appended after close: not written";
            ++m_stats.dropped;
            return;
        }
        if (record.revision <= m_lastAppended) {
            PS_LOG(Error, Component) << "revision " << record.revision << " appended after " << m_lastAppended
                                     << ": revisions must increase";
        }
        m_lastAppended = std::max(m_lastAppended, record.revision);
        m_queuedBytes += record.value.size();
        m_queue.push_back(std::move(record));
    }
    m_queued.notify_one();
}

bool SqliteBackend::overBound() const
{
    return m_queue.size() > m_options.maxPendingRecords || m_queuedBytes > m_options.maxPendingBytes;
}

Result<void> SqliteBackend::waitDurable(Revision revision)
{
    std::unique_lock lock(m_mutex);
    m_durableCv.wait(lock, [&] { return (m_durable >= revision && !overBound()) || m_failure || m_closed; });
    if (m_durable >= revision)
        return {};
    if (m_failure)
        return fail(*m_failure);
    return fail(Error::internal("the write was not saved: the store " + m_path + " was closed before revision "
                                + std::to_string(revision) + " was appended"));
}

void SqliteBackend::setDurableCallback(std::function<void(Revision)> callback)
{
    std::lock_guard lock(m_mutex);
    m_callback = std::move(callback);
}

void SqliteBackend::run()
{
    for (;;) {
        std::vector<Record> batch;
        uint64_t bytes = 0;
        {
            std::unique_lock lock(m_mutex);
            m_queued.wait(lock, [&] { return !m_queue.empty() || m_stopping; });
            if (m_queue.empty())
                return; // stopping, and everything appended is written
            bool wasOver = overBound();
            batch.swap(m_queue);
            bytes = m_queuedBytes;
            m_queuedBytes = 0;
            if (wasOver)
                m_durableCv.notify_all(); // back-pressured waiters may go on
        }
        Revision last = 0;
        for (const auto &r : batch)
            last = std::max(last, r.revision);

        Result<void> written;
        {
            std::lock_guard db(m_dbMutex);
            written = writeBatch(batch, last);
        }

        std::function<void(Revision)> callback;
        {
            std::lock_guard lock(m_mutex);
            if (written) {
                m_durable = std::max(m_durable, last);
                ++m_stats.commits;
                m_stats.records += batch.size();
                m_stats.bytes += bytes;
                m_stats.largestBatch = std::max(m_stats.largestBatch, batch.size());
                callback = m_callback;
            } else {
                m_failure = written.error();
                m_stats.dropped += m_queue.size();
                m_queue.clear();
                m_queuedBytes = 0;
            }
        }
        m_durableCv.notify_all();
        if (!written) {
            PS_LOG(Error, Component) << written.error().message();
            return; // failed for good: later appends are dropped, later waits fail
        }
        if (callback)
            callback(last);
    }
}

Result<void> SqliteBackend::writeBatch(const std::vector<Record> &batch, Revision last)
{
    if (!m_db)
        return fail(Error::internal("the write was not saved: the store " + m_path + " is closed"));
    // Only the last record of each key in the batch reaches the file: a key written twice in
    // one transaction (a status heartbeat) costs one row write.
    std::vector<std::string> keys;
    keys.reserve(batch.size());
    std::unordered_map<std::string_view, size_t> lastIndex;
    for (size_t i = 0; i < batch.size(); ++i)
        keys.push_back(batch[i].key.toString());
    for (size_t i = 0; i < batch.size(); ++i)
        lastIndex[keys[i]] = i;

    auto abort = [&](int rc, const char *step) {
        Error e = commitError(rc, step);
        if (!sqlite3_get_autocommit(m_db))
            (void)sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        return fail(std::move(e));
    };
    auto run = [](sqlite3_stmt *stmt) {
        int rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        return rc;
    };

    int rc = sqlite3_exec(m_db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
        return abort(rc, "starting the transaction");
    for (size_t i = 0; i < batch.size(); ++i) {
        if (lastIndex[keys[i]] != i)
            continue;
        const Record &r = batch[i];
        if (r.value.empty()) {
            sqlite3_bind_text(m_delete, 1, keys[i].data(), static_cast<int>(keys[i].size()), SQLITE_STATIC);
            rc = run(m_delete);
        } else {
            sqlite3_bind_text(m_upsert, 1, keys[i].data(), static_cast<int>(keys[i].size()), SQLITE_STATIC);
            sqlite3_bind_int64(m_upsert, 2, r.revision);
            sqlite3_bind_blob64(m_upsert, 3, r.value.data(), r.value.size(), SQLITE_STATIC);
            rc = run(m_upsert);
        }
        if (rc != SQLITE_DONE)
            return abort(rc, "writing an object");
    }
    Revision revision = std::max(m_metaRevision, last);
    sqlite3_bind_int64(m_setRevision, 1, revision);
    if ((rc = run(m_setRevision)) != SQLITE_DONE)
        return abort(rc, "writing the revision");
    if ((rc = sqlite3_exec(m_db, "COMMIT", nullptr, nullptr, nullptr)) != SQLITE_OK)
        return abort(rc, "committing");
    m_metaRevision = revision;
    return {};
}

Error SqliteBackend::commitError(int rc, const char *step) const
{
    std::string advice;
    switch (rc & 0xff) {
    case SQLITE_FULL:
        advice = m_options.maxDatabaseBytes ? "free disk space or raise the store's size limit" : "free disk space";
        break;
    case SQLITE_READONLY:
        advice = "make the file writable again";
        break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        advice = "move the damaged file away or restore a backup";
        break;
    default:
        advice = "check the disk";
        break;
    }
    std::string detail = sqlite3_errmsg(m_db);
    if (detail != sqlite3_errstr(rc))
        detail += std::string(" (") + sqlite3_errstr(rc) + ")";
    return Error::internal("the write was not saved: " + std::string(step) + " in the store " + m_path
                           + " failed: " + detail + ". Every write up to revision " + std::to_string(m_metaRevision)
                           + " is safe; " + advice + " and restart.");
}

SqliteBackend::BatchStats SqliteBackend::batchStats() const
{
    std::lock_guard lock(m_mutex);
    BatchStats stats = m_stats;
    stats.pendingRecords = m_queue.size();
    stats.durable = m_durable;
    stats.failed = m_failure.has_value();
    return stats;
}

void SqliteBackend::close()
{
    if (m_committer.joinable() && m_committer.get_id() == std::this_thread::get_id()) {
        // From the durable callback: joining would wait for ourselves. Stop after this batch;
        // the destructor (or another close) joins.
        PS_LOG(Error, Component) << "close() called from the durable callback";
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        return;
    }
    std::lock_guard closing(m_closeMutex);
    {
        std::lock_guard lock(m_mutex);
        if (m_closed)
            return;
        m_stopping = true;
    }
    m_queued.notify_all();
    if (m_committer.joinable())
        m_committer.join();
    {
        std::lock_guard db(m_dbMutex);
        for (auto stmt : {&m_upsert, &m_delete, &m_setRevision}) {
            sqlite3_finalize(*stmt);
            *stmt = nullptr;
        }
        if (m_db && sqlite3_close(m_db) != SQLITE_OK) {
            PS_LOG(Warning, Component) << "closing " << m_path << ": " << sqlite3_errmsg(m_db);
        }
        m_db = nullptr;
    }
    {
        std::lock_guard lock(m_mutex);
        m_closed = true;
    }
    m_durableCv.notify_all();
}

} // namespace podscape::core::store
