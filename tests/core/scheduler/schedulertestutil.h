#pragma once
// Builders for the scheduler tests: nodes and pods as the store holds them, patched with
// JSON merge patches so that a table row states only what is special about it.

#include "core/scheduler/nodeinfo.h"
#include "core/scheduler/podinfo.h"

#include <nlohmann/json.hpp>

#include <QString>

#include <memory>
#include <string>

namespace schedtest {

using nlohmann::json;
using namespace podscape::core;
using namespace podscape::core::scheduler;

inline json patched(json base, const json &patch)
{
    if (!patch.is_null())
        base.merge_patch(patch);
    return base;
}

inline json parse(const QString &text)
{
    return text.isEmpty() ? json() : json::parse(text.toStdString());
}

inline json node(const std::string &name, const std::string &cpu = "4", const std::string &memory = "8Gi",
                 int pods = 110, const json &patch = json())
{
    json resources = {{"cpu", cpu}, {"memory", memory}, {"pods", std::to_string(pods)}};
    return patched({{"apiVersion", "v1"},
                    {"kind", "Node"},
                    {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}}}}},
                    {"spec", json::object()},
                    {"status",
                     {{"capacity", resources},
                      {"allocatable", resources},
                      {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}},
                   patch);
}

inline json pod(const std::string &name, const std::string &cpu = {}, const std::string &memory = {},
                const json &patch = json())
{
    json requests = json::object();
    if (!cpu.empty())
        requests["cpu"] = cpu;
    if (!memory.empty())
        requests["memory"] = memory;
    json container = {{"name", "app"}, {"image", "luksa/kubia"}};
    if (!requests.empty())
        container["resources"] = {{"requests", requests}};
    return patched({{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"metadata", {{"name", name}, {"namespace", "default"}, {"uid", "uid-" + name}}},
                    {"spec", {{"containers", json::array({container})}, {"schedulerName", "default-scheduler"}}},
                    {"status", {{"phase", "Pending"}}}},
                   patch);
}

inline json ownedBy(const std::string &rsUid)
{
    return {{"metadata",
             {{"ownerReferences",
               json::array({{{"apiVersion", "apps/v1"},
                             {"kind", "ReplicaSet"},
                             {"name", "kubia-" + rsUid},
                             {"uid", rsUid},
                             {"controller", true}}})}}}};
}

inline PodInfoPtr podInfo(const json &object) { return PodInfo::make(std::make_shared<const json>(object)); }

inline std::unique_ptr<NodeInfo> nodeInfo(const json &object)
{
    auto info = std::make_unique<NodeInfo>(object["metadata"]["name"].get<std::string>());
    info->setNode(std::make_shared<const json>(object));
    return info;
}

// A pod already bound to `nodeName`, counted on it.
inline void addBoundPod(NodeInfo &info, json object)
{
    object["spec"]["nodeName"] = info.name();
    info.addPod(podInfo(object));
}

} // namespace schedtest
