#pragma once
// Fixtures for tst_tableprinter. Note: moc reads "//" inside a raw string as a comment and
// then loses the test class; keep URLs out of raw strings in test sources.
#include "core/base/timeformat.h"
#include "core/model/object.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using namespace podscape::core;
using nlohmann::json;

namespace {
const Clock::TimePoint kNow = *parseRfc3339("2026-11-28T12:00:00Z");

json runningPod()
{
    return json::parse(R"({"apiVersion": "v1", "kind": "Pod",
      "metadata": {"name": "kubia-7d9f-abcde", "namespace": "default", "labels": {"app": "kubia"}, "creationTimestamp": "2026-11-28T11:50:00Z"},
      "spec": {"nodeName": "node-1", "containers": [{"name": "kubia", "image": "luksa/kubia"}]},
      "status": {"phase": "Running", "podIP": "127.244.1.5",
                 "conditions": [{"type": "Ready", "status": "True"}],
                 "containerStatuses": [{"name": "kubia", "ready": true, "restartCount": 0, "state": {"running": {"startedAt": "2026-11-28T11:50:02Z"}}}]}})");
}

std::vector<std::string> names(const std::vector<model::TableColumn> &columns, int priority)
{
    std::vector<std::string> out;
    for (const auto &c : columns)
        if (c.priority == priority)
            out.push_back(c.name);
    return out;
}
} // namespace
