#include "execcredential.h"

#include "core/base/base64.h"
#include "core/base/timeformat.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace podscape::core::client {

using nlohmann::json;

namespace {

constexpr size_t MaxCaFileBytes = 1024 * 1024;

// Closes what it holds, so every early return below leaves no descriptor behind.
struct Fd {
    int fd = -1;
    ~Fd() { reset(); }
    void reset()
    {
        if (fd >= 0)
            ::close(fd);
        fd = -1;
    }
};

std::string errnoText(int err) { return std::strerror(err); }

// The plugin's stderr in an error message: trimmed, and said to be cut when it was.
std::string stderrSuffix(const std::string &err, bool truncated)
{
    std::string s = err;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
        s.pop_back();
    if (s.empty())
        return " (no output on stderr)";
    return ": " + s + (truncated ? " [stderr truncated]" : "");
}

} // namespace

ExecCredentialProvider::ExecCredentialProvider(ExecConfig exec, ClusterInfo cluster, Clock &clock)
    : ExecCredentialProvider(std::move(exec), std::move(cluster), clock, Options{})
{}

ExecCredentialProvider::ExecCredentialProvider(ExecConfig exec, ClusterInfo cluster, Clock &clock, Options options)
    : m_exec(std::move(exec)), m_cluster(std::move(cluster)), m_clock(clock), m_options(options)
{}

Result<ExecCredential> ExecCredentialProvider::credential()
{
    std::lock_guard lock(m_mutex);
    if (m_cached && (!m_cached->expiry || m_clock.now() < *m_cached->expiry))
        return *m_cached;
    m_cached.reset();
    auto fresh = runPlugin();
    if (fresh)
        m_cached = *fresh;
    return fresh;
}

void ExecCredentialProvider::invalidate()
{
    std::lock_guard lock(m_mutex);
    m_cached.reset();
}

std::string ExecCredentialProvider::execInfo() const
{
    json spec = {{"interactive", false}};
    if (m_exec.provideClusterInfo) {
        json cluster = {{"server", m_cluster.server}};
        if (!m_cluster.tlsServerName.empty())
            cluster["tls-server-name"] = m_cluster.tlsServerName;
        if (m_cluster.insecureSkipTlsVerify)
            cluster["insecure-skip-tls-verify"] = true;
        if (!m_cluster.proxyUrl.empty())
            cluster["proxy-url"] = m_cluster.proxyUrl;
        // client-go hands the plugin the CA bytes, whether inline or from a file.
        std::string ca = m_cluster.certificateAuthorityData;
        if (ca.empty() && !m_cluster.certificateAuthority.empty()) {
            std::ifstream in(m_cluster.certificateAuthority, std::ios::binary);
            ca.resize(MaxCaFileBytes);
            in.read(ca.data(), static_cast<std::streamsize>(ca.size()));
            ca.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
        }
        if (!ca.empty())
            cluster["certificate-authority-data"] = base64Encode(ca);
        spec["cluster"] = std::move(cluster);
    }
    return json{{"apiVersion", m_exec.apiVersion}, {"kind", "ExecCredential"}, {"spec", std::move(spec)}}.dump();
}

