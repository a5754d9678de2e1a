#pragma once
// Whole lines to stdout/stderr, flushed at once: the runtime reads the container's output
// through a pipe and timestamps each line, so a line must never sit in a buffer or be
// interleaved with another thread's.

#include <string>

namespace podscape::image {

class Console
{
public:
    static void out(const std::string &line);
    static void err(const std::string &line);
};

} // namespace podscape::image
