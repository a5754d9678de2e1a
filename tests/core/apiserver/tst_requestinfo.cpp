#include "core/apiserver/requestinfo.h"

#include <QtTest>

using namespace podscape::core;
using namespace podscape::core::apiserver;

class TestRequestInfo : public QObject
{
    Q_OBJECT
private slots:
    void resourcePaths_data()
    {
        QTest::addColumn<QString>("method");
        QTest::addColumn<QString>("target");
        QTest::addColumn<QString>("expected"); // verb group version ns resource name subresource
        auto row = [](const char *m, const char *t, const char *e) { QTest::newRow(t) << m << t << e; };
        row("GET", "/api/v1/namespaces/default/pods?limit=500", "list|-|v1|default|pods|-|-");
        row("GET", "/api/v1/pods", "list|-|v1|-|pods|-|-");
        row("GET", "/api/v1/namespaces/default/pods/nginx", "get|-|v1|default|pods|nginx|-");
        row("GET", "/api/v1/namespaces/default/pods?watch=true&resourceVersion=12", "watch|-|v1|default|pods|-|-");
        row("GET", "/api/v1/namespaces/default/pods?watch=1", "watch|-|v1|default|pods|-|-");
        row("GET", "/api/v1/namespaces/default/pods?watch=True", "watch|-|v1|default|pods|-|-"); // Python's client
        row("GET", "/api/v1/namespaces/default/pods?watch=yes", "list|-|v1|default|pods|-|-");  // not a Go bool
        row("GET", "/api/v1/namespaces/default/pods/nginx/log?follow=true", "get|-|v1|default|pods|nginx|log");
        row("POST", "/api/v1/namespaces/default/pods/nginx/exec?command=ls", "create|-|v1|default|pods|nginx|exec");
        row("PATCH", "/apis/apps/v1/namespaces/d/deployments/web/scale", "patch|apps|v1|d|deployments|web|scale");
        row("PUT", "/apis/apps/v1/namespaces/d/deployments/web/status", "update|apps|v1|d|deployments|web|status");
        row("DELETE", "/apis/apps/v1/namespaces/d/replicasets", "deletecollection|apps|v1|d|replicasets|-|-");
        row("DELETE", "/apis/apps/v1/namespaces/d/replicasets/web-1", "delete|apps|v1|d|replicasets|web-1|-");
        row("POST", "/api/v1/namespaces", "create|-|v1|-|namespaces|-|-");
        row("GET", "/api/v1/namespaces/default", "get|-|v1|-|namespaces|default|-");
        row("PUT", "/api/v1/namespaces/gone/finalize", "update|-|v1|-|namespaces|gone|finalize");
        row("GET", "/api/v1/nodes/node-1", "get|-|v1|-|nodes|node-1|-");
        row("GET", "/api/v1/namespaces/default/pods/we%2Bird", "get|-|v1|default|pods|we+ird|-");
    }
    void resourcePaths()
    {
        QFETCH(QString, method);
        QFETCH(QString, target);
        QFETCH(QString, expected);
        auto r = parseRequest(method.toStdString(), target.toStdString());
        QVERIFY(r.ok());
        QVERIFY(r->isResource);
        auto dash = [](const std::string &s) { return s.empty() ? std::string("-") : s; };
        const std::string got = r->verb + "|" + dash(r->group) + "|" + r->version + "|" + dash(r->ns) + "|" + r->resource + "|"
            + dash(r->name) + "|" + dash(r->subresource);
        QCOMPARE(QString::fromStdString(got), expected);
    }

    void nonResourcePaths()
    {
        for (const char *t : {"/version", "/healthz", "/api", "/apis", "/apis/apps", "/api/v1", "/apis/apps/v1", "/openapi/v3"}) {
            auto r = parseRequest("GET", t);
            QVERIFY(r.ok());
            QVERIFY2(!r->isResource, t);
            QCOMPARE(r->verb, std::string("get"));
        }
        auto v1 = parseRequest("GET", "/apis/apps/v1");
        QCOMPARE(v1->group, std::string("apps"));
        QCOMPARE(v1->version, std::string("v1"));
    }

    void queriesAreDecoded()
    {
        auto r = parseRequest("GET", "/api/v1/pods?labelSelector=app%3Dkubia%2Ctier+in+%28a%2Cb%29&fieldSelector=spec.nodeName%3Dnode-1&limit=500");
        QVERIFY(r.ok());
        QCOMPARE(r->queryValue("labelSelector"), std::string("app=kubia,tier in (a,b)"));
        QCOMPARE(r->queryValue("fieldSelector"), std::string("spec.nodeName=node-1"));
        QCOMPARE(r->queryValue("limit"), std::string("500"));
        QCOMPARE(r->queryValue("missing", "x"), std::string("x"));
        QVERIFY(!r->queryFlag("watch"));
        auto exec = parseRequest("GET", "/api/v1/namespaces/d/pods/p/exec?command=ls&stdout=true&command=-l&command=%2Ftmp");
        QVERIFY(exec.ok());
        QCOMPARE(exec->queryValues("command"), (std::vector<std::string>{"ls", "-l", "/tmp"}));
        QCOMPARE(exec->subresource, std::string("exec"));
    }

    void badPathsAreErrors()
    {
        auto escape = parseRequest("GET", "/api/v1/pods?labelSelector=%zz");
        QVERIFY(!escape);
        QCOMPARE(escape.error().httpCode(), 400);
        QVERIFY(!parseRequest("GET", "/api/v1/pods/%4"));
        auto deep = parseRequest("GET", "/api/v1/namespaces/default/pods/a/log/extra");
        QVERIFY(!deep);
        QCOMPARE(deep.error().httpCode(), 404);
    }
};

QTEST_GUILESS_MAIN(TestRequestInfo)
#include "tst_requestinfo.moc"
