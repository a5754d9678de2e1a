// podscape-image, the programs the process runtime runs for well-known images: each is started
// as a real process on an unusual loopback address (POD_IP) and spoken to over TCP.
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

namespace {

const QString kImage = QStringLiteral(PODSCAPE_IMAGE);
// The test client binds this address, so that the programs' logs must show it.
const QString kClientIp = QStringLiteral("127.77.41.99");
constexpr int kDeadlineMs = 10000;

QString hostName()
{
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    return QString::fromLocal8Bit(name);
}

struct Reply {
    int status = 0;
    QByteArray head;
    QByteArray body;
    bool ok() const { return status != 0; }
};

// Sends `raw` from kClientIp over a plain socket and reads until the server closes (requests
// say Connection: close) or the deadline passes.
Reply exchange(const QString &ip, int port, const QByteArray &raw)
{
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return {};
    std::unique_ptr<int, void (*)(int *)> closer(&fd, [](int *f) { ::close(*f); });
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, qPrintable(kClientIp), &local.sin_addr);
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(uint16_t(port));
    if (inet_pton(AF_INET, qPrintable(ip), &remote.sin_addr) != 1
        || ::bind(fd, reinterpret_cast<sockaddr *>(&local), sizeof local) != 0
        || ::connect(fd, reinterpret_cast<sockaddr *>(&remote), sizeof remote) != 0)
        return {};
    if (::send(fd, raw.constData(), size_t(raw.size()), MSG_NOSIGNAL) != raw.size())
        return {};
    QByteArray data;
    QDeadlineTimer deadline(kDeadlineMs);
    while (!deadline.hasExpired() && data.size() < 1024 * 1024) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, int(std::max<qint64>(1, deadline.remainingTime()))) <= 0)
            continue;
        char chunk[4096];
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
            break; // closed: the reply is complete
        data.append(chunk, n);
    }
    Reply reply;
    int end = data.indexOf("\r\n\r\n");
    if (!data.startsWith("HTTP/1.") || end < 0)
        return reply;
    reply.head = data.left(end);
    reply.body = data.mid(end + 4);
    reply.status = data.mid(9, 3).toInt();
    return reply;
}

Reply get(const QString &ip, int port, const QByteArray &path)
{
    return exchange(ip, port, "GET " + path + " HTTP/1.1\r\nHost: " + ip.toLatin1() + ":" + QByteArray::number(port)
                                  + "\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\nConnection: close\r\n\r\n");
}

// One podscape-image process with POD_IP set, its stdout and stderr collected apart.
class Program
{
public:
    Program(const QString &podIp, const QStringList &args, const QString &wrapper = {}, const QStringList &wrapperArgs = {})
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("POD_IP", podIp);
        env.remove("ECHO_TEXT");
        m_process.setProcessEnvironment(env);
        if (wrapper.isEmpty())
            m_process.start(kImage, args);
        else
            m_process.start(wrapper, wrapperArgs + QStringList{kImage} + args);
    }
    ~Program()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(kDeadlineMs);
        }
    }

    QProcess &process() { return m_process; }

    // True once stdout holds `text` (whole output so far, not only new lines).
    bool waitForOutput(const QString &text)
    {
        QDeadlineTimer deadline(kDeadlineMs);
        for (;;) {
            m_out += m_process.readAllStandardOutput();
            if (QString::fromUtf8(m_out).contains(text))
                return true;
            if (deadline.hasExpired() || m_process.state() == QProcess::NotRunning)
                return false;
            m_process.waitForReadyRead(int(std::max<qint64>(1, deadline.remainingTime())));
        }
    }
    bool waitForExit()
    {
        bool done = m_process.waitForFinished(kDeadlineMs);
        m_out += m_process.readAllStandardOutput();
        m_err += m_process.readAllStandardError();
        return done;
    }
    QStringList lines() const { return QString::fromUtf8(m_out).split('\n', Qt::SkipEmptyParts); }
    QString out() const { return QString::fromUtf8(m_out); }
    QString err() const { return QString::fromUtf8(m_err); }

