#include "kubeconfig.h"

#include "core/base/base64.h"
#include "core/model/yamlcodec.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

namespace podscape::core::client {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string inQuotes(const std::string &s) { return "\"" + s + "\""; }

std::string joined(const std::vector<std::string> &items, const char *sep)
{
    std::string out;
    for (const auto &i : items)
        out += (out.empty() ? "" : sep) + i;
    return out;
}

const char *typeName(const json &v)
{
    switch (v.type()) {
    case json::value_t::object: return "a map";
    case json::value_t::array: return "a list";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::null: return "null";
    default: return "a number";
    }
}

// Walks one decoded file. Every accessor knows its field path (users[0].user.exec.args) and
// the matching JSON pointer, so a wrong type is reported with file, line and field.
class FileReader
{
public:
    FileReader(const model::YamlDocument &doc, const std::string &file) : m_doc(doc), m_file(file)
    {
        if (!file.empty())
            m_dir = fs::path(file).parent_path();
    }

    struct Node {
        const json *value; // never null; points at a json null when the field is absent
        std::string path;
        std::string pointer;
    };

    Node root() const { return {&m_doc.value, "", ""}; }

    Node child(const Node &parent, const std::string &key) const
    {
        static const json null;
        const json *v = &null;
        if (parent.value->is_object())
            if (auto it = parent.value->find(key); it != parent.value->end())
                v = &*it;
        return {v, parent.path.empty() ? key : parent.path + "." + key,
                parent.pointer + "/" + model::escapePointerToken(key)};
    }

    Node item(const Node &parent, size_t i) const
    {
        return {&(*parent.value)[i], parent.path + "[" + std::to_string(i) + "]", parent.pointer + "/" + std::to_string(i)};
    }

    Error typeError(const Node &n, const char *expected) const
    {
        const model::SourcePosition p = m_doc.positionOf(n.pointer);
        std::string where = m_file;
        if (p.line > 0)
            where += ": line " + std::to_string(p.line) + ", column " + std::to_string(p.column);
        return Error(Reason::Invalid, where + ": " + (n.path.empty() ? std::string("the document") : n.path)
                                          + ": expected " + expected + ", got " + typeName(*n.value));
    }

    // null (absent) is accepted everywhere, as kubectl treats `users:` with no items.
    Result<void> expectMap(const Node &n) const
    {
        if (n.value->is_null() || n.value->is_object())
            return {};
        return typeError(n, "a map");
    }
    Result<void> expectList(const Node &n) const
    {
        if (n.value->is_null() || n.value->is_array())
            return {};
        return typeError(n, "a list");
    }
    Result<void> string(const Node &parent, const std::string &key, std::string &out) const
    {
        Node n = child(parent, key);
        if (n.value->is_null())
            return {};
        if (!n.value->is_string())
            return typeError(n, "a string");
        out = n.value->get<std::string>();
        return {};
    }
    Result<void> boolean(const Node &parent, const std::string &key, bool &out) const
    {
        Node n = child(parent, key);
        if (n.value->is_null())
            return {};
        if (!n.value->is_boolean())
            return typeError(n, "a boolean");
        out = n.value->get<bool>();
        return {};
    }

