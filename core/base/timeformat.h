#pragma once
// RFC 3339 times as Kubernetes writes them: "2024-05-01T10:00:00Z" in object fields,
// with microseconds in MicroTime fields (events) and logs.

#include "result.h"

#include <chrono>
#include <string>
#include <string_view>

namespace podscape::core {

using WallTime = std::chrono::time_point<std::chrono::system_clock, std::chrono::nanoseconds>;

std::string formatRfc3339(WallTime t);      // seconds precision, UTC, "Z"
std::string formatRfc3339Micro(WallTime t); // "2024-05-01T10:00:00.123456Z"
std::string formatRfc3339Nano(WallTime t);  // as kubectl logs --timestamps prints
// Accepts fractional seconds and numeric offsets ("+02:00"), as Go's time.RFC3339Nano does.
Result<WallTime> parseRfc3339(std::string_view text);
// "5s", "3m", "2d4h": the short ages kubectl prints.
std::string formatAge(std::chrono::nanoseconds age);

} // namespace podscape::core
