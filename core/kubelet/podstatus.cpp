#include "podstatus.h"

#include "core/model/quantity.h"

#include <algorithm>
#include <cstdio>
#include <optional>

namespace podscape::core::kubelet {

using nlohmann::json;

namespace {

std::optional<int64_t> quantity(const json &resources, const char *kind, const char *name, bool milli)
{
    if (!resources.is_object())
        return std::nullopt;
    auto k = resources.find(kind);
    if (k == resources.end() || !k->is_object())
        return std::nullopt;
    auto v = k->find(name);
    if (v == k->end())
        return std::nullopt;
    auto q = model::Quantity::parse(v->is_string() ? v->get<std::string>() : v->dump());
    if (!q)
        return std::nullopt;
    return milli ? q->milliValue() : q->value();
}

int64_t request(const json &container, const char *name, bool milli)
{
    const json res = container.value("resources", json::object());
    // A limit without a request is also the request, as the API server defaults it.
    if (auto r = quantity(res, "requests", name, milli))
        return *r;
    return quantity(res, "limits", name, milli).value_or(0);
}

int64_t podRequest(const json &spec, const char *name, bool milli)
{
    int64_t sum = 0, initMax = 0;
    for (const auto &c : spec.value("containers", json::array()))
        sum += request(c, name, milli);
    for (const auto &c : spec.value("initContainers", json::array()))
        initMax = std::max(initMax, request(c, name, milli));
    return std::max(sum, initMax);
}

} // namespace

std::string qosClass(const json &spec)
{
    bool any = false, guaranteed = true;
    for (const char *list : {"initContainers", "containers"}) {
        for (const auto &c : spec.value(list, json::array())) {
            const json res = c.value("resources", json::object());
            for (const char *name : {"cpu", "memory"}) {
                auto req = quantity(res, "requests", name, true);
                auto lim = quantity(res, "limits", name, true);
                if ((req && *req != 0) || (lim && *lim != 0))
                    any = true;
                if (!lim || (req && *req != *lim))
                    guaranteed = false;
            }
        }
    }
    if (!any)
        return "BestEffort";
    return guaranteed ? "Guaranteed" : "Burstable";
}

int64_t podRequestMilliCpu(const json &spec) { return podRequest(spec, "cpu", true); }
int64_t podRequestMemory(const json &spec) { return podRequest(spec, "memory", false); }

const json *findCondition(const json &conditions, std::string_view type)
{
    if (!conditions.is_array())
        return nullptr;
    for (const auto &c : conditions)
        if (c.is_object() && c.value("type", std::string()) == type)
            return &c;
    return nullptr;
}

bool setCondition(json &conditions, std::string_view type, std::string_view status, std::string_view reason,
                  std::string_view message, const std::string &now, bool withProbeTime)
{
    if (!conditions.is_array())
        conditions = json::array();
    json c = {{"type", type}, {"status", status}, {"lastTransitionTime", now}};
    if (withProbeTime)
        c["lastProbeTime"] = nullptr;
    if (!reason.empty())
        c["reason"] = reason;
    if (!message.empty())
        c["message"] = message;
    for (auto &existing : conditions) {
        if (!existing.is_object() || existing.value("type", std::string()) != type)
            continue;
        if (existing.value("status", std::string()) == status && existing.contains("lastTransitionTime"))
            c["lastTransitionTime"] = existing["lastTransitionTime"];
        if (existing == c)
            return false;
        existing = std::move(c);
        return true;
    }
    conditions.push_back(std::move(c));
    return true;
}

std::string formatGoDuration(Clock::Duration d)
{
    using namespace std::chrono;
    int64_t ns = duration_cast<nanoseconds>(d).count();
    if (ns == 0)
        return "0s";
    std::string sign = ns < 0 ? "-" : "";
    if (ns < 0)
        ns = -ns;
    char buf[64];
    auto trim = [](std::string s) {
        if (s.find('.') != std::string::npos) {
            while (s.back() == '0')
                s.pop_back();
            if (s.back() == '.')
                s.pop_back();
        }
        return s;
    };
    if (ns < 1000) {
        std::snprintf(buf, sizeof buf, "%lldns", static_cast<long long>(ns));
        return sign + buf;
    }
    if (ns < 1'000'000) {
        std::snprintf(buf, sizeof buf, "%.3f", double(ns) / 1e3);
        return sign + trim(buf) + "\xc2\xb5s";
    }
    if (ns < 1'000'000'000) {
        std::snprintf(buf, sizeof buf, "%.6f", double(ns) / 1e6);
        return sign + trim(buf) + "ms";
    }
    int64_t h = ns / 3'600'000'000'000LL;
    ns -= h * 3'600'000'000'000LL;
    int64_t m = ns / 60'000'000'000LL;
    ns -= m * 60'000'000'000LL;
    std::snprintf(buf, sizeof buf, "%.9f", double(ns) / 1e9);
    std::string out = sign;
    if (h)
        out += std::to_string(h) + "h";
    if (h || m)
        out += std::to_string(m) + "m";
    return out + trim(buf) + "s";
}

} // namespace podscape::core::kubelet
