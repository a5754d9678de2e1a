#include "core/apiserver/httpsserver.h"

#include <curl/curl.h>

#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>

using namespace podscape::core;
using namespace podscape::core::apiserver;
using nlohmann::json;

namespace {

struct Reply {
    long code = 0;
    std::string body;
    std::string error; // curl's, when the request did not complete
    long newConnections = -1;
};

size_t collect(char *data, size_t size, size_t n, void *out)
{
    static_cast<std::string *>(out)->append(data, size * n);
    return size * n;
}

// One HTTPS request with libcurl, verifying the server against `caPem`. `handle` lets a test
// send several requests on one kept-alive connection.
Reply request(CURL *handle, const std::string &url, const std::string &method, const std::string &token, const std::string &caPem,
              const std::string &body = {})
{
    Reply r;
    curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_blob ca{const_cast<char *>(caPem.data()), caPem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(handle, CURLOPT_CAINFO_BLOB, &ca);
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(handle, CURLOPT_TIMEOUT, 20L);
    struct curl_slist *headers = nullptr;
    if (!token.empty())
        headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
    if (!body.empty() || method == "POST") {
        curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
    } else {
        curl_easy_setopt(handle, CURLOPT_POSTFIELDS, nullptr);
        curl_easy_setopt(handle, CURLOPT_HTTPGET, method == "GET" ? 1L : 0L);
        curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    const CURLcode rc = curl_easy_perform(handle);
    if (rc != CURLE_OK)
        r.error = curl_easy_strerror(rc);
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &r.code);
    curl_easy_getinfo(handle, CURLINFO_NUM_CONNECTS, &r.newConnections);
    curl_slist_free_all(headers);
    return r;
}

struct Fixture {
    QTemporaryDir dir;
    Credentials credentials;
    std::atomic<int> handled{0};
    std::unique_ptr<HttpsServer> server;
    CURL *curl = curl_easy_init();

    explicit Fixture(HttpsServerOptions options = {})
        : credentials(*Credentials::loadOrCreate(dir.path().toStdString()))
    {
        auto started = HttpsServer::start(credentials, [this](const HttpRequest &r) {
            ++handled;
            HttpResponse response;
            if (r.target == "/version") {
                response.body = json{{"major", "1"}, {"minor", "32"}, {"gitVersion", "v1.32.0-podscape"}}.dump();
                return response;
            }
            response.body = json{{"method", r.method},
                                 {"target", r.target},
                                 {"role", r.role == Role::Admin ? "admin" : "read-only"},
                                 {"bodyBytes", r.body.size()}}
                                .dump();
            return response;
        }, options);
        if (!started)
            qFatal("server did not start: %s", started.error().message().c_str());
        server = std::move(*started);
    }
    ~Fixture() { curl_easy_cleanup(curl); }

    Reply call(const std::string &method, const std::string &path, const std::string &token, const std::string &body = {})
    {
        return request(curl, server->url() + path, method, token, credentials.caPem(), body);
    }
};

} // namespace

class TestHttpsServer : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase() { curl_global_init(CURL_GLOBAL_DEFAULT); }
    void cleanupTestCase() { curl_global_cleanup(); }

    void aTokenIsRequired()
    {
        Fixture f;
        for (const std::string &token : std::vector<std::string>{"", "not-a-token", std::string(64, 'a')}) {
            Reply r = f.call("GET", "/api/v1/pods", token);
            QVERIFY2(r.error.empty(), r.error.c_str());
            QCOMPARE(r.code, 401L);
            json status = json::parse(r.body);
            QCOMPARE(status["kind"], json("Status"));
            QCOMPARE(status["reason"], json("Unauthorized"));
            QCOMPARE(status["code"], json(401));
        }
        QCOMPARE(f.handled.load(), 0);
    }

    void adminTokensReachTheHandler()
    {
        Fixture f;
        Reply r = f.call("GET", "/api/v1/pods?limit=500", f.credentials.adminToken().secret);
        QVERIFY2(r.error.empty(), r.error.c_str());
        QCOMPARE(r.code, 200L);
        json echo = json::parse(r.body);
        QCOMPARE(echo["target"], json("/api/v1/pods?limit=500"));
        QCOMPARE(echo["role"], json("admin"));
        Reply post = f.call("POST", "/api/v1/namespaces/default/pods", f.credentials.adminToken().secret, R"({"kind":"Pod"})");
        QCOMPARE(post.code, 200L);
        QCOMPARE(json::parse(post.body)["bodyBytes"], json(14));
    }