    // clientcmd's ResolvePaths: relative paths belong to the folder of the file that wrote them.
    std::string resolvePath(const std::string &p) const
    {
        if (p.empty() || m_dir.empty() || fs::path(p).is_absolute())
            return p;
        return (m_dir / p).lexically_normal().string();
    }

private:
    const model::YamlDocument &m_doc;
    std::string m_file;
    fs::path m_dir;
};

#define PODSCAPE_TRY(expr)                                                                                             \
    do {                                                                                                               \
        if (auto r_ = (expr); !r_)                                                                                     \
            return r_.takeError();                                                                                     \
    } while (0)

// A named list entry ({name: x, <kind>: {...}}): checks the shapes and hands back the inner map.
Result<FileReader::Node> namedEntry(const FileReader &r, const FileReader::Node &entry, const char *kind,
                                    std::string &name)
{
    PODSCAPE_TRY(r.expectMap(entry));
    PODSCAPE_TRY(r.string(entry, "name", name));
    FileReader::Node inner = r.child(entry, kind);
    PODSCAPE_TRY(r.expectMap(inner));
    return inner;
}

// Within one file a repeated name replaces the earlier entry, as client-go's list-to-map
// conversion does; across files the first file wins (mergeFrom).
template<typename T>
void putEntry(std::vector<T> &list, T entry)
{
    for (auto &e : list)
        if (e.name == entry.name) {
            e = std::move(entry);
            return;
        }
    list.push_back(std::move(entry));
}

Result<ExecConfig> readExec(const FileReader &r, const FileReader::Node &n)
{
    ExecConfig exec;
    PODSCAPE_TRY(r.string(n, "apiVersion", exec.apiVersion));
    PODSCAPE_TRY(r.string(n, "command", exec.command));
    // Only a command with a '/' is a path; a bare name is looked up on PATH when run.
    if (exec.command.find('/') != std::string::npos)
        exec.command = r.resolvePath(exec.command);
    PODSCAPE_TRY(r.string(n, "interactiveMode", exec.interactiveMode));
    PODSCAPE_TRY(r.boolean(n, "provideClusterInfo", exec.provideClusterInfo));
    FileReader::Node args = r.child(n, "args");
    PODSCAPE_TRY(r.expectList(args));
    if (args.value->is_array())
        for (size_t i = 0; i < args.value->size(); ++i) {
            FileReader::Node a = r.item(args, i);
            if (!a.value->is_string())
                return r.typeError(a, "a string");
            exec.args.push_back(a.value->get<std::string>());
        }
    FileReader::Node env = r.child(n, "env");
    PODSCAPE_TRY(r.expectList(env));
    if (env.value->is_array())
        for (size_t i = 0; i < env.value->size(); ++i) {
            FileReader::Node e = r.item(env, i);
            if (!e.value->is_object())
                return r.typeError(e, "a map");
            std::pair<std::string, std::string> kv;
            PODSCAPE_TRY(r.string(e, "name", kv.first));
            PODSCAPE_TRY(r.string(e, "value", kv.second));
            exec.env.push_back(std::move(kv));
        }
    return exec;
}

Result<std::string> readFileBounded(const std::string &path)
{
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st))
        return fail(Reason::NotFound, path + ": the kubeconfig file does not exist");
    if (!fs::is_regular_file(st))
        return fail(Reason::Invalid, path + ": not a regular file");
    const auto size = fs::file_size(path, ec);
    if (ec)
        return fail(Reason::Invalid, path + ": cannot read: " + ec.message());
    if (size > Kubeconfig::MaxFileBytes)
        return fail(Reason::RequestEntityTooLarge, path + ": " + std::to_string(size) + " bytes; a kubeconfig may be at most "
                                                       + std::to_string(Kubeconfig::MaxFileBytes) + " bytes");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return fail(Reason::Forbidden, path + ": cannot open for reading");
    std::string text(static_cast<size_t>(size), '\0');
    in.read(text.data(), static_cast<std::streamsize>(size));
    text.resize(static_cast<size_t>(in.gcount()));
    return text;
}

// A referenced file (certificate, key, token, plugin) must exist when the context is used.
Result<void> checkFile(const std::string &prefix, const char *field, const std::string &path)
{
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (!fs::exists(st))
        return fail(Reason::Invalid, prefix + field + " " + inQuotes(path) + " does not exist");
    if (fs::is_directory(st))
        return fail(Reason::Invalid, prefix + field + " " + inQuotes(path) + " is a directory, not a file");
    return {};
}

Result<void> decodeData(const std::string &prefix, const char *field, std::string &data)
{
    if (data.empty())
        return {};
    auto decoded = base64Decode(data);
    if (!decoded)
        return fail(Reason::Invalid, prefix + field + ": not valid base64 (the field holds the base64 encoding of the "
                                              "PEM file; use the non-data field for a file path)");
    data = std::move(*decoded);
    return {};
}

bool isDnsLabel(const std::string &s)
{
    if (s.empty() || s.size() > 63)
        return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    return s.front() != '-' && s.back() != '-';
}

// scheme://host..., with a host; the scheme is checked by the caller.
bool hasHost(const std::string &url, size_t schemeLength) { return url.size() > schemeLength && url[schemeLength] != '/'; }

std::string authProviderAdvice(const std::string &name)
{
    if (name == "gcp")
        return " (removed from kubectl in 1.26); use an exec credential plugin such as gke-gcloud-auth-plugin";
    if (name == "azure")
        return " (removed from kubectl in 1.26); use an exec credential plugin such as kubelogin (Azure/kubelogin)";
    return "; use an exec credential plugin instead (for OIDC, for example, int128/kubelogin)";
}

