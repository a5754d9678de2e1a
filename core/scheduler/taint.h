#pragma once
// Node taints and pod tolerations with Kubernetes' matching rules (core/v1 ToleratesTaint).

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace podscape::core::scheduler {

inline constexpr std::string_view NoSchedule = "NoSchedule";
inline constexpr std::string_view PreferNoSchedule = "PreferNoSchedule";
inline constexpr std::string_view NoExecute = "NoExecute";

// The taints the node controllers put on nodes, and the one cordoning stands for.
inline constexpr std::string_view TaintNodeNotReady = "node.kubernetes.io/not-ready";
inline constexpr std::string_view TaintNodeUnreachable = "node.kubernetes.io/unreachable";
inline constexpr std::string_view TaintNodeUnschedulable = "node.kubernetes.io/unschedulable";

struct Taint {
    std::string key;
    std::string value;
    std::string effect;

    bool operator==(const Taint &) const = default;
    // node.spec.taints; entries that are not objects are skipped.
    static std::vector<Taint> listFromJson(const nlohmann::json &taints);
};

struct Toleration {
    std::string key;      // empty with Exists: every key
    std::string op;       // "Equal" (also when empty) or "Exists"
    std::string value;
    std::string effect;   // empty: every effect

    bool tolerates(const Taint &taint) const;
    static std::vector<Toleration> listFromJson(const nlohmann::json &tolerations);
};

bool toleratesAny(const std::vector<Toleration> &tolerations, const Taint &taint);

} // namespace podscape::core::scheduler
