#pragma once
// Shared by the benchmarks: memory figures of this process.
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace podscape::bench {

// A field of /proc/self/status in kB ("VmRSS:", "VmHWM:"); 0 when absent.
inline long statusKb(const char *field)
{
    std::ifstream in("/proc/self/status");
    std::string line;
    const size_t n = std::strlen(field);
    while (std::getline(in, line))
        if (line.compare(0, n, field) == 0)
            return std::atol(line.c_str() + n);
    return 0;
}

} // namespace podscape::bench
