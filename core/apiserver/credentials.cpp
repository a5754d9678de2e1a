#include "credentials.h"

#include "core/base/base64.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace podscape::core::apiserver {

namespace {

template <typename T, void (*Free)(T *)>
struct Deleter {
    void operator()(T *p) const { Free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

Error opensslError(const std::string &what)
{
    char buffer[256] = "unknown error";
    if (unsigned long e = ERR_get_error())
        ERR_error_string_n(e, buffer, sizeof buffer);
    ERR_clear_error();
    return Error(Reason::InternalError, what + ": " + buffer);
}

Result<std::string> readFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return fail(Reason::NotFound, "cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string hex(const unsigned char *data, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < n; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 15];
    }
    return out;
}

Result<std::string> randomHex(size_t bytes)
{
    std::vector<unsigned char> buffer(bytes);
    if (RAND_bytes(buffer.data(), static_cast<int>(bytes)) != 1)
        return fail(opensslError("no random bytes"));
    return hex(buffer.data(), bytes);
}

std::string pemOf(X509 *cert)
{
    Bio bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), cert);
    char *data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(n));
}

std::string pemOf(EVP_PKEY *key)
{
    Bio bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    char *data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(n));
}

Cert certFrom(const std::string &pem)
{
    Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    return Cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

Key keyFrom(const std::string &pem)
{
    Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    return Key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

Result<void> addExtension(X509 *cert, X509 *issuer, int nid, const std::string &value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext)
        return fail(opensslError("certificate extension " + value));
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return {};
}

// A certificate for `key` named `commonName`, signed by `issuerKey` (issuer null: self-signed).
Result<Cert> makeCertificate(EVP_PKEY *key, const std::string &commonName, X509 *issuer, EVP_PKEY *issuerKey, bool ca,
                             const std::vector<std::string> &sans)
{
    Cert cert(X509_new());
    X509_set_version(cert.get(), 2);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f; // positive
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600); // clocks differ a little
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), (ca ? 3650L : 825L) * 24 * 3600);
    X509_set_pubkey(cert.get(), key);
    X509_NAME *name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char *>("Podscape"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char *>(commonName.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
    X509 *signer = issuer ? issuer : cert.get();
    std::vector<std::pair<int, std::string>> extensions;
    if (ca) {
        extensions = {{NID_basic_constraints, "critical,CA:TRUE"},
                      {NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"},
                      {NID_subject_key_identifier, "hash"}};
    } else {
        std::string altNames;
        for (const auto &san : sans) {
            const bool ip = san.find_first_not_of("0123456789.") == std::string::npos || san.find(':') != std::string::npos;
            altNames += (altNames.empty() ? "" : ",") + std::string(ip ? "IP:" : "DNS:") + san;
        }
        extensions = {{NID_basic_constraints, "critical,CA:FALSE"},
                      {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                      {NID_ext_key_usage, "serverAuth"},
                      {NID_subject_key_identifier, "hash"},
                      {NID_authority_key_identifier, "keyid:always"},
                      {NID_subject_alt_name, altNames}};
    }
    for (const auto &[nid, value] : extensions)
        if (auto r = addExtension(cert.get(), signer, nid, value); !r)
            return r.takeError();
    if (X509_sign(cert.get(), issuerKey ? issuerKey : key, EVP_sha256()) == 0)
        return fail(opensslError("signing the certificate"));
    return cert;
}

Result<Key> newKey()
{
    Key key(EVP_EC_gen("P-256"));
    if (!key)
        return fail(opensslError("generating a key"));
    return key;
}

std::string roleName(Role r) { return r == Role::Admin ? "admin" : "read-only"; }

} // namespace

Result<void> Credentials::writePrivateFile(const std::string &path, const std::string &content)
{
    const std::string temporary = path + ".tmp";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(Reason::InternalError, "cannot write " + temporary + ": " + std::strerror(errno));
    ::fchmod(fd, 0600); // also when the file existed with other permissions
    size_t written = 0;
    while (written < content.size()) {
        const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0) {
            const int e = errno;
            ::close(fd);
            ::unlink(temporary.c_str());
            return fail(Reason::InternalError, "cannot write " + temporary + ": " + std::strerror(e));
        }
        written += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        ::unlink(temporary.c_str());
        return fail(Reason::InternalError, "cannot write " + temporary + ": " + std::strerror(errno));
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0)
        return fail(Reason::InternalError, "cannot rename " + temporary + " to " + path + ": " + std::strerror(errno));
    return {};
}

Result<Credentials> Credentials::loadOrCreate(const std::string &dataDir, const std::vector<std::string> &extraNames)
{
    std::error_code ec;
    std::filesystem::create_directories(dataDir, ec);
    if (ec)
        return fail(Reason::InternalError, "cannot create " + dataDir + ": " + ec.message());
    Credentials c;
    c.m_dataDir = dataDir;
    const std::string dir = dataDir + "/";

    // The CA: kept for good once made, or every kubeconfig handed out would stop working.
    Key caKey;
    Cert caCert;
    if (std::filesystem::exists(dir + "ca.crt") && std::filesystem::exists(dir + "ca.key")) {
        auto certPem = readFile(dir + "ca.crt");
        auto keyPem = readFile(dir + "ca.key");
        if (!certPem || !keyPem)
            return fail(Reason::InternalError, "cannot read the CA in " + dataDir);
        caCert = certFrom(*certPem);
        caKey = keyFrom(*keyPem);
        if (!caCert || !caKey)
            return fail(Reason::InternalError, dir + "ca.crt or ca.key is not valid PEM; move them away to make a new CA");
        c.m_caPem = *certPem;
    } else {
        auto key = newKey();
        if (!key)
            return key.takeError();
        auto cert = makeCertificate(key->get(), "podscape-ca", nullptr, nullptr, true, {});
        if (!cert)
            return cert.takeError();
        caKey = std::move(*key);
        caCert = std::move(*cert);
        c.m_caPem = pemOf(caCert.get());
        if (auto r = writePrivateFile(dir + "ca.key", pemOf(caKey.get())); !r)
            return r.takeError();
        if (auto r = writePrivateFile(dir + "ca.crt", c.m_caPem); !r)
            return r.takeError();
    }

    // The serving certificate, remade when the names it must carry change.
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    c.m_sans = {"127.0.0.1", "::1", "localhost"};
    if (host[0] && std::string(host) != "localhost")
        c.m_sans.push_back(host);
    for (const auto &n : extraNames)
        if (!n.empty() && std::find(c.m_sans.begin(), c.m_sans.end(), n) == c.m_sans.end())
            c.m_sans.push_back(n);
    std::string sanList;
    for (const auto &s : c.m_sans)
        sanList += s + "\n";
    auto savedSans = readFile(dir + "server.names");
    auto certPem = readFile(dir + "server.crt");
    auto keyPem = readFile(dir + "server.key");
    if (savedSans && *savedSans == sanList && certPem && keyPem && certFrom(*certPem) && keyFrom(*keyPem)) {
        c.m_certPem = *certPem;
        c.m_keyPem = *keyPem;
    } else {
        auto key = newKey();
        if (!key)
            return key.takeError();
        auto cert = makeCertificate(key->get(), "podscape-apiserver", caCert.get(), caKey.get(), false, c.m_sans);
        if (!cert)
            return cert.takeError();
        c.m_certPem = pemOf(cert->get());
        c.m_keyPem = pemOf(key->get());
        for (auto [file, content] : {std::pair{"server.key", &c.m_keyPem}, std::pair{"server.crt", &c.m_certPem},
                                     std::pair{"server.names", &sanList}})
            if (auto r = writePrivateFile(dir + file, *content); !r)
                return r.takeError();
    }

    // Tokens: "<secret> <role> <name>" per line.
    if (auto text = readFile(dir + "tokens")) {
        std::istringstream lines(*text);
        std::string line;
        int number = 0;
        while (std::getline(lines, line)) {
            ++number;
            if (line.empty() || line[0] == '#')
                continue;
            std::istringstream fields(line);
            Token t;
            std::string role;
            fields >> t.secret >> role >> t.name;
            if (t.secret.size() < 16 || (role != "admin" && role != "read-only"))
                return fail(Reason::Invalid, dir + "tokens:" + std::to_string(number)
                                                 + ": expected \"<token of 16+ characters> admin|read-only <name>\"");
            t.role = role == "admin" ? Role::Admin : Role::ReadOnly;
            c.m_tokens.push_back(std::move(t));
        }
    }
    // The first token is the admin one the kubeconfig uses; make one if there is none.
    auto admin = std::find_if(c.m_tokens.begin(), c.m_tokens.end(), [](const Token &t) { return t.role == Role::Admin; });
    if (admin == c.m_tokens.end()) {
        auto secret = randomHex(32);
        if (!secret)
            return secret.takeError();
        c.m_tokens.insert(c.m_tokens.begin(), Token{*secret, Role::Admin, "admin"});
        if (auto r = c.saveTokens(); !r)
            return r.takeError();
    } else if (admin != c.m_tokens.begin()) {
        std::rotate(c.m_tokens.begin(), admin, admin + 1);
    }
    return c;
}

Result<void> Credentials::saveTokens() const
{
    std::string text = "# <token> <admin|read-only> <name>; keep this file private (0600)\n";
    for (const auto &t : m_tokens)
        text += t.secret + " " + roleName(t.role) + " " + t.name + "\n";
    return writePrivateFile(m_dataDir + "/tokens", text);
}

Token Credentials::adminToken() const
{
    std::lock_guard g(*m_tokenMutex);
    return m_tokens.front();
}

std::optional<Role> Credentials::authenticate(std::string_view bearer) const
{
    std::lock_guard g(*m_tokenMutex);
    std::optional<Role> found;
    // Every token is compared, whatever matched, so the time says nothing about which.
    for (const auto &t : m_tokens) {
        const bool sameLength = t.secret.size() == bearer.size();
        const bool same = sameLength && CRYPTO_memcmp(t.secret.data(), bearer.data(), bearer.size()) == 0;
        if (same && !found)
            found = t.role;
    }
    return found;
}

Result<Token> Credentials::addToken(Role role, const std::string &name)
{
    if (name.empty() || name.find_first_of(" \t\n") != std::string::npos)
        return fail(Reason::Invalid, "a token's name must be one word, e.g. viewer");
    auto secret = randomHex(32);
    if (!secret)
        return secret.takeError();
    std::lock_guard g(*m_tokenMutex);
    for (const auto &t : m_tokens)
        if (t.name == name)
            return fail(Reason::AlreadyExists, "a token named \"" + name + "\" exists already; choose another name");
    m_tokens.push_back(Token{*secret, role, name});
    if (auto r = saveTokens(); !r) {
        m_tokens.pop_back();
        return r.takeError();
    }
    return m_tokens.back();
}

std::string Credentials::kubeconfig(const std::string &server, const Token &token, const std::string &contextName) const
{
    const std::string user = contextName + "-" + token.name;
    return "apiVersion: v1\n"
           "kind: Config\n"
           "clusters:\n"
           "- name: " + contextName + "\n"
           "  cluster:\n"
           "    server: " + server + "\n"
           "    certificate-authority-data: " + base64Encode(m_caPem) + "\n"
           "users:\n"
           "- name: " + user + "\n"
           "  user:\n"
           "    token: " + token.secret + "\n"
           "contexts:\n"
           "- name: " + contextName + "\n"
           "  context:\n"
           "    cluster: " + contextName + "\n"
           "    user: " + user + "\n"
           "    namespace: default\n"
           "current-context: " + contextName + "\n"
           "preferences: {}\n";
}

Result<void> Credentials::writeKubeconfig(const std::string &path, const std::string &server, const Token &token,
                                          const std::string &contextName) const
{
    return writePrivateFile(path, kubeconfig(server, token, contextName));
}

} // namespace podscape::core::apiserver
