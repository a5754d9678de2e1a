#include "core/apiserver/discovery.h"

#include <QtTest>

using namespace podscape::core;
using apiserver::Discovery;
using nlohmann::json;

namespace {
const json *find(const json &list, const char *key, const std::string &value)
{
    for (const auto &item : list)
        if (item.value(key, json()) == value)
            return &item;
    return nullptr;
}
} // namespace

class TestDiscovery : public QObject
{
    Q_OBJECT
private slots:
    void legacyRootsListTheGroups()
    {
        Discovery d;
        json api = d.apiVersions("127.0.0.1:6443");
        QCOMPARE(api["kind"], json("APIVersions"));
        QCOMPARE(api["versions"], json::array({"v1"}));
        QCOMPARE(api["serverAddressByClientCIDRs"][0]["serverAddress"], json("127.0.0.1:6443"));
        json apis = d.apiGroupList();
        QCOMPARE(apis["kind"], json("APIGroupList"));
        const json *apps = find(apis["groups"], "name", "apps");
        QVERIFY(apps);
        QCOMPARE((*apps)["preferredVersion"]["groupVersion"], json("apps/v1"));
        QVERIFY(!find(apis["groups"], "name", "")); // the core group is /api, not /apis
    }

    void resourceListsCarryShortNamesCategoriesAndSubresources()
    {
        Discovery d;
        json core = d.apiResourceList("", "v1");
        QCOMPARE(core["groupVersion"], json("v1"));
        const json *pods = find(core["resources"], "name", "pods");
        QVERIFY(pods);
        QCOMPARE((*pods)["kind"], json("Pod"));
        QCOMPARE((*pods)["singularName"], json("pod"));
        QCOMPARE((*pods)["namespaced"], json(true));
        QCOMPARE((*pods)["shortNames"], json::array({"po"}));
        QCOMPARE((*pods)["categories"], json::array({"all"}));
        const json *exec = find(core["resources"], "name", "pods/exec");
        QVERIFY(exec);
        QCOMPARE((*exec)["kind"], json("PodExecOptions"));
        QCOMPARE((*exec)["verbs"], json::array({"create", "get"}));
        const json *log = find(core["resources"], "name", "pods/log");
        QVERIFY(log);
        QCOMPARE((*log)["verbs"], json::array({"get"}));
        const json *nodes = find(core["resources"], "name", "nodes");
        QVERIFY(nodes);
        QCOMPARE((*nodes)["namespaced"], json(false));

        json apps = d.apiResourceList("apps", "v1");
        QCOMPARE(apps["groupVersion"], json("apps/v1"));
        const json *scale = find(apps["resources"], "name", "deployments/scale");
        QVERIFY(scale);
        // As a real server: the Scale subresource names its own group and version.
        QCOMPARE(*scale, json::parse(R"({"name": "deployments/scale", "singularName": "", "namespaced": true, "kind": "Scale",
                                         "verbs": ["get", "patch", "update"], "group": "autoscaling", "version": "v1"})"));
        QVERIFY(find(apps["resources"], "name", "deployments/status"));
        QCOMPARE(find(apps["resources"], "name", "deployments")->value("shortNames", json()), json::array({"deploy"}));

        QVERIFY(d.apiResourceList("apps", "v2").is_null());
        QVERIFY(d.apiResourceList("nosuch.io", "v1").is_null());
    }

    void aggregatedDocumentsHaveKubectlsShape()
    {
        Discovery d;
        json core = d.aggregated(true);
        QCOMPARE(core["kind"], json("APIGroupDiscoveryList"));
        QCOMPARE(core["apiVersion"], json("apidiscovery.k8s.io/v2"));
        QCOMPARE(core["items"].size(), size_t(1));
        QVERIFY(!core["items"][0]["metadata"].contains("name"));
        const json &v1 = core["items"][0]["versions"][0];
        QCOMPARE(v1["version"], json("v1"));
        QCOMPARE(v1["freshness"], json("Current"));
        const json *pods = find(v1["resources"], "resource", "pods");
        QVERIFY(pods);
        QCOMPARE((*pods)["scope"], json("Namespaced"));
        QCOMPARE((*pods)["responseKind"], json::parse(R"({"group": "", "version": "v1", "kind": "Pod"})"));
        const json *eviction = find((*pods)["subresources"], "subresource", "eviction");
        QVERIFY(eviction);
        QCOMPARE((*eviction)["responseKind"]["group"], json("policy"));

        json named = d.aggregated(false, "apidiscovery.k8s.io/v2beta1");
        QCOMPARE(named["apiVersion"], json("apidiscovery.k8s.io/v2beta1"));
        bool sawApps = false;
        for (const auto &item : named["items"]) {
            QVERIFY(!item["metadata"].value("name", std::string()).empty());
            sawApps = sawApps || item["metadata"]["name"] == "apps";
        }
        QVERIFY(sawApps);
    }

    void everyResourceIsInExactlyOneDocument()
    {
        Discovery d;
        size_t listed = 0;
        for (const auto &g : d.groups())
            for (const auto &v : g.versions) {
                const json list = d.apiResourceList(g.group, v);
                for (const auto &r : list["resources"])
                    listed += r["name"].get<std::string>().find('/') == std::string::npos ? 1 : 0;
            }
        QCOMPARE(listed, model::SchemaRegistry::builtin().resources().size());
    }
};

QTEST_GUILESS_MAIN(TestDiscovery)
#include "tst_discovery.moc"
