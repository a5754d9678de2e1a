// Decode, default and validate N generated pods from JSON and from YAML; reports MB/s and
// objects/s per stage and the peak resident memory.
//
//   build/tests/bench/bench_model [--pods N] [--rounds R]

#include "core/model/defaulter.h"
#include "core/model/validator.h"
#include "core/model/yamlcodec.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

using namespace podscape::core::model;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

json makePod(int i)
{
    // A realistic pod: two containers, probes, env, resources, volumes, labels.
    std::string name = "kubia-" + std::to_string(i);
    return json::parse(R"({
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": ")" + name + R"(", "namespace": "default",
               "labels": {"app": "kubia", "tier": "web", "pod-template-hash": "7d9f8c6b5"},
               "annotations": {"example.com/owner": "team-a"}},
  "spec": {
    "containers": [
      {"name": "kubia", "image": "luksa/kubia:v2",
       "ports": [{"containerPort": 8080, "name": "http"}],
       "env": [{"name": "GREETING", "value": "hello"}, {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
       "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}},
       "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 5},
       "livenessProbe": {"tcpSocket": {"port": "http"}, "initialDelaySeconds": 10},
       "volumeMounts": [{"name": "data", "mountPath": "/var/data"}, {"name": "config", "mountPath": "/etc/kubia"}]},
      {"name": "sidecar", "image": "busybox", "command": ["sh", "-c", "while true; do sleep 3600; done"]}
    ],
    "volumes": [{"name": "data", "emptyDir": {}}, {"name": "config", "configMap": {"name": "kubia-config"}}],
    "nodeSelector": {"disktype": "ssd"},
    "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]
  }
})");
}

long peakRssKb()
{
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0)
            return std::atol(line.c_str() + 6);
    return 0;
}

struct Stage {
    const char *name;
    double seconds = 0;
};

void report(const char *what, size_t bytes, int objects, double seconds)
{
    std::printf("  %-28s %8.1f ms  %8.1f MB/s  %10.0f objects/s\n", what, seconds * 1e3,
                bytes ? bytes / seconds / 1e6 : 0.0, objects / seconds);
}

} // namespace

int main(int argc, char **argv)
{
    int pods = 10000;
    int rounds = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--pods"))
            pods = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--rounds"))
            rounds = std::atoi(argv[i + 1]);
    }
    std::vector<json> objects;
    objects.reserve(pods);
    for (int i = 0; i < pods; ++i)
        objects.push_back(makePod(i));
    std::string jsonText, yamlText;
    std::vector<std::string> jsonDocs;
    for (const auto &o : objects)
        jsonDocs.push_back(o.dump());
    for (const auto &d : jsonDocs)
        jsonText += d, jsonText += '\n';
    yamlText = encodeYamlStream(objects);

    const auto &registry = SchemaRegistry::builtin();
    Defaulter defaulter(registry);
    Validator validator(registry);
    std::printf("bench_model: %d pods; JSON %.1f MB, YAML %.1f MB; best of %d rounds\n", pods, jsonText.size() / 1e6,
                yamlText.size() / 1e6, rounds);

    double best[5] = {1e9, 1e9, 1e9, 1e9, 1e9};
    size_t issues = 0;
    for (int r = 0; r < rounds; ++r) {
        auto t0 = Clock::now();
        std::vector<json> fromJson;
        fromJson.reserve(pods);
        for (const auto &d : jsonDocs)
            fromJson.push_back(json::parse(d));
        auto t1 = Clock::now();
        auto yamlDocs = decodeYamlStream(yamlText, YamlDecodeOptions::withMaxBytes(yamlText.size() + 1));
        auto t2 = Clock::now();
        if (!yamlDocs || yamlDocs->size() != size_t(pods)) {
            std::fprintf(stderr, "YAML decode failed: %s\n", yamlDocs ? "wrong count" : yamlDocs.error().message().c_str());
            return 1;
        }
        for (auto &o : fromJson)
            defaulter.apply(o);
        auto t3 = Clock::now();
        issues = 0;
        for (const auto &o : fromJson)
            issues += validator.validate(o).size();
        auto t4 = Clock::now();
        std::string encoded = encodeYamlStream(fromJson);
        auto t5 = Clock::now();
        double s[5] = {std::chrono::duration<double>(t1 - t0).count(), std::chrono::duration<double>(t2 - t1).count(),
                       std::chrono::duration<double>(t3 - t2).count(), std::chrono::duration<double>(t4 - t3).count(),
                       std::chrono::duration<double>(t5 - t4).count()};
        for (int i = 0; i < 5; ++i)
            best[i] = std::min(best[i], s[i]);
    }
    report("decode JSON", jsonText.size(), pods, best[0]);
    report("decode YAML (with positions)", yamlText.size(), pods, best[1]);
    report("default", 0, pods, best[2]);
    report("validate", 0, pods, best[3]);
    report("encode YAML", yamlText.size(), pods, best[4]);
    report("JSON: decode+default+validate", jsonText.size(), pods, best[0] + best[2] + best[3]);
    report("YAML: decode+default+validate", yamlText.size(), pods, best[1] + best[2] + best[3]);
    std::printf("  validation issues found: %zu (expected 0)\n", issues);
    std::printf("  peak RSS: %.1f MB\n", peakRssKb() / 1024.0);
    return issues == 0 ? 0 : 1;
}