Result<ExecCredential> ExecCredentialProvider::runPlugin() const
{
    const std::string what = "exec plugin \"" + m_exec.command + "\"";
    if (m_exec.interactiveMode == "Always")
        return fail(Reason::Unauthorized, what + ": interactiveMode is Always but Podscape cannot give the plugin a "
                                                 "terminal; set interactiveMode to IfAvailable or Never");

    // Environment: ours, then the kubeconfig's env entries, then KUBERNETES_EXEC_INFO.
    std::vector<std::string> env;
    auto setVar = [&env](const std::string &name, const std::string &value) {
        const std::string prefix = name + "=";
        std::erase_if(env, [&](const std::string &e) { return e.rfind(prefix, 0) == 0; });
        env.push_back(prefix + value);
    };
    for (char **e = environ; e && *e; ++e)
        env.emplace_back(*e);
    for (const auto &[name, value] : m_exec.env)
        setVar(name, value);
    setVar("KUBERNETES_EXEC_INFO", execInfo());
    std::vector<char *> envp;
    for (auto &e : env)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> argStore{m_exec.command};
    argStore.insert(argStore.end(), m_exec.args.begin(), m_exec.args.end());
    std::vector<char *> argv;
    for (auto &a : argStore)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    int outPipe[2], errPipe[2];
    if (::pipe2(outPipe, O_CLOEXEC) != 0)
        return fail(Reason::InternalError, what + ": pipe: " + errnoText(errno));
    Fd outRead{outPipe[0]}, outWrite{outPipe[1]};
    if (::pipe2(errPipe, O_CLOEXEC) != 0)
        return fail(Reason::InternalError, what + ": pipe: " + errnoText(errno));
    Fd errRead{errPipe[0]}, errWrite{errPipe[1]};

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, outWrite.fd, 1);
    posix_spawn_file_actions_adddup2(&actions, errWrite.fd, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group, so a timeout kills whatever the plugin started too.
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    pid_t pid = -1;
    // A command without '/' is looked up on PATH, as client-go's exec.Command does.
    const int rc = ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        return fail(Reason::Unauthorized, what + ": cannot start: " + errnoText(rc));
    outWrite.reset();
    errWrite.reset();

    std::string out, err;
    bool errTruncated = false, tooLarge = false, timedOut = false;
    const auto deadline = std::chrono::steady_clock::now() + m_options.timeout;
    char buf[16384];
    while (outRead.fd >= 0 || errRead.fd >= 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timedOut = true;
            break;
        }
        pollfd fds[2] = {{outRead.fd, POLLIN, 0}, {errRead.fd, POLLIN, 0}};
        const int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2 && n > 0; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
            if (got <= 0) {
                if (got < 0 && errno == EINTR)
                    continue;
                (i == 0 ? outRead : errRead).reset();
                continue;
            }
            if (i == 0) {
                if (out.size() + static_cast<size_t>(got) > m_options.maxOutputBytes) {
                    tooLarge = true;
                    break;
                }
                out.append(buf, static_cast<size_t>(got));
            } else {
                const size_t room = m_options.maxStderrBytes - std::min(err.size(), m_options.maxStderrBytes);
                err.append(buf, std::min(room, static_cast<size_t>(got)));
                errTruncated = errTruncated || static_cast<size_t>(got) > room;
            }
        }
        if (tooLarge)
            break;
    }
    if (timedOut || tooLarge)
        ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timedOut)
        return fail(Reason::Timeout, what + ": no answer within " + std::to_string(m_options.timeout.count())
                                         + " ms; killed it" + stderrSuffix(err, errTruncated));
    if (tooLarge)
        return fail(Reason::RequestEntityTooLarge, what + ": wrote more than " + std::to_string(m_options.maxOutputBytes)
                                                       + " bytes to stdout; killed it");
    if (WIFSIGNALED(status))
        return fail(Reason::Unauthorized,
                    what + ": killed by signal " + std::to_string(WTERMSIG(status)) + stderrSuffix(err, errTruncated));
    if (WEXITSTATUS(status) != 0) {
        // 127 is the shell's and posix_spawnp's "not found" for a missing interpreter or program.
        return fail(Reason::Unauthorized, what + ": exited with status " + std::to_string(WEXITSTATUS(status))
                                              + stderrSuffix(err, errTruncated));
    }
    return parseOutput(out);
}

Result<ExecCredential> ExecCredentialProvider::parseOutput(const std::string &out) const
{
    const std::string what = "exec plugin \"" + m_exec.command + "\"";
    json doc = json::parse(out, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
        return fail(Reason::Unauthorized, what + ": stdout is not an ExecCredential JSON object");
    const auto str = [&](const json &o, const char *key) -> std::optional<std::string> {
        auto it = o.find(key);
        if (it == o.end() || it->is_null())
            return std::string();
        if (!it->is_string())
            return std::nullopt;
        return it->get<std::string>();
    };
    const auto kind = str(doc, "kind");
    const auto apiVersion = str(doc, "apiVersion");
    if (!kind || *kind != "ExecCredential")
        return fail(Reason::Unauthorized, what + ": stdout has kind \"" + kind.value_or("?") + "\", expected ExecCredential");
    if (!apiVersion || *apiVersion != m_exec.apiVersion)
        return fail(Reason::Unauthorized, what + ": the kubeconfig asks for " + m_exec.apiVersion + " but the plugin answered "
                                              + apiVersion.value_or("?"));
    auto status = doc.find("status");
    if (status == doc.end() || !status->is_object())
        return fail(Reason::Unauthorized, what + ": the ExecCredential has no status");
    const auto token = str(*status, "token");
    const auto cert = str(*status, "clientCertificateData");
    const auto key = str(*status, "clientKeyData");
    const auto expiry = str(*status, "expirationTimestamp");
    if (!token || !cert || !key || !expiry)
        return fail(Reason::Unauthorized, what + ": status.token, clientCertificateData, clientKeyData and "
                                              "expirationTimestamp must be strings");
    ExecCredential c{*token, *cert, *key, std::nullopt};
    if (cert->empty() != key->empty())
        return fail(Reason::Unauthorized, what + ": status.clientCertificateData and clientKeyData must come together");
    if (token->empty() && cert->empty())
        return fail(Reason::Unauthorized, what + ": status has neither a token nor a client certificate");
    if (!expiry->empty()) {
        auto t = parseRfc3339(*expiry);
        if (!t)
            return fail(Reason::Unauthorized, what + ": status.expirationTimestamp \"" + *expiry + "\": " + t.error().message());
        c.expiry = std::chrono::time_point_cast<Clock::Duration>(*t);
    }
    return c;
}

} // namespace podscape::core::client