Result<void> validateCluster(const std::string &prefix, ClusterInfo &c)
{
    const bool https = c.server.rfind("https://", 0) == 0;
    const bool http = c.server.rfind("http://", 0) == 0;
    if (c.server.empty())
        return fail(Reason::Invalid, prefix + "server: not set (expected an https:// URL)");
    if ((!https && !http) || !hasHost(c.server, https ? 8 : 7))
        return fail(Reason::Invalid, prefix + "server " + inQuotes(c.server) + ": expected an https:// or http:// URL");
    if (!c.proxyUrl.empty()) {
        const bool ok = c.proxyUrl.rfind("http://", 0) == 0 || c.proxyUrl.rfind("https://", 0) == 0
                        || c.proxyUrl.rfind("socks5://", 0) == 0;
        if (!ok)
            return fail(Reason::Invalid,
                        prefix + "proxy-url " + inQuotes(c.proxyUrl) + ": expected an http://, https:// or socks5:// URL");
    }
    if (!c.certificateAuthority.empty() && !c.certificateAuthorityData.empty())
        return fail(Reason::Invalid, prefix + "certificate-authority and certificate-authority-data are both set; keep one");
    if (c.insecureSkipTlsVerify && (!c.certificateAuthority.empty() || !c.certificateAuthorityData.empty()))
        return fail(Reason::Invalid, prefix + "insecure-skip-tls-verify is set together with a certificate authority; "
                                              "kubectl refuses that, remove one of them");
    if (!c.certificateAuthority.empty())
        PODSCAPE_TRY(checkFile(prefix, "certificate-authority", c.certificateAuthority));
    PODSCAPE_TRY(decodeData(prefix, "certificate-authority-data", c.certificateAuthorityData));
    return {};
}

Result<void> validateExec(const std::string &prefix, ExecConfig &e)
{
    static const std::string v1 = "client.authentication.k8s.io/v1";
    static const std::string v1beta1 = "client.authentication.k8s.io/v1beta1";
    if (e.command.empty())
        return fail(Reason::Invalid, prefix + "exec.command: not set");
    if (e.apiVersion == "client.authentication.k8s.io/v1alpha1")
        return fail(Reason::Invalid, prefix + "exec.apiVersion " + inQuotes(e.apiVersion)
                                         + " is no longer supported (removed in Kubernetes 1.24); update the plugin and "
                                           "set apiVersion to " + v1 + " or " + v1beta1);
    if (e.apiVersion != v1 && e.apiVersion != v1beta1)
        return fail(Reason::Invalid, prefix + "exec.apiVersion " + inQuotes(e.apiVersion) + " is not supported; use " + v1
                                         + " or " + v1beta1);
    if (e.interactiveMode.empty()) {
        if (e.apiVersion == v1)
            return fail(Reason::Invalid, prefix + "exec.interactiveMode: required for " + v1
                                             + " (IfAvailable, Never or Always)");
        e.interactiveMode = "IfAvailable";
    } else if (e.interactiveMode != "IfAvailable" && e.interactiveMode != "Never" && e.interactiveMode != "Always") {
        return fail(Reason::Invalid, prefix + "exec.interactiveMode " + inQuotes(e.interactiveMode)
                                         + ": expected IfAvailable, Never or Always");
    }
    for (size_t i = 0; i < e.env.size(); ++i)
        if (e.env[i].first.empty())
            return fail(Reason::Invalid, prefix + "exec.env[" + std::to_string(i) + "].name: not set");
    if (e.command.find('/') != std::string::npos)
        PODSCAPE_TRY(checkFile(prefix, "exec.command", e.command));
    return {};
}

