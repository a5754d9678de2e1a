#pragma once
// An embedded cluster behind the API handler and an HTTPS server on a free loopback port,
// with a kubeconfig for the real kubectl. Shared by the API tests.
#include "core/apiserver/apihandler.h"
#include "core/cluster/cluster.h"

#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <functional>

namespace podscape::tests {

struct ApiHarness {
    QTemporaryDir dir;
    std::unique_ptr<core::cluster::Cluster> cluster;
    std::unique_ptr<core::apiserver::Credentials> credentials;
    std::unique_ptr<core::apiserver::ApiHandler> handler;
    std::unique_ptr<core::apiserver::HttpsServer> server;
    std::string kubeconfig;

    // `nodes` replaces the cluster's own kubelets as the handler's NodeAccess (a fake); null:
    // the cluster's, when `withNodes`.
    explicit ApiHarness(bool withNodes = false, core::cluster::NodeAccess *nodes = nullptr)
    {
        core::cluster::ClusterConfig config;
        config.nodes = 1;
        config.timing = "instant";
        auto started = core::cluster::Cluster::start(config);
        if (!started)
            qFatal("cluster: %s", started.error().message().c_str());
        cluster = std::move(*started);
        credentials = std::make_unique<core::apiserver::Credentials>(
            *core::apiserver::Credentials::loadOrCreate(dir.path().toStdString()));
        handler = std::make_unique<core::apiserver::ApiHandler>(cluster->api());
        if (nodes)
            handler->setNodeAccess(*nodes);
        else if (withNodes)
            handler->setNodeAccess(*cluster);
        auto serving = core::apiserver::HttpsServer::start(
            *credentials, [this](const core::apiserver::HttpRequest &r) { return handler->handle(r); });
        if (!serving)
            qFatal("server: %s", serving.error().message().c_str());
        server = std::move(*serving);
        kubeconfig = dir.path().toStdString() + "/kubeconfig";
        (void)credentials->writeKubeconfig(kubeconfig, server->url(), credentials->adminToken());
    }
    ~ApiHarness()
    {
        server.reset();
        cluster->stop();
    }

    core::apiserver::HttpResponse call(const std::string &method, const std::string &target, const std::string &body = {},
                                       std::map<std::string, std::string> headers = {},
                                       core::apiserver::Role role = core::apiserver::Role::Admin)
    {
        core::apiserver::HttpRequest r;
        r.method = method;
        r.target = target;
        r.body = body;
        r.headers = std::move(headers);
        r.role = role;
        return handler->handle(r);
    }

    struct Run {
        int code = -1;
        std::string out, err;
    };
    Run kubectl(const QStringList &args, const std::string &stdinText = {})
    {
        QProcess p;
        QStringList all = {"--kubeconfig", QString::fromStdString(kubeconfig)};
        all += args;
        p.start(QStandardPaths::findExecutable("kubectl"), all);
        if (!stdinText.empty())
            p.write(stdinText.c_str());
        p.closeWriteChannel();
        p.waitForFinished(60000);
        return {p.exitCode(), p.readAllStandardOutput().toStdString(), p.readAllStandardError().toStdString()};
    }
};

} // namespace podscape::tests
