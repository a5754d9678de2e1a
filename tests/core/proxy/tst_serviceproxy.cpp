#include "core/proxy/serviceproxy.h"
#include "tcptestserver.h"

#include <QtTest>

#include <map>
#include <set>

using namespace podscape::core;
using namespace podscape::core::proxy;
using namespace podscape::test;
using nlohmann::json;

namespace {

// Ports offset by the process id, so that two runs of this test on one machine (several
// people build here) do not take each other's addresses.
uint16_t portBase() { return uint16_t(20000 + (::getpid() % 400) * 20); }
uint16_t backendPort(int i) { return uint16_t(portBase() + i); }
uint16_t nodePort() { return uint16_t(30000 + ::getpid() % 2700); }
// Cluster IPs likewise: 127.96.<by pid>.n.
std::string vip(int n) { return "127.96." + std::to_string(20 + ::getpid() % 200) + "." + std::to_string(n); }

json service(const std::string &name, const std::string &clusterIP, json ports, const std::string &type = "ClusterIP")
{
    return {{"apiVersion", "v1"},
            {"kind", "Service"},
            {"metadata", {{"name", name}, {"namespace", "default"}}},
            {"spec", {{"clusterIP", clusterIP}, {"type", type}, {"ports", std::move(ports)}}}};
}

json servicePort(const std::string &name, int port, const std::string &protocol = "TCP")
{
    json p = {{"port", port}, {"protocol", protocol}};
    if (!name.empty())
        p["name"] = name;
    return p;
}

json address(const std::string &ip) { return {{"ip", ip}}; }

json subset(std::vector<std::string> ready, std::vector<std::string> notReady, json ports)
{
    json s = {{"ports", std::move(ports)}};
    for (const auto &ip : ready)
        s["addresses"].push_back(address(ip));
    for (const auto &ip : notReady)
        s["notReadyAddresses"].push_back(address(ip));
    return s;
}

json endpointPort(const std::string &name, int port)
{
    json p = {{"port", port}, {"protocol", "TCP"}};
    if (!name.empty())
        p["name"] = name;
    return p;
}

json endpoints(const std::string &name, json subsets)
{
    return {{"apiVersion", "v1"},
            {"kind", "Endpoints"},
            {"metadata", {{"name", name}, {"namespace", "default"}}},
            {"subsets", std::move(subsets)}};
}

struct Fixture {
    store::Store store;
    controllers::SharedInformers informers{store, Clock::system()};
    ServiceProxy proxy;

    explicit Fixture(ServiceProxyOptions options = testOptions()) : proxy(informers, std::move(options))
    {
        informers.start();
        informers.waitForSync(std::chrono::seconds(5));
        auto started = proxy.start();
        if (!started)
            qFatal("proxy did not start: %s", started.error().toString().c_str());
    }
    ~Fixture()
    {
        proxy.stop();
        informers.stop();
    }
    static ServiceProxyOptions testOptions()
    {
        ServiceProxyOptions o;
        o.listenRetryInterval = std::chrono::milliseconds(50);
        return o;
    }

    void put(const std::string &resource, const json &object)
    {
        const std::string name = object["metadata"]["name"];
        if (store.get(resource, "default", name).ok())
            QVERIFY(store.update(resource, object).ok());
        else
            QVERIFY(store.create(resource, object).ok());
    }

    // The rule of a listen address, or a default one (listenAddress empty) when absent.
    ProxyRule rule(const std::string &listenAddress) const
    {
        for (const auto &r : proxy.rules())
            if (r.listenAddress == listenAddress)
                return r;
        return {};
    }
    // "ready endpoints / listening" of a listen address, for QTRY_COMPARE.
    QString state(const std::string &listenAddress) const
    {
        ProxyRule r = rule(listenAddress);
        if (r.listenAddress.empty())
            return "absent";
        return QString("%1/%2").arg(r.readyEndpoints).arg(r.listening ? "listening" : "closed");
    }
};

QString identity(const Reply &r)
{
    if (r.error)
        return QString("error:%1").arg(QString::fromLatin1(std::strerror(r.error)));
    return QString::fromStdString(r.data);
}

} // namespace

