// podscape-agent: the embedded engine without a GUI, serving the Kubernetes API over HTTPS
// with a token, for kubectl, client libraries and remote Podscape windows.
#include "core/apiserver/apihandler.h"
#include "core/apiserver/bootstrap.h"
#include "core/apiserver/credentials.h"
#include "core/apiserver/httpsserver.h"
#include "core/base/logger.h"
#include "core/base/version.h"
#include "core/cluster/cluster.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <pthread.h>
#include <sys/resource.h>
#include <signal.h>

using namespace podscape::core;

namespace {

void printHelp()
{
    std::puts("Usage: podscape-agent [options]\n"
              "\n"
              "Runs the Podscape Kubernetes engine headless and serves the Kubernetes API over HTTPS\n"
              "with a bearer token. On first start it makes a CA, a serving certificate and an admin\n"
              "token in the data directory (files 0600) and writes DATA-DIR/kubeconfig for kubectl.\n"
              "\n"
              "Options:\n"
              "  --data-dir DIR         Where the store, certificates and tokens live (default ./podscape-data).\n"
              "  --listen ADDR:PORT     Address to serve on (default 127.0.0.1:6443). A non-loopback\n"
              "                         address also needs --allow-remote.\n"
              "  --allow-remote         Accept a non-loopback --listen address (TLS and tokens still apply).\n"
              "  --nodes N              Nodes (default 3).\n"
              "  --runtime NAME         process: containers are real processes (podscape-image's programs\n"
              "                         and the host's tools, in Linux namespaces) with a Service proxy on\n"
              "                         loopback; sim: simulated containers, for large clusters. Default:\n"
              "                         process up to 10 nodes, sim above.\n"
              "  --timing PRESET        realistic (default) or instant (the simulated runtime's timings).\n"
              "  --teaching             Short node-failure timings for demonstrations.\n"
              "  --tls-san NAME         Another name or IP for the serving certificate (repeatable).\n"
              "  --print-kubeconfig     Print the kubeconfig to standard output and exit.\n"
              "  --add-token NAME       Add a token, write DATA-DIR/kubeconfig-NAME (0600) for it and exit;\n"
              "                         a running agent accepts it after its next start.\n"
              "  --read-only            With --add-token: the token may only read (GET, watch, logs).\n"
              "  --log-level LEVEL      debug, info (default), warning or error.\n"
              "  -h, --help             Show this help and exit.\n"
              "  -v, --version          Show the version and exit.\n"
              "\n"
              "SIGTERM or SIGINT stops it cleanly; a restart resumes from the persisted store.");
}

int usage(const std::string &message)
{
    std::fprintf(stderr, "podscape-agent: %s; see --help\n", message.c_str());
    return 2;
}

} // namespace

