#pragma once
// Compute resources as the scheduler counts them: plain integers (milli-CPU, bytes, pod slots,
// whole units of extended resources), parsed once from Quantities so that filtering a node
// is arithmetic, never string parsing.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podscape::core::scheduler {

// kube-scheduler's stand-ins for a container that requests nothing, used only for scoring
// (so that many zero-request pods do not all land on one node): 100m CPU and 200Mi.
inline constexpr int64_t DefaultMilliCpuRequest = 100;
inline constexpr int64_t DefaultMemoryRequest = 200LL * 1024 * 1024;

struct Resources {
    int64_t milliCpu = 0;
    int64_t memory = 0;
    int64_t ephemeralStorage = 0;
    int64_t pods = 0; // allowed pod count (allocatable only)
    // Extended resources ("example.com/gpu"), hugepages-*, attachable-volumes-*: sorted by name.
    std::vector<std::pair<std::string, int64_t>> scalars;

    int64_t scalar(std::string_view name) const;
    void setScalar(std::string_view name, int64_t value);
    void add(const Resources &other);
    void subtract(const Resources &other);
    void setMax(const Resources &other); // per resource, the larger value
    bool isZero() const;
    bool operator==(const Resources &) const = default;

    // A ResourceList ({"cpu": "500m", "memory": "1Gi", "pods": "110"}); unparsable quantities
    // count as zero (validation reports them; the scheduler must not stop on them).
    static Resources fromResourceList(const nlohmann::json &list);
    // The resource names kube-scheduler tracks beyond cpu, memory, pods and ephemeral-storage.
    static bool isScalarResourceName(std::string_view name);
};

// What a pod asks of a node, computed as Kubernetes' PodRequests does: the sum over containers,
// raised to the largest init container (restartable "sidecar" init containers add to the
// sum and to every later init container's need), plus spec.overhead. A container that sets
// only limits requests its limits (the API server's defaulting, repeated here for objects
// written to the store directly).
struct PodRequests {
    Resources requests;
    // The same with each container's missing cpu/memory request taken as 100m/200Mi.
    int64_t nonZeroMilliCpu = 0;
    int64_t nonZeroMemory = 0;

    static PodRequests compute(const nlohmann::json &pod);
};

} // namespace podscape::core::scheduler
