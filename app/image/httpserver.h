#pragma once
// A small blocking HTTP/1.1 server (Boost.Beast, one thread per connection) for the image
// programs. Only this file's .cpp includes Beast, so the programs stay quick to compile.
//
// Limits: at most kMaxConnections connections are served at once (the next accept waits for a
// free slot, so excess clients queue in the kernel's backlog); a request's header may be
// kHeaderLimit bytes, its body kBodyLimit; a request must arrive within kRequestTimeout
// (also the keep-alive idle time), else the connection is closed.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace podscape::image {

struct HttpRequest {
    std::string method;  // "GET"
    std::string target;  // "/path?query", as sent
    std::string version; // "HTTP/1.1"
    std::string host;    // Host header, "" if absent
    std::string userAgent;
    std::string referer;
    std::string body;
    std::string clientAddress; // "127.0.0.1" (IPv4 clients are plain dotted quads)
    uint16_t clientPort = 0;
};

struct HttpResponse {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    // When set, the file's contents are streamed as the body instead of `body`.
    std::string filePath;
};

// What the access log sees once a response has been written.
struct HttpExchange {
    const HttpRequest &request;
    int status;
    uint64_t bodyBytes;
    std::chrono::steady_clock::duration duration;
};

class HttpServer
{
public:
    static constexpr int kMaxConnections = 256;
    static constexpr uint32_t kHeaderLimit = 16 * 1024;
    static constexpr uint64_t kBodyLimit = 64 * 1024; // no program keeps bodies; 256 x 64 KiB at most
    static constexpr std::chrono::seconds kRequestTimeout{30};

    using Handler = std::function<HttpResponse(const HttpRequest &)>;
    using AccessLog = std::function<void(const HttpExchange &)>;

    HttpServer();
    ~HttpServer();
    HttpServer(const HttpServer &) = delete;
    HttpServer &operator=(const HttpServer &) = delete;

    void setHandler(Handler handler);
    void setAccessLog(AccessLog log);
    // The "Server" response header.
    void setServerName(std::string name);

    // Binds and listens. On failure returns false and sets `error` to a line a person can
    // act on ("bind 10.0.0.7:80: permission denied. Ports below 1024 ...").
    bool listen(const std::string &address, uint16_t port, std::string &error);
    // Accepts connections until the process exits. Handler and log run on connection threads.
    void run();

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace podscape::image