private:
    QProcess m_process;
    QByteArray m_out, m_err;
};

// A program that is expected to exit at once; returns {exit code, stdout, stderr}.
struct Finished {
    int code = -1;
    QString out, err;
};
Finished runToEnd(const QString &podIp, const QStringList &args, const QString &wrapper = {},
                  const QStringList &wrapperArgs = {})
{
    Program program(podIp, args, wrapper, wrapperArgs);
    if (!program.waitForExit())
        return {};
    return {program.process().exitStatus() == QProcess::NormalExit ? program.process().exitCode() : -1,
            program.out(), program.err()};
}

} // namespace

class TestPodscapeImage : public QObject
{
    Q_OBJECT

private slots:
    void listAndUsage()
    {
        Finished list = runToEnd("127.77.41.1", {"--list"});
        QCOMPARE(list.code, 0);
        QCOMPARE(list.out, QStringLiteral("kubia\nweb\nhttp-echo\n"));

        Finished unknown = runToEnd("127.77.41.1", {"redis"});
        QCOMPARE(unknown.code, 2);
        QVERIFY2(unknown.err.contains("unknown program \"redis\"") && unknown.err.contains("usage:"),
                 qPrintable(unknown.err));

        Finished badFlag = runToEnd("127.77.41.1", {"kubia", "--version", "v9"});
        QCOMPARE(badFlag.code, 2);
        QVERIFY2(badFlag.err.contains("v9"), qPrintable(badFlag.err));
    }

    void kubiaAnswersWithHostname()
    {
        Program kubia("127.77.41.2", {"kubia"});
        QVERIFY2(kubia.waitForOutput("Kubia server starting..."), qPrintable(kubia.out()));
        Reply reply = get("127.77.41.2", 8080, "/any/path");
        QCOMPARE(reply.status, 200);
        QCOMPARE(QString::fromUtf8(reply.body), "You've hit " + hostName() + "\n");
        QVERIFY2(kubia.waitForOutput("Received request from ::ffff:" + kClientIp + "\n"), qPrintable(kubia.out()));
        QCOMPARE(kubia.lines().first(), QStringLiteral("Kubia server starting..."));

        // Keep-alive: two requests on one connection get two answers.
        QByteArray two = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        Reply both = exchange("127.77.41.2", 8080, two);
        QCOMPARE(both.status, 200);
        QCOMPARE(both.body.count("You've hit "), 2);
        QVERIFY(kubia.waitForOutput(QString("Received request from ::ffff:%1\n").repeated(3).arg(kClientIp)));

        // No SIGTERM handler, on purpose: the signal's default action ends it.
        kubia.process().terminate();
        QVERIFY(kubia.waitForExit());
        QCOMPARE(kubia.process().exitStatus(), QProcess::CrashExit);
    }

    void kubiaVersions_data()
    {
        QTest::addColumn<QString>("version");
        QTest::addColumn<QString>("okBody");  // %1 is the hostname
        QTest::addColumn<QString>("badBody"); // the 6th reply; empty when it is still 200
        QTest::newRow("v2") << "v2" << "This is v2 running in pod %1\n" << "";
        QTest::newRow("v3") << "v3" << "This is v3 running in pod %1\n"
                            << "Some internal error has occurred! This is pod %1\n";
        QTest::newRow("unhealthy") << "unhealthy" << "You've hit %1\n" << "I'm not well. Please restart me!\n";
    }
    void kubiaVersions()
    {
        QFETCH(QString, version);
        QFETCH(QString, okBody);
        QFETCH(QString, badBody);
        Program kubia("127.77.41.3", {"kubia", "--version", version});
        QVERIFY2(kubia.waitForOutput("Kubia server starting..."), qPrintable(kubia.out()));
        for (int i = 1; i <= 7; ++i) {
            Reply reply = get("127.77.41.3", 8080, "/");
            bool failing = i > 5 && !badBody.isEmpty();
            QCOMPARE(reply.status, failing ? 500 : 200);
            QCOMPARE(QString::fromUtf8(reply.body), QString(failing ? badBody : okBody).replace("%1", hostName()));
        }
        QVERIFY(kubia.waitForOutput(QString("Received request from ::ffff:%1\n").repeated(7).arg(kClientIp)));
    }

