#include "core/store/sqlitebackend.h"

#include <QtTest>

#include <sqlite3.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

using namespace podscape::core;
using namespace podscape::core::store;
using nlohmann::json;
using Record = Backend::Record;

namespace {

// key -> (revision, value): the persisted state in a comparable form.
using State = std::map<std::string, std::pair<Revision, std::string>>;

ObjectKey keyOf(const std::string &text) { return ObjectKey::fromString(text).value(); }

State stateOf(const Backend::Snapshot &snapshot)
{
    State state;
    for (const auto &r : snapshot.objects)
        state[r.key.toString()] = {r.revision, r.value};
    return state;
}

void applyRecord(State &state, const Record &r)
{
    if (r.value.empty())
        state.erase(r.key.toString());
    else
        state[r.key.toString()] = {r.revision, r.value};
}

std::string valueFor(Revision rev, size_t size)
{
    // JSON with a quote, a backslash and non-ASCII text, padded to about `size` bytes.
    json v = {{"kind", "ConfigMap"}, {"rev", rev}, {"note", "caf\u00e9 \"quoted\" back\\slash"}};
    std::string dumped = v.dump();
    v["data"] = std::string(size > dumped.size() + 12 ? size - dumped.size() - 12 : 1, char('a' + rev % 26));
    return v.dump();
}

std::string mode(const std::string &path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return "missing";
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", st.st_mode & 07777);
    return buf;
}

// Runs SQL on a file with a connection of its own, as a person with the sqlite3 shell would.
bool sqlOnFile(const std::string &path, const std::string &sql)
{
    sqlite3 *db = nullptr;
    bool ok = sqlite3_open(path.c_str(), &db) == SQLITE_OK
              && sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
    if (!ok)
        qWarning("%s: %s", sql.c_str(), sqlite3_errmsg(db));
    sqlite3_close(db);
    return ok;
}

void writeFile(const std::string &path, const std::string &bytes)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
}

std::string readFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// ---- The kill test's writer ----------------------------------------------------------------

// Revision r always writes the same record, so the parent can rebuild the state any prefix of
// the sequence must have produced. Keys repeat (updates) and every 13th revision is a delete.
Record killRecord(Revision r)
{
    ObjectKey key{"configmaps", "ns-" + std::to_string(r % 3), "cm-" + std::to_string(r % 101)};
    if (r % 13 == 0)
        return {key, r, ""};
    json v = {{"kind", "ConfigMap"}, {"rev", r}, {"key", key.toString()},
              {"data", {{"payload", std::string(50 + (r * 7919) % 2000, char('a' + r % 26))}}}};
    return {key, r, v.dump()};
}

void writeLine(const std::string &line)
{
    std::string s = line + "\n";
    (void)!::write(STDOUT_FILENO, s.data(), s.size()); // one short write: lines never interleave
}

// The child: writes from four threads until killed, reporting each acknowledged revision.
int runWriterChild(const char *path)
{
    auto backend = SqliteBackend::open(path);
    if (!backend) {
        std::fprintf(stderr, "child: %s\n", backend.error().message().c_str());
        return 2;
    }
    auto snapshot = (*backend)->load();
    if (!snapshot) {
        std::fprintf(stderr, "child: %s\n", snapshot.error().message().c_str());
        return 3;
    }
    Revision next = snapshot->revision;
    writeLine("ready " + std::to_string(next));
    std::mutex order; // the store's write lock: appends in revision order
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30); // if the parent vanished
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
        writers.emplace_back([&] {
            while (std::chrono::steady_clock::now() < deadline) {
                Revision r;
                {
                    std::lock_guard g(order);
                    r = ++next;
                    (*backend)->append(killRecord(r));
                }
                auto durable = (*backend)->waitDurable(r);
                if (!durable) {
                    std::fprintf(stderr, "child: %s\n", durable.error().message().c_str());
                    std::_Exit(4);
                }
                writeLine("ack " + std::to_string(r));
            }
        });
    }
    for (auto &w : writers)
        w.join();
    return 0;
}

} // namespace

class TestSqliteBackend : public QObject
{
    Q_OBJECT

