#include "core/base/base64.h"
#include "core/base/timeformat.h"
#include "core/client/execcredential.h"
#include "core/client/kubeconfig.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace podscape::core;
using namespace podscape::core::client;

namespace {

const std::string Dir = std::filesystem::path(PODSCAPE_TEST_DATA "/kubeconfig").lexically_normal().string();
std::string data(const std::string &name) { return Dir + "/" + name; }

// Restores an environment variable when the test ends, so cases do not leak into each other.
class EnvGuard
{
public:
    explicit EnvGuard(const char *name) : m_name(name)
    {
        if (const char *v = std::getenv(name))
            m_old = v;
    }
    ~EnvGuard()
    {
        if (m_old)
            ::setenv(m_name, m_old->c_str(), 1);
        else
            ::unsetenv(m_name);
    }
    void set(const std::string &value) { ::setenv(m_name, value.c_str(), 1); }
    void unset() { ::unsetenv(m_name); }

private:
    const char *m_name;
    std::optional<std::string> m_old;
};

#define CONTAINS(haystack, needle)                                                                                     \
    QVERIFY2(std::string(haystack).find(needle) != std::string::npos,                                                 \
             qPrintable(QString::fromStdString(std::string("\"") + needle + "\" not in: " + std::string(haystack))))

} // namespace

