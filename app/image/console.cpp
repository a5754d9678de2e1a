#include "console.h"

#include <cstdio>
#include <mutex>

namespace podscape::image {

namespace {
std::mutex g_mutex;

void writeLine(std::FILE *stream, const std::string &line)
{
    std::lock_guard lock(g_mutex);
    std::fwrite(line.data(), 1, line.size(), stream);
    std::fputc('\n', stream);
    std::fflush(stream);
}
} // namespace

void Console::out(const std::string &line)
{
    writeLine(stdout, line);
}

void Console::err(const std::string &line)
{
    writeLine(stderr, line);
}

} // namespace podscape::image
