#include "tolerations.h"

#include <limits>

namespace podscape::core::controllers {

using nlohmann::json;

namespace {

std::string field(const json &o, const char *name)
{
    if (!o.is_object())
        return {};
    auto it = o.find(name);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

} // namespace

void addDefaultTolerations(json &pod, int64_t notReadySeconds, int64_t unreachableSeconds)
{
    if (!pod.is_object())
        return;
    json &spec = pod["spec"];
    if (!spec.is_object())
        spec = json::object();
    json &tolerations = spec["tolerations"];
    if (!tolerations.is_array())
        tolerations = json::array();
    bool notReady = false, unreachable = false;
    for (const auto &t : tolerations) {
        const std::string key = field(t, "key"), effect = field(t, "effect");
        const bool effectMatches = effect.empty() || effect == "NoExecute";
        notReady = notReady || ((key.empty() || key == TaintNodeNotReady) && effectMatches);
        unreachable = unreachable || ((key.empty() || key == TaintNodeUnreachable) && effectMatches);
    }
    if (!notReady)
        tolerations.push_back(
            {{"key", TaintNodeNotReady}, {"operator", "Exists"}, {"effect", "NoExecute"}, {"tolerationSeconds", notReadySeconds}});
    if (!unreachable)
        tolerations.push_back({{"key", TaintNodeUnreachable},
                               {"operator", "Exists"},
                               {"effect", "NoExecute"},
                               {"tolerationSeconds", unreachableSeconds}});
}

bool toleratesTaint(const json &toleration, const json &taint)
{
    const std::string effect = field(toleration, "effect");
    if (!effect.empty() && effect != field(taint, "effect"))
        return false;
    const std::string key = field(toleration, "key");
    if (!key.empty() && key != field(taint, "key"))
        return false;
    const std::string op = field(toleration, "operator");
    if (op.empty() || op == "Equal")
        return field(toleration, "value") == field(taint, "value");
    return op == "Exists";
}

TolerationMatch matchingTolerations(const std::vector<json> &taints, const json &tolerations)
{
    TolerationMatch match;
    if (taints.empty()) {
        match.allTolerated = true;
        return match;
    }
    if (!tolerations.is_array() || tolerations.empty())
        return match;
    for (const auto &taint : taints) {
        const json *found = nullptr;
        for (const auto &t : tolerations)
            if (toleratesTaint(t, taint)) {
                found = &t;
                break;
            }
        if (!found) {
            match.used.clear();
            return match;
        }
        match.used.push_back(*found);
    }
    match.allTolerated = true;
    return match;
}

int64_t minTolerationSeconds(const std::vector<json> &tolerations)
{
    if (tolerations.empty())
        return 0;
    int64_t least = std::numeric_limits<int64_t>::max();
    for (const auto &t : tolerations) {
        auto it = t.find("tolerationSeconds");
        if (it == t.end() || !it->is_number_integer())
            continue;
        const int64_t seconds = it->get<int64_t>();
        if (seconds <= 0)
            return 0;
        least = std::min(least, seconds);
    }
    return least == std::numeric_limits<int64_t>::max() ? -1 : least;
}

std::vector<json> taintsWithEffect(const json &node, const std::string &effect)
{
    std::vector<json> out;
    if (!node.is_object() || !node.contains("spec") || !node["spec"].is_object())
        return out;
    auto it = node["spec"].find("taints");
    if (it == node["spec"].end() || !it->is_array())
        return out;
    for (const auto &t : *it)
        if (field(t, "effect") == effect)
            out.push_back(t);
    return out;
}

} // namespace podscape::core::controllers
