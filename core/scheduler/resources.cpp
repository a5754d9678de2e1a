#include "resources.h"

#include "jsonfield.h"

#include "core/model/quantity.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace podscape::core::scheduler {

using nlohmann::json;

namespace {

int64_t quantityValue(const json &v, bool milli)
{
    if (!v.is_string() && !v.is_number())
        return 0;
    auto q = model::Quantity::parse(v.is_string() ? v.get<std::string>() : v.dump());
    if (!q)
        return 0;
    return milli ? q->milliValue() : q->value();
}

// One container's requests, falling back to its limits per resource as defaulting does.
json effectiveContainerRequests(const json &container)
{
    json out = json::object();
    const json *res = container.is_object() && container.contains("resources") ? &container["resources"] : nullptr;
    if (!res || !res->is_object())
        return out;
    if (auto it = res->find("requests"); it != res->end() && it->is_object())
        out = *it;
    if (auto it = res->find("limits"); it != res->end() && it->is_object())
        for (auto l = it->begin(); l != it->end(); ++l)
            if (!out.contains(l.key()))
                out[l.key()] = l.value();
    return out;
}

struct ContainerNeed {
    Resources requests;
    int64_t nonZeroCpu = 0;
    int64_t nonZeroMemory = 0;
};

ContainerNeed containerNeed(const json &container)
{
    const json reqs = effectiveContainerRequests(container);
    ContainerNeed need;
    need.requests = Resources::fromResourceList(reqs);
    need.requests.pods = 0;
    need.nonZeroCpu = reqs.contains("cpu") ? need.requests.milliCpu : DefaultMilliCpuRequest;
    need.nonZeroMemory = reqs.contains("memory") ? need.requests.memory : DefaultMemoryRequest;
    return need;
}

} // namespace

int64_t Resources::scalar(std::string_view name) const
{
    auto it = std::lower_bound(scalars.begin(), scalars.end(), name,
                               [](const auto &p, std::string_view n) { return p.first < n; });
    return it != scalars.end() && it->first == name ? it->second : 0;
}

void Resources::setScalar(std::string_view name, int64_t value)
{
    auto it = std::lower_bound(scalars.begin(), scalars.end(), name,
                               [](const auto &p, std::string_view n) { return p.first < n; });
    if (it != scalars.end() && it->first == name)
        it->second = value;
    else
        scalars.insert(it, {std::string(name), value});
}

void Resources::add(const Resources &o)
{
    milliCpu += o.milliCpu;
    memory += o.memory;
    ephemeralStorage += o.ephemeralStorage;
    pods += o.pods;
    for (const auto &[name, v] : o.scalars)
        setScalar(name, scalar(name) + v);
}

void Resources::subtract(const Resources &o)
{
    milliCpu -= o.milliCpu;
    memory -= o.memory;
    ephemeralStorage -= o.ephemeralStorage;
    pods -= o.pods;
    for (const auto &[name, v] : o.scalars)
        setScalar(name, scalar(name) - v);
}

void Resources::setMax(const Resources &o)
{
    milliCpu = std::max(milliCpu, o.milliCpu);
    memory = std::max(memory, o.memory);
    ephemeralStorage = std::max(ephemeralStorage, o.ephemeralStorage);
    pods = std::max(pods, o.pods);
    for (const auto &[name, v] : o.scalars)
        setScalar(name, std::max(scalar(name), v));
}

bool Resources::isZero() const
{
    return milliCpu == 0 && memory == 0 && ephemeralStorage == 0 && pods == 0
           && std::all_of(scalars.begin(), scalars.end(), [](const auto &p) { return p.second == 0; });
}

bool Resources::isScalarResourceName(std::string_view name)
{
    // Extended ("example.com/foo") and prefixed native ("kubernetes.io/x") names carry a
    // slash; hugepages and attachable volumes are counted like them.
    return name.find('/') != std::string_view::npos || name.rfind("hugepages-", 0) == 0
           || name.rfind("attachable-volumes-", 0) == 0;
}

Resources Resources::fromResourceList(const json &list)
{
    Resources r;
    if (!list.is_object())
        return r;
    for (auto it = list.begin(); it != list.end(); ++it) {
        const std::string &name = it.key();
        if (name == "cpu")
            r.milliCpu += quantityValue(it.value(), true);
        else if (name == "memory")
            r.memory += quantityValue(it.value(), false);
        else if (name == "ephemeral-storage")
            r.ephemeralStorage += quantityValue(it.value(), false);
        else if (name == "pods")
            r.pods += quantityValue(it.value(), false);
        else if (isScalarResourceName(name))
            r.setScalar(name, r.scalar(name) + quantityValue(it.value(), false));
    }
    return r;
}

PodRequests PodRequests::compute(const json &pod)
{
    PodRequests out;
    const json *spec = pod.is_object() && pod.contains("spec") ? &pod["spec"] : nullptr;
    if (!spec || !spec->is_object())
        return out;

    if (auto it = spec->find("containers"); it != spec->end() && it->is_array())
        for (const auto &c : *it) {
            const auto need = containerNeed(c);
            out.requests.add(need.requests);
            out.nonZeroMilliCpu += need.nonZeroCpu;
            out.nonZeroMemory += need.nonZeroMemory;
        }

    // Init containers run one after another, so the pod needs the largest of them; a sidecar
    // (restartPolicy Always) keeps running, so it adds to the pod and to every later init step.
    Resources sidecars, initMax;
    int64_t sidecarCpu = 0, sidecarMemory = 0, initMaxCpu = 0, initMaxMemory = 0;
    if (auto it = spec->find("initContainers"); it != spec->end() && it->is_array())
        for (const auto &c : *it) {
            auto need = containerNeed(c);
            const bool sidecar = stringField(c, "restartPolicy") == "Always";
            if (sidecar) {
                out.requests.add(need.requests);
                out.nonZeroMilliCpu += need.nonZeroCpu;
                out.nonZeroMemory += need.nonZeroMemory;
                sidecars.add(need.requests);
                sidecarCpu += need.nonZeroCpu;
                sidecarMemory += need.nonZeroMemory;
                need.requests = sidecars;
                need.nonZeroCpu = sidecarCpu;
                need.nonZeroMemory = sidecarMemory;
            } else {
                need.requests.add(sidecars);
                need.nonZeroCpu += sidecarCpu;
                need.nonZeroMemory += sidecarMemory;
            }
            initMax.setMax(need.requests);
            initMaxCpu = std::max(initMaxCpu, need.nonZeroCpu);
            initMaxMemory = std::max(initMaxMemory, need.nonZeroMemory);
        }
    out.requests.setMax(initMax);
    out.nonZeroMilliCpu = std::max(out.nonZeroMilliCpu, initMaxCpu);
    out.nonZeroMemory = std::max(out.nonZeroMemory, initMaxMemory);

    if (auto it = spec->find("overhead"); it != spec->end() && it->is_object()) {
        Resources overhead = Resources::fromResourceList(*it);
        overhead.pods = 0;
        out.requests.add(overhead);
        out.nonZeroMilliCpu += overhead.milliCpu;
        out.nonZeroMemory += overhead.memory;
    }
    return out;
}

} // namespace podscape::core::scheduler
