#include "httpecho.h"

#include "console.h"
#include "flagparser.h"
#include "httpserver.h"
#include "podenvironment.h"
#include "shutdownsignals.h"

#include <cstdlib>
#include <ctime>
#include <thread>

namespace podscape::image {

namespace {

constexpr const char *kVersion = "1.0.0"; // the http-echo release this behaves like

// Go's log package prefix: "2026/11/27 10:00:00 ".
void logLine(const std::string &text)
{
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y/%m/%d %H:%M:%S ", &tm);
    Console::out(stamp + text);
}

// `value / 10^digits` with the fraction's trailing zeros dropped, as Go prints durations.
std::string decimal(int64_t value, int digits)
{
    int64_t scale = 1;
    for (int i = 0; i < digits; ++i)
        scale *= 10;
    std::string fraction = std::to_string(value % scale);
    fraction.insert(0, static_cast<size_t>(digits) - fraction.size(), '0');
    while (!fraction.empty() && fraction.back() == '0')
        fraction.pop_back();
    return std::to_string(value / scale) + (fraction.empty() ? "" : "." + fraction);
}

// time.Duration.String() for the sub-minute range a request takes: "15.5µs", "1.2034ms".
std::string goDuration(std::chrono::steady_clock::duration duration)
{
    int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
    if (ns < 1000)
        return std::to_string(ns) + "ns";
    if (ns < 1000'000)
        return decimal(ns, 3) + "\u00b5s";
    if (ns < 1000'000'000)
        return decimal(ns, 6) + "ms";
    return decimal(ns, 9) + "s";
}

} // namespace

int HttpEcho::run(const std::vector<std::string> &args)
{
    FlagParser flags({"text", "listen", "status-code"});
    std::string error;
    int status = 200;
    if (!flags.parse(args, error) || !flags.number("status-code", 100, 999, 200, status, error)) {
        Console::err(error);
        Console::err("Usage: http-echo -text=TEXT [-listen=:5678] [-status-code=200]");
        return 2;
    }
    std::string text = flags.value("text").value_or("");
    if (text.empty()) {
        const char *env = std::getenv("ECHO_TEXT");
        text = env ? env : "";
    }
    if (text.empty()) {
        Console::err("Error: missing -text option");
        return 127;
    }
    std::string listen = flags.value("listen").value_or(":5678");
    auto colon = listen.rfind(':');
    int port = 0;
    if (colon == std::string::npos || !FlagParser::parseNumber(listen.substr(colon + 1), 1, 65535, port)) {
        Console::err("Error: -listen \"" + listen + "\" wants [host]:port with a port from 1 to 65535");
        return 2;
    }

    ShutdownSignals::block(); // before any thread exists

    HttpServer server;
    const std::vector<std::pair<std::string, std::string>> headers = {
        {"Content-Type", "text/plain; charset=utf-8"}, {"X-App-Name", "http-echo"}, {"X-App-Version", kVersion}};
    server.setHandler([&](const HttpRequest &request) {
        if (request.target == "/health" || request.target.rfind("/health?", 0) == 0)
            return HttpResponse{200, headers, "{\"status\":\"ok\"}\n", {}};
        return HttpResponse{status, headers, text + "\n", {}};
    });
    server.setAccessLog([](const HttpExchange &x) {
        const HttpRequest &r = x.request;
        logLine(r.host + " " + r.clientAddress + ":" + std::to_string(r.clientPort) + " \"" + r.method + " " + r.target
                + " " + r.version + "\" " + std::to_string(x.status) + " " + std::to_string(x.bodyBytes) + " \""
                + r.userAgent + "\" " + goDuration(x.duration));
    });
    if (!server.listen(PodEnvironment::bindAddress(), static_cast<uint16_t>(port), error)) {
        Console::err("[ERR] Error starting server: " + error);
        return 1;
    }
    logLine("[INFO] server is listening on " + listen);

    std::thread([&server] { server.run(); }).detach();
    ShutdownSignals::wait();
    logLine("[INFO] received interrupt, shutting down...");
    // Connection threads still use `server`: end the process here rather than unwind under them.
    std::_Exit(0);
}

} // namespace podscape::image