class TestKubeconfig : public QObject
{
    Q_OBJECT
private slots:
    void base64Decode_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<QString>("decoded");
        QTest::newRow("empty") << "" << true << "";
        QTest::newRow("one pad") << "YWI=" << true << "ab";
        QTest::newRow("two pads") << "YQ==" << true << "a";
        QTest::newRow("no pad") << "YWJj" << true << "abc";
        QTest::newRow("line breaks") << "YWJj\r\nZGVm\n" << true << "abcdef";
        QTest::newRow("missing padding") << "YQ" << false << "";
        QTest::newRow("bad character") << "YW*j" << false << "";
        QTest::newRow("space") << "YW Jj" << false << "";
        QTest::newRow("pad in middle") << "YQ==YWJj" << false << "";
        QTest::newRow("pad then data") << "YW=j" << false << "";
        QTest::newRow("lone pad") << "YWJj=" << false << "";
    }
    void base64Decode()
    {
        QFETCH(QString, text);
        QFETCH(bool, ok);
        QFETCH(QString, decoded);
        auto r = podscape::core::base64Decode(text.toStdString());
        QCOMPARE(r.has_value(), ok);
        if (ok)
            QCOMPARE(QString::fromStdString(*r), decoded);
    }
    void base64RoundTrip()
    {
        std::string bytes;
        for (int i = 0; i < 256; ++i)
            bytes.push_back(static_cast<char>(i));
        for (size_t n = 0; n < 7; ++n) {
            auto r = podscape::core::base64Decode(base64Encode(bytes.substr(n)));
            QVERIFY(r);
            QCOMPARE(*r, bytes.substr(n));
        }
    }

    void mergeFirstFileWins()
    {
        auto k = Kubeconfig::loadFiles({data("a.yaml"), data("sub/b.yaml")});
        QVERIFY2(k, qPrintable(QString::fromStdString(k ? "" : k.error().message())));
        QCOMPARE(k->files(), (std::vector<std::string>{data("a.yaml"), data("sub/b.yaml")}));
        QCOMPARE(k->currentContext(), std::string("ctx-a"));
        QCOMPARE(k->contextNames(), (std::vector<std::string>{"ctx-a", "ctx-b", "shared-ctx"}));

        // shared-ctx is defined in both files: a.yaml's (shared cluster, alice) wins.
        auto r = k->resolve("shared-ctx");
        QVERIFY2(r, qPrintable(QString::fromStdString(r ? "" : r.error().message())));
        QCOMPARE(r->context.file, data("a.yaml"));
        QCOMPARE(r->cluster.server, std::string("https://a.example:6443"));
        QCOMPARE(r->cluster.file, data("a.yaml"));
        QCOMPARE(r->user.name, std::string("alice"));
        QVERIFY(r->user.token.empty()); // b.yaml's alice never got in
        QCOMPARE(r->context.ns, std::string("default"));

        // The other order: b's names win, and b's current-context.
        auto rev = Kubeconfig::loadFiles({data("sub/b.yaml"), data("a.yaml")});
        QVERIFY(rev);
        QCOMPARE(rev->currentContext(), std::string("ctx-b"));
        auto shared = rev->resolve("shared-ctx");
        QVERIFY2(shared, qPrintable(QString::fromStdString(shared ? "" : shared.error().message())));
        QCOMPARE(shared->cluster.name, std::string("only-b"));
        QCOMPARE(shared->user.name, std::string("bob"));
    }

    void currentContextFirstNonEmpty()
    {
        auto k = Kubeconfig::loadFiles({data("c.yaml"), data("sub/b.yaml"), data("a.yaml")});
        QVERIFY(k);
        QCOMPARE(k->currentContext(), std::string("ctx-b"));
        // c.yaml's context refers to names only b.yaml defines: the merge joins them.
        auto r = k->resolve("ctx-c");
        QVERIFY2(r, qPrintable(QString::fromStdString(r ? "" : r.error().message())));
        QCOMPARE(r->context.ns, std::string("team-c"));
        QCOMPARE(r->cluster.server, std::string("https://b-only.example"));
    }

    void relativePathsPerFile()
    {
        auto k = Kubeconfig::loadFiles({data("a.yaml"), data("sub/b.yaml")});
        QVERIFY(k);
        auto a = k->resolve(); // current: ctx-a
        QVERIFY2(a, qPrintable(QString::fromStdString(a ? "" : a.error().message())));
        QCOMPARE(a->context.ns, std::string("team-a"));
        QCOMPARE(a->cluster.certificateAuthority, data("certs/ca.crt"));
        QCOMPARE(a->cluster.tlsServerName, std::string("api.a.example"));
        QCOMPARE(a->user.clientCertificate, data("certs/client.crt"));
        QCOMPARE(a->user.clientKey, data("certs/client.key")); // ./certs/../certs normalised

        auto b = k->resolve("ctx-b");
        QVERIFY2(b, qPrintable(QString::fromStdString(b ? "" : b.error().message())));
        QCOMPARE(b->cluster.certificateAuthority, data("sub/ca.crt"));
        QCOMPARE(b->user.tokenFile, data("sub/token"));
        QVERIFY(b->user.exec);
        QCOMPARE(b->user.exec->command, data("sub/plugin.sh"));
        QCOMPARE(b->user.exec->args, (std::vector<std::string>{"--cluster", "b"}));
        QCOMPARE(b->user.exec->env.size(), size_t(1));
        QCOMPARE(b->user.exec->env[0].first, std::string("PLUGIN_MODE"));
        QCOMPARE(b->user.exec->env[0].second, std::string("test"));
        QVERIFY(b->user.exec->provideClusterInfo);
        QCOMPARE(b->user.exec->interactiveMode, std::string("IfAvailable")); // v1beta1 default
    }

    void execCommandWithoutSlashIsNotAPath()
    {
        auto k = Kubeconfig::parse("users:\n- name: u\n  user:\n    exec:\n      command: kubelogin\n", "/etc/k/config");
        QVERIFY(k);
        QCOMPARE(k->users().at(0).exec->command, std::string("kubelogin"));
    }

    void dataFieldsDecoded()
    {
        const std::string yaml = "clusters:\n- name: c\n  cluster:\n    server: https://x\n    certificate-authority-data: "
                                 + base64Encode("PEM-CA") + "\nusers:\n- name: u\n  user:\n    client-certificate-data: "
                                 + base64Encode("PEM-CERT") + "\n    client-key-data: " + base64Encode("PEM-KEY")
                                 + "\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";
        auto k = Kubeconfig::parse(yaml, "/tmp/inline");
        QVERIFY(k);
        auto r = k->resolve();
        QVERIFY2(r, qPrintable(QString::fromStdString(r ? "" : r.error().message())));
        QCOMPARE(r->cluster.certificateAuthorityData, std::string("PEM-CA"));
        QCOMPARE(r->user.clientCertificateData, std::string("PEM-CERT"));
        QCOMPARE(r->user.clientKeyData, std::string("PEM-KEY"));
    }

    void useContext()
    {
        auto k = Kubeconfig::loadFiles({data("a.yaml"), data("sub/b.yaml")});
        QVERIFY(k);
        QVERIFY(k->useContext("ctx-b"));
        QCOMPARE(k->currentContext(), std::string("ctx-b"));
        auto r = k->resolve();
        QVERIFY(r);
        QCOMPARE(r->context.name, std::string("ctx-b"));
        QCOMPARE(r->context.ns, std::string("default"));
        auto bad = k->useContext("nope");
        QVERIFY(!bad);
        QCOMPARE(bad.error().reason(), Reason::NotFound);
        CONTAINS(bad.error().message(), "\"nope\"");
        QCOMPARE(k->currentContext(), std::string("ctx-b")); // unchanged
        auto unknown = k->resolve("nope");
        QVERIFY(!unknown);
        QCOMPARE(unknown.error().reason(), Reason::NotFound);
    }

    void resolveErrors_data()
    {
        QTest::addColumn<QString>("context");
        QTest::addColumn<QString>("entry"); // `cluster "x"` or `user "x"` the message must name
        QTest::addColumn<QString>("field");
        QTest::newRow("server scheme") << "ftp-server" << "cluster \"ftp-server\"" << "server \"ftp://files.example\"";
        QTest::newRow("server unset") << "no-server" << "cluster \"no-server\"" << "server: not set";
        QTest::newRow("missing ca file") << "missing-ca" << "cluster \"missing-ca\""
                                         << QString::fromStdString("certificate-authority \"" + data("missing/ca.crt")
                                                                   + "\" does not exist");
        QTest::newRow("ca base64") << "bad-ca-data" << "cluster \"bad-ca-data\"" << "certificate-authority-data: not valid base64";
        QTest::newRow("insecure with ca") << "insecure-with-ca" << "cluster \"insecure-with-ca\"" << "insecure-skip-tls-verify";
        QTest::newRow("unknown cluster") << "unknown-cluster" << "" << "cluster \"dev\" not found";
        QTest::newRow("unknown user") << "unknown-user" << "" << "user \"nobody\" not found";
        QTest::newRow("auth-provider gcp") << "gcp" << "user \"gcp\""
                                           << "auth-provider \"gcp\" is not supported (removed from kubectl in 1.26); use an "
                                              "exec credential plugin such as gke-gcloud-auth-plugin";
        QTest::newRow("cert without key") << "cert-no-key" << "user \"cert-no-key\"" << "client-certificate is set without client-key";
        QTest::newRow("key without cert") << "key-no-cert" << "user \"key-no-cert\"" << "client-key is set without client-certificate";
        QTest::newRow("key base64") << "bad-key-data" << "user \"bad-key-data\"" << "client-key-data: not valid base64";
        QTest::newRow("missing token file") << "missing-token-file" << "user \"missing-token-file\""
                                            << QString::fromStdString("tokenFile \"" + data("no-such-token") + "\" does not exist");
        QTest::newRow("exec v1alpha1") << "exec-alpha" << "user \"exec-alpha\"" << "update the plugin";
        QTest::newRow("exec v1 without mode") << "exec-v1-no-mode" << "user \"exec-v1-no-mode\"" << "exec.interactiveMode: required";
        QTest::newRow("exec bad mode") << "exec-bad-mode" << "user \"exec-bad-mode\"" << "exec.interactiveMode \"Sometimes\"";
        QTest::newRow("exec missing command") << "exec-missing-command" << "user \"exec-missing-command\""
                                              << QString::fromStdString("exec.command \"" + data("bin/no-such-plugin")
                                                                        + "\" does not exist");
        QTest::newRow("token and basic auth") << "token-and-basic" << "user \"token-and-basic\"" << "more than one authentication method";
        QTest::newRow("bad namespace") << "bad-namespace" << "" << "namespace \"Not_A_Label\"";
    }
    void resolveErrors()
    {
        QFETCH(QString, context);
        QFETCH(QString, entry);
        QFETCH(QString, field);
        auto k = Kubeconfig::loadFiles({data("errors.yaml")});
        QVERIFY2(k, qPrintable(QString::fromStdString(k ? "" : k.error().message())));
        auto r = k->resolve(context.toStdString());
        QVERIFY(!r);
        const std::string msg = r.error().message();
        QVERIFY2(msg.rfind(data("errors.yaml") + ": ", 0) == 0, msg.c_str()); // the file first
        CONTAINS(msg, "context \"" + context.toStdString() + "\": ");
        if (!entry.isEmpty())
            CONTAINS(msg, entry.toStdString() + ": ");
        CONTAINS(msg, field.toStdString());
        QCOMPARE(r.error().reason(), Reason::Invalid);
    }

    void errorNamesTheDefiningFile()
    {
        // ctx-x in the first file refers to a user only the second file defines, with a bad path.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string first = dir.filePath("first").toStdString(), second = dir.filePath("second").toStdString();
        std::ofstream(first) << "contexts:\n- {name: ctx-x, context: {cluster: c, user: u}}\n"
                                "clusters:\n- {name: c, cluster: {server: 'https://c'}}\n";
        std::ofstream(second) << "users:\n- {name: u, user: {client-certificate: c.crt, client-key: c.key}}\n";
        auto k = Kubeconfig::loadFiles({first, second});
        QVERIFY(k);
        auto r = k->resolve("ctx-x");
        QVERIFY(!r);
        QCOMPARE(r.error().message(), second + ": context \"ctx-x\": user \"u\": client-certificate \""
                                          + dir.filePath("c.crt").toStdString() + "\" does not exist");
    }

    void tabsInYaml()
    {
        auto k = Kubeconfig::loadFiles({data("tabs.yaml")});
        QVERIFY(!k);
        const std::string msg = k.error().message();
        QVERIFY2(msg.rfind(data("tabs.yaml") + ": line 5, column 1: ", 0) == 0, msg.c_str());
        CONTAINS(msg, "tab");
    }

    void yamlSyntaxError()
    {
        auto k = Kubeconfig::parse("clusters:\n- name: [unclosed\n", "/x/config");
        QVERIFY(!k);
        CONTAINS(k.error().message(), "/x/config: line ");
        CONTAINS(k.error().message(), ", column ");
    }

    void wrongTypes_data()
    {
        QTest::addColumn<QString>("yaml");
        QTest::addColumn<QString>("expected");
        QTest::newRow("top level list") << "- a\n- b\n" << "/x/config: line 1, column 1: the document: expected a map, got a list";
        QTest::newRow("clusters map") << "clusters:\n  name: x\n" << "/x/config: line 1, column 1: clusters: expected a list, got a map";
        QTest::newRow("cluster list") << "clusters:\n- name: x\n  cluster: [a]\n"
                                      << "/x/config: line 3, column 3: clusters[0].cluster: expected a map, got a list";
        QTest::newRow("server number") << "clusters:\n- name: x\n  cluster:\n    server: 8080\n"
                                       << "/x/config: line 4, column 5: clusters[0].cluster.server: expected a string, got a number";
        QTest::newRow("insecure string") << "clusters:\n- name: x\n  cluster:\n    insecure-skip-tls-verify: \"true\"\n"
                                         << "clusters[0].cluster.insecure-skip-tls-verify: expected a boolean, got a string";
        QTest::newRow("exec args") << "users:\n- name: u\n  user:\n    exec:\n      args: --flag\n"
                                   << "/x/config: line 5, column 7: users[0].user.exec.args: expected a list, got a string";
        QTest::newRow("exec env item") << "users:\n- name: u\n  user:\n    exec:\n      env: [FOO=bar]\n"
                                       << "users[0].user.exec.env[0]: expected a map, got a string";
        QTest::newRow("context name") << "contexts:\n- name: {a: b}\n  context: {}\n"
                                      << "contexts[0].name: expected a string, got a map";
    }
    void wrongTypes()
    {
        QFETCH(QString, yaml);
        QFETCH(QString, expected);
        auto k = Kubeconfig::parse(yaml.toStdString(), "/x/config");
        QVERIFY(!k);
        CONTAINS(k.error().message(), expected.toStdString());
        CONTAINS(k.error().message(), "/x/config: ");
    }

    void unknownFieldsAndEmptyFileIgnored()
    {
        auto k = Kubeconfig::parse("kind: Config\nextensions: [x]\nfuture-field: {a: 1}\n", "/x/config");
        QVERIFY(k);
        QVERIFY(k->contextNames().empty());
        auto empty = Kubeconfig::parse("# nothing yet\n", "/x/config");
        QVERIFY(empty);
        QVERIFY(empty->currentContext().empty());
        auto r = empty->resolve();
        QVERIFY(!r);
        CONTAINS(r.error().message(), "no current-context");
    }

    void loadFromKubeconfigEnv()
    {
        EnvGuard env("KUBECONFIG");
        env.set(data("missing-one") + "::" + data("sub/b.yaml") + ":" + data("a.yaml") + ":" + data("missing-two"));
        auto k = Kubeconfig::load();
        QVERIFY2(k, qPrintable(QString::fromStdString(k ? "" : k.error().message())));
        QCOMPARE(k->files(), (std::vector<std::string>{data("sub/b.yaml"), data("a.yaml")}));
        QCOMPARE(k->currentContext(), std::string("ctx-b"));

        env.set(data("missing-one") + ":" + data("missing-two"));
        auto none = Kubeconfig::load();
        QVERIFY(!none);
        QCOMPARE(none.error().reason(), Reason::NotFound);
        CONTAINS(none.error().message(), data("missing-one"));

        // An explicit file replaces the list.
        env.set(data("sub/b.yaml"));
        auto explicitOne = Kubeconfig::load(data("a.yaml"));
        QVERIFY(explicitOne);
        QCOMPARE(explicitOne->files(), std::vector<std::string>{data("a.yaml")});
        auto explicitMissing = Kubeconfig::load(data("missing-one"));
        QVERIFY(!explicitMissing);
        QCOMPARE(explicitMissing.error().reason(), Reason::NotFound);
        CONTAINS(explicitMissing.error().message(), data("missing-one"));
    }

    void loadFromHome()
    {
        EnvGuard env("KUBECONFIG"), home("HOME");
        env.unset();
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        home.set(dir.path().toStdString());
        auto missing = Kubeconfig::load();
        QVERIFY(!missing);
        CONTAINS(missing.error().message(), dir.path().toStdString() + "/.kube/config");

        std::filesystem::create_directories(dir.path().toStdString() + "/.kube");
        std::ofstream(dir.path().toStdString() + "/.kube/config") << "current-context: home\n";
        auto k = Kubeconfig::load();
        QVERIFY(k);
        QCOMPARE(k->currentContext(), std::string("home"));
    }

    void oversizedFileRefused()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string path = dir.filePath("big").toStdString();
        {
            std::ofstream out(path);
            const std::string line = "# " + std::string(1022, 'x') + "\n";
            for (size_t i = 0; i <= Kubeconfig::MaxFileBytes / line.size(); ++i)
                out << line;
        }
        auto k = Kubeconfig::loadFiles({path});
        QVERIFY(!k);
        QCOMPARE(k.error().reason(), Reason::RequestEntityTooLarge);
        CONTAINS(k.error().message(), path);
    }
    // --- exec credential plugin -------------------------------------------------------------

    void execCachesUntilExpiryAndAfterInvalidate()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string count = dir.filePath("count").toStdString();
        FakeClock clock;
        const std::string expiry = formatRfc3339(clock.now() + std::chrono::hours(1));
        ExecCredentialProvider p(plugin(count, "ok", expiry), ClusterInfo{}, clock);

        auto first = p.credential();
        QVERIFY2(first, qPrintable(QString::fromStdString(first ? "" : first.error().message())));
        QCOMPARE(first->token, std::string("token-1"));
        QVERIFY(first->expiry);
        QCOMPARE(formatRfc3339(*first->expiry), expiry);
        QCOMPARE(runs(count), 1);

        clock.advance(std::chrono::minutes(59));
        auto cached = p.credential();
        QVERIFY(cached);
        QCOMPARE(cached->token, std::string("token-1"));
        QCOMPARE(runs(count), 1);

        clock.advance(std::chrono::minutes(1)); // at expirationTimestamp: expired
        auto renewed = p.credential();
        QVERIFY(renewed);
        QCOMPARE(renewed->token, std::string("token-2"));
        QCOMPARE(runs(count), 2);

        p.invalidate(); // a 401
        auto again = p.credential();
        QVERIFY(again);
        QCOMPARE(again->token, std::string("token-3"));
        QCOMPARE(runs(count), 3);
    }

    void execConcurrentCallersShareOneRun()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string count = dir.filePath("count").toStdString();
        FakeClock clock;
        ExecCredentialProvider p(plugin(count, "ok", ""), ClusterInfo{}, clock);
        std::vector<std::thread> threads;
        std::atomic<int> good{0};
        for (int i = 0; i < 4; ++i)
            threads.emplace_back([&] {
                auto c = p.credential();
                if (c && c->token == "token-1" && !c->expiry)
                    ++good;
            });
        for (auto &t : threads)
            t.join();
        QCOMPARE(good.load(), 4);
        QCOMPARE(runs(count), 1);
    }

    void execInfoCarriesClusterWhenAsked()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string count = dir.filePath("count").toStdString();
        FakeClock clock;
        ExecConfig exec = plugin(count, "ok", "");
        exec.provideClusterInfo = true;
        ClusterInfo cluster;
        cluster.server = "https://api.example:6443";
        cluster.certificateAuthority = data("certs/ca.crt");
        ExecCredentialProvider p(exec, cluster, clock);
        QVERIFY(p.credential());
        std::ifstream in(count + ".info");
        const auto info = nlohmann::json::parse(in, nullptr, false);
        QVERIFY(info.is_object());
        QCOMPARE(info.value("kind", ""), std::string("ExecCredential"));
        QCOMPARE(info["spec"]["interactive"], nlohmann::json(false));
        QCOMPARE(info["spec"]["cluster"]["server"], nlohmann::json("https://api.example:6443"));
        std::ifstream ca(data("certs/ca.crt"));
        const std::string pem((std::istreambuf_iterator<char>(ca)), std::istreambuf_iterator<char>());
        QCOMPARE(info["spec"]["cluster"]["certificate-authority-data"], nlohmann::json(base64Encode(pem)));

        ExecCredentialProvider without(plugin(count, "ok", ""), cluster, clock);
        QVERIFY(!nlohmann::json::parse(without.execInfo())["spec"].contains("cluster"));
    }

    void execErrors_data()
    {
        QTest::addColumn<QString>("mode");
        QTest::addColumn<int>("reason");
        QTest::addColumn<QString>("message");
        QTest::newRow("exit status with stderr") << "fail" << int(Reason::Unauthorized)
                                                 << "exited with status 3: login required: run 'cloud auth login' first";
        QTest::newRow("hangs") << "hang" << int(Reason::Timeout) << "killed it";
        QTest::newRow("floods stdout") << "flood" << int(Reason::RequestEntityTooLarge) << "more than 1048576 bytes";
        QTest::newRow("not json") << "garbage" << int(Reason::Unauthorized) << "not an ExecCredential";
    }
    void execErrors()
    {
        QFETCH(QString, mode);
        QFETCH(int, reason);
        QFETCH(QString, message);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string count = dir.filePath("count").toStdString();
        FakeClock clock;
        ExecCredentialProvider::Options options;
        options.timeout = std::chrono::milliseconds(300); // only "hang" gets there
        ExecCredentialProvider p(plugin(count, mode.toStdString(), ""), ClusterInfo{}, clock, options);
        auto c = p.credential();
        QVERIFY(!c);
        QCOMPARE(int(c.error().reason()), reason);
        CONTAINS(c.error().message(), "exec plugin \"" + data("exec-plugin.sh") + "\"");
        CONTAINS(c.error().message(), message.toStdString());
        // Failures are not cached: the next call runs the plugin again.
        QVERIFY(!p.credential());
        QCOMPARE(runs(count), 2);
    }

    void execInteractiveAlwaysRefused()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string count = dir.filePath("count").toStdString();
        FakeClock clock;
        ExecConfig exec = plugin(count, "ok", "");
        exec.interactiveMode = "Always";
        ExecCredentialProvider p(exec, ClusterInfo{}, clock);
        auto c = p.credential();
        QVERIFY(!c);
        CONTAINS(c.error().message(), "interactiveMode");
        QCOMPARE(runs(count), 0);
    }

    void execMissingProgram()
    {
        FakeClock clock;
        ExecConfig exec;
        exec.apiVersion = "client.authentication.k8s.io/v1";
        exec.command = "podscape-no-such-credential-plugin";
        ExecCredentialProvider p(exec, ClusterInfo{}, clock);
        auto c = p.credential();
        QVERIFY(!c);
        CONTAINS(c.error().message(), "podscape-no-such-credential-plugin");
    }

private:
    static ExecConfig plugin(const std::string &countFile, const std::string &mode, const std::string &expiry)
    {
        ExecConfig e;
        e.apiVersion = "client.authentication.k8s.io/v1";
        e.command = data("exec-plugin.sh");
        e.interactiveMode = "Never";
        e.env = {{"PLUGIN_COUNT_FILE", countFile}, {"PLUGIN_MODE", mode}, {"PLUGIN_EXPIRY", expiry}};
        return e;
    }
    static int runs(const std::string &countFile)
    {
        std::ifstream in(countFile);
        int n = 0;
        in >> n;
        return n;
    }
};

QTEST_GUILESS_MAIN(TestKubeconfig)
#include "tst_kubeconfig.moc"
