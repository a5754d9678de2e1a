// The API server under the loads issue 4 names, in one process (server and clients share
// the machine's cores, so the figures are conservative):
//   1. `kubectl get pods` wall time with 10,000 pods (kubectl's own start included);
//   2. LIST of 10,000 pods as JSON: MB/s served;
//   3. single-object create and patch latency, p50/p99, from 50 concurrent clients for 30 s;
//   4. watch latency from write to client, p50/p99;
//   5. memory with 100 open watches, idle and while events flow.
// Usage: bench_apiserver [--pods N] [--clients N] [--seconds S] [--watches N] [--hold S] [--durable 0|1]
#include "benchutil.h"
#include "core/apiserver/apihandler.h"
#include "core/base/logger.h"
#include "core/cluster/cluster.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace podscape::core;
using nlohmann::json;
using podscape::bench::statusKb;
using Steady = std::chrono::steady_clock;

namespace {

double since(Steady::time_point t) { return std::chrono::duration<double>(Steady::now() - t).count(); }

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

struct Client {
    CURL *curl = curl_easy_init();
    curl_slist *headers = nullptr;
    std::string body;
    std::string url;

    Client(const std::string &server, const std::string &token, const std::string &caFile) : url(server)
    {
        headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
        curl_easy_setopt(curl, CURLOPT_CAINFO, caFile.c_str());
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char *p, size_t s, size_t n, void *u) {
            static_cast<std::string *>(u)->append(p, s * n);
            return s * n;
        });
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    }
    ~Client()
    {
        curl_slist_free_all(headers);
        curl_easy_cleanup(curl);
    }
    // The HTTP status; the body is in `body`.
    long request(const char *method, const std::string &path, const std::string &payload = {},
                 const char *contentType = "application/json")
    {
        body.clear();
        curl_slist *h = curl_slist_append(nullptr, (std::string("Content-Type: ") + contentType).c_str());
        for (auto *i = headers; i; i = i->next)
            h = curl_slist_append(h, i->data);
        curl_easy_setopt(curl, CURLOPT_URL, (url + path).c_str());
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        if (payload.empty()) {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, nullptr);
            curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        } else {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.c_str());
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
        }
        long code = 0;
        if (curl_easy_perform(curl) == CURLE_OK)
            curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        curl_slist_free_all(h);
        return code;
    }
};

json pod(int i, int nodes)
{
    const std::string name = "bench-" + std::to_string(i);
    return {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"app", "bench"}, {"shard", std::to_string(i % 10)}}}}},
            {"spec",
             {{"nodeName", "node-" + std::to_string(1 + i % nodes)},
              {"containers", json::array({{{"name", "app"}, {"image", "luksa/kubia"}, {"ports", json::array({{{"containerPort", 8080}, {"protocol", "TCP"}}})}}})}}},
            {"status",
             {{"phase", "Running"},
              {"podIP", "127.244." + std::to_string(1 + i % nodes) + "." + std::to_string(2 + i % 250)},
              {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})},
              {"containerStatuses",
               json::array({{{"name", "app"}, {"ready", true}, {"restartCount", 0}, {"image", "luksa/kubia"}, {"state", {{"running", {{"startedAt", "2026-11-28T00:00:00Z"}}}}}}})}}}};
}

} // namespace