    std::string tempPath(const QTemporaryDir &dir, const char *name = "store.db")
    {
        return dir.filePath(QString::fromUtf8(name)).toStdString();
    }

private slots:
    void roundTrip_data()
    {
        QTest::addColumn<int>("count");
        QTest::addColumn<int>("valueSize");
        QTest::addColumn<int>("distinctKeys");
        QTest::newRow("one record") << 1 << 100 << 1;
        QTest::newRow("5000 distinct keys") << 5000 << 300 << 5000;
        QTest::newRow("3000 updates of 37 keys") << 3000 << 200 << 37;
        QTest::newRow("1 MiB values") << 20 << (1 << 20) << 20;
    }
    void roundTrip()
    {
        QFETCH(int, count);
        QFETCH(int, valueSize);
        QFETCH(int, distinctKeys);
        QTemporaryDir dir;
        auto path = tempPath(dir);
        State expected;
        {
            auto backend = SqliteBackend::open(path);
            QVERIFY2(backend.ok(), backend.ok() ? "" : backend.error().message().c_str());
            auto empty = (*backend)->load();
            QVERIFY(empty.ok());
            QCOMPARE(empty->revision, Revision(0));
            QVERIFY(empty->objects.empty());
            for (int i = 1; i <= count; ++i) {
                int k = i % distinctKeys;
                // Cluster-scoped keys (empty namespace) too.
                ObjectKey key = k % 3 ? ObjectKey{"configmaps", "ns-" + std::to_string(k % 5), "cm-" + std::to_string(k)}
                                      : ObjectKey{"nodes", "", "node-" + std::to_string(k)};
                Record r{key, i, valueFor(i, valueSize)};
                applyRecord(expected, r);
                (*backend)->append(std::move(r));
            }
            auto durable = (*backend)->waitDurable(count);
            QVERIFY(durable.ok());
            QCOMPARE((*backend)->batchStats().durable, Revision(count));
            QCOMPARE((*backend)->batchStats().records, uint64_t(count));
            (*backend)->close();
        }
        auto reopened = SqliteBackend::open(path);
        QVERIFY(reopened.ok());
        auto snapshot = (*reopened)->load();
        QVERIFY(snapshot.ok());
        QCOMPARE(snapshot->revision, Revision(count));
        QCOMPARE(snapshot->objects.size(), expected.size());
        QVERIFY(stateOf(*snapshot) == expected);
    }

    void deletesAndRevisionContinuity_data()
    {
        // "+a": write key a; "-a": delete key a. The first half runs in one session, the rest
        // after reopening, continuing from the loaded revision.
        QTest::addColumn<QStringList>("ops");
        QTest::addColumn<QStringList>("live");
        QTest::newRow("delete the last write") << QStringList{"+a", "+b", "-b"} << QStringList{"a"};
        QTest::newRow("delete a missing key") << QStringList{"+a", "-zzz"} << QStringList{"a"};
        QTest::newRow("delete everything") << QStringList{"+a", "+b", "-a", "-b"} << QStringList{};
        QTest::newRow("recreate after delete") << QStringList{"+a", "-a", "+a", "+b"} << QStringList{"a", "b"};
        QTest::newRow("only deletes") << QStringList{"-a", "-b", "-c"} << QStringList{};
        QTest::newRow("write, delete, write across sessions")
            << QStringList{"+a", "+b", "+c", "-a", "-b", "+a", "-c", "-a"} << QStringList{};
    }
    void deletesAndRevisionContinuity()
    {
        QFETCH(QStringList, ops);
        QFETCH(QStringList, live);
        for (bool waitEach : {true, false}) { // separate batches, or (mostly) one batch
            QTemporaryDir dir;
            auto path = tempPath(dir);
            State expected;
            Revision rev = 0;
            const int half = int(ops.size()) / 2;
            for (auto [from, to] : {std::pair{0, half}, std::pair{half, int(ops.size())}}) {
                auto backend = SqliteBackend::open(path);
                QVERIFY(backend.ok());
                auto snapshot = (*backend)->load();
                QVERIFY(snapshot.ok());
                QCOMPARE(snapshot->revision, rev); // deletes advanced it too
                QVERIFY(stateOf(*snapshot) == expected);
                for (int i = from; i < to; ++i) {
                    std::string op = ops[i].toStdString();
                    Record r{ObjectKey{"pods", "default", op.substr(1)}, ++rev,
                             op[0] == '+' ? valueFor(rev, 64) : std::string()};
                    applyRecord(expected, r);
                    (*backend)->append(std::move(r));
                    if (waitEach)
                        QVERIFY((*backend)->waitDurable(rev).ok());
                }
                QVERIFY((*backend)->waitDurable(rev).ok());
            }
            auto backend = SqliteBackend::open(path);
            QVERIFY(backend.ok());
            auto snapshot = (*backend)->load();
            QVERIFY(snapshot.ok());
            QCOMPARE(snapshot->revision, Revision(ops.size()));
            QStringList names;
            for (const auto &r : snapshot->objects)
                names << QString::fromStdString(r.key.name);
            names.sort();
            QCOMPARE(names, live);
            QVERIFY(stateOf(*snapshot) == expected); // row revisions: each key's last write
        }
    }