    void kubiaInstancesShareAPortOnDifferentIps()
    {
        Program a("127.77.41.4", {"kubia"});
        Program b("127.77.41.5", {"kubia", "--version", "v2"});
        QVERIFY2(a.waitForOutput("Kubia server starting..."), qPrintable(a.err()));
        QVERIFY2(b.waitForOutput("Kubia server starting..."), qPrintable(b.err()));
        QCOMPARE(get("127.77.41.4", 8080, "/").body, ("You've hit " + hostName() + "\n").toUtf8());
        QCOMPARE(get("127.77.41.5", 8080, "/").body, ("This is v2 running in pod " + hostName() + "\n").toUtf8());
    }

    void bindConflictIsClear()
    {
        Program first("127.77.41.6", {"kubia"});
        QVERIFY(first.waitForOutput("Kubia server starting..."));
        Finished second = runToEnd("127.77.41.6", {"kubia"});
        QCOMPARE(second.code, 1);
        QVERIFY2(second.err.contains("bind 127.77.41.6:8080: address already in use"), qPrintable(second.err));
        QVERIFY(!second.out.contains("Kubia server starting..."));

        Finished notHere = runToEnd("10.254.253.252", {"web", "--port", "18080"});
        QCOMPARE(notHere.code, 1);
        QVERIFY2(notHere.err.contains("10.254.253.252:18080") && notHere.err.contains("not an address of this host"),
                 qPrintable(notHere.err));

        Finished garbage = runToEnd("not-an-ip", {"http-echo", "-text=x"});
        QCOMPARE(garbage.code, 1);
        QVERIFY2(garbage.err.contains("not an IP address"), qPrintable(garbage.err));
    }

    void privilegedPortNamesTheFix()
    {
        QFile start("/proc/sys/net/ipv4/ip_unprivileged_port_start");
        if (!start.open(QIODevice::ReadOnly) || start.readAll().trimmed().toInt() <= 80)
            QSKIP("ports below 1024 are not privileged on this host");
        QString wrapper;
        QStringList wrapperArgs;
        if (geteuid() == 0) { // drop root (and with it CAP_NET_BIND_SERVICE) for this one run
            wrapper = QStandardPaths::findExecutable("setpriv");
            if (wrapper.isEmpty())
                QSKIP("running as root without setpriv to drop privilege");
            wrapperArgs = {"--reuid=65534", "--regid=65534", "--clear-groups"};
        }
        Finished web = runToEnd("127.77.41.7", {"web"}, wrapper, wrapperArgs);
        QCOMPARE(web.code, 1);
        QVERIFY2(web.err.contains("bind 127.77.41.7:80: permission denied"), qPrintable(web.err));
        QVERIFY2(web.err.contains("sysctl net.ipv4.ip_unprivileged_port_start=0"), qPrintable(web.err));
    }

    void webBuiltInPage()
    {
        Program web("127.77.41.8", {"web", "--port", "18080"});
        QVERIFY2(web.waitForOutput("start worker processes"), qPrintable(web.out()));
        QVERIFY(web.out().contains("/docker-entrypoint.sh: Configuration complete; ready for start up\n"));

        Reply page = get("127.77.41.8", 18080, "/");
        QCOMPARE(page.status, 200);
        QVERIFY(page.body.contains("<title>Welcome to nginx!</title>"));
        QVERIFY(page.body.contains("Podscape"));
        QVERIFY(page.head.contains("Content-Type: text/html"));

        Reply missing = get("127.77.41.8", 18080, "/nope");
        QCOMPARE(missing.status, 404);
        QVERIFY(missing.body.contains("<center><h1>404 Not Found</h1></center>"));

        // nginx's combined format, one line per request.
        QVERIFY(web.waitForOutput("\"GET /nope HTTP/1.1\" 404"));
        const QRegularExpression line(
            QString(R"(^%1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET / HTTP/1.1" 200 %2 "-" "curl/7.88.1"$)")
                .arg(QRegularExpression::escape(kClientIp))
                .arg(page.body.size()));
        QVERIFY2(web.lines().indexOf(line) >= 0, qPrintable(web.out()));
        QVERIFY2(web.out().contains(QString("\"GET /nope HTTP/1.1\" 404 %1 \"-\" \"curl/7.88.1\"\n").arg(missing.body.size())),
                 qPrintable(web.out()));
    }