class TestServiceProxy : public QObject
{
    Q_OBJECT
private slots:
    void clusterIPRouting()
    {
        TcpTestServer b1("127.244.9.1", backendPort(0), TcpTestServer::Mode::Identity, "b1");
        QVERIFY2(b1.ok(), b1.error().c_str());
        Fixture f;
        f.put("services", service("web", vip(1), json::array({servicePort("", 8080)})));
        f.put("endpoints", endpoints("web", json::array({subset({"127.244.9.1"}, {}, json::array({endpointPort("", backendPort(0))}))})));
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(1) + ":8080"), QString("1/listening"), 5000);

        QCOMPARE(identity(fetch(vip(1), 8080)), QString("b1"));
        ProxyRule r = f.rule(vip(1) + ":8080");
        QCOMPARE(r.ns, std::string("default"));
        QCOMPARE(r.service, std::string("web"));
        QCOMPARE(r.kind, std::string("ClusterIP"));
        QCOMPARE(r.port, 8080);
        QCOMPARE(r.lastError, std::string());
        QTRY_COMPARE_WITH_TIMEOUT(f.rule(vip(1) + ":8080").connectionsActive, uint64_t(0), 5000);
        QCOMPARE(f.rule(vip(1) + ":8080").connectionsTotal, uint64_t(1));
    }

    void roundRobinOverReadyOnly()
    {
        std::vector<std::unique_ptr<TcpTestServer>> servers;
        for (int i = 1; i <= 4; ++i) {
            // .4 is running but not ready: it must never be chosen.
            servers.push_back(std::make_unique<TcpTestServer>("127.244.9." + std::to_string(i), backendPort(0),
                                                              TcpTestServer::Mode::Identity, "b" + std::to_string(i)));
            QVERIFY2(servers.back()->ok(), servers.back()->error().c_str());
        }
        Fixture f;
        f.put("services", service("rr", vip(2), json::array({servicePort("", 8080)})));
        f.put("endpoints", endpoints("rr", json::array({subset({"127.244.9.1", "127.244.9.2", "127.244.9.3"}, {"127.244.9.4"},
                                                               json::array({endpointPort("", backendPort(0))}))})));
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(2) + ":8080"), QString("3/listening"), 5000);

        std::map<QString, int> seen;
        for (int i = 0; i < 30; ++i)
            ++seen[identity(fetch(vip(2), 8080))];
        QCOMPARE(seen, (std::map<QString, int>{{"b1", 10}, {"b2", 10}, {"b3", 10}}));
        QCOMPARE(servers[3]->accepted(), 0);
    }

    void noReadyEndpointRefusesAtOnce()
    {
        TcpTestServer b1("127.244.9.1", backendPort(1), TcpTestServer::Mode::Identity, "b1");
        QVERIFY(b1.ok());
        Fixture f;
        f.put("services", service("empty", vip(3), json::array({servicePort("", 8080)})));
        f.put("endpoints", endpoints("empty", json::array({subset({}, {"127.244.9.1"}, json::array({endpointPort("", backendPort(1))}))})));
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(3) + ":8080"), QString("0/closed"), 5000);
        QCOMPARE(identity(fetch(vip(3), 8080)), QString("error:%1").arg(std::strerror(ECONNREFUSED)));
        QCOMPARE(f.rule(vip(3) + ":8080").lastError, std::string()); // no endpoint is not an error

        // The pod becomes ready: the next connection works.
        f.put("endpoints", endpoints("empty", json::array({subset({"127.244.9.1"}, {}, json::array({endpointPort("", backendPort(1))}))})));
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(3) + ":8080"), QString("1/listening"), 5000);
        QCOMPARE(identity(fetch(vip(3), 8080)), QString("b1"));

        // And refused again once it is gone.
        f.put("endpoints", endpoints("empty", json::array()));
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(3) + ":8080"), QString("0/closed"), 5000);
        QCOMPARE(identity(fetch(vip(3), 8080)), QString("error:%1").arg(std::strerror(ECONNREFUSED)));
    }

    void endpointRemovalTakesEffect()
    {
        TcpTestServer b1("127.244.9.1", backendPort(2), TcpTestServer::Mode::Identity, "b1");
        TcpTestServer b2("127.244.9.2", backendPort(2), TcpTestServer::Mode::Identity, "b2");
        QVERIFY(b1.ok() && b2.ok());
        Fixture f;
        const json ports = json::array({endpointPort("", backendPort(2))});
        f.put("services", service("rm", vip(4), json::array({servicePort("", 8080)})));
        f.put("endpoints", endpoints("rm", json::array({subset({"127.244.9.1", "127.244.9.2"}, {}, ports)})));
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(4) + ":8080"), QString("2/listening"), 5000);
        std::set<QString> before;
        for (int i = 0; i < 4; ++i)
            before.insert(identity(fetch(vip(4), 8080)));
        QCOMPARE(before, (std::set<QString>{"b1", "b2"}));

        f.put("endpoints", endpoints("rm", json::array({subset({"127.244.9.1"}, {"127.244.9.2"}, ports)})));
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(4) + ":8080"), QString("1/listening"), 5000);
        const int b2Before = b2.accepted();
        for (int i = 0; i < 6; ++i)
            QCOMPARE(identity(fetch(vip(4), 8080)), QString("b1"));
        QCOMPARE(b2.accepted(), b2Before);
    }

    void nodePortOnNodeAddress()
    {
        TcpTestServer b1("127.244.9.1", backendPort(3), TcpTestServer::Mode::Identity, "b1");
        QVERIFY(b1.ok());
        Fixture f;
        json p = servicePort("", 8080);
        p["nodePort"] = nodePort();
        f.put("services", service("np", vip(5), json::array({p}), "NodePort"));
        f.put("endpoints", endpoints("np", json::array({subset({"127.244.9.1"}, {}, json::array({endpointPort("", backendPort(3))}))})));
        const std::string nodeAddress = "127.0.0.1:" + std::to_string(nodePort());
        QTRY_COMPARE_WITH_TIMEOUT(f.state(nodeAddress), QString("1/listening"), 5000);
        QCOMPARE(f.rule(nodeAddress).kind, std::string("NodePort"));
        QCOMPARE(identity(fetch("127.0.0.1", nodePort())), QString("b1"));
        QCOMPARE(identity(fetch(vip(5), 8080)), QString("b1"));
        QCOMPARE(f.proxy.rules().size(), size_t(2));
    }

    void clientIPAffinitySticks()
    {
        std::vector<std::unique_ptr<TcpTestServer>> servers;
        for (int i = 1; i <= 3; ++i)
            servers.push_back(std::make_unique<TcpTestServer>("127.244.9." + std::to_string(i), backendPort(4),
                                                              TcpTestServer::Mode::Identity, "b" + std::to_string(i)));
        Fixture f;
        json s = service("sticky", vip(6), json::array({servicePort("", 8080)}));
        s["spec"]["sessionAffinity"] = "ClientIP";
        s["spec"]["sessionAffinityConfig"] = {{"clientIP", {{"timeoutSeconds", 600}}}};
        f.put("services", s);
        const json ports = json::array({endpointPort("", backendPort(4))});
        f.put("endpoints", endpoints("sticky", json::array({subset({"127.244.9.1", "127.244.9.2", "127.244.9.3"}, {}, ports)})));
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(6) + ":8080"), QString("3/listening"), 5000);
        QVERIFY(f.rule(vip(6) + ":8080").clientIPAffinity);

        const QString first5 = identity(fetch(vip(6), 8080, "127.0.0.5"));
        const QString first6 = identity(fetch(vip(6), 8080, "127.0.0.6"));
        QVERIFY(first5.startsWith("b"));
        QVERIFY(first6.startsWith("b"));
        QVERIFY(first5 != first6); // the second client was given the next backend
        for (int i = 0; i < 5; ++i) {
            QCOMPARE(identity(fetch(vip(6), 8080, "127.0.0.5")), first5);
            QCOMPARE(identity(fetch(vip(6), 8080, "127.0.0.6")), first6);
        }

        // The sticky backend of .5 stops being ready: .5 moves on, .6 stays where it was.
        std::vector<std::string> ready;
        for (int i = 1; i <= 3; ++i)
            if ("b" + std::to_string(i) != first5.toStdString())
                ready.push_back("127.244.9." + std::to_string(i));
        f.put("endpoints", endpoints("sticky", json::array({subset(ready, {}, ports)})));
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(6) + ":8080"), QString("2/listening"), 5000);
        const QString moved = identity(fetch(vip(6), 8080, "127.0.0.5"));
        QVERIFY(moved.startsWith("b"));
        QVERIFY(moved != first5);
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(identity(fetch(vip(6), 8080, "127.0.0.5")), moved);
            QCOMPARE(identity(fetch(vip(6), 8080, "127.0.0.6")), first6);
        }
    }

    void namedPortsMapToEndpointPorts()
    {
        TcpTestServer web("127.244.9.1", backendPort(5), TcpTestServer::Mode::Identity, "web");
        TcpTestServer metrics("127.244.9.1", backendPort(6), TcpTestServer::Mode::Identity, "metrics");
        QVERIFY(web.ok() && metrics.ok());
        Fixture f;
        f.put("services", service("named", vip(7), json::array({servicePort("http", 8080), servicePort("metrics", 9090),
                                                                        servicePort("dns", 5353, "UDP")})));
        // Endpoint ports listed in another order than the Service's, as the controller sorts them.
        f.put("endpoints", endpoints("named", json::array({subset({"127.244.9.1"}, {},
                                                                  json::array({endpointPort("metrics", backendPort(6)),
                                                                               endpointPort("http", backendPort(5))}))})));
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(7) + ":8080"), QString("1/listening"), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(7) + ":9090"), QString("1/listening"), 5000);
        QCOMPARE(identity(fetch(vip(7), 8080)), QString("web"));
        QCOMPARE(identity(fetch(vip(7), 9090)), QString("metrics"));
        QCOMPARE(f.rule(vip(7) + ":8080").portName, std::string("http"));
        QCOMPARE(f.state(vip(7) + ":5353"), QString("absent")); // UDP is not proxied
    }

    void serviceDeletionClosesListener()
    {
        TcpTestServer echo("127.244.9.1", backendPort(7), TcpTestServer::Mode::Echo);
        QVERIFY(echo.ok());
        Fixture f;
        f.put("services", service("gone", vip(8), json::array({servicePort("", 8080)})));
        f.put("endpoints", endpoints("gone", json::array({subset({"127.244.9.1"}, {}, json::array({endpointPort("", backendPort(7))}))})));
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(8) + ":8080"), QString("1/listening"), 5000);

        int fd = connectTo(vip(8), 8080);
        QVERIFY(fd >= 0);
        QVERIFY(writeAll(fd, "ping", 4));
        char buffer[4];
        QCOMPARE(::recv(fd, buffer, 4, MSG_WAITALL), ssize_t(4));

        QVERIFY(f.store.remove("services", "default", "gone").ok());
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(8) + ":8080"), QString("absent"), 5000);
        QCOMPARE(identity(fetch(vip(8), 8080)), QString("error:%1").arg(std::strerror(ECONNREFUSED)));

        // The connection made before carries on to its end.
        QVERIFY(writeAll(fd, "pong", 4));
        ::shutdown(fd, SHUT_WR);
        Reply rest = readAll(fd);
        ::close(fd);
        QCOMPARE(rest.error, 0);
        QCOMPARE(rest.data, std::string("pong|bytes=8"));
    }

    void bigTransferBothWaysWithHalfClose_data()
    {
        QTest::addColumn<bool>("zeroCopy");
        QTest::newRow("splice") << true;
        QTest::newRow("copying") << false;
    }
    void bigTransferBothWaysWithHalfClose()
    {
        QFETCH(bool, zeroCopy);
        TcpTestServer echo("127.244.9.1", backendPort(8), TcpTestServer::Mode::Echo);
        QVERIFY(echo.ok());
        ServiceProxyOptions o = Fixture::testOptions();
        o.bufferSize = 16 * 1024; // many turns of the relay loop
        o.zeroCopy = zeroCopy;
        Fixture f(o);
        f.put("services", service("big", vip(9), json::array({servicePort("", 8080)})));
        f.put("endpoints", endpoints("big", json::array({subset({"127.244.9.1"}, {}, json::array({endpointPort("", backendPort(8))}))})));
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(9) + ":8080"), QString("1/listening"), 5000);

        const size_t size = 16 * 1024 * 1024;
        std::string payload(size, '\0');
        uint32_t x = 12345;
        for (auto &c : payload) {
            x = x * 1664525u + 1013904223u;
            c = char(x >> 24);
        }
        int fd = connectTo(vip(9), 8080);
        QVERIFY(fd >= 0);
        // Written from another thread while this one reads: the buffers on the way are bounded,
        // so writing everything first would stall once they are full.
        std::atomic<bool> written{false};
        std::thread writer([&] {
            written = writeAll(fd, payload.data(), payload.size());
            ::shutdown(fd, SHUT_WR); // the half-close must reach the backend...
        });
        Reply reply = readAll(fd); // ...whose answer after it must still reach us
        writer.join();
        ::close(fd);
        QVERIFY(written);
        QCOMPARE(reply.error, 0);
        const std::string trailer = "|bytes=" + std::to_string(size);
        QCOMPARE(reply.data.size(), size + trailer.size());
        QVERIFY(reply.data.compare(0, size, payload) == 0);
        QCOMPARE(reply.data.substr(size), trailer);
        QTRY_COMPARE_WITH_TIMEOUT(f.proxy.activeConnections(), size_t(0), 5000);
    }

    void listenFailureIsExposedAndRetried()
    {
        TcpTestServer b1("127.244.9.1", backendPort(9), TcpTestServer::Mode::Identity, "b1");
        auto squatter = std::make_unique<TcpTestServer>(vip(10), 8080, TcpTestServer::Mode::Identity, "squatter");
        QVERIFY(b1.ok() && squatter->ok());
        Fixture f;
        f.put("services", service("busy", vip(10), json::array({servicePort("", 8080)})));
        f.put("endpoints", endpoints("busy", json::array({subset({"127.244.9.1"}, {}, json::array({endpointPort("", backendPort(9))}))})));
        QTRY_VERIFY_WITH_TIMEOUT(f.rule(vip(10) + ":8080").lastError.find("in use") != std::string::npos, 5000);
        QCOMPARE(f.state(vip(10) + ":8080"), QString("1/closed"));

        squatter.reset(); // the address is free: the periodic retry takes it
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(10) + ":8080"), QString("1/listening"), 5000);
        QCOMPARE(f.rule(vip(10) + ":8080").lastError, std::string());
        QCOMPARE(identity(fetch(vip(10), 8080)), QString("b1"));
    }

    void clusterIPOutsideLoopbackIsReported()
    {
        Fixture f;
        f.put("services", service("far", "10.96.0.10", json::array({servicePort("", 8080)})));
        f.put("endpoints", endpoints("far", json::array({subset({"127.244.9.1"}, {}, json::array({endpointPort("", 8080)}))})));
        QTRY_VERIFY_WITH_TIMEOUT(f.rule("10.96.0.10:8080").lastError.find("127.0.0.0/8") != std::string::npos, 5000);
        QVERIFY(!f.rule("10.96.0.10:8080").listening);
        // Headless Services have nothing to proxy.
        f.put("services", service("headless", "None", json::array({servicePort("", 8080)})));
        f.put("services", service("marker", vip(11), json::array({servicePort("", 8080)})));
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(11) + ":8080"), QString("0/closed"), 5000);
        QCOMPARE(f.proxy.rules().size(), size_t(2)); // far and marker
    }

    void connectionLimitResetsExtraClients()
    {
        TcpTestServer echo("127.244.9.1", backendPort(10), TcpTestServer::Mode::Echo);
        QVERIFY(echo.ok());
        ServiceProxyOptions o = Fixture::testOptions();
        o.maxConnections = 1;
        Fixture f(o);
        f.put("services", service("limit", vip(12), json::array({servicePort("", 8080)})));
        f.put("endpoints", endpoints("limit", json::array({subset({"127.244.9.1"}, {}, json::array({endpointPort("", backendPort(10))}))})));
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(12) + ":8080"), QString("1/listening"), 5000);

        int held = connectTo(vip(12), 8080);
        QVERIFY(held >= 0);
        QVERIFY(writeAll(held, "x", 1));
        char c;
        QCOMPARE(::recv(held, &c, 1, 0), ssize_t(1)); // relayed: it counts now
        Reply extra = fetch(vip(12), 8080);
        QCOMPARE(extra.error, ECONNRESET);
        QCOMPARE(f.proxy.rejectedConnections(), uint64_t(1));
        ::close(held);
        QTRY_COMPARE_WITH_TIMEOUT(f.proxy.activeConnections(), size_t(0), 5000);
    }

    void backendDownResetsClient()
    {
        Fixture f; // nothing listens on the endpoint
        f.put("services", service("down", vip(13), json::array({servicePort("", 8080)})));
        f.put("endpoints", endpoints("down", json::array({subset({"127.244.9.1"}, {}, json::array({endpointPort("", backendPort(11))}))})));
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(13) + ":8080"), QString("1/listening"), 5000);
        QCOMPARE(identity(fetch(vip(13), 8080)), QString("error:%1").arg(std::strerror(ECONNRESET)));
        QTRY_COMPARE_WITH_TIMEOUT(f.rule(vip(13) + ":8080").connectionsFailed, uint64_t(1), 5000);
    }

    void backendTimeoutResetsClient()
    {
        // A backend whose accept queue is full: the kernel drops further SYNs, so a connect
        // to it hangs (as to a host that went away) until the proxy's timeout.
        int full = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a = socketAddress("127.244.9.1", backendPort(13));
        QVERIFY(::bind(full, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
        QVERIFY(::listen(full, 0) == 0);
        int filler = connectTo("127.244.9.1", backendPort(13));
        QVERIFY(filler >= 0);
        ServiceProxyOptions o = Fixture::testOptions();
        o.connectTimeout = std::chrono::milliseconds(200);
        Fixture f(o);
        f.put("services", service("slow", vip(15), json::array({servicePort("", 8080)})));
        f.put("endpoints", endpoints("slow", json::array({subset({"127.244.9.1"}, {}, json::array({endpointPort("", backendPort(13))}))})));
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(15) + ":8080"), QString("1/listening"), 5000);
        QCOMPARE(identity(fetch(vip(15), 8080)), QString("error:%1").arg(std::strerror(ECONNRESET)));
        QCOMPARE(f.rule(vip(15) + ":8080").connectionsFailed, uint64_t(1));
        ::close(filler);
        ::close(full);
    }

    void stopClosesEverythingAndStartRestores()
    {
        TcpTestServer echo("127.244.9.1", backendPort(12), TcpTestServer::Mode::Echo);
        QVERIFY(echo.ok());
        Fixture f;
        f.put("services", service("cycle", vip(14), json::array({servicePort("", 8080)})));
        f.put("endpoints", endpoints("cycle", json::array({subset({"127.244.9.1"}, {}, json::array({endpointPort("", backendPort(12))}))})));
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(14) + ":8080"), QString("1/listening"), 5000);
        int fd = connectTo(vip(14), 8080);
        QVERIFY(fd >= 0);
        QVERIFY(writeAll(fd, "x", 1));
        char c;
        QCOMPARE(::recv(fd, &c, 1, 0), ssize_t(1));

        f.proxy.stop();
        QCOMPARE(f.proxy.activeConnections(), size_t(0));
        QCOMPARE(readAll(fd).error, ECONNRESET); // the relayed connection was closed
        ::close(fd);
        QCOMPARE(identity(fetch(vip(14), 8080)), QString("error:%1").arg(std::strerror(ECONNREFUSED)));
        QCOMPARE(f.state(vip(14) + ":8080"), QString("1/closed"));

        QVERIFY(f.proxy.start().ok());
        QTRY_COMPARE_WITH_TIMEOUT(f.state(vip(14) + ":8080"), QString("1/listening"), 5000);
        fd = connectTo(vip(14), 8080);
        QVERIFY(fd >= 0);
        ::shutdown(fd, SHUT_WR);
        QCOMPARE(readAll(fd).data, std::string("|bytes=0"));
        ::close(fd);
    }

    void badOptionsAreRefused()
    {
        store::Store store;
        controllers::SharedInformers informers{store, Clock::system()};
        ServiceProxyOptions o;
        o.nodeAddresses = {"not-an-ip"};
        ServiceProxy proxy(informers, o);
        auto started = proxy.start();
        QVERIFY(!started.ok());
        QCOMPARE(started.error().reason(), Reason::Invalid);
        QVERIFY(!proxy.isRunning());
    }
};

QTEST_GUILESS_MAIN(TestServiceProxy)
#include "tst_serviceproxy.moc"
