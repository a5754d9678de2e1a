#include "envresolver.h"

#include "core/model/object.h"
#include "core/model/quantity.h"

#include <algorithm>
#include <cctype>

namespace podscape::core::kubelet {

using nlohmann::json;

namespace {

std::string str(const json &o, std::string_view key)
{
    if (!o.is_object())
        return {};
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool optionalRef(const json &ref) { return ref.is_object() && ref.value("optional", false); }

// "kubia-svc" -> "KUBIA_SVC", as Service env vars spell names.
std::string envName(std::string_view name)
{
    std::string out;
    for (char c : name)
        out += c == '-' || c == '.' ? '_' : char(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string fieldPathValue(const json &pod, const std::string &path, const EnvResolver::PodContext &context, bool &ok)
{
    ok = true;
    const json meta = pod.value("metadata", json::object());
    auto mapEntry = [&](const char *field, std::string_view prefix) -> std::optional<std::string> {
        // metadata.labels['app'] / metadata.annotations['x']
        if (path.rfind(prefix, 0) != 0 || path.size() < prefix.size() + 4)
            return std::nullopt;
        std::string key = path.substr(prefix.size() + 2, path.size() - prefix.size() - 4);
        const json m = meta.value(field, json::object());
        return str(m, key);
    };
    if (path == "metadata.name")
        return str(meta, "name");
    if (path == "metadata.namespace")
        return str(meta, "namespace");
    if (path == "metadata.uid")
        return str(meta, "uid");
    if (auto v = mapEntry("labels", "metadata.labels"))
        return *v;
    if (auto v = mapEntry("annotations", "metadata.annotations"))
        return *v;
    if (path == "metadata.labels" || path == "metadata.annotations") {
        std::string out;
        const json entries = meta.value(path == "metadata.labels" ? "labels" : "annotations", json::object());
        for (auto &[k, v] : entries.items())
            out += (out.empty() ? "" : "\n") + k + "=\"" + (v.is_string() ? v.get<std::string>() : v.dump()) + "\"";
        return out;
    }
    const json spec = pod.value("spec", json::object());
    if (path == "spec.nodeName")
        return context.nodeName;
    if (path == "spec.serviceAccountName")
        return str(spec, "serviceAccountName").empty() ? "default" : str(spec, "serviceAccountName");
    if (path == "status.hostIP" || path == "status.hostIPs")
        return context.hostIP;
    if (path == "status.podIP" || path == "status.podIPs")
        return context.podIP;
    ok = false;
    return {};
}

// resourceFieldRef: limits.cpu, requests.memory... divided by the divisor, rounded up.
std::string resourceValue(const json &container, const json &ref, const EnvResolver::PodContext &context)
{
    std::string resource = str(ref, "resource");
    size_t dot = resource.find('.');
    if (dot == std::string::npos)
        return "0";
    std::string kind = resource.substr(0, dot), name = resource.substr(dot + 1);
    const json res = container.value("resources", json::object());
    std::string text = str(res.value(kind, json::object()), name);
    if (text.empty() && kind == "requests")
        text = str(res.value("limits", json::object()), name);
    bool cpu = name == "cpu";
    int64_t milli;
    if (!text.empty()) {
        auto q = model::Quantity::parse(text);
        milli = q ? q->milliValue() : 0;
    } else {
        milli = kind == "limits" ? (cpu ? context.nodeCpuMilli : context.nodeMemoryBytes * 1000) : 0;
    }
    int64_t divisorMilli = 1000;
    if (auto d = ref.find("divisor"); d != ref.end()) {
        auto q = d->is_string() ? model::Quantity::parse(d->get<std::string>())
                                : model::Quantity::parse(d->dump());
        if (q && q->milliValue() > 0)
            divisorMilli = q->milliValue();
    }
    int64_t v = (milli + divisorMilli - 1) / divisorMilli;
    if (cpu && v == 0 && milli > 0)
        v = 1;
    return std::to_string(v);
}

} // namespace

std::string EnvResolver::expand(std::string_view text, const std::map<std::string, std::string> &vars)
{
    std::string out;
    for (size_t i = 0; i < text.size();) {
        if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '$') {
            out += '$';
            i += 2;
            continue;
        }
        if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '(') {
            size_t end = text.find(')', i + 2);
            if (end != std::string_view::npos) {
                std::string name(text.substr(i + 2, end - i - 2));
                if (auto it = vars.find(name); it != vars.end()) {
                    out += it->second;
                    i = end + 1;
                    continue;
                }
                out += text.substr(i, end - i + 1);
                i = end + 1;
                continue;
            }
        }
        out += text[i++];
    }
    return out;
}

void EnvResolver::serviceLinks(const json &pod, EnvList &out) const
{
    const std::string ns = str(pod.value("metadata", json::object()), "namespace");
    const bool links = pod.value("spec", json::object()).value("enableServiceLinks", true);
    std::vector<store::ObjectPtr> services;
    if (links) {
        store::ListOptions o;
        o.ns = ns;
        if (auto l = m_store.list("services", o))
            services = l->items;
    }
    if (ns != "default" || !links) {
        // The API server's own Service is always announced.
        if (auto k = m_store.get("services", "default", "kubernetes"))
            services.push_back(*k);
    }
    std::sort(services.begin(), services.end(), [](const store::ObjectPtr &a, const store::ObjectPtr &b) {
        return str((*a)["metadata"], "name") < str((*b)["metadata"], "name");
    });
    for (const auto &svc : services) {
        const json spec = svc->value("spec", json::object());
        std::string ip = str(spec, "clusterIP");
        std::string type = str(spec, "type");
        if (ip.empty() || ip == "None" || type == "ExternalName")
            continue;
        const json ports = spec.value("ports", json::array());
        if (!ports.is_array() || ports.empty())
            continue;
        std::string prefix = envName(str((*svc)["metadata"], "name"));
        out.emplace_back(prefix + "_SERVICE_HOST", ip);
        out.emplace_back(prefix + "_SERVICE_PORT", std::to_string(ports[0].value("port", 0)));
        for (const auto &p : ports)
            if (!str(p, "name").empty())
                out.emplace_back(prefix + "_SERVICE_PORT_" + envName(str(p, "name")), std::to_string(p.value("port", 0)));
        std::string proto0 = str(ports[0], "protocol").empty() ? "tcp" : str(ports[0], "protocol");
        std::transform(proto0.begin(), proto0.end(), proto0.begin(), [](unsigned char c) { return char(std::tolower(c)); });
        out.emplace_back(prefix + "_PORT", proto0 + "://" + ip + ":" + std::to_string(ports[0].value("port", 0)));
        for (const auto &p : ports) {
            std::string proto = str(p, "protocol").empty() ? "TCP" : str(p, "protocol");
            std::string port = std::to_string(p.value("port", 0));
            std::string lower = proto;
            std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
            std::string base = prefix + "_PORT_" + port + "_" + proto;
            out.emplace_back(base, lower + "://" + ip + ":" + port);
            out.emplace_back(base + "_PROTO", lower);
            out.emplace_back(base + "_PORT", port);
            out.emplace_back(base + "_ADDR", ip);
        }
    }
}

Result<EnvList> EnvResolver::resolve(const json &pod, const json &container, const PodContext &context) const
{
    EnvList out;
    serviceLinks(pod, out);
    const std::string ns = str(pod.value("metadata", json::object()), "namespace");

    auto configMap = [&](const std::string &name) -> Result<std::map<std::string, std::string>> {
        auto cm = m_store.get("configmaps", ns, name);
        if (!cm)
            return fail(Reason::NotFound, "configmap \"" + name + "\" not found");
        return model::ConfigMap(**cm).data();
    };
    auto secret = [&](const std::string &name) -> Result<std::map<std::string, std::string>> {
        auto s = m_store.get("secrets", ns, name);
        if (!s)
            return fail(Reason::NotFound, "secret \"" + name + "\" not found");
        auto data = model::Secret(**s).decodedData();
        if (!data)
            return fail(Reason::Invalid, "secret \"" + name + "\" holds data that is not base64");
        return *data;
    };

    if (auto envFrom = container.find("envFrom"); envFrom != container.end() && envFrom->is_array()) {
        for (const auto &source : *envFrom) {
            std::string prefix = str(source, "prefix");
            for (const char *kind : {"configMapRef", "secretRef"}) {
                auto ref = source.find(kind);
                if (ref == source.end())
                    continue;
                bool isConfigMap = std::string_view(kind) == "configMapRef";
                auto data = isConfigMap ? configMap(str(*ref, "name")) : secret(str(*ref, "name"));
                if (!data) {
                    if (optionalRef(*ref) && data.error().reason() == Reason::NotFound)
                        continue;
                    return data.error();
                }
                for (const auto &[k, v] : *data)
                    out.emplace_back(prefix + k, v);
            }
        }
    }

    std::map<std::string, std::string> defined(out.begin(), out.end());
    if (auto env = container.find("env"); env != container.end() && env->is_array()) {
        for (const auto &e : *env) {
            std::string name = str(e, "name");
            if (name.empty())
                continue;
            std::string value;
            auto from = e.find("valueFrom");
            if (from == e.end() || !from->is_object()) {
                value = expand(str(e, "value"), defined);
            } else if (auto f = from->find("fieldRef"); f != from->end()) {
                bool ok;
                value = fieldPathValue(pod, str(*f, "fieldPath"), context, ok);
                if (!ok)
                    return fail(Reason::Invalid, "unsupported fieldPath: " + str(*f, "fieldPath"));
            } else if (auto r = from->find("resourceFieldRef"); r != from->end()) {
                value = resourceValue(container, *r, context);
            } else if (auto c = from->find("configMapKeyRef"); c != from->end()) {
                auto data = configMap(str(*c, "name"));
                std::string key = str(*c, "key");
                if (!data || !data->count(key)) {
                    if (optionalRef(*c))
                        continue;
                    if (!data)
                        return data.error();
                    return fail(Reason::NotFound, "couldn't find key " + key + " in ConfigMap " + ns + "/" + str(*c, "name"));
                }
                value = data->at(key);
            } else if (auto s = from->find("secretKeyRef"); s != from->end()) {
                auto data = secret(str(*s, "name"));
                std::string key = str(*s, "key");
                if (!data || !data->count(key)) {
                    if (optionalRef(*s))
                        continue;
                    if (!data)
                        return data.error();
                    return fail(Reason::NotFound, "couldn't find key " + key + " in Secret " + ns + "/" + str(*s, "name"));
                }
                value = data->at(key);
            }
            // A later definition of a name replaces the earlier one in place.
            auto it = std::find_if(out.begin(), out.end(), [&](const auto &p) { return p.first == name; });
            if (it != out.end())
                it->second = value;
            else
                out.emplace_back(name, value);
            defined[name] = value;
        }
    }
    return out;
}

} // namespace podscape::core::kubelet
