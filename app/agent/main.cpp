// podscape-agent: the embedded engine without a GUI, for remote use.
#include "core/base/version.h"

#include <cstdio>
#include <cstring>
#include <string_view>

namespace {

void printHelp()
{
    std::puts("Usage: podscape-agent [options]\n"
              "\n"
              "Runs the Podscape Kubernetes engine headless, for remote use over TLS with a token.\n"
              "\n"
              "Options:\n"
              "  -h, --help      Show this help and exit.\n"
              "  -v, --version   Show the version and exit.\n"
              "\n"
              "The engine itself (store, API server, nodes) is not built yet: see the issues.");
}

} // namespace

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            printHelp();
            return 0;
        }
        if (arg == "-v" || arg == "--version") {
            std::printf("podscape-agent %s\n", podscape::core::kVersion);
            return 0;
        }
        std::fprintf(stderr, "podscape-agent: unknown option '%s'; see --help\n", argv[i]);
        return 2;
    }
    std::fputs("podscape-agent: the engine is not available in this build yet; see --help\n", stderr);
    return 1;
}