Result<void> validateUser(const std::string &prefix, UserInfo &u)
{
    if (u.hasAuthProvider)
        return fail(Reason::Invalid, prefix + "auth-provider " + inQuotes(u.authProviderName) + " is not supported"
                                         + authProviderAdvice(u.authProviderName));
    const auto both = [&](const std::string &a, const std::string &b, const char *fa, const char *fb) -> Result<void> {
        if (!a.empty() && !b.empty())
            return fail(Reason::Invalid, prefix + fa + " and " + fb + " are both set; keep one");
        return {};
    };
    PODSCAPE_TRY(both(u.clientCertificate, u.clientCertificateData, "client-certificate", "client-certificate-data"));
    PODSCAPE_TRY(both(u.clientKey, u.clientKeyData, "client-key", "client-key-data"));
    const bool hasCert = !u.clientCertificate.empty() || !u.clientCertificateData.empty();
    const bool hasKey = !u.clientKey.empty() || !u.clientKeyData.empty();
    if (hasCert && !hasKey)
        return fail(Reason::Invalid, prefix + "client-certificate is set without client-key; a certificate needs its key");
    if (hasKey && !hasCert)
        return fail(Reason::Invalid, prefix + "client-key is set without client-certificate; a key needs its certificate");
    const bool hasToken = !u.token.empty() || !u.tokenFile.empty();
    const bool hasBasic = !u.username.empty() || !u.password.empty();
    if (hasToken && hasBasic)
        return fail(Reason::Invalid, prefix + "more than one authentication method (token and username/password); "
                                              "only one is allowed");
    if (!u.clientCertificate.empty())
        PODSCAPE_TRY(checkFile(prefix, "client-certificate", u.clientCertificate));
    if (!u.clientKey.empty())
        PODSCAPE_TRY(checkFile(prefix, "client-key", u.clientKey));
    if (!u.tokenFile.empty())
        PODSCAPE_TRY(checkFile(prefix, "tokenFile", u.tokenFile));
    PODSCAPE_TRY(decodeData(prefix, "client-certificate-data", u.clientCertificateData));
    PODSCAPE_TRY(decodeData(prefix, "client-key-data", u.clientKeyData));
    if (u.exec)
        PODSCAPE_TRY(validateExec(prefix, *u.exec));
    return {};
}

} // namespace

Result<Kubeconfig> Kubeconfig::parse(const std::string &yamlText, const std::string &file)
{
    model::YamlDecodeOptions options = model::YamlDecodeOptions::forSource(file);
    options.maxBytes = MaxFileBytes;
    auto docs = model::decodeYamlStream(yamlText, options);
    if (!docs) {
        // The codec says "file:line:column: msg"; kubeconfig errors spell the position out.
        const Error &e = docs.error();
        if (!e.causes().empty() && !e.causes().front().field.empty())
            return fail(Reason::BadRequest, file + ": " + e.causes().front().field + ": " + e.causes().front().message);
        return fail(Reason::BadRequest, e.message());
    }
    Kubeconfig config;
    if (!file.empty())
        config.m_files.push_back(file);
    if (docs->empty()) // an empty file is an empty config, as for kubectl
        return config;
    const FileReader r(docs->front(), file);
    const FileReader::Node root = r.root();
    PODSCAPE_TRY(r.expectMap(root));
    PODSCAPE_TRY(r.string(root, "current-context", config.m_currentContext));

    FileReader::Node clusters = r.child(root, "clusters");
    PODSCAPE_TRY(r.expectList(clusters));
    for (size_t i = 0; clusters.value->is_array() && i < clusters.value->size(); ++i) {
        ClusterInfo c;
        auto n = namedEntry(r, r.item(clusters, i), "cluster", c.name);
        if (!n)
            return n.takeError();
        PODSCAPE_TRY(r.string(*n, "server", c.server));
        PODSCAPE_TRY(r.string(*n, "certificate-authority", c.certificateAuthority));
        PODSCAPE_TRY(r.string(*n, "certificate-authority-data", c.certificateAuthorityData));
        PODSCAPE_TRY(r.string(*n, "tls-server-name", c.tlsServerName));
        PODSCAPE_TRY(r.string(*n, "proxy-url", c.proxyUrl));
        PODSCAPE_TRY(r.boolean(*n, "insecure-skip-tls-verify", c.insecureSkipTlsVerify));
        c.certificateAuthority = r.resolvePath(c.certificateAuthority);
        c.file = file;
        putEntry(config.m_clusters, std::move(c));
    }

    FileReader::Node users = r.child(root, "users");
    PODSCAPE_TRY(r.expectList(users));
    for (size_t i = 0; users.value->is_array() && i < users.value->size(); ++i) {
        UserInfo u;
        auto n = namedEntry(r, r.item(users, i), "user", u.name);
        if (!n)
            return n.takeError();
        PODSCAPE_TRY(r.string(*n, "token", u.token));
        PODSCAPE_TRY(r.string(*n, "tokenFile", u.tokenFile));
        PODSCAPE_TRY(r.string(*n, "client-certificate", u.clientCertificate));
        PODSCAPE_TRY(r.string(*n, "client-certificate-data", u.clientCertificateData));
        PODSCAPE_TRY(r.string(*n, "client-key", u.clientKey));
        PODSCAPE_TRY(r.string(*n, "client-key-data", u.clientKeyData));
        PODSCAPE_TRY(r.string(*n, "username", u.username));
        PODSCAPE_TRY(r.string(*n, "password", u.password));
        u.tokenFile = r.resolvePath(u.tokenFile);
        u.clientCertificate = r.resolvePath(u.clientCertificate);
        u.clientKey = r.resolvePath(u.clientKey);
        FileReader::Node exec = r.child(*n, "exec");
        PODSCAPE_TRY(r.expectMap(exec));
        if (exec.value->is_object()) {
            auto e = readExec(r, exec);
            if (!e)
                return e.takeError();
            u.exec = std::move(*e);
        }
        FileReader::Node provider = r.child(*n, "auth-provider");
        PODSCAPE_TRY(r.expectMap(provider));
        if (provider.value->is_object()) {
            u.hasAuthProvider = true;
            PODSCAPE_TRY(r.string(provider, "name", u.authProviderName));
        }
        u.file = file;
        putEntry(config.m_users, std::move(u));
    }

    FileReader::Node contexts = r.child(root, "contexts");
    PODSCAPE_TRY(r.expectList(contexts));
    for (size_t i = 0; contexts.value->is_array() && i < contexts.value->size(); ++i) {
        ContextInfo c;
        auto n = namedEntry(r, r.item(contexts, i), "context", c.name);
        if (!n)
            return n.takeError();
        PODSCAPE_TRY(r.string(*n, "cluster", c.cluster));
        PODSCAPE_TRY(r.string(*n, "user", c.user));
        PODSCAPE_TRY(r.string(*n, "namespace", c.ns));
        c.file = file;
        putEntry(config.m_contexts, std::move(c));
    }
    PODSCAPE_TRY(r.expectMap(r.child(root, "preferences")));
    return config;
}

