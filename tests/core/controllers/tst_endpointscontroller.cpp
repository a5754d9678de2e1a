#include "core/controllers/endpoints/endpointscontroller.h"

#include <QtTest>

using namespace podscape::core;
using namespace podscape::core::controllers;
using nlohmann::json;

namespace {

json service(const std::string &name, json selector, json ports)
{
    json s = {{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"tier", "front"}}}}},
              {"spec", {{"clusterIP", "127.96.0.10"}, {"ports", std::move(ports)}}}};
    if (!selector.is_null())
        s["spec"]["selector"] = std::move(selector);
    return s;
}

json port(const std::string &name, int number, json target)
{
    json p = {{"port", number}, {"protocol", "TCP"}, {"targetPort", std::move(target)}};
    if (!name.empty())
        p["name"] = name;
    return p;
}

json pod(const std::string &name, const std::string &ip, bool ready, json containerPorts = json::array(),
         const std::string &app = "web")
{
    json p = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"app", app}}}}},
              {"spec",
               {{"nodeName", "node-1"},
                {"containers", json::array({{{"name", "c"}, {"image", "luksa/kubia"}, {"ports", std::move(containerPorts)}}})}}},
              {"status", {{"phase", "Running"}}}};
    if (!ip.empty()) {
        p["status"]["podIP"] = ip;
        p["status"]["podIPs"] = json::array({{{"ip", ip}}});
    }
    p["status"]["conditions"] = json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}}});
    return p;
}

json namedPort(const std::string &name, int number) { return {{"name", name}, {"containerPort", number}, {"protocol", "TCP"}}; }

struct Fixture {
    store::Store store;
    SharedInformers informers{store, Clock::system()};
    EndpointsController controller{informers};

    Fixture()
    {
        informers.start();
        // Endpoints written before the first list count as leftovers; the tests write after.
        informers.waitForSync(std::chrono::seconds(5));
        controller.start(2);
    }
    ~Fixture()
    {
        controller.stop();
        informers.stop();
    }

    json subsets(const std::string &name)
    {
        auto e = store.get("endpoints", "default", name);
        if (!e)
            return json("absent");
        return (*e)->value("subsets", json::array());
    }
    // "ip" lists of the first subset's ready and not-ready addresses, as "ready|notready".
    std::string addresses(const std::string &name)
    {
        json s = subsets(name);
        if (!s.is_array())
            return "absent";
        std::string ready, notReady;
        for (const auto &subset : s) {
            for (const auto &a : subset.value("addresses", json::array()))
                ready += (ready.empty() ? "" : ",") + a["ip"].get<std::string>();
            for (const auto &a : subset.value("notReadyAddresses", json::array()))
                notReady += (notReady.empty() ? "" : ",") + a["ip"].get<std::string>();
        }
        return ready + "|" + notReady;
    }
    void setReady(const std::string &podName, bool ready)
    {
        QVERIFY(store.modify("pods", "default", podName, [&](json &p) -> Result<bool> {
                    p["status"]["conditions"][0]["status"] = ready ? "True" : "False";
                    return true;
                }).ok());
    }
};

std::vector<store::ObjectPtr> ptrs(std::vector<json> pods)
{
    std::vector<store::ObjectPtr> out;
    int uid = 0;
    for (auto &p : pods) {
        p["metadata"]["uid"] = "uid-" + std::to_string(++uid);
        out.push_back(std::make_shared<const json>(std::move(p)));
    }
    return out;
}

} // namespace

class TestEndpointsController : public QObject
{
    Q_OBJECT
private slots:
    void followsReadiness()
    {
        Fixture f;
        QVERIFY(f.store.create("services", service("web", {{"app", "web"}}, json::array({port("", 80, 8080)}))).ok());
        QTRY_COMPARE_WITH_TIMEOUT(f.addresses("web"), std::string("|"), 5000);
        QVERIFY(f.store.create("pods", pod("a", "10.1.0.5", true)).ok());
        QVERIFY(f.store.create("pods", pod("b", "10.1.0.4", false)).ok());
        QTRY_COMPARE_WITH_TIMEOUT(f.addresses("web"), std::string("10.1.0.5|10.1.0.4"), 5000);
        f.setReady("b", true);
        QTRY_COMPARE_WITH_TIMEOUT(f.addresses("web"), std::string("10.1.0.4,10.1.0.5|"), 5000);
        f.setReady("a", false);
        QTRY_COMPARE_WITH_TIMEOUT(f.addresses("web"), std::string("10.1.0.4|10.1.0.5"), 5000);

        // The whole object, as `kubectl get ep web -o yaml` shows it.
        auto ep = f.store.get("endpoints", "default", "web");
        QVERIFY(ep.ok());
        auto pa = f.store.get("pods", "default", "a");
        json expected = json::array({{{"addresses",
                                       json::array({{{"ip", "10.1.0.4"},
                                                     {"nodeName", "node-1"},
                                                     {"targetRef",
                                                      {{"kind", "Pod"},
                                                       {"namespace", "default"},
                                                       {"name", "b"},
                                                       {"uid", (**f.store.get("pods", "default", "b"))["metadata"]["uid"]}}}}})},
                                      {"notReadyAddresses",
                                       json::array({{{"ip", "10.1.0.5"},
                                                     {"nodeName", "node-1"},
                                                     {"targetRef",
                                                      {{"kind", "Pod"},
                                                       {"namespace", "default"},
                                                       {"name", "a"},
                                                       {"uid", (**pa)["metadata"]["uid"]}}}}})},
                                      {"ports", json::array({{{"port", 8080}, {"protocol", "TCP"}}})}}});
        QCOMPARE((**ep)["subsets"], expected);
        QCOMPARE((**ep)["metadata"]["labels"], json({{"tier", "front"}})); // the Service's labels
    }

