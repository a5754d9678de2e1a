#pragma once
// What the API server needs to be reachable safely, kept in its data directory:
//
//   ca.crt / ca.key           a private CA (ECDSA P-256, 10 years), made on first start
//   server.crt / server.key   the serving certificate it signs, with the SANs 127.0.0.1, ::1,
//                             localhost, the host name and any extra names; remade when the
//                             wanted names change
//   tokens                    bearer tokens, one per line: "<token> <role> <name>"; role is
//                             admin or read-only. An admin token is made on first start.
//
// Every file is written 0600 through a temporary file and a rename, so a crash never leaves a
// half-written key. Tokens are compared in constant time and never logged.

#include "core/base/result.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace podscape::core::apiserver {

enum class Role { Admin, ReadOnly };

struct Token {
    std::string secret;
    Role role = Role::Admin;
    std::string name; // who it is for ("admin", "viewer"); shown instead of the secret
};

class Credentials
{
public:
    // Loads what exists under `dataDir`, creating what is missing. `extraNames` are more
    // SANs (DNS names or IP addresses).
    static Result<Credentials> loadOrCreate(const std::string &dataDir, const std::vector<std::string> &extraNames = {});

    const std::string &caPem() const { return m_caPem; }
    const std::string &certPem() const { return m_certPem; }
    const std::string &keyPem() const { return m_keyPem; }
    const std::vector<std::string> &subjectAltNames() const { return m_sans; }

    // The token's role, or nullopt. Constant time in the secret's content.
    std::optional<Role> authenticate(std::string_view bearer) const;
    // A new random token, saved before it is returned.
    Result<Token> addToken(Role role, const std::string &name);
    Token adminToken() const;

    // A kubeconfig for `server` ("https://127.0.0.1:6443") with the CA and a token, 0600.
    Result<void> writeKubeconfig(const std::string &path, const std::string &server, const Token &token,
                                 const std::string &contextName = "podscape") const;
    std::string kubeconfig(const std::string &server, const Token &token, const std::string &contextName = "podscape") const;

    // Writes `content` to `path` with mode 0600, atomically (temporary file, fsync, rename).
    static Result<void> writePrivateFile(const std::string &path, const std::string &content);

private:
    std::string m_dataDir;
    std::string m_caPem, m_certPem, m_keyPem;
    std::vector<std::string> m_sans;
    std::vector<Token> m_tokens;
    // Tokens may be added while a server authenticates with them (copies share the lock).
    std::shared_ptr<std::mutex> m_tokenMutex = std::make_shared<std::mutex>();
    Result<void> saveTokens() const;
};

} // namespace podscape::core::apiserver
