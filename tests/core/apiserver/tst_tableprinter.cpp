#include "core/apiserver/tableprinter.h"
#include "tableprinterfixtures.h"

#include <QtTest>

using namespace podscape::core;
using apiserver::TablePrinter;
using nlohmann::json;
using namespace std::chrono_literals;



class TestTablePrinter : public QObject
{
    Q_OBJECT
private slots:
    void podColumnsAreKubectls()
    {
        auto columns = TablePrinter::columns("Pod");
        QCOMPARE(names(columns, 0), (std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age"}));
        QCOMPARE(names(columns, 1), (std::vector<std::string>{"IP", "Node", "Nominated Node", "Readiness Gates"}));
        auto cells = TablePrinter::cells("Pod", runningPod(), kNow);
        { const json expected1 = json::parse(R"(["kubia-7d9f-abcde", "1/1", "Running", 0, "10m", "127.244.1.5", "node-1", "<none>", "<none>"])"); QCOMPARE(json(cells), expected1); }
    }

    void podStatusFollowsTheContainers()
    {
        json crash = runningPod();
        crash["status"]["containerStatuses"][0] = json::parse(R"({"name": "kubia", "ready": false, "restartCount": 4,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2026-11-28T11:58:00Z"}}})");
        QCOMPARE(TablePrinter::podStatus(crash), std::string("CrashLoopBackOff"));
        auto cells = TablePrinter::cells("Pod", crash, kNow);
        QCOMPARE(cells[1], json("0/1"));
        QCOMPARE(cells[3], json("4 (2m ago)"));

        json pending = runningPod();
        pending["status"] = json::parse(R"({"phase": "Pending", "containerStatuses": [{"name": "kubia", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]})");
        QCOMPARE(TablePrinter::podStatus(pending), std::string("ContainerCreating"));

        json init = runningPod();
        init["spec"]["initContainers"] = json::parse(R"([{"name": "setup", "image": "busybox"}])");
        init["status"] = json::parse(R"({"phase": "Pending", "initContainerStatuses": [{"name": "setup", "state": {"running": {}}}]})");
        QCOMPARE(TablePrinter::podStatus(init), std::string("Init:0/1"));

        json oom = runningPod();
        oom["status"]["containerStatuses"][0]["state"] = json::parse(R"({"terminated": {"exitCode": 137, "reason": "OOMKilled"}})");
        QCOMPARE(TablePrinter::podStatus(oom), std::string("OOMKilled"));

        json killed = runningPod();
        killed["status"]["containerStatuses"][0]["state"] = json::parse(R"({"terminated": {"exitCode": 143, "signal": 15}})");
        QCOMPARE(TablePrinter::podStatus(killed), std::string("Signal:15"));

        json deleting = runningPod();
        deleting["metadata"]["deletionTimestamp"] = "2026-11-28T11:59:00Z";
        QCOMPARE(TablePrinter::podStatus(deleting), std::string("Terminating"));