    void refusesForeignOrNewerSchema_data()
    {
        QTest::addColumn<QString>("sql");
        QTest::addColumn<QStringList>("fragments");
        QTest::newRow("schema version 2") << "PRAGMA user_version=2"
                                          << QStringList{"schema version 2", "versions up to 1", "move the file away"};
        QTest::newRow("schema version 99") << "PRAGMA user_version=99"
                                           << QStringList{"schema version 99", "versions up to 1", "newer Podscape"};
        QTest::newRow("store tables missing") << "DROP TABLE meta" << QStringList{"damaged", "Move it away"};
    }
    void refusesForeignOrNewerSchema()
    {
        QFETCH(QString, sql);
        QFETCH(QStringList, fragments);
        QTemporaryDir dir;
        auto path = tempPath(dir);
        {
            auto backend = SqliteBackend::open(path);
            QVERIFY(backend.ok());
            (*backend)->append({keyOf("pods/default/kept"), 1, valueFor(1, 100)});
            QVERIFY((*backend)->waitDurable(1).ok());
        }
        QVERIFY(sqlOnFile(path, sql.toStdString()));
        const std::string before = readFile(path);

        auto refused = SqliteBackend::open(path);
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().reason(), Reason::InternalError);
        const QString message = QString::fromStdString(refused.error().message());
        qInfo("%s", qPrintable(message));
        QVERIFY2(message.contains(QString::fromStdString(path)), qPrintable(message));
        for (const auto &f : fragments)
            QVERIFY2(message.contains(f), qPrintable(message));
        QVERIFY(readFile(path) == before); // a refused file is left as it was
    }

    void refusesForeignDatabase()
    {
        QTemporaryDir dir;
        auto path = tempPath(dir, "other.db");
        QVERIFY(sqlOnFile(path, "CREATE TABLE accounts(name TEXT); INSERT INTO accounts VALUES ('x')"));
        auto refused = SqliteBackend::open(path);
        QVERIFY(!refused.ok());
        QVERIFY2(refused.error().message().find("not a Podscape store") != std::string::npos,
                 refused.error().message().c_str());
        QVERIFY(sqlOnFile(path, "SELECT * FROM accounts")); // untouched
    }

    void refusesCorruptFile_data()
    {
        QTest::addColumn<QString>("damage");
        QTest::newRow("text") << "text";
        QTest::newRow("random bytes") << "random";
        QTest::newRow("a few bytes") << "short";
        QTest::newRow("store with garbage pages") << "pages";
        QTest::newRow("store truncated") << "truncated";
        QTest::newRow("store with a damaged header") << "header";
    }
    void refusesCorruptFile()
    {
        QFETCH(QString, damage);
        QTemporaryDir dir;
        auto path = tempPath(dir);
        if (damage == "text") {
            std::string text;
            for (int i = 0; i < 200; ++i)
                text += "this is not a database, it is a shopping list\n";
            writeFile(path, text);
        } else if (damage == "random") {
            std::mt19937 rng(42);
            std::string bytes(64 * 1024, '\0');
            for (auto &c : bytes)
                c = char(rng());
            writeFile(path, bytes);
        } else if (damage == "short") {
            writeFile(path, "PK\x03\x04zip?");
        } else {
            {
                auto backend = SqliteBackend::open(path);
                QVERIFY(backend.ok());
                for (int i = 1; i <= 300; ++i)
                    (*backend)->append({keyOf("pods/default/p" + std::to_string(i)), i, valueFor(i, 500)});
                QVERIFY((*backend)->waitDurable(300).ok());
            }
            std::string bytes = readFile(path);
            QVERIFY(bytes.size() > 16 * 4096);
            if (damage == "pages")
                std::fill(bytes.begin() + 4096, bytes.end(), char(0xa5));
            else if (damage == "truncated")
                bytes.resize(5000);
            else
                std::fill(bytes.begin(), bytes.begin() + 100, 'X');
            writeFile(path, bytes);
        }

        // Open or load fails (some damage is only found when the rows are read); never a crash.
        auto backend = SqliteBackend::open(path);
        Error error;
        if (backend.ok()) {
            auto snapshot = (*backend)->load();
            QVERIFY2(!snapshot.ok(), "damaged file loaded without an error");
            error = snapshot.error();
        } else {
            error = backend.error();
        }
        QCOMPARE(error.reason(), Reason::InternalError);
        const QString message = QString::fromStdString(error.message());
        qInfo("%s", qPrintable(message));
        QVERIFY2(message.contains(QString::fromStdString(path)), qPrintable(message));
        QVERIFY2(message.contains("move", Qt::CaseInsensitive), qPrintable(message));
    }

    void filesArePrivate_data()
    {
        QTest::addColumn<int>("umaskBits");
        QTest::addColumn<int>("existingMode"); // -1: no file yet
        QTest::addColumn<QString>("relative");
        QTest::newRow("new file, umask 022") << 022 << -1 << "store.db";
        QTest::newRow("new file, umask 000") << 0 << -1 << "store.db";
        QTest::newRow("existing file 0644") << 022 << 0644 << "store.db";
        QTest::newRow("nested folders") << 022 << -1 << "a/b/c/store.db";
    }
    void filesArePrivate()
    {
        QFETCH(int, umaskBits);
        QFETCH(int, existingMode);
        QFETCH(QString, relative);
        QTemporaryDir dir;
        auto path = dir.filePath(relative).toStdString();
        if (existingMode >= 0) {
            writeFile(path, "");
            QVERIFY(::chmod(path.c_str(), mode_t(existingMode)) == 0);
        }
        mode_t old = ::umask(mode_t(umaskBits));
        auto backend = SqliteBackend::open(path);
        ::umask(old);
        QVERIFY2(backend.ok(), backend.ok() ? "" : backend.error().message().c_str());
        (*backend)->append({keyOf("secrets/default/token"), 1, R"({"data":{"token":"c2VjcmV0"}})"});
        QVERIFY((*backend)->waitDurable(1).ok());
        QCOMPARE(mode(path), std::string("0600"));
        QCOMPARE(mode(path + "-wal"), std::string("0600")); // the WAL holds the same secrets
        if (relative.contains('/')) {
            QCOMPARE(mode(dir.filePath("a").toStdString()), std::string("0700"));
            QCOMPARE(mode(dir.filePath("a/b/c").toStdString()), std::string("0700"));
        }
    }

    void secondOpenIsRefused_data()
    {
        QTest::addColumn<bool>("existing");
        QTest::newRow("new store") << false;
        QTest::newRow("existing store, nothing written yet") << true;
    }
    void secondOpenIsRefused()
    {
        QFETCH(bool, existing);
        QTemporaryDir dir;
        auto path = tempPath(dir);
        if (existing) {
            auto earlier = SqliteBackend::open(path);
            QVERIFY(earlier.ok());
            (*earlier)->append({keyOf("pods/default/p"), 1, valueFor(1, 10)});
        }
        auto first = SqliteBackend::open(path);
        QVERIFY(first.ok());
        QVERIFY((*first)->load().ok());
        SqliteBackendOptions quick;
        quick.busyTimeoutMs = 50;
        auto second = SqliteBackend::open(path, quick);
        QVERIFY(!second.ok());
        QVERIFY2(second.error().message().find("in use by another process") != std::string::npos,
                 second.error().message().c_str());
        (*first)->close();
        auto third = SqliteBackend::open(path, quick);
        QVERIFY(third.ok());
    }

    void groupCommit_data()
    {
        QTest::addColumn<int>("writers");
        QTest::addColumn<int>("perWriter");
        QTest::addColumn<double>("maxCommitsPerRecord");
        QTest::newRow("1 writer: one commit per write") << 1 << 200 << 1.0;
        QTest::newRow("8 writers x 250") << 8 << 250 << 0.5;
        QTest::newRow("64 writers x 40") << 64 << 40 << 0.25;
    }
    void groupCommit()
    {
        QFETCH(int, writers);
        QFETCH(int, perWriter);
        QFETCH(double, maxCommitsPerRecord);
        QTemporaryDir dir;
        auto path = tempPath(dir);
        auto opened = SqliteBackend::open(path);
        QVERIFY(opened.ok());
        SqliteBackend &backend = **opened;
        QVERIFY(backend.load().ok());

        std::mutex callbackMutex;
        std::vector<Revision> reported;
        backend.setDurableCallback([&](Revision r) {
            std::lock_guard g(callbackMutex);
            reported.push_back(r);
        });

        std::mutex order;
        Revision next = 0;
        std::atomic<int> failures{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < writers; ++t) {
            threads.emplace_back([&] {
                for (int i = 0; i < perWriter; ++i) {
                    Revision r;
                    {
                        std::lock_guard g(order);
                        r = ++next;
                        backend.append({ObjectKey{"configmaps", "default", "cm-" + std::to_string(r)}, r, valueFor(r, 1024)});
                    }
                    if (!backend.waitDurable(r).ok())
                        ++failures;
                }
            });
        }
        for (auto &t : threads)
            t.join();
        const int records = writers * perWriter;
        QCOMPARE(failures.load(), 0);
        auto stats = backend.batchStats();
        qInfo("%d writers: %d records in %llu commits (largest batch %zu)", writers, records,
              static_cast<unsigned long long>(stats.commits), stats.largestBatch);
        QCOMPARE(stats.records, uint64_t(records));
        QCOMPARE(stats.durable, Revision(records));
        QVERIFY2(double(stats.commits) <= maxCommitsPerRecord * records,
                 qPrintable(QString("%1 commits for %2 records").arg(stats.commits).arg(records)));
        // The callback runs after the waiters are woken: only once the committer is joined
        // have they all been called.
        backend.close();
        {
            std::lock_guard g(callbackMutex);
            QCOMPARE(reported.size(), size_t(stats.commits));
            QVERIFY(std::is_sorted(reported.begin(), reported.end()));
            QCOMPARE(std::set<Revision>(reported.begin(), reported.end()).size(), reported.size());
            QCOMPARE(reported.back(), Revision(records));
        }
        auto reopened = SqliteBackend::open(path);
        QVERIFY(reopened.ok());
        auto snapshot = (*reopened)->load();
        QVERIFY(snapshot.ok());
        QCOMPARE(snapshot->objects.size(), size_t(records));
    }

    void appendsDuringACommitFormOneBatch()
    {
        QTemporaryDir dir;
        auto opened = SqliteBackend::open(tempPath(dir));
        QVERIFY(opened.ok());
        for (Revision r = 1; r <= 2000; ++r)
            (*opened)->append({ObjectKey{"configmaps", "default", "cm-" + std::to_string(r)}, r, valueFor(r, 200)});
        QVERIFY((*opened)->waitDurable(2000).ok());
        // The committer takes whatever is queued: the first commit may hold a few records, the
        // next everything appended meanwhile.
        QVERIFY2((*opened)->commitCount() <= 20, qPrintable(QString::number((*opened)->commitCount())));
    }

    void waitersProvideBackPressure()
    {
        QTemporaryDir dir;
        SqliteBackendOptions options;
        options.maxPendingRecords = 10;
        auto opened = SqliteBackend::open(tempPath(dir), options);
        QVERIFY(opened.ok());
        for (Revision r = 1; r <= 3000; ++r)
            (*opened)->append({ObjectKey{"configmaps", "default", "cm-" + std::to_string(r)}, r, valueFor(r, 100)});
        // Revision 1 is soon durable, but the wait also holds until the queue is back under
        // its bound; nothing is appended meanwhile, so the queue can only have shrunk since.
        QVERIFY((*opened)->waitDurable(1).ok());
        QVERIFY((*opened)->batchStats().pendingRecords <= 10);
    }

    void closeWritesWhatIsQueued()
    {
        QTemporaryDir dir;
        auto path = tempPath(dir);
        {
            auto opened = SqliteBackend::open(path);
            QVERIFY(opened.ok());
            for (Revision r = 1; r <= 500; ++r)
                (*opened)->append({ObjectKey{"configmaps", "default", "cm-" + std::to_string(r)}, r, valueFor(r, 100)});
            (*opened)->close();
            QVERIFY((*opened)->waitDurable(500).ok());
            auto never = (*opened)->waitDurable(501); // never appended: an error, not a hang
            QVERIFY(!never.ok());
            QVERIFY(never.error().message().find("not saved") != std::string::npos);
            (*opened)->append({keyOf("configmaps/default/late"), 501, valueFor(501, 10)}); // dropped
            QVERIFY(!(*opened)->waitDurable(501).ok());
        } // the destructor closes again: harmless
        auto reopened = SqliteBackend::open(path);
        QVERIFY(reopened.ok());
        auto snapshot = (*reopened)->load();
        QVERIFY(snapshot.ok());
        QCOMPARE(snapshot->revision, Revision(500));
        QCOMPARE(snapshot->objects.size(), size_t(500));
    }

    void commitFailureReachesEveryWaiter_data()
    {
        QTest::addColumn<int>("writers");
        QTest::addColumn<int>("valueSize");
        QTest::newRow("1 writer, 4 KiB values") << 1 << 4096;
        QTest::newRow("8 writers, 4 KiB values") << 8 << 4096;
        QTest::newRow("4 writers, 40 KiB values") << 4 << 40 * 1024;
    }
    void commitFailureReachesEveryWaiter()
    {
        QFETCH(int, writers);
        QFETCH(int, valueSize);
        QTemporaryDir dir;
        auto path = tempPath(dir);
        SqliteBackendOptions options;
        options.maxDatabaseBytes = 256 * 1024; // the "disk" fills up after a few dozen records
        auto opened = SqliteBackend::open(path, options);
        QVERIFY(opened.ok());
        SqliteBackend &backend = **opened;

        std::mutex order;
        Revision next = 0;
        std::mutex resultsMutex;
        std::map<Revision, std::string> acknowledged;
        std::vector<Error> errors;
        std::vector<std::thread> threads;
        for (int t = 0; t < writers; ++t) {
            threads.emplace_back([&] {
                for (int i = 0; i < 10'000; ++i) { // bounded: the limit is hit long before
                    Record rec;
                    {
                        std::lock_guard g(order);
                        Revision r = ++next;
                        rec = {ObjectKey{"configmaps", "default", "cm-" + std::to_string(r)}, r, valueFor(r, valueSize)};
                        backend.append(rec);
                    }
                    auto durable = backend.waitDurable(rec.revision);
                    std::lock_guard g(resultsMutex);
                    if (durable.ok()) {
                        acknowledged[rec.revision] = rec.value;
                    } else {
                        errors.push_back(durable.error());
                        return; // every writer ends here: none hangs, none succeeds after
                    }
                }
            });
        }
        for (auto &t : threads)
            t.join();

        QCOMPARE(int(errors.size()), writers);
        for (const auto &e : errors) {
            QCOMPARE(e.reason(), Reason::InternalError);
            QVERIFY2(e.message().find("the write was not saved") != std::string::npos, e.message().c_str());
            QVERIFY2(e.message().find(path) != std::string::npos, e.message().c_str());
            QVERIFY2(e.message().find("free disk space") != std::string::npos, e.message().c_str());
        }
        auto stats = backend.batchStats();
        QVERIFY(stats.failed);
        QVERIFY(!acknowledged.empty());
        QCOMPARE(acknowledged.rbegin()->first, stats.durable);
        // Sticky: a later write fails too, an earlier durable one still counts.
        backend.append({keyOf("configmaps/default/after"), next + 1, valueFor(next + 1, 10)});
        QVERIFY(!backend.waitDurable(next + 1).ok());
        QVERIFY(backend.waitDurable(stats.durable).ok());
        backend.close();

        // Reopened without the limit: exactly the acknowledged writes, nothing of the failed batch.
        auto reopened = SqliteBackend::open(path);
        QVERIFY(reopened.ok());
        auto snapshot = (*reopened)->load();
        QVERIFY(snapshot.ok());
        QCOMPARE(snapshot->revision, stats.durable);
        QCOMPARE(snapshot->objects.size(), acknowledged.size());
        for (const auto &r : snapshot->objects)
            QVERIFY(acknowledged.count(r.revision) && acknowledged[r.revision] == r.value);
    }

    void killedWriterLosesNothingAcknowledged()
    {
        QTemporaryDir dir;
        const auto path = tempPath(dir);
        const auto seed = std::random_device{}();
        qInfo("seed %u", seed);
        std::mt19937 rng(seed);
        std::uniform_int_distribution<int> delayMs(5, 200);

        Revision persisted = 0;
        long totalAcks = 0;
        for (int iteration = 0; iteration < 20; ++iteration) {
            QProcess child;
            child.setProgram(QCoreApplication::applicationFilePath());
            child.setArguments({"--writer-child", QString::fromStdString(path)});
            child.start();
            QVERIFY(child.waitForStarted(10'000));
            QByteArray out;
            while (!out.contains('\n')) {
                QVERIFY2(child.waitForReadyRead(10'000), child.readAllStandardError().constData());
                out += child.readAllStandardOutput();
            }
            // The child continues the sequence from what the previous one left.
            QCOMPARE(out.left(out.indexOf('\n')), "ready " + QByteArray::number(qint64(persisted)));
            // Odd iterations count the delay from the first acknowledgement, so that even on a
            // slow machine half the kills land in the middle of the writing; even ones from
            // "ready", so that some land in the first commits after a recovery.
            while (iteration % 2 && out.count('\n') < 2) {
                QVERIFY2(child.waitForReadyRead(10'000), child.readAllStandardError().constData());
                out += child.readAllStandardOutput();
            }

            std::this_thread::sleep_for(std::chrono::milliseconds(delayMs(rng))); // the random instant
            child.kill();
            QVERIFY(child.waitForFinished(10'000));
            out += child.readAllStandardOutput();
            QVERIFY2(child.exitStatus() == QProcess::CrashExit, child.readAllStandardError().constData());

            Revision lastAck = 0;
            const auto lines = out.split('\n');
            for (qsizetype i = 1; i + 1 < lines.size(); ++i) { // the last piece may be a cut line
                QVERIFY2(lines[i].startsWith("ack "), lines[i].constData());
                lastAck = std::max(lastAck, Revision(lines[i].mid(4).toLongLong()));
                ++totalAcks;
            }

            auto opened = SqliteBackend::open(path);
            QVERIFY2(opened.ok(), opened.ok() ? "" : opened.error().message().c_str());
            auto snapshot = (*opened)->load();
            QVERIFY(snapshot.ok());
            QVERIFY2(snapshot->revision >= lastAck,
                     qPrintable(QString("revision %1, acknowledged %2").arg(snapshot->revision).arg(lastAck)));
            QVERIFY(snapshot->revision >= persisted);
            // The file holds exactly the state after some prefix 1..R of the sequence: every
            // batch whole or absent, every acknowledged revision (all <= R) in it.
            State expected;
            for (Revision r = 1; r <= snapshot->revision; ++r)
                applyRecord(expected, killRecord(r));
            QVERIFY2(stateOf(*snapshot) == expected, qPrintable(QString("iteration %1").arg(iteration)));
            for (const auto &r : snapshot->objects)
                QVERIFY(!json::parse(r.value, nullptr, false).is_discarded());
            persisted = snapshot->revision;
        }
        qInfo("%ld acknowledged writes over 20 kills; final revision %lld", totalAcks, static_cast<long long>(persisted));
        QVERIFY(totalAcks >= 10);
    }
};

int main(int argc, char **argv)
{
    // The kill test runs this executable again as the writer it kills.
    if (argc >= 3 && std::strcmp(argv[1], "--writer-child") == 0)
        return runWriterChild(argv[2]);
    QCoreApplication app(argc, argv);
    TestSqliteBackend test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_sqlitebackend.moc"
