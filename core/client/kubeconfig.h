#pragma once
// Kubeconfig loading as kubectl (client-go's clientcmd) does it: the KUBECONFIG list or
// ~/.kube/config, merged so the first file to define a name wins, relative paths resolved
// against the file that wrote them, and everything a connection needs validated up front so
// a bad entry fails with a message naming file, context and field instead of a TLS error later.

#include "core/base/result.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace podscape::core::client {

struct KubeconfigSource {
    std::string file; // where an entry came from (for errors and relative paths)
};

// Paths are already resolved against the defining file's folder. `*Data` fields hold the
// base64 text as written until resolve(), which returns them decoded (PEM bytes).
struct ClusterInfo {
    std::string name, server, certificateAuthority, certificateAuthorityData, tlsServerName, proxyUrl;
    bool insecureSkipTlsVerify = false;
    std::string file;
};

struct ExecConfig {
    std::string apiVersion, command;
    std::vector<std::string> args;
    std::vector<std::pair<std::string, std::string>> env;
    std::string interactiveMode; // IfAvailable, Never, Always (resolve() fills the v1beta1 default)
    bool provideClusterInfo = false;
};

struct UserInfo {
    std::string name, token, tokenFile, clientCertificate, clientCertificateData, clientKey, clientKeyData, username,
        password;
    std::optional<ExecConfig> exec;
    bool hasAuthProvider = false;
    std::string authProviderName;
    std::string file;
};

struct ContextInfo {
    std::string name, cluster, user, ns; // ns: the context's namespace
    std::string file;
};

class Kubeconfig
{
public:
    // Larger kubeconfig files are refused (real ones are a few KiB, even with inline certs).
    static constexpr size_t MaxFileBytes = 4 * 1024 * 1024;

    // KUBECONFIG (':'-separated, empty entries and missing files skipped, error if none exist)
    // or ~/.kube/config; `explicitFile` non-empty (like --kubeconfig): only that file, which must exist.
    static Result<Kubeconfig> load(const std::string &explicitFile = {});
    // The merge itself: every file must be readable; the first to define a name wins.
    static Result<Kubeconfig> loadFiles(const std::vector<std::string> &files);
    // One file's text; `file` names it in errors and anchors its relative paths.
    static Result<Kubeconfig> parse(const std::string &yamlText, const std::string &file);

    std::vector<std::string> contextNames() const; // sorted
    const std::string &currentContext() const;
    // Switches without reloading (nothing is written back); NotFound if unknown.
    Result<void> useContext(const std::string &name);

    // What a client needs for one context (default: current): cluster + user + namespace
    // ("default" when unset), every path resolved and checked, every `-data` decoded.
    struct Resolved {
        ContextInfo context;
        ClusterInfo cluster;
        UserInfo user;
    };
    Result<Resolved> resolve(const std::string &context = {}) const;

    const std::vector<std::string> &files() const;

    const std::vector<ClusterInfo> &clusters() const { return m_clusters; }
    const std::vector<UserInfo> &users() const { return m_users; }
    const std::vector<ContextInfo> &contexts() const { return m_contexts; }

private:
    const ClusterInfo *findCluster(const std::string &name) const;
    const UserInfo *findUser(const std::string &name) const;
    const ContextInfo *findContext(const std::string &name) const;
    // First definition wins: entries from a later file never replace an earlier one.
    void mergeFrom(Kubeconfig &&later);

    std::vector<ClusterInfo> m_clusters;
    std::vector<UserInfo> m_users;
    std::vector<ContextInfo> m_contexts;
    std::string m_currentContext;
    std::vector<std::string> m_files;
};

} // namespace podscape::core::client
