#include "core/controllers/serviceip/serviceipallocator.h"
#include "core/controllers/serviceip/serviceiprepair.h"

#include <QtTest>

#include <set>
#include <thread>

using namespace podscape::core;
using namespace podscape::core::controllers;
using nlohmann::json;

namespace {

json service(const std::string &name, const std::string &type = "ClusterIP", json ports = json::array({{{"port", 80}, {"protocol", "TCP"}}}))
{
    return {{"apiVersion", "v1"},
            {"kind", "Service"},
            {"metadata", {{"name", name}, {"namespace", "default"}}},
            {"spec", {{"type", type}, {"ports", std::move(ports)}}}};
}

std::unique_ptr<ServiceIPAllocator> allocator(const std::string &cidr = "127.96.0.0/12", uint64_t seed = 1)
{
    ServiceIPAllocator::Options options;
    options.serviceCIDR = cidr;
    options.seed = seed;
    auto a = ServiceIPAllocator::create(options);
    if (!a)
        qFatal("%s", a.error().message().c_str());
    return std::move(*a);
}

std::string ipOf(const json &s) { return s["spec"]["clusterIP"].get<std::string>(); }

} // namespace

class TestServiceIPAllocator : public QObject
{
    Q_OBJECT
private slots:
    void defaults()
    {
        auto a = ServiceIPAllocator::create();
        QVERIFY(a.ok());
        QCOMPARE((*a)->serviceCIDR(), std::string("127.96.0.0/12"));
        QCOMPARE((*a)->nodePortRange(), std::string("30000-32767"));
        QCOMPARE((*a)->kubernetesServiceIP(), std::string("127.96.0.1"));
        QCOMPARE((*a)->ipCapacity(), size_t((1u << 20) - 2));
        QCOMPARE((*a)->nodePortCapacity(), size_t(2768));
    }

    void invalidOptions_data()
    {
        QTest::addColumn<QString>("cidr");
        QTest::addColumn<QString>("message");
        QTest::newRow("too large") << "10.0.0.0/8" << "service CIDR 10.0.0.0/8 is too large; for 32-bit addresses, the mask must be >= 12";
        QTest::newRow("no mask") << "10.0.0.0" << "invalid service CIDR \"10.0.0.0\": expected an IPv4 network such as 127.96.0.0/12";
        QTest::newRow("bad octet") << "10.0.300.0/24" << "invalid service CIDR \"10.0.300.0/24\": expected an IPv4 network such as 127.96.0.0/12";
        QTest::newRow("no room") << "10.0.0.0/31" << "service CIDR 10.0.0.0/31 has no usable addresses; use a mask of 30 or less";
    }

    void invalidOptions()
    {
        QFETCH(QString, cidr);
        QFETCH(QString, message);
        ServiceIPAllocator::Options options;
        options.serviceCIDR = cidr.toStdString();
        auto a = ServiceIPAllocator::create(options);
        QVERIFY(!a.ok());
        QCOMPARE(QString::fromStdString(a.error().message()), message);
    }