    void readOnlyTokensCannotWrite()
    {
        Fixture f;
        auto viewer = f.credentials.addToken(Role::ReadOnly, "viewer"); // added while serving
        QVERIFY(viewer.ok());
        QCOMPARE(f.call("GET", "/api/v1/pods", viewer->secret).code, 200L);
        for (const char *method : {"POST", "PUT", "PATCH", "DELETE"}) {
            Reply r = f.call(method, "/api/v1/namespaces/default/pods/x", viewer->secret, "{}");
            QCOMPARE(r.code, 403L);
            QCOMPARE(json::parse(r.body)["reason"], json("Forbidden"));
        }
        QCOMPARE(f.handled.load(), 1);
    }

    void oversizedBodiesAre413()
    {
        Fixture f;
        const std::string big(3 * 1024 * 1024 + 1, 'x');
        Reply r = f.call("POST", "/api/v1/namespaces/default/configmaps", f.credentials.adminToken().secret, big);
        QCOMPARE(r.code, 413L);
        QCOMPARE(json::parse(r.body)["reason"], json("RequestEntityTooLarge"));
        QCOMPARE(f.handled.load(), 0);
        // The server is still there for the next client.
        CURL *other = curl_easy_init();
        Reply ok = request(other, f.server->url() + "/version", "GET", f.credentials.adminToken().secret, f.credentials.caPem());
        curl_easy_cleanup(other);
        QCOMPARE(ok.code, 200L);
    }

    void connectionsAreKeptAlive()
    {
        Fixture f;
        Reply first = f.call("GET", "/version", f.credentials.adminToken().secret);
        Reply second = f.call("GET", "/version", f.credentials.adminToken().secret);
        QCOMPARE(first.code, 200L);
        QCOMPARE(second.code, 200L);
        QCOMPARE(first.newConnections, 1L);
        QCOMPARE(second.newConnections, 0L); // reused
    }

    void aClientWithAnotherCAIsRejected()
    {
        Fixture f;
        QTemporaryDir otherDir;
        auto other = Credentials::loadOrCreate(otherDir.path().toStdString());
        QVERIFY(other.ok());
        CURL *handle = curl_easy_init();
        Reply r = request(handle, f.server->url() + "/version", "GET", f.credentials.adminToken().secret, other->caPem());
        curl_easy_cleanup(handle);
        QVERIFY(!r.error.empty());
        QCOMPARE(f.handled.load(), 0);
    }

    void onlyLoopbackUnlessAskedOtherwise()
    {
        QTemporaryDir dir;
        auto c = Credentials::loadOrCreate(dir.path().toStdString());
        QVERIFY(c.ok());
        HttpsServerOptions o;
        o.address = "0.0.0.0";
        auto refused = HttpsServer::start(*c, [](const HttpRequest &) { return HttpResponse{}; }, o);
        QVERIFY(!refused);
        QCOMPARE(refused.error().reason(), Reason::Forbidden);
        o.address = "not an address";
        QVERIFY(!HttpsServer::start(*c, [](const HttpRequest &) { return HttpResponse{}; }, o));
    }

    void kubectlTalksToIt()
    {
        const QString kubectl = QStandardPaths::findExecutable("kubectl");
        if (kubectl.isEmpty())
            QSKIP("kubectl is not on PATH");
        Fixture f;
        const std::string kubeconfig = f.dir.path().toStdString() + "/kubeconfig";
        QVERIFY(f.credentials.writeKubeconfig(kubeconfig, f.server->url(), f.credentials.adminToken()).ok());
        QProcess p;
        p.start(kubectl, {"--kubeconfig", QString::fromStdString(kubeconfig), "get", "--raw", "/version"});
        QVERIFY(p.waitForFinished(30000));
        const QByteArray out = p.readAllStandardOutput();
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        QCOMPARE(json::parse(out.toStdString())["minor"], json("32"));
    }
};

QTEST_GUILESS_MAIN(TestHttpsServer)
#include "tst_httpsserver.moc"