void Kubeconfig::mergeFrom(Kubeconfig &&later)
{
    for (auto &c : later.m_clusters)
        if (!findCluster(c.name))
            m_clusters.push_back(std::move(c));
    for (auto &u : later.m_users)
        if (!findUser(u.name))
            m_users.push_back(std::move(u));
    for (auto &c : later.m_contexts)
        if (!findContext(c.name))
            m_contexts.push_back(std::move(c));
    if (m_currentContext.empty())
        m_currentContext = std::move(later.m_currentContext);
    for (auto &f : later.m_files)
        m_files.push_back(std::move(f));
}

Result<Kubeconfig> Kubeconfig::loadFiles(const std::vector<std::string> &files)
{
    Kubeconfig merged;
    std::set<std::string> seen;
    for (const auto &f : files) {
        std::error_code ec;
        // Absolute, so relative paths inside stay right whatever the working directory becomes.
        const std::string path = fs::absolute(f, ec).lexically_normal().string();
        if (!seen.insert(path).second) // KUBECONFIG=a:a reads a once, as kubectl does
            continue;
        auto text = readFileBounded(path);
        if (!text)
            return text.takeError();
        auto one = parse(*text, path);
        if (!one)
            return one.takeError();
        merged.mergeFrom(std::move(*one));
    }
    return merged;
}

