#include "taint.h"

#include <nlohmann/json.hpp>

namespace podscape::core::scheduler {

using nlohmann::json;

namespace {
std::string field(const json &o, const char *name)
{
    auto it = o.find(name);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}
} // namespace

std::vector<Taint> Taint::listFromJson(const json &taints)
{
    std::vector<Taint> out;
    if (!taints.is_array())
        return out;
    for (const auto &t : taints)
        if (t.is_object())
            out.push_back({field(t, "key"), field(t, "value"), field(t, "effect")});
    return out;
}

std::vector<Toleration> Toleration::listFromJson(const json &tolerations)
{
    std::vector<Toleration> out;
    if (!tolerations.is_array())
        return out;
    for (const auto &t : tolerations)
        if (t.is_object())
            out.push_back({field(t, "key"), field(t, "operator"), field(t, "value"), field(t, "effect")});
    return out;
}

bool Toleration::tolerates(const Taint &taint) const
{
    if (!effect.empty() && effect != taint.effect)
        return false;
    if (!key.empty() && key != taint.key)
        return false;
    if (op.empty() || op == "Equal")
        return value == taint.value;
    return op == "Exists";
}

bool toleratesAny(const std::vector<Toleration> &tolerations, const Taint &taint)
{
    for (const auto &t : tolerations)
        if (t.tolerates(taint))
            return true;
    return false;
}

} // namespace podscape::core::scheduler
