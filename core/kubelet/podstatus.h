#pragma once
// Pieces of pod and node status that do not need the kubelet's state: QoS class, resource
// sums for admission, conditions that keep their lastTransitionTime while unchanged, and
// durations printed as Go prints them (events say "in 1.5s").

#include "core/base/clock.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace podscape::core::kubelet {

// Guaranteed, Burstable or BestEffort, from the containers' requests and limits.
std::string qosClass(const nlohmann::json &podSpec);

// What a pod asks for, as the scheduler and admission count it: the sum over containers, or
// the largest init container if that is more. cpu in millicores, memory in bytes.
int64_t podRequestMilliCpu(const nlohmann::json &podSpec);
int64_t podRequestMemory(const nlohmann::json &podSpec);

// Sets condition `type` in a conditions array. lastTransitionTime moves only when the
// status changes; returns true if anything changed.
bool setCondition(nlohmann::json &conditions, std::string_view type, std::string_view status, std::string_view reason,
                  std::string_view message, const std::string &now, bool withProbeTime = false);
const nlohmann::json *findCondition(const nlohmann::json &conditions, std::string_view type);

// 1.5s, 300ms, 2m3s: Go's time.Duration.String().
std::string formatGoDuration(Clock::Duration d);

} // namespace podscape::core::kubelet