Result<Kubeconfig> Kubeconfig::load(const std::string &explicitFile)
{
    std::error_code ec;
    if (!explicitFile.empty()) {
        if (!fs::exists(explicitFile, ec))
            return fail(Reason::NotFound, explicitFile + ": the kubeconfig file does not exist");
        return loadFiles({explicitFile});
    }
    const char *env = std::getenv("KUBECONFIG");
    if (env && *env) {
        std::vector<std::string> all, existing;
        std::string list(env);
        size_t pos = 0;
        while (pos <= list.size()) {
            size_t end = list.find(':', pos);
            if (end == std::string::npos)
                end = list.size();
            if (end > pos)
                all.push_back(list.substr(pos, end - pos));
            pos = end + 1;
        }
        for (const auto &f : all)
            if (fs::exists(f, ec)) // missing entries are skipped, as kubectl does
                existing.push_back(f);
        if (existing.empty())
            return fail(Reason::NotFound, "none of the files in KUBECONFIG exist (" + (all.empty() ? list : joined(all, ", "))
                                              + ")");
        return loadFiles(existing);
    }
    const char *home = std::getenv("HOME");
    if (!home || !*home)
        return fail(Reason::NotFound, "no kubeconfig: KUBECONFIG and HOME are both unset");
    const std::string path = (fs::path(home) / ".kube" / "config").string();
    if (!fs::exists(path, ec))
        return fail(Reason::NotFound, path + ": the kubeconfig file does not exist (and KUBECONFIG is not set)");
    return loadFiles({path});
}

std::vector<std::string> Kubeconfig::contextNames() const
{
    std::vector<std::string> names;
    for (const auto &c : m_contexts)
        names.push_back(c.name);
    std::sort(names.begin(), names.end());
    return names;
}

const std::string &Kubeconfig::currentContext() const { return m_currentContext; }

const std::vector<std::string> &Kubeconfig::files() const { return m_files; }

Result<void> Kubeconfig::useContext(const std::string &name)
{
    if (!findContext(name))
        return fail(Reason::NotFound, "context " + inQuotes(name) + " not found (contexts: " + joined(contextNames(), ", ")
                                          + ")");
    m_currentContext = name;
    return {};
}

Result<Kubeconfig::Resolved> Kubeconfig::resolve(const std::string &contextName) const
{
    const std::string name = contextName.empty() ? m_currentContext : contextName;
    const std::string where = m_files.empty() ? std::string("kubeconfig") : joined(m_files, ", ");
    if (name.empty())
        return fail(Reason::Invalid, where + ": no current-context is set; choose one of: " + joined(contextNames(), ", "));
    const ContextInfo *ctx = findContext(name);
    if (!ctx)
        return fail(Reason::NotFound, where + ": context " + inQuotes(name) + " not found");
    Resolved out;
    out.context = *ctx;
    const std::string prefix = ctx->file + ": context " + inQuotes(name) + ": ";
    if (ctx->cluster.empty())
        return fail(Reason::Invalid, prefix + "cluster: not set");
    if (ctx->user.empty())
        return fail(Reason::Invalid, prefix + "user: not set");
    if (out.context.ns.empty())
        out.context.ns = "default";
    else if (!isDnsLabel(out.context.ns))
        return fail(Reason::Invalid, prefix + "namespace " + inQuotes(out.context.ns)
                                         + ": not a valid namespace name (lowercase letters, digits and '-')");
    const ClusterInfo *cluster = findCluster(ctx->cluster);
    if (!cluster)
        return fail(Reason::Invalid, prefix + "cluster " + inQuotes(ctx->cluster) + " not found");
    const UserInfo *user = findUser(ctx->user);
    if (!user)
        return fail(Reason::Invalid, prefix + "user " + inQuotes(ctx->user) + " not found");
    out.cluster = *cluster;
    out.user = *user;
    PODSCAPE_TRY(validateCluster(cluster->file + ": context " + inQuotes(name) + ": cluster " + inQuotes(cluster->name) + ": ",
                                 out.cluster));
    PODSCAPE_TRY(validateUser(user->file + ": context " + inQuotes(name) + ": user " + inQuotes(user->name) + ": ", out.user));
    return out;
}

const ClusterInfo *Kubeconfig::findCluster(const std::string &name) const
{
    auto it = std::find_if(m_clusters.begin(), m_clusters.end(), [&](const auto &c) { return c.name == name; });
    return it == m_clusters.end() ? nullptr : &*it;
}

const UserInfo *Kubeconfig::findUser(const std::string &name) const
{
    auto it = std::find_if(m_users.begin(), m_users.end(), [&](const auto &u) { return u.name == name; });
    return it == m_users.end() ? nullptr : &*it;
}

const ContextInfo *Kubeconfig::findContext(const std::string &name) const
{
    auto it = std::find_if(m_contexts.begin(), m_contexts.end(), [&](const auto &c) { return c.name == name; });
    return it == m_contexts.end() ? nullptr : &*it;
}

} // namespace podscape::core::client