        json evicted = runningPod();
        evicted["status"] = json::parse(R"({"phase": "Failed", "reason": "Evicted"})");
        QCOMPARE(TablePrinter::podStatus(evicted), std::string("Evicted"));
    }

    void nodesServicesEndpoints()
    {
        json node = json::parse(R"({"metadata": {"name": "node-1", "creationTimestamp": "2026-11-28T10:00:00Z",
            "labels": {"node-role.kubernetes.io/worker": ""}},
          "spec": {"unschedulable": true},
          "status": {"conditions": [{"type": "Ready", "status": "True"}],
                     "addresses": [{"type": "InternalIP", "address": "127.243.1.1"}],
                     "nodeInfo": {"kubeletVersion": "v1.32.0-podscape", "osImage": "Podscape Simulated Linux 1.0",
                                  "kernelVersion": "6.8.0-podscape"}}})");
        node["status"]["nodeInfo"]["containerRuntimeVersion"] = "sim://1.0"; // not in the raw string: moc reads // there as a comment
        { json expected2 = json::parse(R"(["node-1", "Ready,SchedulingDisabled", "worker", "120m", "v1.32.0-podscape", "127.243.1.1", "<none>",
                                 "Podscape Simulated Linux 1.0", "6.8.0-podscape"])"); expected2.push_back("sim://1.0"); QCOMPARE(json(TablePrinter::cells("Node", node, kNow)), expected2); }

        json service = json::parse(R"({"metadata": {"name": "kubia", "creationTimestamp": "2026-11-28T11:00:00Z"},
          "spec": {"type": "NodePort", "clusterIP": "127.96.0.10", "selector": {"app": "kubia"},
                   "ports": [{"port": 80, "nodePort": 30123, "protocol": "TCP"}, {"port": 443, "protocol": "TCP", "nodePort": 30124}]}})");
        { const json expected3 = json::parse(R"(["kubia", "NodePort", "127.96.0.10", "<none>", "80:30123/TCP,443:30124/TCP", "60m", "app=kubia"])"); QCOMPARE(json(TablePrinter::cells("Service", service, kNow)), expected3); }

        json endpoints = json::parse(R"({"metadata": {"name": "kubia", "creationTimestamp": "2026-11-28T11:00:00Z"},
          "subsets": [{"addresses": [{"ip": "127.244.1.5"}, {"ip": "127.244.2.3"}, {"ip": "127.244.3.4"}, {"ip": "127.244.1.6"}],
                       "ports": [{"port": 8080, "protocol": "TCP"}]}]})");
        QCOMPARE(TablePrinter::cells("Endpoints", endpoints, kNow)[1],
                 json("127.244.1.5:8080,127.244.2.3:8080,127.244.3.4:8080 + 1 more..."));
        json empty = {{"metadata", {{"name", "none"}}}};
        QCOMPARE(TablePrinter::cells("Endpoints", empty, kNow)[1], json("<none>"));
    }

    void workloads()
    {
        json d = json::parse(R"({"metadata": {"name": "kubia", "creationTimestamp": "2026-11-28T11:59:30Z"},
          "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "kubia"}},
                   "template": {"spec": {"containers": [{"name": "nodejs", "image": "luksa/kubia:v2"}]}}},
          "status": {"readyReplicas": 2, "updatedReplicas": 1, "availableReplicas": 2}})");
        { const json expected4 = json::parse(R"(["kubia", "2/3", 1, 2, "30s", "nodejs", "luksa/kubia:v2", "app=kubia"])"); QCOMPARE(json(TablePrinter::cells("Deployment", d, kNow)), expected4); }
        json rc = json::parse(R"({"metadata": {"name": "kubia", "creationTimestamp": "2026-11-28T11:59:30Z"},
          "spec": {"replicas": 3, "selector": {"app": "kubia"}, "template": {"spec": {"containers": [{"name": "kubia", "image": "luksa/kubia"}]}}},
          "status": {"replicas": 3, "readyReplicas": 3}})");
        { const json expected5 = json::parse(R"(["kubia", 3, 3, 3, "30s", "kubia", "luksa/kubia", "app=kubia"])"); QCOMPARE(json(TablePrinter::cells("ReplicationController", rc, kNow)), expected5); }
    }

    void eventsConfigMapsSecretsAndOthers()
    {
        json e = json::parse(R"({"metadata": {"name": "kubia.1"}, "type": "Normal", "reason": "Scheduled",
          "message": "Successfully assigned default/kubia to node-1", "count": 1,
          "involvedObject": {"kind": "Pod", "name": "kubia"}, "source": {"component": "default-scheduler"},
          "firstTimestamp": "2026-11-28T11:55:00Z", "lastTimestamp": "2026-11-28T11:58:00Z"})");
        auto cells = TablePrinter::cells("Event", e, kNow);
        QCOMPARE(cells[0], json("2m"));
        QCOMPARE(cells[3], json("pod/kubia"));
        QCOMPARE(cells[6], json("Successfully assigned default/kubia to node-1"));
        QCOMPARE(cells[7], json("5m"));
        json cm = json::parse(R"({"metadata": {"name": "cfg", "creationTimestamp": "2026-11-28T11:00:00Z"}, "data": {"a": "1", "b": "2"}})");
        { const json expected6 = json::parse(R"(["cfg", 2, "60m"])"); QCOMPARE(json(TablePrinter::cells("ConfigMap", cm, kNow)), expected6); }
        json secret = json::parse(R"({"metadata": {"name": "s", "creationTimestamp": "2026-11-28T11:00:00Z"}, "type": "Opaque", "data": {"a": "MQ=="}})");
        { const json expected7 = json::parse(R"(["s", "Opaque", 1, "60m"])"); QCOMPARE(json(TablePrinter::cells("Secret", secret, kNow)), expected7); }
        { const json expected8 = json::parse(R"(["cfg", "60m"])"); QCOMPARE(json(TablePrinter::cells("Widget", cm, kNow)), expected8); }
    }

    void rowsCarryPartialObjectMetadata()
    {
        json pod = runningPod();
        auto table = TablePrinter::print("Pod", {&pod}, kNow).toJson();
        QCOMPARE(table["kind"], json("Table"));
        QCOMPARE(table["apiVersion"], json("meta.k8s.io/v1"));
        QCOMPARE(table["columnDefinitions"][5]["priority"], json(1));
        QCOMPARE(table["rows"][0]["object"]["kind"], json("PartialObjectMetadata"));
        QCOMPARE(table["rows"][0]["object"]["metadata"]["namespace"], json("default"));
        QCOMPARE(table["rows"][0]["object"]["metadata"]["labels"]["app"], json("kubia"));
    }
};

QTEST_GUILESS_MAIN(TestTablePrinter)
#include "tst_tableprinter.moc"