    void webServesRoot()
    {
        QTemporaryDir outer;
        QVERIFY(outer.isValid());
        QDir dir(outer.path());
        QVERIFY(dir.mkpath("site/sub"));
        auto write = [](const QString &path, const QByteArray &data) {
            QFile f(path);
            return f.open(QIODevice::WriteOnly) && f.write(data) == data.size();
        };
        QVERIFY(write(dir.filePath("secret.txt"), "top secret\n"));
        QVERIFY(write(dir.filePath("site/hello.txt"), "hello from the root\n"));
        QVERIFY(write(dir.filePath("site/index.html"), "<p>root index</p>\n"));
        QVERIFY(write(dir.filePath("site/sub/index.html"), "<p>sub index</p>\n"));
        QVERIFY(QFile::link(dir.filePath("secret.txt"), dir.filePath("site/link.txt")));

        Program web("127.77.41.9", {"web", "--port", "18081", "--root", dir.filePath("site")});
        QVERIFY2(web.waitForOutput("start worker processes"), qPrintable(web.err()));

        Reply file = get("127.77.41.9", 18081, "/hello.txt");
        QCOMPARE(file.status, 200);
        QCOMPARE(file.body, QByteArray("hello from the root\n"));
        QVERIFY(file.head.contains("Content-Type: text/plain"));
        QCOMPARE(get("127.77.41.9", 18081, "/").body, QByteArray("<p>root index</p>\n"));
        QCOMPARE(get("127.77.41.9", 18081, "/sub/").body, QByteArray("<p>sub index</p>\n"));
        Reply redirect = get("127.77.41.9", 18081, "/sub");
        QCOMPARE(redirect.status, 301);
        QVERIFY(redirect.head.contains("Location: /sub/"));
        QCOMPARE(get("127.77.41.9", 18081, "/missing.txt").status, 404);

        // Nothing above the root: not by "..", not encoded, not through a symlink.
        for (const QByteArray &path : {QByteArray("/../secret.txt"), QByteArray("/sub/../../secret.txt"),
                                       QByteArray("/%2e%2e/secret.txt"), QByteArray("/..")}) {
            Reply escape = get("127.77.41.9", 18081, path);
            QVERIFY2(escape.status == 400, path.constData());
            QVERIFY(!escape.body.contains("top secret"));
        }
        Reply link = get("127.77.41.9", 18081, "/link.txt");
        QCOMPARE(link.status, 404);
        QVERIFY(!link.body.contains("top secret"));
        QVERIFY(web.waitForOutput("\"GET /link.txt HTTP/1.1\" 404"));
    }

