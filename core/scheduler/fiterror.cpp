#include "fiterror.h"

#include <algorithm>
#include <map>

namespace podscape::core::scheduler {

std::string FitError::histogram(const std::vector<Status> &statuses)
{
    std::map<std::string, int> counts;
    for (const auto &s : statuses)
        for (const auto &r : s.reasons())
            ++counts[r];
    std::vector<std::string> parts;
    parts.reserve(counts.size());
    for (const auto &[reason, n] : counts)
        parts.push_back(std::to_string(n) + " " + reason);
    std::sort(parts.begin(), parts.end()); // byte order, as Go's sort.Strings
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) {
        if (i)
            out += ", ";
        out += parts[i];
    }
    return out;
}

std::string FitError::message() const
{
    std::string msg = "0/" + std::to_string(numAllNodes) + " nodes are available:";
    if (!preFilterMessage.empty()) {
        msg += " " + preFilterMessage + ".";
    } else if (auto h = histogram(nodeStatuses); !h.empty()) {
        msg += " " + h + ".";
    }
    if (!postFilterMessage.empty())
        msg += " " + postFilterMessage;
    return msg;
}

} // namespace podscape::core::scheduler
