#include "podinfo.h"

#include <nlohmann/json.hpp>

namespace podscape::core::scheduler {

using nlohmann::json;

std::string PodInfo::keyOf(const json &object)
{
    const json *m = object.is_object() && object.contains("metadata") ? &object["metadata"] : nullptr;
    if (!m || !m->is_object())
        return {};
    return m->value("namespace", std::string()) + "/" + m->value("name", std::string());
}

std::shared_ptr<const PodInfo> PodInfo::make(store::ObjectPtr object)
{
    auto info = std::make_shared<PodInfo>();
    static const json empty = json::object();
    const json &doc = object ? *object : empty;
    const model::Pod pod(doc);
    info->object = std::move(object);
    info->ns = pod.namespaceName();
    info->name = pod.name();
    info->key = info->ns + "/" + info->name;
    info->uid = pod.uid();
    info->nodeName = pod.nodeName();
    info->schedulerName = pod.schedulerName();
    info->priority = pod.integer("/spec/priority");
    info->preemptNever = pod.str("/spec/preemptionPolicy") == "Never";
    info->deleting = pod.isBeingDeleted();
    const std::string phase = pod.phase();
    info->terminal = phase == "Succeeded" || phase == "Failed";
    if (const json *gates = pod.at("/spec/schedulingGates"))
        info->gated = gates->is_array() && !gates->empty();

    info->requests = PodRequests::compute(doc);
    if (const json *t = pod.at("/spec/tolerations"))
        info->tolerations = Toleration::listFromJson(*t);
    info->nodeSelector = pod.nodeSelector();
    if (const json *na = pod.at("/spec/affinity/nodeAffinity"); na && na->is_object()) {
        if (auto it = na->find("requiredDuringSchedulingIgnoredDuringExecution"); it != na->end() && it->is_object())
            info->requiredAffinity = NodeSelector::fromJson(*it);
        if (auto it = na->find("preferredDuringSchedulingIgnoredDuringExecution"); it != na->end())
            info->preferredAffinity = PreferredSchedulingTerm::listFromJson(*it);
    }
    if (auto owner = pod.controllerRef())
        info->controllerUid = owner->uid;
    return info;
}

} // namespace podscape::core::scheduler