    void webBadRequests()
    {
        Program web("127.77.41.10", {"web", "--port", "18082"});
        QVERIFY(web.waitForOutput("start worker processes"));
        QCOMPARE(exchange("127.77.41.10", 18082, "NOT HTTP AT ALL\r\n\r\n").status, 400);
        QByteArray huge = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + QByteArray(20000, 'a') + "\r\n\r\n";
        QCOMPARE(exchange("127.77.41.10", 18082, huge).status, 413);
        QCOMPARE(exchange("127.77.41.10", 18082, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").status,
                 405);
        // Still serving afterwards.
        QCOMPARE(get("127.77.41.10", 18082, "/").status, 200);
    }

    void webStopsOnSignal_data()
    {
        QTest::addColumn<int>("signal");
        QTest::addColumn<QString>("notice");
        QTest::newRow("SIGTERM") << int(SIGTERM) << "signal 15 (SIGTERM) received, exiting";
        QTest::newRow("SIGQUIT") << int(SIGQUIT) << "signal 3 (SIGQUIT) received, shutting down";
    }
    void webStopsOnSignal()
    {
        QFETCH(int, signal);
        QFETCH(QString, notice);
        Program web("127.77.41.11", {"web", "--port", "18083"});
        QVERIFY(web.waitForOutput("start worker processes"));
        QCOMPARE(get("127.77.41.11", 18083, "/").status, 200);
        QCOMPARE(::kill(pid_t(web.process().processId()), signal), 0);
        QVERIFY(web.waitForExit());
        QCOMPARE(web.process().exitStatus(), QProcess::NormalExit);
        QCOMPARE(web.process().exitCode(), 0);
        QVERIFY2(web.out().contains(notice), qPrintable(web.out()));
    }

    void httpEcho_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("listening");
        QTest::newRow("equals") << QStringList{"-text=hello world"} << "hello world" << 200 << ":5678";
        QTest::newRow("separate") << QStringList{"-text", "hi", "-status-code", "503"} << "hi" << 503 << ":5678";
        QTest::newRow("listen") << QStringList{"-listen=0.0.0.0:5679", "--text=x", "-status-code=201"} << "x" << 201
                                << "0.0.0.0:5679";
    }
    void httpEcho()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, text);
        QFETCH(int, status);
        QFETCH(QString, listening);
        const int port = listening.section(':', -1).toInt();
        Program echo("127.77.41.12", QStringList{"http-echo"} + args);
        QVERIFY2(echo.waitForOutput("[INFO] server is listening on " + listening + "\n"), qPrintable(echo.err()));
        Reply reply = get("127.77.41.12", port, "/whatever?x=1");
        QCOMPARE(reply.status, status);
        QCOMPARE(QString::fromUtf8(reply.body), text + "\n");
        QVERIFY(echo.waitForOutput("curl/7.88.1"));
        const QRegularExpression line(QString(R"( 127\.77\.41\.12:%1 %2:\d+ "GET /whatever\?x=1 HTTP/1.1" %3 %4 "curl/7.88.1" [0-9.]+(ns|µs|ms|s)$)")
                                          .arg(port)
                                          .arg(QRegularExpression::escape(kClientIp))
                                          .arg(status)
                                          .arg(text.size() + 1));
        QVERIFY2(echo.lines().indexOf(QRegularExpression(".*" + line.pattern())) >= 0, qPrintable(echo.out()));

        Reply health = get("127.77.41.12", port, "/health");
        QCOMPARE(health.status, 200);
        QCOMPARE(health.body, QByteArray("{\"status\":\"ok\"}\n"));

        echo.process().terminate();
        QVERIFY(echo.waitForExit());
        QCOMPARE(echo.process().exitStatus(), QProcess::NormalExit);
        QCOMPARE(echo.process().exitCode(), 0);
    }

    void httpEchoMissingText()
    {
        Finished missing = runToEnd("127.77.41.13", {"http-echo"});
        QCOMPARE(missing.code, 127);
        QCOMPARE(missing.err, QStringLiteral("Error: missing -text option\n"));

        Finished unknown = runToEnd("127.77.41.13", {"http-echo", "-text=x", "-colour=red"});
        QCOMPARE(unknown.code, 2);
        QVERIFY2(unknown.err.contains("flag provided but not defined: -colour"), qPrintable(unknown.err));

        Finished badStatus = runToEnd("127.77.41.13", {"http-echo", "-text=x", "-status-code=abc"});
        QCOMPARE(badStatus.code, 2);
        QVERIFY2(badStatus.err.contains("-status-code"), qPrintable(badStatus.err));
    }
};

QTEST_GUILESS_MAIN(TestPodscapeImage)
#include "tst_podscapeimage.moc"
