#include "core/apiserver/credentials.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>

#include <fstream>

using namespace podscape::core;
using namespace podscape::core::apiserver;

namespace {
int modeOf(const std::string &path)
{
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? int(st.st_mode & 0777) : -1;
}

X509 *parse(const std::string &pem)
{
    BIO *bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
    X509 *x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    return x;
}

// The certificate's SANs as "DNS:x" / "IP:1.2.3.4" strings, via OpenSSL's own printer.
std::string sansOf(X509 *cert)
{
    const int index = X509_get_ext_by_NID(cert, NID_subject_alt_name, -1);
    if (index < 0)
        return {};
    BIO *bio = BIO_new(BIO_s_mem());
    X509V3_EXT_print(bio, X509_get_ext(cert, index), 0, 0);
    char *data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string out(data, size_t(n));
    BIO_free(bio);
    return out;
}

std::string readAll(const std::string &path)
{
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}
} // namespace

class TestCredentials : public QObject
{
    Q_OBJECT
private slots:
    void firstStartMakesEverythingPrivate()
    {
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        auto c = Credentials::loadOrCreate(d, {"podscape.example"});
        QVERIFY2(c.ok(), c ? "" : c.error().message().c_str());
        for (const char *f : {"ca.crt", "ca.key", "server.crt", "server.key", "tokens"})
            QCOMPARE(modeOf(d + "/" + f), 0600);
        QCOMPARE(c->adminToken().role, Role::Admin);
        QCOMPARE(c->adminToken().secret.size(), size_t(64));
        QVERIFY(readAll(d + "/tokens").find(c->adminToken().secret + " admin admin") != std::string::npos);
    }

    void theServerCertificateChainsToTheCAWithTheRightNames()
    {
        QTemporaryDir dir;
        auto c = Credentials::loadOrCreate(dir.path().toStdString(), {"podscape.example", "10.1.2.3"});
        QVERIFY(c.ok());
        X509 *ca = parse(c->caPem()), *server = parse(c->certPem());
        QVERIFY(ca && server);
        EVP_PKEY *caKey = X509_get_pubkey(ca);
        QCOMPARE(X509_verify(server, caKey), 1);
        QCOMPARE(X509_check_ca(ca), 1);
        QCOMPARE(X509_check_ca(server), 0);
        QCOMPARE(X509_check_host(server, "localhost", 0, 0, nullptr), 1);
        QCOMPARE(X509_check_host(server, "podscape.example", 0, 0, nullptr), 1);
        QCOMPARE(X509_check_ip_asc(server, "127.0.0.1", 0), 1);
        QCOMPARE(X509_check_ip_asc(server, "::1", 0), 1);
        QCOMPARE(X509_check_ip_asc(server, "10.1.2.3", 0), 1);
        QCOMPARE(X509_check_host(server, "evil.example", 0, 0, nullptr), 0);
        QVERIFY(sansOf(server).find("DNS:localhost") != std::string::npos);
        EVP_PKEY_free(caKey);
        X509_free(ca);
        X509_free(server);
    }

    void restartKeepsTheCAAndRemakesTheCertificateOnlyForNewNames()
    {
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        auto first = Credentials::loadOrCreate(d);
        QVERIFY(first.ok());
        auto again = Credentials::loadOrCreate(d);
        QVERIFY(again.ok());
        QCOMPARE(again->caPem(), first->caPem());
        QCOMPARE(again->certPem(), first->certPem());
        QCOMPARE(again->adminToken().secret, first->adminToken().secret);
        auto renamed = Credentials::loadOrCreate(d, {"new.example"});
        QVERIFY(renamed.ok());
        QCOMPARE(renamed->caPem(), first->caPem());
        QVERIFY(renamed->certPem() != first->certPem());
        X509 *server = parse(renamed->certPem());
        QCOMPARE(X509_check_host(server, "new.example", 0, 0, nullptr), 1);
        X509_free(server);
    }

    void tokensAuthenticateWithTheirRole()
    {
        QTemporaryDir dir;
        auto c = Credentials::loadOrCreate(dir.path().toStdString());
        QVERIFY(c.ok());
        auto viewer = c->addToken(Role::ReadOnly, "viewer");
        QVERIFY(viewer.ok());
        QCOMPARE(c->authenticate(c->adminToken().secret), std::optional<Role>(Role::Admin));
        QCOMPARE(c->authenticate(viewer->secret), std::optional<Role>(Role::ReadOnly));
        QVERIFY(!c->authenticate(""));
        QVERIFY(!c->authenticate(viewer->secret.substr(1)));
        std::string wrong = viewer->secret;
        wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
        QVERIFY(!c->authenticate(wrong));
        QVERIFY(!c->addToken(Role::ReadOnly, "two words"));
        QCOMPARE(c->addToken(Role::Admin, "viewer").error().reason(), Reason::AlreadyExists); // names are unique
        // Saved: a restart knows the new token.
        auto again = Credentials::loadOrCreate(dir.path().toStdString());
        QVERIFY(again.ok());
        QCOMPARE(again->authenticate(viewer->secret), std::optional<Role>(Role::ReadOnly));
    }

    void aBrokenTokensFileSaysWhere()
    {
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        QVERIFY(Credentials::writePrivateFile(d + "/tokens", "# comment\nshort admin x\n").ok());
        auto c = Credentials::loadOrCreate(d);
        QVERIFY(!c);
        QVERIFY2(c.error().message().find("tokens:2") != std::string::npos, c.error().message().c_str());
    }

    void kubeconfigIsPrivateAndComplete()
    {
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        auto c = Credentials::loadOrCreate(d);
        QVERIFY(c.ok());
        QVERIFY(c->writeKubeconfig(d + "/kubeconfig", "https://127.0.0.1:6443", c->adminToken()).ok());
        QCOMPARE(modeOf(d + "/kubeconfig"), 0600);
        const std::string text = readAll(d + "/kubeconfig");
        QVERIFY(text.find("server: https://127.0.0.1:6443") != std::string::npos);
        QVERIFY(text.find("token: " + c->adminToken().secret) != std::string::npos);
        QVERIFY(text.find("certificate-authority-data: LS0tLS1CRUdJTi") != std::string::npos); // base64 of "-----BEGIN"
        QVERIFY(text.find("current-context: podscape") != std::string::npos);
        // Rewriting over a file that was world-readable makes it private again.
        ::chmod((d + "/kubeconfig").c_str(), 0644);
        QVERIFY(c->writeKubeconfig(d + "/kubeconfig", "https://127.0.0.1:6443", c->adminToken()).ok());
        QCOMPARE(modeOf(d + "/kubeconfig"), 0600);
    }
};

QTEST_GUILESS_MAIN(TestCredentials)
#include "tst_credentials.moc"
