// podscape-image: the programs Podscape's process runtime runs for well-known images (there is
// no registry or Docker on a teaching laptop). One multi-call executable, like busybox:
//
//   podscape-image kubia [--version v1|v2|v3|unhealthy] [--port 8080]   luksa/kubia
//   podscape-image web [--port 80] [--root DIR]                          nginx
//   podscape-image http-echo -text=TEXT [-listen=:5678] [-status-code=N] hashicorp/http-echo
//   podscape-image --list
//
// Each binds POD_IP (0.0.0.0 if unset) and logs whole lines to stdout. It links neither
// podscape_core nor Qt, so it stays small and quick to start.

#include "console.h"
#include "httpecho.h"
#include "kubia.h"
#include "webserver.h"

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

namespace {

struct Program {
    const char *name;
    int (*run)(const std::vector<std::string> &);
};

const Program kPrograms[] = {
    {"kubia", &podscape::image::Kubia::run},
    {"web", &podscape::image::WebServer::run},
    {"http-echo", &podscape::image::HttpEcho::run},
};

void usage()
{
    using podscape::image::Console;
    Console::err("usage: podscape-image <program> [args...]    (or --list)");
    Console::err("programs:");
    Console::err("  kubia [--version v1|v2|v3|unhealthy] [--port 8080]");
    Console::err("  web [--port 80] [--root DIR]");
    Console::err("  http-echo -text=TEXT [-listen=:5678] [-status-code=200]");
    Console::err("The address bound is $POD_IP (0.0.0.0 when unset).");
}

} // namespace

int main(int argc, char **argv)
{
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    // A client that hangs up mid-response must not kill the server (node and Go ignore it too).
    std::signal(SIGPIPE, SIG_IGN);

    if (argc < 2) {
        usage();
        return 2;
    }
    std::string name = argv[1];
    if (name == "--list") {
        for (const Program &program : kPrograms)
            podscape::image::Console::out(program.name);
        return 0;
    }
    if (name == "--help" || name == "-h") {
        usage();
        return 0;
    }
    for (const Program &program : kPrograms) {
        if (name == program.name)
            return program.run(std::vector<std::string>(argv + 2, argv + argc));
    }
    podscape::image::Console::err("podscape-image: unknown program \"" + name + "\"");
    usage();
    return 2;
}