    void allocatesByType_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<QString>("clusterIP"); // requested
        QTest::addColumn<bool>("getsIP");
        QTest::addColumn<bool>("getsNodePort");
        QTest::newRow("ClusterIP") << "ClusterIP" << "" << true << false;
        QTest::newRow("NodePort") << "NodePort" << "" << true << true;
        QTest::newRow("LoadBalancer") << "LoadBalancer" << "" << true << true;
        QTest::newRow("headless") << "ClusterIP" << "None" << false << false;
        QTest::newRow("ExternalName") << "ExternalName" << "" << false << false;
    }

    void allocatesByType()
    {
        QFETCH(QString, type);
        QFETCH(QString, clusterIP);
        QFETCH(bool, getsIP);
        QFETCH(bool, getsNodePort);
        auto a = allocator();
        json s = service("web", type.toStdString());
        if (!clusterIP.isEmpty())
            s["spec"]["clusterIP"] = clusterIP.toStdString();
        QVERIFY(a->allocate(s).ok());
        QCOMPARE(a->allocatedIPs(), size_t(getsIP ? 1 : 0));
        QCOMPARE(a->allocatedNodePorts(), size_t(getsNodePort ? 1 : 0));
        QCOMPARE(s["spec"]["ports"][0].contains("nodePort"), getsNodePort);
        if (type == "ExternalName") {
            QVERIFY(!s["spec"].contains("clusterIP"));
            return;
        }
        QCOMPARE(s["spec"]["clusterIPs"], json::array({s["spec"]["clusterIP"]}));
        QCOMPARE(s["spec"]["ipFamilies"], json::array({"IPv4"}));
        QCOMPARE(s["spec"]["ipFamilyPolicy"], json("SingleStack"));
        if (getsIP) {
            QVERIFY(a->isIPAllocated(ipOf(s)));
            QVERIFY(ipOf(s) != a->kubernetesServiceIP());
            QVERIFY(ipOf(s).rfind("127.", 0) == 0);
        }
        if (getsNodePort) {
            int np = s["spec"]["ports"][0]["nodePort"];
            QVERIFY(np >= 30000 && np <= 32767);
        }
    }

    void noDuplicatesAcrossConcurrentAllocations()
    {
        auto a = allocator();
        std::vector<json> services(4000);
        std::vector<std::thread> threads;
        std::atomic<int> failures{0};
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&, t] {
                for (int i = t; i < 4000; i += 4) {
                    services[size_t(i)] = service("s" + std::to_string(i), i % 2 ? "NodePort" : "ClusterIP");
                    if (!a->allocate(services[size_t(i)]))
                        ++failures;
                }
            });
        for (auto &th : threads)
            th.join();
        QCOMPARE(failures.load(), 0);
        std::set<std::string> ips;
        std::set<int> ports;
        for (const auto &s : services) {
            ips.insert(ipOf(s));
            if (s["spec"]["ports"][0].contains("nodePort"))
                ports.insert(s["spec"]["ports"][0]["nodePort"].get<int>());
        }
        QCOMPARE(ips.size(), size_t(4000));
        QCOMPARE(ports.size(), size_t(2000));
        QCOMPARE(a->allocatedIPs(), size_t(4000));
        QCOMPARE(a->allocatedNodePorts(), size_t(2000));
        QVERIFY(!ips.count(a->kubernetesServiceIP()));
    }

    void nodePortsUniqueUntilFull()
    {
        auto a = allocator();
        std::set<int> ports;
        for (size_t i = 0; i < a->nodePortCapacity(); ++i) {
            json s = service("s" + std::to_string(i), "NodePort");
            QVERIFY(a->allocate(s).ok());
            ports.insert(s["spec"]["ports"][0]["nodePort"].get<int>());
        }
        QCOMPARE(ports.size(), size_t(2768));
        const size_t ips = a->allocatedIPs();
        json full = service("full", "NodePort");
        auto r = a->allocate(full);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().reason(), Reason::InternalError);
        QCOMPARE(r.error().message(), std::string("failed to allocate a nodePort: range is full"));
        QCOMPARE(a->allocatedIPs(), ips); // its cluster IP was given back
    }

    void staticValuesAcceptedThenRefused()
    {
        auto a = allocator();
        json first = service("a", "NodePort", json::array({{{"port", 80}, {"protocol", "TCP"}, {"nodePort", 30123}}}));
        first["spec"]["clusterIP"] = "127.96.0.50";
        QVERIFY(a->allocate(first).ok());
        QCOMPARE(ipOf(first), std::string("127.96.0.50"));
        QVERIFY(a->isNodePortAllocated(30123));

        json sameIP = service("b");
        sameIP["spec"]["clusterIPs"] = json::array({"127.96.0.50"});
        auto r = a->allocate(sameIP);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().reason(), Reason::Invalid);
        QCOMPARE(r.error().message(), std::string("Service \"b\" is invalid: spec.clusterIPs: Invalid value: []string{\"127.96.0.50\"}: "
                                                  "failed to allocate IP 127.96.0.50: provided IP is already allocated"));
        QCOMPARE(r.error().causes().at(0).field, std::string("spec.clusterIPs"));

        json samePort = service("c", "NodePort", json::array({{{"port", 80}, {"protocol", "TCP"}, {"nodePort", 30123}}}));
        r = a->allocate(samePort);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().message(),
                 std::string("Service \"c\" is invalid: spec.ports[0].nodePort: Invalid value: 30123: provided port is already allocated"));
        QCOMPARE(a->allocatedIPs(), size_t(1)); // c's cluster IP was given back
    }

    void outOfRangeRefused_data()
    {
        QTest::addColumn<QString>("clusterIP");
        QTest::addColumn<int>("nodePort");
        QTest::addColumn<QString>("message");
        QTest::newRow("another network") << "10.0.0.1" << 0
                                         << "Service \"web\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.0.0.1\"}: failed to "
                                            "allocate IP 10.0.0.1: provided IP is not in the valid range. The range of valid IPs is 127.96.0.0/12";
        QTest::newRow("the network address") << "127.96.0.0" << 0
                                             << "Service \"web\" is invalid: spec.clusterIPs: Invalid value: []string{\"127.96.0.0\"}: failed "
                                                "to allocate IP 127.96.0.0: provided IP is not in the valid range. The range of valid IPs is "
                                                "127.96.0.0/12";
        QTest::newRow("the broadcast address") << "127.111.255.255" << 0
                                               << "Service \"web\" is invalid: spec.clusterIPs: Invalid value: []string{\"127.111.255.255\"}: "
                                                  "failed to allocate IP 127.111.255.255: provided IP is not in the valid range. The range of "
                                                  "valid IPs is 127.96.0.0/12";
        QTest::newRow("not an IP") << "abc" << 0
                                   << "Service \"web\" is invalid: spec.clusterIPs[0]: Invalid value: \"abc\": must be a valid IP address, "
                                      "(e.g. 10.9.8.7 or 2001:db8::ffff)";
        QTest::newRow("port below") << "" << 8080
                                    << "Service \"web\" is invalid: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the "
                                       "valid range. The range of valid ports is 30000-32767";
        QTest::newRow("port above") << "" << 32768
                                    << "Service \"web\" is invalid: spec.ports[0].nodePort: Invalid value: 32768: provided port is not in the "
                                       "valid range. The range of valid ports is 30000-32767";
    }

    void outOfRangeRefused()
    {
        QFETCH(QString, clusterIP);
        QFETCH(int, nodePort);
        QFETCH(QString, message);
        auto a = allocator();
        json s = service("web", "NodePort");
        if (!clusterIP.isEmpty())
            s["spec"]["clusterIP"] = clusterIP.toStdString();
        if (nodePort)
            s["spec"]["ports"][0]["nodePort"] = nodePort;
        auto r = a->allocate(s);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().reason(), Reason::Invalid);
        QCOMPARE(QString::fromStdString(r.error().message()), message);
        QCOMPARE(a->allocatedIPs(), size_t(0));
        QCOMPARE(a->allocatedNodePorts(), size_t(0));
    }

    void firstAddressOnlyOnRequest()
    {
        // A /29: six addresses, the first kept for the kubernetes Service.
        auto a = allocator("10.0.0.0/29");
        std::set<std::string> ips;
        for (int i = 0; i < 5; ++i) {
            json s = service("s" + std::to_string(i));
            QVERIFY(a->allocate(s).ok());
            ips.insert(ipOf(s));
        }
        QCOMPARE(ips, (std::set<std::string>{"10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"}));
        json more = service("more");
        auto r = a->allocate(more);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().message(), std::string("failed to allocate a serviceIP: range is full"));
        json kubernetes = service("kubernetes");
        kubernetes["spec"]["clusterIP"] = "10.0.0.1";
        QVERIFY(a->allocate(kubernetes).ok());
    }

    void releaseThenReuse()
    {
        auto a = allocator("10.0.0.0/29");
        std::vector<json> services;
        for (int i = 0; i < 5; ++i) {
            services.push_back(service("s" + std::to_string(i), "NodePort"));
            QVERIFY(a->allocate(services.back()).ok());
        }
        const std::string freed = ipOf(services[2]);
        const int freedPort = services[2]["spec"]["ports"][0]["nodePort"];
        // Another Service naming that address frees nothing: it is not its own.
        json impostor = service("impostor");
        impostor["spec"]["clusterIP"] = freed;
        a->release(impostor);
        QVERIFY(a->isIPAllocated(freed));

        a->release(services[2]);
        QVERIFY(!a->isIPAllocated(freed));
        QVERIFY(!a->isNodePortAllocated(freedPort));
        json next = service("next");
        QVERIFY(a->allocate(next).ok());
        QCOMPARE(ipOf(next), freed); // the only free address
        a->release(next);
        json again = service("again", "NodePort", json::array({{{"port", 80}, {"protocol", "TCP"}, {"nodePort", freedPort}}}));
        again["spec"]["clusterIP"] = freed;
        QVERIFY(a->allocate(again).ok());
    }

    void rebuildAfterRestart()
    {
        auto before = allocator();
        std::vector<json> stored;
        for (int i = 0; i < 20; ++i) {
            stored.push_back(service("s" + std::to_string(i), i % 2 ? "NodePort" : "ClusterIP"));
            QVERIFY(before->allocate(stored.back()).ok());
        }
        // A restart: a fresh allocator learns what the stored Services hold.
        auto after = allocator("127.96.0.0/12", 2);
        QVERIFY(after->rebuild(stored).empty());
        QCOMPARE(after->allocatedIPs(), size_t(20));
        QCOMPARE(after->allocatedNodePorts(), size_t(10));
        json taken = service("taken");
        taken["spec"]["clusterIP"] = ipOf(stored[3]);
        QVERIFY(!after->allocate(taken).ok());
        // Release works on rebuilt values too.
        after->release(stored[3]);
        QVERIFY(!after->isIPAllocated(ipOf(stored[3])));

        // Stored state that cannot be: two Services with one address, one out of range.
        json twin = service("twin");
        twin["spec"]["clusterIP"] = ipOf(stored[0]);
        twin["spec"]["clusterIPs"] = json::array({ipOf(stored[0])});
        json stray = service("stray");
        stray["spec"]["clusterIP"] = "10.9.9.9";
        auto problems = after->rebuild(std::vector<json>{stored[0], twin, stray});
        QCOMPARE(problems.size(), size_t(2));
        QCOMPARE(problems[0].service, size_t(1));
        QCOMPARE(problems[0].reason, std::string("ClusterIPAlreadyAllocated"));
        QCOMPARE(problems[0].message, "Cluster IP [IPv4]:" + ipOf(stored[0]) + " was assigned to multiple services; please recreate service");
        QCOMPARE(problems[1].reason, std::string("ClusterIPOutOfRange"));
    }

    void typeChangeReleasesNodePorts()
    {
        auto a = allocator();
        json np = service("web", "NodePort",
                          json::array({{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}}, {{"name", "dns"}, {"port", 53}, {"protocol", "UDP"}}}));
        QVERIFY(a->allocate(np).ok());
        QCOMPARE(a->allocatedNodePorts(), size_t(2));
        const int httpPort = np["spec"]["ports"][0]["nodePort"];

        json asClusterIP = np;
        asClusterIP["spec"]["type"] = "ClusterIP";
        QVERIFY(a->reconcileUpdate(np, asClusterIP).ok());
        QVERIFY(!asClusterIP["spec"]["ports"][0].contains("nodePort"));
        QVERIFY(!asClusterIP["spec"]["ports"][1].contains("nodePort"));
        QCOMPARE(a->allocatedNodePorts(), size_t(0));
        QVERIFY(!a->isNodePortAllocated(httpPort));
        QCOMPARE(ipOf(asClusterIP), ipOf(np));
        QVERIFY(a->isIPAllocated(ipOf(np)));

        // Back to NodePort: new node ports. To ExternalName: the cluster IP goes too.
        json back = asClusterIP;
        back["spec"]["type"] = "NodePort";
        QVERIFY(a->reconcileUpdate(asClusterIP, back).ok());
        QCOMPARE(a->allocatedNodePorts(), size_t(2));
        json alias = back;
        alias["spec"]["type"] = "ExternalName";
        alias["spec"]["externalName"] = "db.example.com";
        QVERIFY(a->reconcileUpdate(back, alias).ok());
        QVERIFY(!alias["spec"].contains("clusterIP"));
        QCOMPARE(a->allocatedIPs(), size_t(0));
        QCOMPARE(a->allocatedNodePorts(), size_t(0));
    }

    void updateKeepsWhatItDoesNotSay()
    {
        auto a = allocator();
        json old = service("web", "NodePort", json::array({{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}}}));
        QVERIFY(a->allocate(old).ok());
        // An apply of the manifest as written: no clusterIP, no nodePort.
        json applied = service("web", "NodePort", json::array({{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}}}));
        QVERIFY(a->reconcileUpdate(old, applied).ok());
        QCOMPARE(applied["spec"]["clusterIP"], old["spec"]["clusterIP"]);
        QCOMPARE(applied["spec"]["ports"][0]["nodePort"], old["spec"]["ports"][0]["nodePort"]);
        QCOMPARE(a->allocatedIPs(), size_t(1));
        QCOMPARE(a->allocatedNodePorts(), size_t(1));

        // A new node port asked for: taken, the old one given back.
        json moved = applied;
        moved["spec"]["ports"][0]["nodePort"] = 31000;
        QVERIFY(a->reconcileUpdate(applied, moved).ok());
        QVERIFY(a->isNodePortAllocated(31000));
        QVERIFY(!a->isNodePortAllocated(applied["spec"]["ports"][0]["nodePort"]));

        json changed = moved;
        changed["spec"]["clusterIP"] = "127.96.1.1";
        changed["spec"]["clusterIPs"] = json::array({"127.96.1.1"});
        auto r = a->reconcileUpdate(moved, changed);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().message(),
                 std::string("Service \"web\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"127.96.1.1\"}: may not change once set"));
        QVERIFY(!a->isIPAllocated("127.96.1.1"));
    }

    void sharedPortNumberSharesTheNodePort()
    {
        auto a = allocator();
        json dns = service("dns", "NodePort",
                           json::array({{{"name", "dns-tcp"}, {"port", 53}, {"protocol", "TCP"}}, {{"name", "dns-udp"}, {"port", 53}, {"protocol", "UDP"}}}));
        QVERIFY(a->allocate(dns).ok());
        QCOMPARE(dns["spec"]["ports"][0]["nodePort"], dns["spec"]["ports"][1]["nodePort"]);
        QCOMPARE(a->allocatedNodePorts(), size_t(1));
    }

    void dryRunKeepsNothing()
    {
        auto a = allocator();
        json s = service("web", "NodePort");
        QVERIFY(a->allocate(s, true).ok());
        QVERIFY(s["spec"].contains("clusterIP"));
        QCOMPARE(a->allocatedIPs(), size_t(0));
        QCOMPARE(a->allocatedNodePorts(), size_t(0));
    }

    void healthCheckNodePort()
    {
        auto a = allocator();
        json lb = service("lb", "LoadBalancer");
        lb["spec"]["externalTrafficPolicy"] = "Local";
        QVERIFY(a->allocate(lb).ok());
        QVERIFY(lb["spec"].contains("healthCheckNodePort"));
        QCOMPARE(a->allocatedNodePorts(), size_t(2));
        a->release(lb);
        QCOMPARE(a->allocatedNodePorts(), size_t(0));
    }

    void repairReleasesWhatTheStoreLost()
    {
        store::Store store;
        SharedInformers informers{store, Clock::system()};
        auto a = allocator();
        ServiceIPRepair::Options options;
        options.interval = std::chrono::hours(1);
        ServiceIPRepair repair(informers, *a, options);
        informers.start();
        repair.start();
        QTRY_VERIFY_WITH_TIMEOUT(repair.syncCount() >= 1, 5000); // the sweep at start; the next is an hour away
        json kept = service("kept", "NodePort"), gone = service("gone", "NodePort");
        QVERIFY(a->allocate(kept).ok());
        QVERIFY(a->allocate(gone).ok());
        QVERIFY(store.create("services", kept).ok());
        QVERIFY(store.create("services", gone).ok());
        // Deleted behind the allocator's back (say, with its namespace): released anyway.
        QVERIFY(store.remove("services", "default", "gone").ok());
        QTRY_VERIFY_WITH_TIMEOUT(!a->isIPAllocated(ipOf(gone)), 5000);
        QVERIFY(!a->isNodePortAllocated(gone["spec"]["ports"][0]["nodePort"]));
        QVERIFY(a->isIPAllocated(ipOf(kept)));

        // Allocated for a write that never happened: freed on the third sweep that misses it.
        json lost = service("lost");
        QVERIFY(a->allocate(lost).ok());
        QVERIFY(repair.sweep().ok());
        QVERIFY(repair.sweep().ok());
        QVERIFY(a->isIPAllocated(ipOf(lost)));
        QVERIFY(repair.sweep().ok());
        QVERIFY(!a->isIPAllocated(ipOf(lost)));
        QVERIFY(a->isIPAllocated(ipOf(kept)));

        // Stored but unknown to the allocator (it lost its state): marked again, with an event.
        json unknown = service("unknown");
        unknown["spec"]["clusterIP"] = "127.96.0.77";
        unknown["spec"]["clusterIPs"] = json::array({"127.96.0.77"});
        QVERIFY(store.create("services", unknown).ok());
        QVERIFY(repair.sweep().ok());
        QVERIFY(a->isIPAllocated("127.96.0.77"));
        bool reported = false;
        auto events = store.list("events");
        for (const auto &e : events->items)
            reported = reported || (*e)["reason"] == "ClusterIPNotAllocated";
        QVERIFY(reported);
        repair.stop();
        informers.stop();
    }
};

QTEST_GUILESS_MAIN(TestServiceIPAllocator)
#include "tst_serviceipallocator.moc"
