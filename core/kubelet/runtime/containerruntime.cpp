#include "containerruntime.h"

#include "core/base/timeformat.h"

#include <algorithm>

namespace podscape::core::kubelet::runtime {

std::string_view probeTypeName(ProbeType type)
{
    switch (type) {
    case ProbeType::Readiness:
        return "Readiness";
    case ProbeType::Liveness:
        return "Liveness";
    case ProbeType::Startup:
        return "Startup";
    }
    return "Readiness";
}

std::string LogLine::format(bool timestamps) const
{
    if (!timestamps)
        return text;
    return formatRfc3339Nano(time) + " " + text;
}

std::vector<LogLine> applyLogOptions(std::vector<LogLine> lines, const LogOptions &options)
{
    if (options.since) {
        auto first = std::find_if(lines.begin(), lines.end(), [&](const LogLine &l) { return l.time >= *options.since; });
        lines.erase(lines.begin(), first);
    }
    if (options.tailLines && *options.tailLines >= 0 && int64_t(lines.size()) > *options.tailLines)
        lines.erase(lines.begin(), lines.end() - *options.tailLines);
    if (options.limitBytes && *options.limitBytes >= 0) {
        // As the kubelet does: the output stops after limitBytes, even in the middle of a line.
        int64_t left = *options.limitBytes;
        size_t keep = 0;
        for (; keep < lines.size() && left > 0; ++keep) {
            int64_t size = int64_t(lines[keep].format(options.timestamps).size()) + 1;
            if (size > left) {
                // Cut the text; with timestamps the prefix is kept whole or dropped with it.
                int64_t prefix = int64_t(lines[keep].format(options.timestamps).size() - lines[keep].text.size());
                if (left <= prefix) {
                    break;
                }
                lines[keep].text.resize(size_t(left - prefix));
                ++keep;
                break;
            }
            left -= size;
        }
        lines.resize(keep);
    }
    return lines;
}

} // namespace podscape::core::kubelet::runtime