int main(int argc, char **argv)
{
    std::string dataDir = "podscape-data", listen = "127.0.0.1:6443", timing = "realistic", logLevel = "info";
    std::string runtime;
    std::vector<std::string> sans;
    int nodes = 3;
    bool allowRemote = false, printKubeconfig = false, teaching = false, readOnly = false;
    std::string tokenName;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&](std::string &out) -> bool {
            if (i + 1 >= argc)
                return false;
            out = argv[++i];
            return true;
        };
        std::string v;
        if (arg == "-h" || arg == "--help") {
            printHelp();
            return 0;
        } else if (arg == "-v" || arg == "--version") {
            std::printf("podscape-agent %s\n", kVersion);
            return 0;
        } else if (arg == "--data-dir") {
            if (!value(dataDir))
                return usage("--data-dir needs a directory");
        } else if (arg == "--listen") {
            if (!value(listen))
                return usage("--listen needs ADDR:PORT");
        } else if (arg == "--timing") {
            if (!value(timing))
                return usage("--timing needs realistic or instant");
        } else if (arg == "--runtime") {
            if (!value(runtime) || (runtime != "sim" && runtime != "process"))
                return usage("--runtime needs process or sim");
        } else if (arg == "--log-level") {
            if (!value(logLevel))
                return usage("--log-level needs a level");
        } else if (arg == "--tls-san") {
            if (!value(v))
                return usage("--tls-san needs a name");
            sans.push_back(v);
        } else if (arg == "--nodes") {
            if (!value(v) || v.find_first_not_of("0123456789") != std::string::npos || v.empty())
                return usage("--nodes needs a number");
            nodes = std::atoi(v.c_str());
        } else if (arg == "--allow-remote") {
            allowRemote = true;
        } else if (arg == "--teaching") {
            teaching = true;
        } else if (arg == "--add-token") {
            if (!value(tokenName) || tokenName.empty()
                || tokenName.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
                return usage("--add-token needs a name of lowercase letters, digits and '-'");
        } else if (arg == "--read-only") {
            readOnly = true;
        } else if (arg == "--print-kubeconfig") {
            printKubeconfig = true;
        } else {
            return usage("unknown option '" + std::string(arg) + "'");
        }
    }
    if (logLevel == "debug")
        Logger::instance().setLevel(LogLevel::Debug);
    else if (logLevel == "warning")
        Logger::instance().setLevel(LogLevel::Warning);
    else if (logLevel == "error")
        Logger::instance().setLevel(LogLevel::Error);
    else if (logLevel != "info")
        return usage("unknown log level '" + logLevel + "'");

    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos || colon + 1 >= listen.size())
        return usage("--listen needs ADDR:PORT, e.g. 127.0.0.1:6443");
    apiserver::HttpsServerOptions serverOptions;
    serverOptions.address = listen.substr(0, colon);
    if (serverOptions.address.size() > 2 && serverOptions.address.front() == '[')
        serverOptions.address = serverOptions.address.substr(1, serverOptions.address.size() - 2);
    // Before anything is created: a refused address should cost nothing.
    if (auto checked = apiserver::HttpsServer::checkListenAddress(serverOptions.address, allowRemote); !checked) {
        std::fprintf(stderr, "podscape-agent: %s\n", checked.error().message().c_str());
        return 2;
    }
    const std::string port = listen.substr(colon + 1);
    if (port.find_first_not_of("0123456789") != std::string::npos || std::atoi(port.c_str()) > 65535)
        return usage("invalid port '" + port + "'");
    serverOptions.port = static_cast<uint16_t>(std::atoi(port.c_str()));

    auto credentials = apiserver::Credentials::loadOrCreate(dataDir, sans);
    if (!credentials) {
        std::fprintf(stderr, "podscape-agent: %s\n", credentials.error().message().c_str());
        return 1;
    }
    if (readOnly && tokenName.empty())
        return usage("--read-only goes with --add-token NAME");
    if (printKubeconfig || !tokenName.empty()) {
        if (serverOptions.port == 0)
            return usage(std::string(printKubeconfig ? "--print-kubeconfig" : "--add-token") + " needs a fixed port in --listen");
        const bool v6 = serverOptions.address.find(':') != std::string::npos;
        const std::string url = "https://" + (v6 ? "[" + serverOptions.address + "]" : serverOptions.address) + ":" + port;
        if (printKubeconfig) {
            std::fputs(credentials->kubeconfig(url, credentials->adminToken()).c_str(), stdout);
            return 0;
        }
        auto token = credentials->addToken(readOnly ? apiserver::Role::ReadOnly : apiserver::Role::Admin, tokenName);
        const std::string path = dataDir + "/kubeconfig-" + tokenName;
        Result<void> written = token ? credentials->writeKubeconfig(path, url, *token, "podscape-" + tokenName)
                                     : Result<void>(fail(token.error()));
        if (!written) {
            std::fprintf(stderr, "podscape-agent: %s\n", written.error().message().c_str());
            return 1;
        }
        std::printf("added %s token \"%s\"; kubeconfig: %s\n", readOnly ? "read-only" : "admin", tokenName.c_str(),
                    path.c_str());
        return 0;
    }

    // SIGTERM/SIGINT are taken by sigwait below: blocked before any thread starts, so that
    // every thread inherits the mask and none of them is interrupted instead.
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGTERM);
    sigaddset(&stopSignals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

    // The Service proxy holds up to six descriptors per relayed connection: the soft limit of
    // 1024 would cap it far below its own maximum.
    if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    cluster::ClusterConfig config = teaching ? cluster::ClusterConfig::teaching() : cluster::ClusterConfig{};
    config.nodes = nodes;
    config.timing = timing;
    config.dataDir = dataDir;
    config.runtime = !runtime.empty() ? runtime : nodes <= 10 ? "process" : "sim";
    // podscape-shim and podscape-image are installed next to this program.
    std::error_code exeError;
    config.programDir = std::filesystem::read_symlink("/proc/self/exe", exeError).parent_path().string();
    auto started = cluster::Cluster::start(config);
    if (!started) {
        std::fprintf(stderr, "podscape-agent: %s\n", started.error().message().c_str());
        return 1;
    }
    auto &cluster = **started;
    apiserver::ApiHandler handler(cluster.api(), cluster.clock());
    handler.setNodeAccess(cluster);
    auto server = apiserver::HttpsServer::start(
        *credentials, [&handler](const apiserver::HttpRequest &r) { return handler.handle(r); }, serverOptions, allowRemote);
    if (!server) {
        std::fprintf(stderr, "podscape-agent: %s\n", server.error().message().c_str());
        return 1;
    }
    if (auto r = apiserver::ensureKubernetesService(cluster.api(), config.serviceCIDR, serverOptions.address, (*server)->port());
        !r)
        std::fprintf(stderr, "podscape-agent: the kubernetes Service could not be written: %s\n", r.error().message().c_str());
    const std::string kubeconfigPath = dataDir + "/kubeconfig";
    if (auto r = credentials->writeKubeconfig(kubeconfigPath, (*server)->url(), credentials->adminToken()); !r) {
        std::fprintf(stderr, "podscape-agent: %s\n", r.error().message().c_str());
        return 1;
    }
    std::printf("podscape-agent %s serving %s (%d node(s)); kubeconfig: %s\n", kVersion, (*server)->url().c_str(), nodes,
                kubeconfigPath.c_str());
    std::fflush(stdout);

    int signal = 0;
    sigwait(&stopSignals, &signal);
    std::printf("podscape-agent: stopping\n");
    (*server)->stop();
    cluster.stop();
    return 0;
}
