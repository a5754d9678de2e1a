#include "kubia.h"

#include "console.h"
#include "flagparser.h"
#include "httpserver.h"
#include "podenvironment.h"

#include <atomic>

namespace podscape::image {

namespace {
constexpr int kHealthyRequests = 5; // the book's v3 and kubia-unhealthy fail after five
} // namespace

int Kubia::run(const std::vector<std::string> &args)
{
    FlagParser flags({"version", "port"});
    std::string error;
    int port = 8080;
    if (!flags.parse(args, error) || !flags.number("port", 1, 65535, 8080, port, error)) {
        Console::err("kubia: " + error + " (usage: kubia [--version v1|v2|v3|unhealthy] [--port N])");
        return 2;
    }
    std::string version = flags.value("version").value_or("v1");
    if (version == "latest")
        version = "v1";
    if (version != "v1" && version != "v2" && version != "v3" && version != "unhealthy") {
        Console::err("kubia: unknown --version \"" + version + "\" (known: v1, v2, v3, unhealthy)");
        return 2;
    }

    const std::string host = PodEnvironment::hostname();
    std::atomic<int> requestCount{0};
    HttpServer server;
    server.setHandler([&](const HttpRequest &request) {
        // node listens on :: and so reports IPv4 clients in their IPv6-mapped form.
        bool v4 = request.clientAddress.find(':') == std::string::npos;
        Console::out("Received request from " + std::string(v4 ? "::ffff:" : "") + request.clientAddress);
        int count = ++requestCount;
        if (version == "v1")
            return HttpResponse{200, {}, "You've hit " + host + "\n", {}};
        if (version == "v2")
            return HttpResponse{200, {}, "This is v2 running in pod " + host + "\n", {}};
        if (version == "v3") {
            if (count > kHealthyRequests)
                return HttpResponse{500, {}, "Some internal error has occurred! This is pod " + host + "\n", {}};
            return HttpResponse{200, {}, "This is v3 running in pod " + host + "\n", {}};
        }
        if (count > kHealthyRequests)
            return HttpResponse{500, {}, "I'm not well. Please restart me!\n", {}};
        return HttpResponse{200, {}, "You've hit " + host + "\n", {}};
    });

    if (!server.listen(PodEnvironment::bindAddress(), static_cast<uint16_t>(port), error)) {
        Console::err("kubia: " + error);
        return 1;
    }
    // node prints this before listen(); printing it once the port is bound makes the line
    // mean "ready", which is what people (and tests) read it as.
    Console::out("Kubia server starting...");
    server.run();
    return 0;
}

} // namespace podscape::image
