#pragma once
// Taints and tolerations as the node lifecycle and taint eviction controllers read them
// (Kubernetes' v1 helper ToleratesTaint / GetMatchingTolerations), and the tolerations the
// DefaultTolerationSeconds admission plugin gives every new pod.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace podscape::core::controllers {

inline constexpr const char *TaintNodeNotReady = "node.kubernetes.io/not-ready";
inline constexpr const char *TaintNodeUnreachable = "node.kubernetes.io/unreachable";
inline constexpr const char *TaintNodeUnschedulable = "node.kubernetes.io/unschedulable";
inline constexpr const char *TaintNodeMemoryPressure = "node.kubernetes.io/memory-pressure";
inline constexpr const char *TaintNodeDiskPressure = "node.kubernetes.io/disk-pressure";
inline constexpr const char *TaintNodePIDPressure = "node.kubernetes.io/pid-pressure";
inline constexpr const char *TaintNodeNetworkUnavailable = "node.kubernetes.io/network-unavailable";

// What DefaultTolerationSeconds does on create: a pod that does not already tolerate
// not-ready / unreachable NoExecute taints gets tolerations for them with these seconds, so
// that it is evicted from a failed node after five minutes rather than at once.
void addDefaultTolerations(nlohmann::json &pod, int64_t notReadySeconds = 300, int64_t unreachableSeconds = 300);

// toleration tolerates taint: effect (empty tolerates all), key (empty tolerates all, with
// operator Exists), then Exists or Equal on the value.
bool toleratesTaint(const nlohmann::json &toleration, const nlohmann::json &taint);

struct TolerationMatch {
    bool allTolerated = false;
    std::vector<nlohmann::json> used; // for each taint, the first toleration that tolerates it
};
TolerationMatch matchingTolerations(const std::vector<nlohmann::json> &taints, const nlohmann::json &tolerations);

// The shortest tolerationSeconds among `tolerations` (0 when one is <= 0 or the list is
// empty), or -1 when none sets a limit: tolerated for ever.
int64_t minTolerationSeconds(const std::vector<nlohmann::json> &tolerations);

// spec.taints with this effect.
std::vector<nlohmann::json> taintsWithEffect(const nlohmann::json &node, const std::string &effect);

} // namespace podscape::core::controllers
