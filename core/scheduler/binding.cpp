#include "binding.h"

#include "jsonfield.h"

#include "core/base/timeformat.h"

#include <nlohmann/json.hpp>

namespace podscape::core::scheduler {

using nlohmann::json;

namespace {

Error bindingConflict(const std::string &pod, const std::string &why)
{
    Error e(Reason::Conflict, "Operation cannot be fulfilled on pods/binding \"" + pod + "\": " + why);
    e.setDetails("pods", pod);
    return e;
}

json &conditionsOf(json &pod)
{
    json &status = pod["status"];
    if (!status.is_object())
        status = json::object();
    json &conditions = status["conditions"];
    if (!conditions.is_array())
        conditions = json::array();
    return conditions;
}

} // namespace

Result<store::ObjectPtr> bindPod(store::Store &store, Clock &clock, const Binding &b)
{
    if (b.nodeName.empty())
        return Error::invalid("Binding", b.podName, {Cause{std::string(cause::Required), "Required value", "target.name"}});
    return store.modify("pods", b.ns, b.podName, [&](json &pod) -> Result<bool> {
        const json &meta = pod["metadata"];
        const std::string uid = stringField(meta, "uid");
        if (!b.podUid.empty() && uid != b.podUid)
            return Error(Reason::Conflict, "Precondition failed: UID in precondition: " + b.podUid +
                                               ", UID in object meta: " + uid);
        if (meta.is_object() && meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null())
            return bindingConflict(b.podName, "pod " + b.podName + " is being deleted, cannot be assigned to a host");
        json &spec = pod["spec"];
        if (!spec.is_object())
            spec = json::object();
        if (auto node = stringField(spec, "nodeName"); !node.empty())
            return bindingConflict(b.podName, "pod " + b.podName + " is already assigned to node \"" + node + "\"");
        if (auto gates = spec.find("schedulingGates"); gates != spec.end() && gates->is_array() && !gates->empty())
            return bindingConflict(b.podName, "pod " + b.podName + " has non-empty .spec.schedulingGates");

        spec["nodeName"] = b.nodeName;
        // As the API server's setPodScheduled: the condition is replaced, its time is now.
        json &conditions = conditionsOf(pod);
        json condition = {{"type", "PodScheduled"},
                          {"status", "True"},
                          {"lastProbeTime", nullptr},
                          {"lastTransitionTime", formatRfc3339(clock.now())}};
        for (auto &c : conditions)
            if (stringField(c, "type") == "PodScheduled") {
                if (c.contains("lastProbeTime"))
                    condition["lastProbeTime"] = c["lastProbeTime"];
                c = std::move(condition);
                return true;
            }
        conditions.push_back(std::move(condition));
        return true;
    });
}

bool updatePodCondition(json &pod, std::string_view type, std::string_view status, std::string_view reason,
                        std::string_view message, Clock::TimePoint now)
{
    json &conditions = conditionsOf(pod);
    for (auto &c : conditions) {
        if (stringField(c, "type") != type)
            continue;
        const bool sameStatus = stringField(c, "status") == status;
        if (sameStatus && stringField(c, "reason") == reason && stringField(c, "message") == message)
            return false;
        if (!sameStatus)
            c["lastTransitionTime"] = formatRfc3339(now);
        c["status"] = status;
        c["reason"] = reason;
        c["message"] = message;
        return true;
    }
    conditions.push_back({{"type", type},
                          {"status", status},
                          {"lastProbeTime", nullptr},
                          {"lastTransitionTime", formatRfc3339(now)},
                          {"reason", reason},
                          {"message", message}});
    return true;
}

} // namespace podscape::core::scheduler
