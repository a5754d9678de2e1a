#include "core/base/clock.h"
#include "core/base/logger.h"
#include "core/base/timeformat.h"

#include <QtTest>

#include <thread>

using namespace podscape::core;
using namespace std::chrono_literals;

class TestClock : public QObject
{
    Q_OBJECT
private slots:
    void fakeClockReleasesWaiterOnAdvance()
    {
        FakeClock clock;
        std::mutex m;
        std::condition_variable cv;
        std::atomic<bool> done{false};
        const auto deadline = clock.now() + 30s;
        std::thread waiter([&] {
            std::unique_lock lock(m);
            bool woken = clock.waitUntil(lock, cv, deadline, [] { return false; });
            QVERIFY(!woken);
            done = true;
        });
        // Step time only once the waiter sleeps: no real sleeping in the test.
        while (clock.waiters() == 0)
            std::this_thread::yield();
        clock.advance(29s);
        QVERIFY(!done.load());
        clock.advance(1s);
        waiter.join();
        QVERIFY(done.load());
        QCOMPARE(clock.waiters(), 0);
    }

    void fakeClockWakePredicate()
    {
        FakeClock clock;
        std::mutex m;
        std::condition_variable cv;
        bool flag = false;
        std::thread waiter([&] {
            std::unique_lock lock(m);
            QVERIFY(clock.waitUntil(lock, cv, clock.now() + 1h, [&] { return flag; }));
        });
        while (clock.waiters() == 0)
            std::this_thread::yield();
        {
            std::lock_guard g(m);
            flag = true;
        }
        cv.notify_all();
        waiter.join();
    }

    void rfc3339_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("canonical");
        QTest::newRow("utc") << "2024-05-01T10:00:00Z" << "2024-05-01T10:00:00Z";
        QTest::newRow("fraction") << "2024-05-01T10:00:00.5Z" << "2024-05-01T10:00:00Z";
        QTest::newRow("offset") << "2024-05-01T12:30:00+02:30" << "2024-05-01T10:00:00Z";
        QTest::newRow("negative offset") << "2024-04-30T23:00:00-11:00" << "2024-05-01T10:00:00Z";
        QTest::newRow("leap day") << "2024-02-29T00:00:00Z" << "2024-02-29T00:00:00Z";
    }
    void rfc3339()
    {
        QFETCH(QString, text);
        QFETCH(QString, canonical);
        auto t = parseRfc3339(text.toStdString());
        QVERIFY2(t.ok(), t.ok() ? "" : t.error().message().c_str());
        QCOMPARE(QString::fromStdString(formatRfc3339(*t)), canonical);
    }

    void rfc3339Invalid_data()
    {
        QTest::addColumn<QString>("text");
        QTest::newRow("empty") << "";
        QTest::newRow("no zone") << "2024-05-01T10:00:00";
        QTest::newRow("bad month") << "2024-13-01T10:00:00Z";
        QTest::newRow("feb 30") << "2023-02-30T10:00:00Z";
        QTest::newRow("trailing") << "2024-05-01T10:00:00Zjunk";
        QTest::newRow("empty fraction") << "2024-05-01T10:00:00.Z";
    }
    void rfc3339Invalid()
    {
        QFETCH(QString, text);
        auto t = parseRfc3339(text.toStdString());
        QVERIFY(!t.ok());
        QCOMPARE(t.error().reason(), Reason::BadRequest);
    }

    void nanoRoundTrip()
    {
        auto t = parseRfc3339("2024-05-01T10:00:00.123456789Z");
        QVERIFY(t.ok());
        QCOMPARE(QString::fromStdString(formatRfc3339Nano(*t)), QStringLiteral("2024-05-01T10:00:00.123456789Z"));
        QCOMPARE(QString::fromStdString(formatRfc3339Micro(*t)), QStringLiteral("2024-05-01T10:00:00.123456Z"));
    }

    void age_data()
    {
        QTest::addColumn<qint64>("seconds");
        QTest::addColumn<QString>("age");
        QTest::newRow("0") << qint64(0) << "0s";
        QTest::newRow("119s") << qint64(119) << "119s";
        QTest::newRow("2m") << qint64(120) << "2m";
        QTest::newRow("2m5s") << qint64(125) << "2m5s";
        QTest::newRow("10m") << qint64(605) << "10m";
        QTest::newRow("3h") << qint64(3 * 3600) << "3h";
        QTest::newRow("3h10m") << qint64(3 * 3600 + 600) << "3h10m";
        QTest::newRow("20h") << qint64(20 * 3600 + 600) << "20h";
        QTest::newRow("3d4h") << qint64(76 * 3600) << "3d4h";
        QTest::newRow("30d") << qint64(30 * 86400) << "30d";
        QTest::newRow("3y") << qint64(3 * 365 * 86400) << "3y";
    }
    void age()
    {
        QFETCH(qint64, seconds);
        QFETCH(QString, age);
        QCOMPARE(QString::fromStdString(formatAge(std::chrono::seconds(seconds))), age);
    }

    void loggerLevelsAndSink()
    {
        std::vector<std::string> lines;
        auto old = Logger::instance().setSink(
            [&](LogLevel, std::string_view c, std::string_view m) { lines.push_back(std::string(c) + ":" + std::string(m)); });
        Logger::instance().setLevel(LogLevel::Warning);
        int evaluated = 0;
        PS_LOG(Info, "test") << "hidden " << ++evaluated;
        PS_LOG(Error, "test") << "shown " << 7;
        QCOMPARE(evaluated, 0); // disabled lines are not even built
        QCOMPARE(lines.size(), size_t(1));
        QCOMPARE(QString::fromStdString(lines[0]), QStringLiteral("test:shown 7"));
        LogLevel l;
        QVERIFY(parseLogLevel("WARN", l));
        QCOMPARE(l, LogLevel::Warning);
        QVERIFY(!parseLogLevel("loud", l));
        Logger::instance().setLevel(LogLevel::Info);
        Logger::instance().setSink(old);
    }
};

QTEST_GUILESS_MAIN(TestClock)
#include "tst_clock.moc"
