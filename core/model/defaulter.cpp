#include "defaulter.h"

#include <functional>
#include <map>

namespace podscape::core::model {

using nlohmann::json;

namespace {

using Rule = std::function<void(json &)>;

void containerRule(json &c)
{
    if (!c.contains("imagePullPolicy") || c["imagePullPolicy"].is_null())
        if (auto it = c.find("image"); it != c.end() && it->is_string())
            c["imagePullPolicy"] = defaultImagePullPolicy(it->get<std::string>());
    if (!c.contains("resources") || c["resources"].is_null())
        c["resources"] = json::object();
    // Requests default to limits: a container that only sets limits asks for what it may use.
    json &res = c["resources"];
    if (res.is_object() && res.contains("limits") && res["limits"].is_object()) {
        json &requests = res["requests"];
        if (requests.is_null())
            requests = json::object();
        if (requests.is_object())
            for (auto it = res["limits"].begin(); it != res["limits"].end(); ++it)
                if (!requests.contains(it.key()))
                    requests[it.key()] = it.value();
    }
}

void podSpecRule(json &spec)
{
    if (!spec.contains("securityContext") || spec["securityContext"].is_null())
        spec["securityContext"] = json::object();
}

void servicePortRule(json &port)
{
    if ((!port.contains("targetPort") || port["targetPort"].is_null()) && port.contains("port"))
        port["targetPort"] = port["port"];
}

void serviceSpecRule(json &spec)
{
    std::string type = spec.value("type", std::string("ClusterIP"));
    if (type == "ExternalName")
        return;
    if (!spec.contains("ipFamilyPolicy") && spec.value("clusterIP", std::string()) != "None")
        spec["ipFamilyPolicy"] = "SingleStack";
    if (!spec.contains("ipFamilies"))
        spec["ipFamilies"] = json::array({"IPv4"});
    if ((type == "NodePort" || type == "LoadBalancer") && !spec.contains("externalTrafficPolicy"))
        spec["externalTrafficPolicy"] = "Cluster";
    if (!spec.contains("internalTrafficPolicy"))
        spec["internalTrafficPolicy"] = "Cluster";
}

void deploymentStrategyRule(json &strategy)
{
    if (!strategy.contains("type") || strategy["type"].is_null())
        strategy["type"] = "RollingUpdate";
    if (strategy["type"] != "RollingUpdate")
        return;
    json &ru = strategy["rollingUpdate"];
    if (ru.is_null())
        ru = json::object();
    if (!ru.is_object())
        return;
    if (!ru.contains("maxUnavailable") || ru["maxUnavailable"].is_null())
        ru["maxUnavailable"] = "25%";
    if (!ru.contains("maxSurge") || ru["maxSurge"].is_null())
        ru["maxSurge"] = "25%";
}

void deploymentSpecRule(json &spec)
{
    if (!spec.contains("strategy") || spec["strategy"].is_null())
        spec["strategy"] = json::object();
    if (spec["strategy"].is_object())
        deploymentStrategyRule(spec["strategy"]);
}

// A ReplicationController without a selector selects its template's labels, and takes them
// as its own labels when it has none (core/v1 defaulting).
void replicationControllerRule(json &rc)
{
    json *labels = nullptr;
    if (auto s = rc.find("spec"); s != rc.end() && s->is_object())
        if (auto t = s->find("template"); t != s->end() && t->is_object())
            if (auto m = t->find("metadata"); m != t->end() && m->is_object())
                if (auto l = m->find("labels"); l != m->end() && l->is_object() && !l->empty())
                    labels = &*l;
    if (!labels)
        return;
    json &spec = rc["spec"];
    if (!spec.contains("selector") || spec["selector"].is_null() || spec["selector"].empty())
        spec["selector"] = *labels;
    json &meta = rc["metadata"];
    if (meta.is_null())
        meta = json::object();
    if (meta.is_object() && (!meta.contains("labels") || meta["labels"].is_null() || meta["labels"].empty()))
        meta["labels"] = *labels;
}

void namespaceRule(json &ns)
{
    json &spec = ns["spec"];
    if (spec.is_null())
        spec = json::object();
    if (spec.is_object() && !spec.contains("finalizers"))
        spec["finalizers"] = json::array({"kubernetes"});
    json &status = ns["status"];
    if (status.is_null())
        status = json::object();
    if (status.is_object() && !status.contains("phase"))
        status["phase"] = "Active";
}

const std::map<std::string_view, Rule> &rules()
{
    static const std::map<std::string_view, Rule> r = {
        {"Container", containerRule},
        {"EphemeralContainer", containerRule},
        {"PodSpec", podSpecRule},
        {"ServicePort", servicePortRule},
        {"ServiceSpec", serviceSpecRule},
        {"DeploymentSpec", deploymentSpecRule},
        {"ReplicationController", replicationControllerRule},
        {"Namespace", namespaceRule},
    };
    return r;
}

} // namespace

std::string defaultImagePullPolicy(std::string_view image)
{
    if (image.find('@') != std::string_view::npos)
        return "IfNotPresent";
    // The tag follows the last ':' after the last '/' (a registry may carry a port).
    size_t slash = image.rfind('/');
    size_t colon = image.rfind(':');
    if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash))
        return "Always";
    return image.substr(colon + 1) == "latest" ? "Always" : "IfNotPresent";
}

Defaulter::Defaulter(const SchemaRegistry &registry) : m_registry(registry) {}

void Defaulter::apply(json &object) const
{
    if (!object.is_object())
        return;
    const ResourceInfo *info =
        m_registry.resourceFor(object.value("apiVersion", std::string()), object.value("kind", std::string()));
    if (info)
        applyType(info->type, object);
}

void Defaulter::applyType(std::string_view typeName, json &value) const
{
    TypeRef t;
    t.kind = FieldKind::Ref;
    t.ref = typeName;
    walk(t, value);
}

void Defaulter::walk(const TypeRef &type, json &value) const
{
    switch (type.kind) {
    case FieldKind::Array:
        if (value.is_array())
            for (auto &item : value)
                walk(*type.element, item);
        return;
    case FieldKind::Map:
        if (value.is_object())
            for (auto &item : value)
                walk(*type.element, item);
        return;
    case FieldKind::Ref:
        break;
    default:
        return;
    }
    if (!value.is_object())
        return;
    const TypeSchema *ts = m_registry.type(type.ref);
    if (!ts)
        return;
    // Rules first where they decide a value that schema defaults would otherwise fill
    // (a Deployment's strategy type), then plain defaults, then children.
    auto rule = rules().find(ts->name);
    for (const auto &f : ts->fields) {
        if (!f.defaultValue)
            continue;
        auto it = value.find(f.name);
        // An empty string is "not set" for the value-typed string fields that carry
        // defaults (protocol, restartPolicy...), as Go's zero values are.
        if (it == value.end() || it->is_null() || (it->is_string() && it->get_ref<const std::string &>().empty()))
            value[f.name] = *f.defaultValue;
    }
    if (rule != rules().end())
        rule->second(value);
    for (const auto &f : ts->fields) {
        auto it = value.find(f.name);
        if (it != value.end() && !it->is_null())
            walk(f.type, *it);
    }
}

} // namespace podscape::core::model
