#pragma once
// The API server's transport: HTTPS only (HTTP/1.1, keep-alive) on Boost.Beast, with every
// request authenticated by a bearer token before it reaches the handler.
//
//   - TLS from the Credentials' serving certificate; no plain-HTTP listener exists.
//   - Missing or unknown token: 401 Status. A read-only token asking for anything but
//     GET/HEAD: 403 Status. Tokens are never logged.
//   - Limits: request body (3 MiB by default: 413 Status), header size, handshake and idle
//     timeouts, and a bound on concurrent connections (503 beyond it), so that a slow or stuck
//     client costs one connection slot and a timer, never another client's progress.
//
// The handler runs on one of the server's threads and must not block for long.

#include "core/apiserver/credentials.h"
#include "core/base/result.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace podscape::core::apiserver {

struct HttpRequest {
    std::string method; // "GET"
    std::string target; // "/api/v1/pods?limit=500"
    std::map<std::string, std::string> headers; // names lowercased
    std::string body;
    Role role = Role::ReadOnly; // of the token that authenticated the request
    std::string header(const std::string &lowercaseName) const;
};

// A response body that arrives over time (a watch): the server sends it chunked, pulling
// chunks on a thread of its own (bounded by maxStreams) until the stream ends or the client goes.
class ResponseStream
{
public:
    virtual ~ResponseStream() = default;
    // The next chunk, or nullopt when none came within `wait`; finished() says whether more may come.
    virtual std::optional<std::string> next(std::chrono::milliseconds wait) = 0;
    virtual bool finished() const = 0;
};

// The far end of an upgraded connection (exec, attach, port-forward): WebSocket messages
// both ways. The server reads the client's messages on its I/O threads and pulls outgoing
// ones on a thread of its own (counted with the streams), so next() may block up to `wait`.
class WebSocketHandler
{
public:
    virtual ~WebSocketHandler() = default;
    // A message from the client, in order. Runs on an I/O thread: must not block.
    virtual void onMessage(std::string_view data) = 0;
    // The client closed the connection or it dropped; next() should end soon after.
    virtual void onClosed() = 0;
    // The next binary message for the client, or nullopt when none came within `wait`.
    virtual std::optional<std::string> next(std::chrono::milliseconds wait) = 0;
    // Nothing more will come: the server sends a normal close frame.
    virtual bool finished() const = 0;
};

struct HttpResponse {
    std::shared_ptr<ResponseStream> stream; // set: the body is this stream, sent chunked
    // Set on a WebSocket upgrade request: the server answers 101 with this subprotocol and
    // hands the connection to the handler.
    std::shared_ptr<WebSocketHandler> webSocket;
    std::string webSocketProtocol;
    int status = 200;
    std::string contentType = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;

    // A Kubernetes Status for an error.
    static HttpResponse fromError(const Error &error);
};

struct HttpsServerOptions {
    std::string address = "127.0.0.1";
    uint16_t port = 0; // 0: any free port (see port())
    int threads = 2;        // I/O: TLS, parsing, writing
    int handlerThreads = 4; // requests are answered here, so a write waiting on the disk holds no I/O thread
    size_t maxBodyBytes = 3 * 1024 * 1024;
    size_t maxHeaderBytes = 64 * 1024;
    size_t maxConnections = 512;
    size_t maxStreams = 256; // open watches, log follows and WebSocket sessions; beyond it 429
    size_t maxWebSocketMessage = 1024 * 1024; // from the client; bigger closes the session
    std::chrono::seconds handshakeTimeout{10};
    std::chrono::seconds idleTimeout{120}; // between requests on a kept-alive connection
    std::chrono::seconds readTimeout{30};  // for one request once it started
};

class HttpsServer
{
public:
    using Handler = std::function<HttpResponse(const HttpRequest &)>;

    // Whether `address` may be listened on: loopback always, others only when allowed.
    static Result<void> checkListenAddress(const std::string &address, bool allowRemote);
    // Binds and starts serving. An address that is not loopback is refused unless
    // `allowRemote` (the agent's explicit choice; TLS and tokens apply either way).
    static Result<std::unique_ptr<HttpsServer>> start(const Credentials &credentials, Handler handler,
                                                      HttpsServerOptions options = {}, bool allowRemote = false);
    ~HttpsServer(); // stops
    HttpsServer(const HttpsServer &) = delete;
    HttpsServer &operator=(const HttpsServer &) = delete;

    void stop();
    uint16_t port() const;
    std::string url() const; // "https://127.0.0.1:PORT"
    size_t openConnections() const;
    size_t openStreams() const;

    struct Impl;

private:
    explicit HttpsServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace podscape::core::apiserver
