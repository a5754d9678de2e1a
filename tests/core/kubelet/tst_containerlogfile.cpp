#include "core/base/timeformat.h"
#include "core/kubelet/runtime/containerlogfile.h"

#include <QTemporaryDir>
#include <QtTest>

#include <condition_variable>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

using namespace podscape::core;
using namespace podscape::core::kubelet::runtime;
using namespace std::chrono_literals;

namespace {

const TimePoint t0 = TimePoint(std::chrono::seconds(1'700'000'000));

std::string slurp(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void spit(const std::string &path, const std::string &data)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
}

std::vector<std::string> split(const std::string &text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        out.push_back(line);
    return out;
}

std::string ts(TimePoint t) { return formatRfc3339Nano(t); }

QStringList texts(const std::vector<LogLine> &lines)
{
    QStringList out;
    for (const auto &l : lines)
        out << QString::fromStdString(l.text);
    return out;
}

// Lines "line 00042": the tests check order, gaps and duplicates by their numbers.
std::string numbered(int i)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "line %05d", i);
    return buf;
}

int numberOf(const LogLine &line) { return std::atoi(line.text.c_str() + 5); }

long rssKb()
{
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::atol(line.c_str() + 6);
    return 0;
}

std::shared_ptr<ContainerLogFile> make(const std::string &path, ContainerLogFileOptions options = {})
{
    auto log = ContainerLogFile::create(path, options);
    if (!log) {
        qWarning("%s", log.error().toString().c_str());
        return nullptr;
    }
    return *log;
}

// Reads a follower until it ends, on the real clock, within a deadline.
std::vector<LogLine> drain(LogStream &stream, std::chrono::seconds limit = 60s)
{
    std::vector<LogLine> out;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        auto chunk = stream.read(1s);
        for (auto &l : chunk.lines)
            out.push_back(std::move(l));
        if (chunk.ended)
            break;
    }
    return out;
}

} // namespace