int main(int argc, char **argv)
{
    int pods = 10'000, clients = 50, seconds = 30, watches = 100, hold = 0, durable = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        const int v = std::atoi(argv[i + 1]);
        if (a == "--pods") pods = v;
        else if (a == "--clients") clients = v;
        else if (a == "--seconds") seconds = v;
        else if (a == "--watches") watches = v;
        else if (a == "--hold") hold = v; // serve idle this long first, for poking with kubectl
        else if (a == "--durable") durable = v; // 1: the store in SQLite, as the agent runs
        else {
            std::fprintf(stderr, "usage: bench_apiserver [--pods N] [--clients N] [--seconds S] [--watches N] [--hold S] [--durable 0|1]\n");
            return 2;
        }
    }
    Logger::instance().setLevel(LogLevel::Warning);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const auto dir = std::filesystem::temp_directory_path() / ("bench_apiserver." + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);

    // A cluster without kubelets: the pods are written as if they ran, so that what is
    // measured is the API server, not the simulation. Memory-only unless --durable 1.
    cluster::ClusterConfig config;
    config.nodes = 0;
    if (durable)
        config.dataDir = (dir / "data").string();
    auto started = cluster::Cluster::start(config);
    if (!started) {
        std::fprintf(stderr, "cluster: %s\n", started.error().message().c_str());
        return 1;
    }
    auto &c = **started;
    auto t0 = Steady::now();
    for (int i = 0; i < pods; ++i)
        if (auto r = c.store().create("pods", pod(i, 100)); !r) {
            std::fprintf(stderr, "pod %d: %s\n", i, r.error().message().c_str());
            return 1;
        }
    std::printf("bench_apiserver: %d pods written in %.2f s; RSS %ld MiB\n", pods, since(t0), statusKb("VmRSS:") / 1024);

    auto credentials = apiserver::Credentials::loadOrCreate(dir.string());
    apiserver::ApiHandler handler(c.api(), c.clock());
    apiserver::HttpsServerOptions options; // as the agent serves
    auto server = apiserver::HttpsServer::start(
        *credentials, [&](const apiserver::HttpRequest &r) { return handler.handle(r); }, options);
    if (!server) {
        std::fprintf(stderr, "server: %s\n", server.error().message().c_str());
        return 1;
    }
    const std::string url = (*server)->url();
    const std::string token = credentials->adminToken().secret;
    const std::string kubeconfig = (dir / "kubeconfig").string();
    const std::string caFile = (dir / "ca.crt").string();
    (void)credentials->writeKubeconfig(kubeconfig, url, credentials->adminToken());

    if (hold > 0) {
        std::printf("holding %d s: kubectl --kubeconfig %s get pods\n", hold, kubeconfig.c_str());
        std::fflush(stdout);
        std::this_thread::sleep_for(std::chrono::seconds(hold));
    }

    // 0. Where the time goes, in process (no TLS, no client): the store's list, and the
    // handler's answers to the requests kubectl makes.
    {
        auto timeIt = [](auto &&f) {
            auto t = Steady::now();
            for (int i = 0; i < 5; ++i)
                f();
            return since(t) / 5 * 1000;
        };
        store::ListOptions all;
        all.ns = "default";
        const double storeList = timeIt([&] { (void)c.store().list("pods", all); });
        store::ListOptions page = all;
        page.limit = 500;
        const double storePage = timeIt([&] { (void)c.store().list("pods", page); });
        auto call = [&](const std::string &target, const std::string &accept) {
            apiserver::HttpRequest r;
            r.method = "GET";
            r.target = target;
            r.headers["accept"] = accept;
            r.role = apiserver::Role::Admin;
            return handler.handle(r);
        };
        const std::string table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
        const double jsonList = timeIt([&] { (void)call("/api/v1/namespaces/default/pods", "application/json"); });
        const double tablePage = timeIt([&] { (void)call("/api/v1/namespaces/default/pods?limit=500", table); });
        std::printf("0. in process: store list %.1f ms (page of 500: %.1f ms); handler JSON list %.1f ms, Table with limit=500 (served in pages of 5,000) %.1f ms\n",
                    storeList, storePage, jsonList, tablePage);
    }

    // 1. kubectl get pods, the whole command.
    {
        std::vector<double> times;
        size_t lines = 0;
        for (int i = 0; i < 5; ++i) {
            auto t = Steady::now();
            FILE *p = ::popen(("kubectl --kubeconfig " + kubeconfig + " get pods 2>&1").c_str(), "r");
            if (!p) {
                std::fprintf(stderr, "kubectl: cannot run\n");
                return 1;
            }
            char buf[65536];
            lines = 0;
            while (size_t n = std::fread(buf, 1, sizeof buf, p))
                lines += std::count(buf, buf + n, '\n');
            ::pclose(p);
            times.push_back(since(t));
        }
        std::printf("1. kubectl get pods (%zu lines): median %.3f s, best %.3f s over 5 runs\n", lines, percentile(times, 0.5),
                    percentile(times, 0.0));
    }

    // 2. LIST as JSON (and as a Table, which is what kubectl asks for).
    {
        Client client(url, token, caFile);
        for (const char *accept : {"application/json", "application/json;as=Table;v=v1;g=meta.k8s.io"}) {
            curl_slist *h = curl_slist_append(nullptr, ("Accept: " + std::string(accept)).c_str());
            client.headers = curl_slist_append(client.headers, ("Accept: " + std::string(accept)).c_str());
            double total = 0;
            size_t bytes = 0;
            for (int i = 0; i < 5; ++i) {
                auto t = Steady::now();
                client.request("GET", "/api/v1/namespaces/default/pods");
                total += since(t);
                bytes += client.body.size();
            }
            curl_slist_free_all(h);
            curl_slist_free_all(client.headers);
            client.headers = curl_slist_append(nullptr, ("Authorization: Bearer " + token).c_str());
            std::printf("2. LIST %d pods as %s: %.1f MB per list, %.3f s each, %.0f MB/s\n", pods,
                        std::string(accept).find("Table") != std::string::npos ? "Table" : "JSON", bytes / 5 / 1e6, total / 5,
                        bytes / 1e6 / total);
        }
    }

    // 3. create + patch latency under concurrent clients.
    {
        std::vector<std::vector<double>> createMs(clients), patchMs(clients);
        std::atomic<long> errors{0};
        const auto end = Steady::now() + std::chrono::seconds(seconds);
        std::vector<std::thread> threads;
        for (int t = 0; t < clients; ++t)
            threads.emplace_back([&, t] {
                Client client(url, token, caFile);
                for (int i = 0; Steady::now() < end; ++i) {
                    const std::string name = "c-" + std::to_string(t) + "-" + std::to_string(i);
                    json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", {{"k", "v"}}}};
                    auto s = Steady::now();
                    if (client.request("POST", "/api/v1/namespaces/default/configmaps", cm.dump()) != 201)
                        ++errors;
                    createMs[t].push_back(since(s) * 1000);
                    s = Steady::now();
                    if (client.request("PATCH", "/api/v1/namespaces/default/configmaps/" + name, R"({"data":{"k":"w"}})",
                                       "application/merge-patch+json")
                        != 200)
                        ++errors;
                    patchMs[t].push_back(since(s) * 1000);
                }
            });
        for (auto &th : threads)
            th.join();
        std::vector<double> creates, patches;
        for (int t = 0; t < clients; ++t) {
            creates.insert(creates.end(), createMs[t].begin(), createMs[t].end());
            patches.insert(patches.end(), patchMs[t].begin(), patchMs[t].end());
        }
        std::printf("3. %d clients for %d s: %zu creates p50 %.2f ms p99 %.2f ms; %zu patches p50 %.2f ms p99 %.2f ms; "
                    "%.0f writes/s; %ld errors\n",
                    clients, seconds, creates.size(), percentile(creates, 0.5), percentile(creates, 0.99), patches.size(),
                    percentile(patches, 0.5), percentile(patches, 0.99), (creates.size() + patches.size()) / double(seconds),
                    errors.load());
    }

    // 4 and 5. Watches: `watches` of them on the configmaps of namespace "watched" from the
    // current revision (as informers watch after their list), latency measured on one of them.
    {
        const long rssBefore = statusKb("VmRSS:");
        struct Watch {
            std::string buffer;
            std::vector<double> latencyMs;
            std::mutex mutex;
            bool measure = false;
        };
        std::vector<std::unique_ptr<Watch>> ws;
        std::vector<std::thread> threads;
        std::atomic<bool> stop{false};
        Client writer(url, token, caFile);
        if (writer.request("POST", "/api/v1/namespaces", R"({"metadata":{"name":"watched"}})") != 201
            || writer.request("POST", "/api/v1/namespaces/watched/configmaps", R"({"metadata":{"name":"w"}})") != 201) {
            std::fprintf(stderr, "cannot create the watched configmap\n");
            return 1;
        }
        const std::string rv = std::to_string(c.store().revision());
        for (int i = 0; i < watches; ++i) {
            ws.push_back(std::make_unique<Watch>());
            ws.back()->measure = i == 0;
            threads.emplace_back([&, w = ws.back().get()] {
                CURL *curl = curl_easy_init();
                curl_slist *h = curl_slist_append(nullptr, ("Authorization: Bearer " + token).c_str());
                const std::string target = url + "/api/v1/namespaces/watched/configmaps?watch=true&resourceVersion=" + rv;
                curl_easy_setopt(curl, CURLOPT_URL, target.c_str());
                curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
                curl_easy_setopt(curl, CURLOPT_CAINFO, caFile.c_str());
                curl_easy_setopt(curl, CURLOPT_WRITEDATA, w);
                curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char *p, size_t s, size_t n, void *u) -> size_t {
                    auto *w = static_cast<Watch *>(u);
                    w->buffer.append(p, s * n);
                    size_t nl;
                    while ((nl = w->buffer.find('\n')) != std::string::npos) {
                        if (w->measure) {
                            json e = json::parse(w->buffer.substr(0, nl), nullptr, false);
                            const std::string sent = e.is_object() ? e["object"]["metadata"].value("annotations", json::object()).value("sent", "") : "";
                            if (!sent.empty()) {
                                const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now().time_since_epoch()).count();
                                std::lock_guard g(w->mutex);
                                w->latencyMs.push_back((now - std::stoll(sent)) / 1e6);
                            }
                        }
                        w->buffer.erase(0, nl + 1);
                    }
                    return s * n;
                });
                curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &stop);
                curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
                curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, +[](void *u, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
                    return static_cast<std::atomic<bool> *>(u)->load() ? 1 : 0;
                });
                curl_easy_perform(curl);
                curl_slist_free_all(h);
                curl_easy_cleanup(curl);
            });
        }
        while ((*server)->openStreams() < size_t(watches))
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        const long rssIdle = statusKb("VmRSS:");
        // Writes every watch sees: 2,000 updates at about 400/s.
        long writeErrors = 0;
        for (int i = 0; i < 2000; ++i) {
            const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now().time_since_epoch()).count();
            json patch = {{"metadata", {{"annotations", {{"sent", std::to_string(now)}}}}}};
            if (writer.request("PATCH", "/api/v1/namespaces/watched/configmaps/w", patch.dump(), "application/merge-patch+json") != 200)
                ++writeErrors;
            std::this_thread::sleep_for(std::chrono::microseconds(2500));
        }
        auto waitStart = Steady::now();
        while (since(waitStart) < 10) {
            std::lock_guard g(ws[0]->mutex);
            if (ws[0]->latencyMs.size() >= 2000)
                break;
        }
        const long rssBusy = statusKb("VmRSS:");
        std::vector<double> latency;
        {
            std::lock_guard g(ws[0]->mutex);
            latency = ws[0]->latencyMs;
        }
        std::printf("4. watch latency write->client over %zu events: p50 %.2f ms, p99 %.2f ms (%d watches open, %ld write errors)\n",
                    latency.size(), percentile(latency, 0.5), percentile(latency, 0.99), watches, writeErrors);
        std::printf("5. %d open watches: RSS %ld MiB before, %ld MiB idle (+%.0f KiB per watch, client side included), "
                    "%ld MiB after 2,000 events each\n",
                    watches, rssBefore / 1024, rssIdle / 1024, double(rssIdle - rssBefore) / watches, rssBusy / 1024);
        stop = true;
        for (auto &th : threads)
            th.join();
    }
    std::printf("peak RSS %ld MiB\n", statusKb("VmHWM:") / 1024);
    (*server)->stop();
    c.stop();
    std::filesystem::remove_all(dir);
    curl_global_cleanup();
    return 0;
}
