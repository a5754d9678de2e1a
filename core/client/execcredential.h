#pragma once
// Credentials from an exec plugin (client.authentication.k8s.io), as client-go's exec
// authenticator gets them: run the kubeconfig's command with KUBERNETES_EXEC_INFO, read an
// ExecCredential from its stdout, and reuse it until its expirationTimestamp (or until a 401
// makes the caller invalidate() it). Never interactive: stdin is /dev/null.

#include "core/base/clock.h"
#include "core/base/result.h"
#include "core/client/kubeconfig.h"

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

namespace podscape::core::client {

struct ExecCredential {
    std::string token;
    std::string clientCertificateData; // PEM
    std::string clientKeyData;         // PEM
    std::optional<Clock::TimePoint> expiry; // none: valid until invalidate()
};

class ExecCredentialProvider
{
public:
    struct Options {
        std::chrono::milliseconds timeout{30'000}; // the plugin is killed after this (real time)
        size_t maxOutputBytes = 1024 * 1024;       // stdout larger than this is an error
        size_t maxStderrBytes = 4096;              // kept for error messages; the rest is drained
    };

    // `cluster` is what resolve() returned (used when exec.provideClusterInfo); `clock` decides
    // expiry, so tests can step past expirationTimestamp without waiting.
    ExecCredentialProvider(ExecConfig exec, ClusterInfo cluster, Clock &clock = Clock::system());
    ExecCredentialProvider(ExecConfig exec, ClusterInfo cluster, Clock &clock, Options options);

    // The cached credential while it has not expired, otherwise a fresh one from the plugin.
    // Thread-safe; concurrent callers share one plugin run.
    Result<ExecCredential> credential();
    // Forget the cached credential (the server answered 401): the next call runs the plugin.
    void invalidate();

    // The KUBERNETES_EXEC_INFO document the plugin receives.
    std::string execInfo() const;

private:
    Result<ExecCredential> runPlugin() const;
    Result<ExecCredential> parseOutput(const std::string &out) const;

    ExecConfig m_exec;
    ClusterInfo m_cluster;
    Clock &m_clock;
    Options m_options;
    std::mutex m_mutex;
    std::optional<ExecCredential> m_cached;
};

} // namespace podscape::core::client