class TestContainerLogFile : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string file(const char *name) { return m_dir.filePath(name).toStdString(); }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void recordFormat()
    {
        const std::string path = file("format.log");
        auto log = make(path);
        QVERIFY(log);
        const TimePoint t = t0 + 123456789ns;
        QCOMPARE(ts(t), std::string("2023-11-14T22:13:20.123456789Z"));
        log->append(false, "hello world\n", t);
        log->append(true, "oops\r\n", t + 1s);
        log->append(false, "\n", t + 2s);
        QCOMPARE(slurp(path), ts(t) + " stdout F hello world\n" + ts(t + 1s) + " stderr F oops\n" + ts(t + 2s)
                                  + " stdout F \n");
        struct stat st {};
        QCOMPARE(::stat(path.c_str(), &st), 0);
        QCOMPARE(int(st.st_mode & 0777 & ~0640), 0); // at most rw-r-----
        QVERIFY(st.st_mode & S_IWUSR);

        auto lines = *log->read({});
        QCOMPARE(texts(lines), QStringList({"hello world", "oops", ""}));
        QVERIFY(lines[0].time == t && !lines[0].stderrStream);
        QVERIFY(lines[1].time == t + 1s && lines[1].stderrStream);
    }

    void invalidOptions()
    {
        ContainerLogFileOptions o;
        o.maxFiles = 0;
        auto r = ContainerLogFile::create(file("invalid.log"), o);
        QVERIFY(!r);
        QCOMPARE(r.error().reason(), Reason::Invalid);
        o = {};
        o.maxLineBytes = 2 * kMaxJoinedLogLineBytes;
        QVERIFY(!ContainerLogFile::create(file("invalid.log"), o));
        auto noDir = ContainerLogFile::create(file("no/such/dir/0.log"));
        QVERIFY(!noDir);
        QVERIFY(QString::fromStdString(noDir.error().message()).contains("no/such/dir/0.log"));
    }

    void partialLines()
    {
        const std::string path = file("partial.log");
        auto log = make(path);
        QVERIFY(log);
        log->append(false, "abc", t0);
        QCOMPARE(slurp(path), std::string()); // kept until its newline
        QCOMPARE(log->pendingBytes(), size_t(3));
        QVERIFY(log->read({})->empty());

        log->flush(t0 + 1s);
        QCOMPARE(slurp(path), ts(t0 + 1s) + " stdout P abc\n");
        QCOMPARE(texts(*log->read({})), QStringList({"abc"})); // an open line shows as it is

        log->append(false, "def\nxy", t0 + 2s);
        log->append(false, "z\r", t0 + 3s);
        log->flush(t0 + 3s); // the '\r' may belong to "\r\n": it stays
        log->append(false, "\n", t0 + 4s);
        auto lines = *log->read({});
        QCOMPARE(texts(lines), QStringList({"abcdef", "xyz"}));
        QVERIFY(lines[0].time == t0 + 2s); // a joined line carries its last record's time
        QVERIFY(lines[1].time == t0 + 4s);

        // close() completes what is pending, and ends a line whose start was flushed.
        log->append(true, "err-open", t0 + 5s);
        log->flush(t0 + 5s);
        log->append(false, "last words", t0 + 6s);
        log->close(t0 + 7s);
        QVERIFY(log->closed());
        const auto records = split(slurp(path));
        QCOMPARE(records.back(), ts(t0 + 7s) + " stderr F ");
        QCOMPARE(records[records.size() - 2], ts(t0 + 7s) + " stdout F last words");
        QCOMPARE(texts(*log->read({})), QStringList({"abcdef", "xyz", "last words", "err-open"}));

        log->append(false, "after close\n", t0 + 8s); // dropped and counted
        QCOMPARE(log->droppedRecords(), uint64_t(1));
        QCOMPARE(log->read({})->size(), size_t(4));
    }

    void longLinesSplit_data()
    {
        QTest::addColumn<int>("length");
        QTest::addColumn<int>("piece"); // bytes per append() call
        for (int length : {0, 1, 9, 10, 11, 25, 100})
            for (int piece : {1, 3, 1000})
                QTest::addRow("%d bytes in %d-byte appends", length, piece) << length << piece;
    }

    void longLinesSplit()
    {
        QFETCH(int, length);
        QFETCH(int, piece);
        const std::string path = file("split.log");
        ContainerLogFileOptions o;
        o.maxLineBytes = 10;
        auto log = make(path, o);
        QVERIFY(log);
        std::string line;
        for (int i = 0; i < length; ++i)
            line += char('a' + i % 26);
        const std::string bytes = line + "\n";
        for (size_t at = 0; at < bytes.size(); at += size_t(piece))
            log->append(false, std::string_view(bytes).substr(at, size_t(piece)), t0);
        QVERIFY(log->pendingBytes() == 0);

        const auto records = split(slurp(path));
        const int expected = std::max(1, (length + 9) / 10);
        QCOMPARE(int(records.size()), expected);
        for (int i = 0; i < expected; ++i) {
            const bool last = i == expected - 1;
            const std::string text = line.substr(size_t(i) * 10, 10);
            QCOMPARE(records[size_t(i)], ts(t0) + (last ? " stdout F " : " stdout P ") + text);
        }
        QCOMPARE(texts(*log->read({})), QStringList({QString::fromStdString(line)}));
    }

    void crlfAcrossSplit()
    {
        ContainerLogFileOptions o;
        o.maxLineBytes = 4;
        auto log = make(file("crlf.log"), o);
        QVERIFY(log);
        log->append(false, "abc\r", t0); // exactly maxLineBytes with the '\r'
        log->append(false, "\n", t0);
        log->append(false, "abcdefg\r\n", t0);
        QCOMPARE(texts(*log->read({})), QStringList({"abc", "abcdefg"}));
        for (const auto &r : split(slurp(log->path())))
            QVERIFY(r.find('\r') == std::string::npos);
    }

    void streamsJoinSeparately()
    {
        auto log = make(file("streams.log"));
        QVERIFY(log);
        log->append(false, "out-start ", t0);
        log->flush(t0);
        log->append(true, "err-start ", t0 + 1s);
        log->flush(t0 + 1s);
        log->append(true, "err-end\n", t0 + 2s);
        log->append(false, "out-end\n", t0 + 3s);
        auto lines = *log->read({});
        QCOMPARE(texts(lines), QStringList({"err-start err-end", "out-start out-end"}));
        QVERIFY(lines[0].stderrStream && !lines[1].stderrStream);

        LogOptions tail1;
        tail1.tailLines = 1;
        QCOMPARE(texts(*log->read(tail1)), QStringList({"out-start out-end"}));
        LogOptions tail2;
        tail2.tailLines = 2;
        QCOMPARE(texts(*log->read(tail2)), QStringList({"err-start err-end", "out-start out-end"}));
    }

    void monotonicTimes()
    {
        auto log = make(file("clock.log"));
        QVERIFY(log);
        log->append(false, "first\n", t0 + 10s);
        log->append(false, "clock stepped back\n", t0);
        auto lines = *log->read({});
        QCOMPARE(lines.size(), size_t(2));
        QVERIFY(lines[1].time == t0 + 10s);
    }

    // read() against applyLogOptions over the whole log: the same answer, for a log with both
    // streams, lines split into P records, lines joined across the other stream's lines,
    // equal times, and (rotate) spread over many files.
    void filtersMatchApplyLogOptions_data()
    {
        QTest::addColumn<int>("tail");  // -1: none
        QTest::addColumn<int>("since"); // index of the line whose time is `since`; -1: none; 1000: after all
        QTest::addColumn<int>("limit"); // -1: none
        QTest::addColumn<bool>("timestamps");
        QTest::addColumn<bool>("rotate");
        for (bool rotate : {false, true}) {
            const char *r = rotate ? " rotated" : "";
            QTest::addRow("all%s", r) << -1 << -1 << -1 << false << rotate;
            for (int tail : {0, 1, 2, 5, 37, 359, 360, 1000})
                QTest::addRow("tail %d%s", tail, r) << tail << -1 << -1 << false << rotate;
            for (int since : {0, 1, 2, 100, 359, 1000})
                QTest::addRow("since %d%s", since, r) << -1 << since << -1 << false << rotate;
            QTest::addRow("since + tail%s", r) << 10 << 300 << -1 << false << rotate;
            QTest::addRow("since > tail%s", r) << 100 << 300 << -1 << false << rotate;
            for (int limit : {0, 1, 20, 31, 32, 1000, 100000})
                for (bool stamps : {false, true})
                    QTest::addRow("limit %d%s%s", limit, stamps ? " ts" : "", r) << -1 << -1 << limit << stamps << rotate;
            QTest::addRow("tail + limit%s", r) << 20 << -1 << 100 << true << rotate;
            QTest::addRow("since + limit%s", r) << -1 << 200 << 300 << false << rotate;
        }
    }

    void filtersMatchApplyLogOptions()
    {
        QFETCH(int, tail);
        QFETCH(int, since);
        QFETCH(int, limit);
        QFETCH(bool, timestamps);
        QFETCH(bool, rotate);
        const std::string path = file(rotate ? "filters-rotated.log" : "filters.log");
        ContainerLogFileOptions o;
        o.maxLineBytes = 16;
        if (rotate) {
            o.maxFileBytes = 700;
            o.maxFiles = 1000;
        }
        auto log = make(path, o);
        QVERIFY(log);
        std::vector<LogLine> expected;
        for (int i = 0; i < 300; ++i) {
            const TimePoint t = t0 + std::chrono::seconds(i / 2); // pairs of equal times
            const std::string n = std::to_string(i);
            switch (i % 5) {
            case 0:
                log->append(false, "line " + n + "\n", t);
                expected.push_back({t, false, "line " + n});
                break;
            case 1: { // three records
                const std::string text = "a long error line number " + n + "!";
                log->append(true, text + "\n", t);
                expected.push_back({t, true, text});
                break;
            }
            case 2: // a stdout line around a whole stderr line
                log->append(false, "part " + n + "-", t);
                log->flush(t);
                log->append(true, "err " + n + "\n", t);
                log->append(false, "rest\n", t);
                expected.push_back({t, true, "err " + n});
                expected.push_back({t, false, "part " + n + "-rest"});
                break;
            case 3:
                log->append(false, "crlf " + n + "\r\n", t);
                expected.push_back({t, false, "crlf " + n});
                break;
            case 4:
                log->append(true, "\n", t);
                expected.push_back({t, true, ""});
                break;
            }
        }
        QCOMPARE(expected.size(), size_t(360));
        if (rotate)
            QVERIFY(log->rotations() > 20);

        LogOptions options;
        if (tail >= 0)
            options.tailLines = tail;
        if (since >= 0)
            options.since = since < int(expected.size()) ? expected[size_t(since)].time : t0 + 1h;
        if (limit >= 0)
            options.limitBytes = limit;
        options.timestamps = timestamps;
        const auto want = applyLogOptions(expected, options);
        auto check = [&](const std::vector<LogLine> &got) {
            QCOMPARE(texts(got), texts(want));
            for (size_t i = 0; i < got.size(); ++i) {
                QVERIFY(got[i].time == want[i].time);
                QCOMPARE(got[i].stderrStream, want[i].stderrStream);
            }
        };
        LogFileReadStats stats;
        auto got = log->read(options, stats);
        QVERIFY(got);
        check(*got);
        QCOMPARE(stats.malformedRecords, uint64_t(0));
        QCOMPARE(stats.truncatedRecords, uint64_t(0));
        auto fromDisk = readContainerLogFile(path, options);
        QVERIFY(fromDisk);
        check(*fromDisk);

        // A follower starts with the same lines.
        FakeClock clock;
        auto follower = log->follow(options, clock);
        std::vector<LogLine> followed;
        for (int i = 0; i < 100; ++i) {
            auto chunk = follower->read(0s);
            if (chunk.lines.empty())
                break;
            for (auto &l : chunk.lines)
                followed.push_back(l);
        }
        check(followed);
    }

    void rotationKeepsMaxFiles()
    {
        const std::string path = file("rotate.log");
        ContainerLogFileOptions o;
        o.maxFileBytes = 1024;
        o.maxFiles = 3;
        // Rotated files of an earlier writer of this path are not this instance's past.
        spit(path + ".1", ts(t0) + " stdout F stale\n");
        auto log = make(path, o);
        QVERIFY(log);
        QVERIFY(!QFile::exists(QString::fromStdString(path + ".1")));
        for (int i = 0; i < 500; ++i)
            log->append(false, numbered(i) + "\n", t0 + std::chrono::seconds(i));
        QVERIFY(log->rotations() > 10);
        for (const char *suffix : {"", ".1", ".2"}) {
            const QFileInfo info(QString::fromStdString(path + suffix));
            QVERIFY2(info.exists(), suffix);
            QVERIFY(info.size() <= 1024);
            QVERIFY(info.size() > 900);
        }
        QVERIFY(!QFile::exists(QString::fromStdString(path + ".3")));

        auto lines = *log->read({});
        QVERIFY(lines.size() > 50 && lines.size() < 100); // three files of ~1 KiB
        for (size_t i = 0; i < lines.size(); ++i)
            QCOMPARE(numberOf(lines[i]), int(500 - lines.size() + i));

        LogOptions tail;
        tail.tailLines = 50; // more than one file holds
        auto last = *log->read(tail);
        QCOMPARE(last.size(), size_t(50));
        QCOMPARE(numberOf(last.front()), 450);
        QCOMPARE(numberOf(last.back()), 499);

        LogOptions since;
        since.since = t0 + 480s;
        auto recent = *log->read(since);
        QCOMPARE(recent.size(), size_t(20));
        QCOMPARE(numberOf(recent.front()), 480);

        // After an engine restart: the files alone give the same answer.
        log->close(t0 + 600s);
        log.reset();
        QCOMPARE(texts(*readContainerLogFile(path, {})), texts(lines));
        QCOMPARE(texts(*readContainerLogFile(path, tail)), texts(last));
    }

    void singleFileRotation()
    {
        ContainerLogFileOptions o;
        o.maxFileBytes = 200;
        o.maxFiles = 1;
        auto log = make(file("single.log"), o);
        QVERIFY(log);
        for (int i = 0; i < 20; ++i)
            log->append(false, numbered(i) + "\n", t0);
        QVERIFY(!QFile::exists(QString::fromStdString(log->path() + ".1")));
        auto lines = *log->read({});
        QVERIFY(!lines.empty());
        QCOMPARE(numberOf(lines.back()), 19);
    }

    void followExistingThenNewThenEnded()
    {
        FakeClock clock;
        auto log = make(file("follow.log"));
        QVERIFY(log);
        for (int i = 0; i < 3; ++i)
            log->append(false, numbered(i) + "\n", t0);
        auto follower = log->follow({}, clock);
        auto chunk = follower->read(0s);
        QCOMPARE(texts(chunk.lines), QStringList({"line 00000", "line 00001", "line 00002"}));
        QVERIFY(!chunk.ended);
        chunk = follower->read(0s);
        QVERIFY(chunk.lines.empty() && !chunk.ended);

        log->append(true, numbered(3) + "\n" + numbered(4) + "\n", t0 + 1s);
        chunk = follower->read(0s);
        QCOMPARE(texts(chunk.lines), QStringList({"line 00003", "line 00004"}));

        // A partial line is held until it completes...
        log->append(false, "half", t0 + 2s);
        log->flush(t0 + 2s);
        chunk = follower->read(0s);
        QVERIFY(chunk.lines.empty() && !chunk.ended);
        // ...or the instance ends.
        log->close(t0 + 3s);
        chunk = follower->read(0s);
        QCOMPARE(texts(chunk.lines), QStringList({"half"}));
        QVERIFY(chunk.ended);
        chunk = follower->read(0s);
        QVERIFY(chunk.lines.empty() && chunk.ended);

        // A follower of a closed log reads it all, then ends.
        LogOptions tail;
        tail.tailLines = 2;
        auto late = log->follow(tail, clock);
        chunk = late->read(0s);
        QCOMPARE(texts(chunk.lines), QStringList({"line 00004", "half"}));
        QVERIFY(chunk.ended);
    }

    void followWakesAndTimesOut()
    {
        FakeClock clock;
        auto log = make(file("wake.log"));
        QVERIFY(log);
        auto follower = log->follow({}, clock);
        QVERIFY(follower->read(0s).lines.empty());

        // Woken by an append, not by time.
        auto pending = std::async(std::launch::async, [&] { return follower->read(1h); });
        QTRY_COMPARE_WITH_TIMEOUT(clock.waiters(), 1, 10000);
        log->append(false, "wake up\n", t0);
        QCOMPARE(pending.wait_for(10s), std::future_status::ready);
        QCOMPARE(texts(pending.get().lines), QStringList({"wake up"}));

        // The timeout runs on the given clock.
        pending = std::async(std::launch::async, [&] { return follower->read(5s); });
        QTRY_COMPARE_WITH_TIMEOUT(clock.waiters(), 1, 10000);
        clock.advance(5s);
        QCOMPARE(pending.wait_for(10s), std::future_status::ready);
        auto timedOut = pending.get();
        QVERIFY(timedOut.lines.empty() && !timedOut.ended);

        // close() ends a read in progress and every later one.
        pending = std::async(std::launch::async, [&] { return follower->read(1h); });
        QTRY_COMPARE_WITH_TIMEOUT(clock.waiters(), 1, 10000);
        follower->close();
        QCOMPARE(pending.wait_for(10s), std::future_status::ready);
        QVERIFY(pending.get().ended);
        log->append(false, "too late\n", t0);
        auto after = follower->read(0s);
        QVERIFY(after.ended && after.lines.empty());
    }

    void followLimitBytesEndsStream()
    {
        FakeClock clock;
        auto log = make(file("followlimit.log"));
        QVERIFY(log);
        log->append(false, "0123456789\n", t0); // 11 bytes with the newline
        LogOptions o;
        o.limitBytes = 15;
        auto follower = log->follow(o, clock);
        auto chunk = follower->read(0s);
        QCOMPARE(texts(chunk.lines), QStringList({"0123456789"}));
        QVERIFY(!chunk.ended);
        log->append(false, "abcdefgh\n", t0);
        chunk = follower->read(0s);
        QCOMPARE(texts(chunk.lines), QStringList({"abcd"}));
        QVERIFY(chunk.ended);
    }

    // 20,000 lines through files of 2 KiB while a follower reads on another thread: every
    // line once, in order. The writer stays within the files kept of the follower (as a
    // test's pacing, not a sleep), so nothing may be missed.
    void followAcrossRotation()
    {
        ContainerLogFileOptions o;
        o.maxFileBytes = 2048;
        o.maxFiles = 4;
        auto log = make(file("followrotate.log"), o);
        QVERIFY(log);
        constexpr int total = 20000;
        std::mutex mutex;
        std::condition_variable cv;
        int consumed = 0;
        bool writerStuck = false;
        std::thread writer([&] {
            for (int i = 0; i < total; ++i) {
                if (i % 7 == 0) { // some lines arrive in two pieces
                    log->append(false, "line ", t0 + std::chrono::milliseconds(i));
                    log->append(false, numbered(i).substr(5) + "\n", t0 + std::chrono::milliseconds(i));
                } else {
                    log->append(i % 3 == 0, numbered(i) + "\n", t0 + std::chrono::milliseconds(i));
                }
                std::unique_lock lock(mutex);
                if (!cv.wait_for(lock, 30s, [&] { return i - consumed < 60; })) {
                    writerStuck = true;
                    break;
                }
            }
            log->close(t0 + 1h);
        });
        auto follower = log->follow({}, Clock::system());
        std::vector<LogLine> lines;
        const auto deadline = std::chrono::steady_clock::now() + 120s;
        while (std::chrono::steady_clock::now() < deadline) {
            auto chunk = follower->read(1s);
            for (auto &l : chunk.lines)
                lines.push_back(std::move(l));
            {
                std::lock_guard g(mutex);
                consumed = int(lines.size());
            }
            cv.notify_all();
            if (chunk.ended)
                break;
        }
        writer.join();
        QVERIFY(!writerStuck);
        QVERIFY(log->rotations() > 300);
        QCOMPARE(int(lines.size()), total);
        for (int i = 0; i < total; ++i)
            QCOMPARE(numberOf(lines[size_t(i)]), i);
        auto *concrete = dynamic_cast<ContainerLogFollower *>(follower.get());
        QVERIFY(concrete);
        QCOMPARE(concrete->missedFiles(), uint64_t(0));
        QCOMPARE(concrete->malformedRecords(), uint64_t(0));
    }

    // A tail on a log spread over files, followed while it keeps rotating, with lines whose
    // P and F records land in different files: the tail's lines, then every new one, once.
    void followTailWhileRotating()
    {
        ContainerLogFileOptions o;
        o.maxFileBytes = 1024;
        o.maxFiles = 4;
        auto log = make(file("followtail.log"), o);
        QVERIFY(log);
        int next = 0;
        auto write = [&](int count) {
            for (int end = next + count; next < end; ++next) {
                const TimePoint t = t0 + std::chrono::milliseconds(next);
                if (next % 10 == 0) {
                    log->append(true, "line ", t);
                    log->flush(t);
                    log->append(true, numbered(next).substr(5) + "\n", t);
                } else {
                    log->append(false, numbered(next) + "\n", t);
                }
            }
        };
        write(1000);
        FakeClock clock;
        LogOptions tail;
        tail.tailLines = 10;
        auto follower = log->follow(tail, clock);
        std::vector<LogLine> lines;
        for (int round = 0; round < 100; ++round) {
            for (auto chunk = follower->read(0s); !chunk.lines.empty(); chunk = follower->read(0s))
                lines.insert(lines.end(), chunk.lines.begin(), chunk.lines.end());
            write(50);
        }
        log->close(t0 + 1h);
        auto rest = drain(*follower);
        lines.insert(lines.end(), rest.begin(), rest.end());
        QVERIFY(log->rotations() > 100);
        QCOMPARE(int(lines.size()), next - 990);
        for (size_t i = 0; i < lines.size(); ++i) {
            QCOMPARE(numberOf(lines[i]), int(990 + i));
            QCOMPARE(lines[i].stderrStream, numberOf(lines[i]) % 10 == 0);
        }
        QCOMPARE(dynamic_cast<ContainerLogFollower &>(*follower).missedFiles(), uint64_t(0));
    }

    // A follower that falls behind by more than the files kept skips what was removed, but
    // never repeats or reorders a line.
    void followFallingBehind()
    {
        ContainerLogFileOptions o;
        o.maxFileBytes = 2048;
        o.maxFiles = 3;
        auto log = make(file("behind.log"), o);
        QVERIFY(log);
        FakeClock clock;
        auto follower = log->follow({}, clock);
        for (int i = 0; i < 100; ++i)
            log->append(false, numbered(i) + "\n", t0);
        auto first = follower->read(0s); // starts reading the first file
        QVERIFY(!first.lines.empty());
        for (int i = 100; i < 5000; ++i)
            log->append(false, numbered(i) + "\n", t0);
        log->close(t0);
        auto rest = drain(*follower);
        std::vector<LogLine> lines = first.lines;
        lines.insert(lines.end(), rest.begin(), rest.end());
        QCOMPARE(numberOf(lines.back()), 4999);
        for (size_t i = 1; i < lines.size(); ++i)
            QVERIFY(numberOf(lines[i]) > numberOf(lines[i - 1]));
        QVERIFY(dynamic_cast<ContainerLogFollower &>(*follower).missedFiles() > 0);
    }

    // A file cut anywhere in its last record (the writer was killed): never a crash; a whole
    // header keeps the record's text as far as it goes, a cut header drops the record.
    void truncatedLastRecord()
    {
        const std::string path = file("cut.log");
        const std::string good = ts(t0) + " stdout F one\n" + ts(t0 + 1s) + " stderr F two\n";
        const std::string header = ts(t0 + 2s) + " stdout F ";
        const std::string last = header + "partial text";
        for (size_t cut = 1; cut < last.size(); ++cut) {
            spit(path, good + last.substr(0, cut));
            LogFileReadStats stats;
            auto lines = readContainerLogFile(path, {}, stats);
            QVERIFY(lines);
            QVERIFY(lines->size() >= 2);
            QCOMPARE(texts(*lines).mid(0, 2), QStringList({"one", "two"}));
            if (cut >= header.size() - 1) { // "... stdout F" is a whole header
                QCOMPARE(lines->size(), size_t(3));
                QCOMPARE(lines->back().text, last.substr(header.size(), cut - std::min(cut, header.size())));
                QCOMPARE(stats.truncatedRecords, uint64_t(1));
                LogOptions tail;
                tail.tailLines = 1;
                QCOMPARE(readContainerLogFile(path, tail)->back().text, lines->back().text);
            } else {
                QCOMPARE(lines->size(), size_t(2));
                QCOMPARE(stats.malformedRecords, uint64_t(1));
            }
        }
    }

    void malformedRecordsSkipped()
    {
        const std::string path = file("malformed.log");
        const std::string huge(kMaxJoinedLogLineBytes + 1000, 'x');
        spit(path, ts(t0) + " stdout F one\n" + "garbage\n" + ts(t0) + " stdnot F bad stream\n" + ts(t0)
                       + " stdout X bad tag\n" + "2023-13-45T99:99:99Z stdout F bad time\n" + ts(t0) + " stdout F "
                       + huge + "\n" + ts(t0 + 1s) + " stderr F two\n" + "\n");
        LogFileReadStats stats;
        auto lines = readContainerLogFile(path, {}, stats);
        QVERIFY(lines);
        QCOMPARE(texts(*lines).join('|').left(200), QString("one|two"));
        QCOMPARE(stats.malformedRecords, uint64_t(6));
        LogOptions tail;
        tail.tailLines = 1;
        QCOMPARE(texts(*readContainerLogFile(path, tail)), QStringList({"two"}));
        tail.tailLines = 2; // the skipped records are not counted from the end either
        QCOMPARE(texts(*readContainerLogFile(path, tail)), QStringList({"one", "two"}));
    }

    void missingFile()
    {
        auto r = readContainerLogFile(file("never-written.log"), {});
        QVERIFY(!r);
        QCOMPARE(r.error().reason(), Reason::NotFound);
        QVERIFY(QString::fromStdString(r.error().message()).contains("never-written.log"));
    }

    // A full disk: writes fail, lines are counted as dropped, nothing throws or crashes.
    void writeErrorsCounted()
    {
        const std::string path = file("full.log");
        QCOMPARE(::symlink("/dev/full", path.c_str()), 0);
        auto log = make(path);
        QVERIFY(log);
        for (int i = 0; i < 10; ++i)
            log->append(false, numbered(i) + "\n", t0);
        log->append(false, "x", t0);
        log->close(t0);
        QCOMPARE(log->droppedRecords(), uint64_t(11));
        QVERIFY(log->writeErrors() >= 1);
        QVERIFY(log->read({})->empty());
    }

    // 100 MB appended while a follower never reads: the writer holds nothing for it and the
    // follower holds nothing until it reads; then it reads in bounded chunks.
    void idleFollowerBoundedMemory()
    {
        ContainerLogFileOptions o;
        o.maxFileBytes = 10 * 1024 * 1024;
        o.maxFiles = 2;
        auto log = make(file("memory.log"), o);
        QVERIFY(log);
        FakeClock clock;
        auto stream = log->follow({}, clock);
        auto &follower = dynamic_cast<ContainerLogFollower &>(*stream);

        std::string chunk;
        int next = 0;
        while (chunk.size() < 64 * 1024)
            chunk += numbered(next++) + std::string(89, '.') + "\n"; // 100-byte lines
        const long rssBefore = rssKb();
        size_t written = 0;
        size_t maxPending = 0;
        while (written < 100u * 1024 * 1024) {
            log->append(false, chunk, t0);
            written += chunk.size();
            maxPending = std::max(maxPending, log->pendingBytes());
        }
        const long growthKb = rssKb() - rssBefore;
        qInfo("RSS growth while appending 100 MB: %ld kB", growthKb);
        QVERIFY(growthKb < 16 * 1024);
        QVERIFY(maxPending <= 2 * (o.maxLineBytes + 1));
        QVERIFY(follower.bufferedBytes() < 1024); // nothing but empty strings

        // It reads what is on disk now, at most ~1 MiB per read().
        log->close(t0);
        size_t lines = 0;
        size_t maxBuffered = 0;
        while (true) {
            auto c = follower.read(0s);
            size_t bytes = 0;
            for (const auto &l : c.lines)
                bytes += l.text.size();
            QVERIFY(bytes <= 1024 * 1024 + 100);
            QVERIFY(c.lines.size() <= 4096);
            lines += c.lines.size();
            maxBuffered = std::max(maxBuffered, follower.bufferedBytes());
            if (c.ended)
                break;
            QVERIFY(!c.lines.empty());
        }
        QVERIFY(maxBuffered <= 3 * 1024 * 1024);
        // What the two files kept hold: one full file of 10 MiB of 140-byte records and the current one.
        qInfo("follower read %zu lines", lines);
        QVERIFY(lines > 74000 && lines <= 2 * 74899);
    }
};

QTEST_GUILESS_MAIN(TestContainerLogFile)
#include "tst_containerlogfile.moc"