    void computeSubsets_data()
    {
        QTest::addColumn<QString>("serviceJson");
        QTest::addColumn<QString>("podsJson");
        QTest::addColumn<QString>("expected"); // subsets, compact: ready|notReady@ports;...

        const json twoPorts = json::array({port("http", 80, "web"), port("metrics", 9090, 9090)});
        QTest::newRow("named port resolved per pod; pods lacking it skipped for that port")
            << QString::fromStdString(service("s", {{"app", "web"}}, twoPorts).dump())
            << QString::fromStdString(json::array({pod("a", "10.0.0.1", true, json::array({namedPort("web", 8080)})),
                                                   pod("b", "10.0.0.2", true, json::array({namedPort("web", 8081)})),
                                                   pod("c", "10.0.0.3", true)})
                                          .dump())
            << "10.0.0.1|@http:8080;10.0.0.2|@http:8081;10.0.0.1,10.0.0.2,10.0.0.3|@metrics:9090";
        // Sorted by IP as bytes, as Kubernetes does: "10.0.0.10" before "10.0.0.9".
        QTest::newRow("same ports pack into one subset, sorted by IP")
            << QString::fromStdString(service("s", {{"app", "web"}}, twoPorts).dump())
            << QString::fromStdString(json::array({pod("b", "10.0.0.9", true, json::array({namedPort("web", 8080)})),
                                                   pod("c", "10.0.0.11", false, json::array({namedPort("web", 8080)})),
                                                   pod("a", "10.0.0.10", true, json::array({namedPort("web", 8080)}))})
                                          .dump())
            << "10.0.0.10,10.0.0.9|10.0.0.11@http:8080,metrics:9090";
        QTest::newRow("pods without an IP are skipped")
            << QString::fromStdString(service("s", {{"app", "web"}}, json::array({port("", 80, 8080)})).dump())
            << QString::fromStdString(json::array({pod("a", "", true), pod("b", "10.0.0.2", true)}).dump())
            << "10.0.0.2|@:8080";
        json terminating = pod("t", "10.0.0.7", true);
        terminating["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z";
        json finished = pod("f", "10.0.0.8", false);
        finished["status"]["phase"] = "Succeeded";
        QTest::newRow("terminating and finished pods are excluded")
            << QString::fromStdString(service("s", {{"app", "web"}}, json::array({port("", 80, 8080)})).dump())
            << QString::fromStdString(json::array({terminating, finished, pod("b", "10.0.0.2", true)}).dump())
            << "10.0.0.2|@:8080";
        json publish = service("s", {{"app", "web"}}, json::array({port("", 80, 8080)}));
        publish["spec"]["publishNotReadyAddresses"] = true;
        QTest::newRow("publishNotReadyAddresses: not ready and terminating pods are ready addresses")
            << QString::fromStdString(publish.dump())
            << QString::fromStdString(json::array({terminating, pod("n", "10.0.0.3", false)}).dump())
            << "10.0.0.3,10.0.0.7|@:8080";
        json headless = service("s", {{"app", "web"}}, json::array());
        headless["spec"]["clusterIP"] = "None";
        QTest::newRow("headless without ports publishes addresses alone")
            << QString::fromStdString(headless.dump())
            << QString::fromStdString(json::array({pod("a", "10.0.0.1", true), pod("b", "10.0.0.2", false)}).dump())
            << "10.0.0.1|10.0.0.2@";
        QTest::newRow("unset targetPort is the port")
            << QString::fromStdString(service("s", {{"app", "web"}}, json::array({{{"port", 80}, {"name", "http"}}})).dump())
            << QString::fromStdString(json::array({pod("a", "10.0.0.1", true)}).dump()) << "10.0.0.1|@http:80";
        QTest::newRow("no pods, no subsets")
            << QString::fromStdString(service("s", {{"app", "web"}}, twoPorts).dump()) << "[]" << "";
    }

    void computeSubsets()
    {
        QFETCH(QString, serviceJson);
        QFETCH(QString, podsJson);
        QFETCH(QString, expected);
        std::vector<json> pods;
        for (auto &p : json::parse(podsJson.toStdString()))
            pods.push_back(p);
        json subsets = EndpointsController::computeSubsets(json::parse(serviceJson.toStdString()), ptrs(pods));
        std::string compact;
        for (const auto &s : subsets) {
            auto ips = [](const json &list) {
                std::string out;
                for (const auto &a : list)
                    out += (out.empty() ? "" : ",") + a["ip"].get<std::string>();
                return out;
            };
            std::string ports;
            for (const auto &p : s.value("ports", json::array()))
                ports += (ports.empty() ? "" : ",") + p.value("name", std::string()) + ":" + std::to_string(p["port"].get<int>());
            compact += (compact.empty() ? "" : ";") + ips(s.value("addresses", json::array())) + "|"
                       + ips(s.value("notReadyAddresses", json::array())) + "@" + ports;
        }
        QCOMPARE(QString::fromStdString(compact), expected);
    }

    void podDeletionRemovesAddress()
    {
        Fixture f;
        QVERIFY(f.store.create("services", service("web", {{"app", "web"}}, json::array({port("", 80, 8080)}))).ok());
        QVERIFY(f.store.create("pods", pod("a", "10.1.0.1", true)).ok());
        QVERIFY(f.store.create("pods", pod("b", "10.1.0.2", true)).ok());
        QVERIFY(f.store.create("pods", pod("c", "10.1.0.3", true)).ok());
        QTRY_COMPARE_WITH_TIMEOUT(f.addresses("web"), std::string("10.1.0.1,10.1.0.2,10.1.0.3|"), 5000);
        store::DeleteOptions now;
        now.gracePeriodSeconds = 0;
        QVERIFY(f.store.remove("pods", "default", "a", now).ok());
        QTRY_COMPARE_WITH_TIMEOUT(f.addresses("web"), std::string("10.1.0.2,10.1.0.3|"), 5000);
        // A graceful delete: the pod terminates for a while, but leaves the Endpoints at once.
        auto terminating = f.store.remove("pods", "default", "b");
        QVERIFY(terminating.ok());
        QVERIFY((**terminating)["metadata"].contains("deletionTimestamp"));
        QTRY_COMPARE_WITH_TIMEOUT(f.addresses("web"), std::string("10.1.0.3|"), 5000);
        // Relabelled out of the selector: gone as well.
        QVERIFY(f.store.modify("pods", "default", "c", [](json &p) -> Result<bool> {
                    p["metadata"]["labels"]["app"] = "debug";
                    return true;
                }).ok());
        QTRY_COMPARE_WITH_TIMEOUT(f.addresses("web"), std::string("|"), 5000);
    }

    void serviceDeletionRemovesEndpoints()
    {
        Fixture f;
        QVERIFY(f.store.create("services", service("web", {{"app", "web"}}, json::array({port("", 80, 8080)}))).ok());
        QVERIFY(f.store.create("pods", pod("a", "10.1.0.1", true)).ok());
        QTRY_COMPARE_WITH_TIMEOUT(f.addresses("web"), std::string("10.1.0.1|"), 5000);
        QVERIFY(f.store.remove("services", "default", "web").ok());
        QTRY_COMPARE_WITH_TIMEOUT(f.addresses("web"), std::string("absent"), 5000);
    }

    void deletedEndpointsComeBack()
    {
        Fixture f;
        QVERIFY(f.store.create("services", service("web", {{"app", "web"}}, json::array({port("", 80, 8080)}))).ok());
        QVERIFY(f.store.create("pods", pod("a", "10.1.0.1", true)).ok());
        QTRY_COMPARE_WITH_TIMEOUT(f.addresses("web"), std::string("10.1.0.1|"), 5000);
        QVERIFY(f.store.remove("endpoints", "default", "web").ok());
        QTRY_COMPARE_WITH_TIMEOUT(f.addresses("web"), std::string("10.1.0.1|"), 5000);
    }

    void servicesWithoutSelectorAreLeftAlone()
    {
        Fixture f;
        // Hand-made Endpoints of an external database, as the seed notes' chapter 11 shows.
        json manual = {{"apiVersion", "v1"},
                       {"kind", "Endpoints"},
                       {"metadata", {{"name", "external-db"}, {"namespace", "default"}}},
                       {"subsets", json::array({{{"addresses", json::array({{{"ip", "11.11.11.11"}}})},
                                                 {"ports", json::array({{{"port", 5432}}})}}})}};
        auto created = f.store.create("endpoints", manual);
        QVERIFY(created.ok());
        QVERIFY(f.store.create("services", service("external-db", nullptr, json::array({port("", 5432, 5432)}))).ok());
        QVERIFY(f.store.create("pods", pod("a", "10.1.0.1", true)).ok());
        // The controller has seen the Service (a synced selector Service proves the queue ran).
        QVERIFY(f.store.create("services", service("web", {{"app", "web"}}, json::array({port("", 80, 8080)}))).ok());
        QTRY_COMPARE_WITH_TIMEOUT(f.addresses("web"), std::string("10.1.0.1|"), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(f.controller.queue().len(), size_t(0), 5000);
        QVERIFY(f.controller.sync("default/external-db").ok());
        auto after = f.store.get("endpoints", "default", "external-db");
        QVERIFY(after.ok());
        QCOMPARE((**after)["metadata"]["resourceVersion"], (**created)["metadata"]["resourceVersion"]);
    }

    void noWriteWhenUnchanged()
    {
        Fixture f;
        QVERIFY(f.store.create("services", service("web", {{"app", "web"}}, json::array({port("", 80, 8080)}))).ok());
        QVERIFY(f.store.create("pods", pod("a", "10.1.0.1", true)).ok());
        QTRY_COMPARE_WITH_TIMEOUT(f.addresses("web"), std::string("10.1.0.1|"), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(f.controller.queue().len(), size_t(0), 5000);
        const json before = **f.store.get("endpoints", "default", "web");
        // A status heartbeat of the pod and an annotation on the Service change nothing published.
        QVERIFY(f.store.modify("pods", "default", "a", [](json &p) -> Result<bool> {
                    p["status"]["conditions"][0]["lastProbeTime"] = "2024-01-01T00:00:00Z";
                    return true;
                }).ok());
        const auto syncs = f.controller.syncCount();
        QVERIFY(f.store.modify("services", "default", "web", [](json &s) -> Result<bool> {
                    s["metadata"]["annotations"] = {{"note", "hello"}};
                    return true;
                }).ok());
        QTRY_VERIFY_WITH_TIMEOUT(f.controller.syncCount() > syncs, 5000);
        QVERIFY(f.controller.sync("default/web").ok());
        QCOMPARE((**f.store.get("endpoints", "default", "web"))["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"]);
    }

    void headlessServiceIsLabelled()
    {
        Fixture f;
        json headless = service("db", {{"app", "web"}}, json::array({port("", 5432, 5432)}));
        headless["spec"]["clusterIP"] = "None";
        QVERIFY(f.store.create("services", headless).ok());
        QTRY_VERIFY_WITH_TIMEOUT(f.store.get("endpoints", "default", "db").ok(), 5000);
        auto ep = f.store.get("endpoints", "default", "db");
        QCOMPARE((**ep)["metadata"]["labels"], json({{"service.kubernetes.io/headless", ""}, {"tier", "front"}}));
    }

    void overCapacityIsTruncated()
    {
        // 3 ready and 4 not-ready pods with room for 5: every ready one stays, 2 not-ready.
        store::Store store;
        SharedInformers informers{store, Clock::system()};
        EndpointsController::Options options;
        options.maxAddresses = 5;
        EndpointsController controller(informers, options);
        informers.start();
        QVERIFY(store.create("services", service("web", {{"app", "web"}}, json::array({port("", 80, 8080)}))).ok());
        for (int i = 0; i < 7; ++i)
            QVERIFY(store.create("pods", pod("p" + std::to_string(i), "10.2.0." + std::to_string(i + 1), i < 3)).ok());
        QVERIFY(informers.waitForSync(std::chrono::seconds(5)));
        QTRY_COMPARE_WITH_TIMEOUT(informers.forResource("pods").indexer().size(), size_t(7), 5000);
        QVERIFY(controller.sync("default/web").ok());
        auto ep = store.get("endpoints", "default", "web");
        QVERIFY(ep.ok());
        QCOMPARE((**ep)["subsets"][0]["addresses"].size(), size_t(3));
        QCOMPARE((**ep)["subsets"][0]["notReadyAddresses"].size(), size_t(2));
        QCOMPARE((**ep)["metadata"]["annotations"]["endpoints.kubernetes.io/over-capacity"], json("truncated"));
        informers.stop();
    }
};

QTEST_GUILESS_MAIN(TestEndpointsController)
#include "tst_endpointscontroller.moc"
