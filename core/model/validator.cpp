#include "validator.h"

#include "core/base/timeformat.h"
#include "labelselector.h"
#include "names.h"
#include "quantity.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <set>

namespace podscape::core::model {

using nlohmann::json;

namespace {

// A field path that renders both as Kubernetes writes it and as a JSON Pointer.
class Path
{
public:
    void pushField(std::string name) { m_steps.push_back({std::move(name), Step::Field}); }
    void pushIndex(size_t i) { m_steps.push_back({std::to_string(i), Step::Index}); }
    void pushKey(std::string key) { m_steps.push_back({std::move(key), Step::Key}); }
    void pop() { m_steps.pop_back(); }

    std::string display() const
    {
        std::string out;
        for (const auto &s : m_steps) {
            if (s.kind == Step::Field) {
                if (!out.empty())
                    out += '.';
                out += s.text;
            } else {
                out += '[' + s.text + ']';
            }
        }
        return out;
    }
    std::string pointer() const
    {
        std::string out;
        for (const auto &s : m_steps)
            out += '/' + escapePointerToken(s.text);
        return out;
    }
    // The path with one more field, rendered, without changing this one.
    std::string displayWith(std::string_view field) const
    {
        std::string d = display();
        return d.empty() ? std::string(field) : d + "." + std::string(field);
    }
    std::string pointerWith(std::string_view field) const { return pointer() + "/" + escapePointerToken(field); }

private:
    struct Step {
        std::string text;
        enum Kind { Field, Index, Key } kind;
    };
    std::vector<Step> m_steps;
};

// Scoped path steps: `Step s(path, "spec");`
struct FieldStep {
    FieldStep(Path &p, std::string name) : path(p) { path.pushField(std::move(name)); }
    ~FieldStep() { path.pop(); }
    Path &path;
};
struct IndexStep {
    IndexStep(Path &p, size_t i) : path(p) { path.pushIndex(i); }
    ~IndexStep() { path.pop(); }
    Path &path;
};
struct KeyStep {
    KeyStep(Path &p, std::string k) : path(p) { path.pushKey(std::move(k)); }
    ~KeyStep() { path.pop(); }
    Path &path;
};

std::string jsonTypeOf(const json &v)
{
    switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    case json::value_t::string: return "string";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_float: return "number";
    default: return "integer";
    }
}

// A value as the API server prints it in messages: strings quoted, the rest as JSON.
std::string shown(const json &v)
{
    std::string s = v.dump();
    if (s.size() > 80)
        s = s.substr(0, 77) + "...";
    return s;
}

bool isAbsent(const json *v)
{
    return !v || v->is_null() || (v->is_string() && v->get_ref<const std::string &>().empty())
           || (v->is_array() && v->empty());
}

bool isIntegral(const json &v, int64_t &out)
{
    if (v.is_number_integer()) {
        out = v.get<int64_t>();
        return true;
    }
    if (v.is_number_unsigned()) {
        auto u = v.get<uint64_t>();
        if (u > uint64_t(std::numeric_limits<int64_t>::max()))
            return false;
        out = static_cast<int64_t>(u);
        return true;
    }
    if (v.is_number_float()) {
        double d = v.get<double>();
        if (d != static_cast<double>(static_cast<int64_t>(d)))
            return false;
        out = static_cast<int64_t>(d);
        return true;
    }
    return false;
}

bool isBase64(std::string_view s)
{
    if (s.size() % 4 != 0)
        return false;
    size_t pad = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '=') {
            ++pad;
            if (i < s.size() - 2)
                return false;
        } else if (pad || !(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/')) {
            return false;
        }
    }
    return pad <= 2;
}

size_t editDistance(std::string_view a, std::string_view b)
{
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
        prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

class Walker
{
public:
    Walker(const SchemaRegistry &registry, std::vector<ValidationIssue> &issues) : m_registry(registry), m_issues(issues) {}

    void add(std::string_view type, const Path &path, std::string message)
    {
        m_issues.push_back({std::string(type), path.display(), path.pointer(), std::move(message)});
    }
    void addAt(std::string_view type, std::string field, std::string pointer, std::string message)
    {
        m_issues.push_back({std::string(type), std::move(field), std::move(pointer), std::move(message)});
    }
    void required(const Path &path) { add(cause::Required, path, "Required value"); }
    void invalid(const Path &path, const json &value, const std::string &why)
    {
        add(cause::Invalid, path, "Invalid value: " + shown(value) + ": " + why);
    }
    void forbidden(const Path &path, const std::string &why) { add(cause::Forbidden, path, "Forbidden: " + why); }
    void notSupported(const Path &path, const json &value, const std::vector<std::string> &supported)
    {
        std::string list;
        for (const auto &s : supported)
            list += (list.empty() ? "\"" : ", \"") + s + "\"";
        add(cause::NotSupported, path, "Unsupported value: " + shown(value) + ": supported values: " + list);
    }

    void walkType(const TypeRef &type, const json &value, Path &path, const FieldSchema *field)
    {
        if (value.is_null())
            return; // null is "not set" in Kubernetes' JSON
        switch (type.kind) {
        case FieldKind::String:
            if (!value.is_string())
                return typeError(path, "string", value);
            return checkString(value, path, field);
        case FieldKind::Int32:
        case FieldKind::Int64: {
            int64_t i;
            if (!isIntegral(value, i))
                return typeError(path, "integer", value);
            if (type.kind == FieldKind::Int32 && (i < std::numeric_limits<int32_t>::min() || i > std::numeric_limits<int32_t>::max()))
                return invalid(path, value, "must fit in a 32-bit integer");
            return checkNumber(static_cast<double>(i), value, path, field);
        }
        case FieldKind::Number:
            if (!value.is_number())
                return typeError(path, "number", value);
            return checkNumber(value.get<double>(), value, path, field);
        case FieldKind::Boolean:
            if (!value.is_boolean())
                return typeError(path, "boolean", value);
            return;
        case FieldKind::Quantity: {
            if (!value.is_string() && !value.is_number())
                return typeError(path, "quantity (a string such as 500m or 1Gi)", value);
            std::string text = value.is_string() ? value.get<std::string>() : value.dump();
            auto q = Quantity::parse(text);
            if (!q)
                return invalid(path, value, q.error().message());
            if (field && field->minimum && q->milliValue() < *field->minimum * 1000)
                return invalid(path, value, "must be greater than or equal to " + std::to_string(int64_t(*field->minimum)));
            return;
        }
        case FieldKind::IntOrString: {
            int64_t i;
            if (!value.is_string() && !isIntegral(value, i))
                return typeError(path, "integer or string", value);
            if (value.is_string())
                return checkString(value, path, nullptr);
            return;
        }
        case FieldKind::Time:
        case FieldKind::MicroTime: {
            if (!value.is_string())
                return typeError(path, "time (an RFC 3339 string such as 2024-05-01T10:00:00Z)", value);
            if (auto t = parseRfc3339(value.get<std::string>()); !t)
                return invalid(path, value, "expected an RFC 3339 time such as 2024-05-01T10:00:00Z");
            return;
        }
        case FieldKind::Bytes:
            if (!value.is_string())
                return typeError(path, "string (base64)", value);
            if (!isBase64(value.get_ref<const std::string &>()))
                return invalid(path, json("<value>"), "must be base64 encoded; put plain text in stringData instead");
            return;
        case FieldKind::Any:
            return;
        case FieldKind::Object:
            if (!value.is_object())
                return typeError(path, "object", value);
            return;
        case FieldKind::Array:
            if (!value.is_array())
                return typeError(path, "array", value);
            return walkArray(type, value, path, field);
        case FieldKind::Map:
            if (!value.is_object())
                return typeError(path, "object", value);
            for (auto it = value.begin(); it != value.end(); ++it) {
                KeyStep k(path, it.key());
                walkType(*type.element, it.value(), path, nullptr);
            }
            return;
        case FieldKind::Ref:
            if (!value.is_object())
                return typeError(path, "object", value);
            return walkObject(type.ref, value, path);
        }
    }

    void walkObject(const std::string &typeName, const json &value, Path &path)
    {
        const TypeSchema *type = m_registry.type(typeName);
        if (!type)
            return;
        for (auto it = value.begin(); it != value.end(); ++it) {
            const FieldSchema *f = type->field(it.key());
            if (!f) {
                std::vector<std::string> names;
                for (const auto &sf : type->fields)
                    names.push_back(sf.name);
                std::string suggestion = closestMatch(it.key(), names);
                addAt(cause::UnknownField, path.displayWith(it.key()), path.pointerWith(it.key()),
                      suggestion.empty() ? "unknown field" : "unknown field; did you mean \"" + suggestion + "\"?");
                continue;
            }
            FieldStep s(path, it.key());
            walkType(f->type, it.value(), path, f);
        }
        for (const auto &f : type->fields) {
            if (!f.required)
                continue;
            auto it = value.find(f.name);
            if (isAbsent(it == value.end() ? nullptr : &*it)) {
                FieldStep s(path, f.name);
                required(path);
            }
        }
        if (auto rule = typeRule(typeName))
            rule(*this, value, path);
    }

    void walkArray(const TypeRef &type, const json &value, Path &path, const FieldSchema *field)
    {
        std::set<std::string> seen;
        for (size_t i = 0; i < value.size(); ++i) {
            IndexStep s(path, i);
            walkType(*type.element, value[i], path, nullptr);
            if (field && field->set && !value[i].is_null()) {
                if (!seen.insert(value[i].dump()).second)
                    add(cause::Duplicate, path, "Duplicate value: " + shown(value[i]));
            }
            if (field && !field->listKeys.empty() && value[i].is_object()) {
                std::string key;
                for (const auto &k : field->listKeys) {
                    auto it = value[i].find(k);
                    key += (it == value[i].end() ? std::string("null") : it->dump()) + "\x1f";
                }
                if (!seen.insert(key).second) {
                    const auto &k = field->listKeys.front();
                    FieldStep ks(path, k);
                    add(cause::Duplicate, path, "Duplicate value: " + shown(value[i].value(k, json())));
                }
            }
        }
    }

    using Rule = std::function<void(Walker &, const json &, Path &)>;
    static Rule typeRule(std::string_view typeName);

    const SchemaRegistry &registry() const { return m_registry; }

private:
    void typeError(const Path &path, const std::string &expected, const json &value)
    {
        std::string msg = "expected " + expected + ", got " + jsonTypeOf(value);
        if (value.is_boolean() && expected.rfind("string", 0) == 0)
            msg += " (YAML reads unquoted yes/no/on/off/true/false as booleans; quote the value to keep it text)";
        else if (value.is_number() && expected.rfind("string", 0) == 0)
            msg += " (quote the number to make it text, e.g. \"" + value.dump() + "\")";
        else if (value.is_string() && expected == "integer")
            msg += " (remove the quotes around the number)";
        add(cause::TypeInvalid, path, msg);
    }

    void checkString(const json &value, const Path &path, const FieldSchema *field)
    {
        if (!field)
            return;
        const auto &s = value.get_ref<const std::string &>();
        if (!field->enumValues.empty()
            && std::find(field->enumValues.begin(), field->enumValues.end(), s) == field->enumValues.end()) {
            notSupported(path, value, field->enumValues);
            return;
        }
        if (field->maxLength && s.size() > *field->maxLength)
            add(cause::TooLong, path, "Too long: may not be more than " + std::to_string(*field->maxLength) + " bytes");
        if (!field->format.empty() && !s.empty())
            checkFormat(field->format, value, path);
    }

    void checkNumber(double d, const json &value, const Path &path, const FieldSchema *field)
    {
        if (!field)
            return;
        if (field->format == "port" && d == 0)
            return required(path); // 0 is Go's "not set"
        if (field->format == "port" && (d < 1 || d > 65535))
            return invalid(path, value, "must be between 1 and 65535, inclusive");
        if (field->minimum && d < *field->minimum)
            return invalid(path, value, "must be greater than or equal to " + json(*field->minimum).dump());
        if (field->maximum && d > *field->maximum)
            return invalid(path, value, "must be less than or equal to " + json(*field->maximum).dump());
    }

public:
    void checkFormat(const std::string &format, const json &value, const Path &path)
    {
        const std::string &s = value.get_ref<const std::string &>();
        std::vector<std::string> problems;
        if (format == "dns1123label") problems = isDns1123Label(s);
        else if (format == "dns1123subdomain") problems = isDns1123Subdomain(s);
        else if (format == "dns1035label") problems = isDns1035Label(s);
        else if (format == "labelkey") problems = isQualifiedName(s);
        else if (format == "labelvalue") problems = isValidLabelValue(s);
        else if (format == "portname") problems = isValidPortName(s);
        else if (format == "ip") problems = isValidIp(s);
        else if (format == "cidr") problems = isValidCidr(s);
        else if (format == "envvarname") problems = isValidEnvVarName(s);
        else if (format == "selector") {
            if (auto sel = LabelSelector::parse(s); !sel)
                problems.push_back(sel.error().message());
        }
        for (const auto &p : problems)
            invalid(path, value, p);
    }

private:
    const SchemaRegistry &m_registry;
    std::vector<ValidationIssue> &m_issues;
};

// ---- kind rules ------------------------------------------------------------------------------

const json *child(const json &v, std::string_view key)
{
    if (!v.is_object())
        return nullptr;
    auto it = v.find(key);
    return it == v.end() || it->is_null() ? nullptr : &*it;
}

std::string stringAt(const json &v, std::string_view key)
{
    const json *c = child(v, key);
    return c && c->is_string() ? c->get<std::string>() : std::string();
}

void validateMapKeys(Walker &w, const json &map, Path &path, const char *what)
{
    if (!map.is_object())
        return;
    for (auto it = map.begin(); it != map.end(); ++it) {
        for (const auto &p : isQualifiedName(it.key())) {
            KeyStep k(path, it.key());
            w.invalid(path, json(it.key()), p);
        }
        if (std::string_view(what) == "label" && it.value().is_string())
            for (const auto &p : isValidLabelValue(it.value().get<std::string>())) {
                KeyStep k(path, it.key());
                w.invalid(path, it.value(), p);
            }
    }
}

void objectMetaRule(Walker &w, const json &meta, Path &path)
{
    if (const json *labels = child(meta, "labels")) {
        FieldStep s(path, "labels");
        validateMapKeys(w, *labels, path, "label");
    }
    if (const json *annotations = child(meta, "annotations")) {
        FieldStep s(path, "annotations");
        validateMapKeys(w, *annotations, path, "annotation");
        size_t total = 0;
        if (annotations->is_object())
            for (auto it = annotations->begin(); it != annotations->end(); ++it)
                total += it.key().size() + (it.value().is_string() ? it.value().get_ref<const std::string &>().size() : 0);
        if (total > 256 * 1024)
            w.add(cause::TooLong, path, "Too long: must have at most 262144 bytes");
    }
}

// Container names must be unique across containers and initContainers; volume mounts must
// name a volume; probes need exactly one handler; requests may not exceed limits.
void podSpecRule(Walker &w, const json &spec, Path &path)
{
    std::set<std::string> volumes;
    if (const json *vs = child(spec, "volumes"); vs && vs->is_array())
        for (const auto &v : *vs)
            if (v.is_object() && v.contains("name") && v["name"].is_string())
                volumes.insert(v["name"].get<std::string>());
    std::map<std::string, std::string> names; // container name -> where first seen
    for (const char *list : {"initContainers", "containers", "ephemeralContainers"}) {
        const json *cs = child(spec, list);
        if (!cs || !cs->is_array())
            continue;
        FieldStep ls(path, list);
        for (size_t i = 0; i < cs->size(); ++i) {
            const json &c = (*cs)[i];
            if (!c.is_object())
                continue;
            IndexStep is(path, i);
            std::string name = stringAt(c, "name");
            if (!name.empty() && !names.emplace(name, list).second && std::string(list) != names[name]) {
                FieldStep ns(path, "name");
                w.add(cause::Duplicate, path, "Duplicate value: \"" + name + "\"");
            }
            if (const json *mounts = child(c, "volumeMounts"); mounts && mounts->is_array()) {
                FieldStep ms(path, "volumeMounts");
                for (size_t m = 0; m < mounts->size(); ++m) {
                    std::string vol = stringAt((*mounts)[m], "name");
                    if (!vol.empty() && !volumes.count(vol)) {
                        IndexStep mi(path, m);
                        FieldStep mn(path, "name");
                        w.add("FieldValueNotFound", path, "Not found: \"" + vol + "\"");
                    }
                }
            }
            for (const char *probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
                const json *p = child(c, probe);
                if (!p || !p->is_object())
                    continue;
                FieldStep ps(path, probe);
                int handlers = 0;
                for (const char *h : {"exec", "httpGet", "tcpSocket", "grpc"})
                    handlers += child(*p, h) ? 1 : 0;
                if (handlers == 0)
                    w.add(cause::Required, path,
                          "Required value: must specify a handler type (exec, httpGet, tcpSocket or grpc)");
                else if (handlers > 1)
                    w.forbidden(path, "may not specify more than 1 handler type");
                if (std::string(probe) != "readinessProbe") {
                    if (const json *st = child(*p, "successThreshold"); st && st->is_number() && st->get<double>() != 1) {
                        FieldStep ss(path, "successThreshold");
                        w.invalid(path, *st, "must be 1");
                    }
                }
            }
            const json *res = child(c, "resources");
            const json *limits = res ? child(*res, "limits") : nullptr;
            const json *requests = res ? child(*res, "requests") : nullptr;
            if (limits && requests && limits->is_object() && requests->is_object()) {
                for (auto it = requests->begin(); it != requests->end(); ++it) {
                    auto lim = limits->find(it.key());
                    if (lim == limits->end())
                        continue;
                    auto text = [](const json &v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
                    auto rq = Quantity::parse(text(it.value()));
                    auto lq = Quantity::parse(text(*lim));
                    if (rq && lq && *lq < *rq) {
                        FieldStep rs(path, "resources");
                        FieldStep qs(path, "requests");
                        KeyStep ks(path, it.key());
                        w.invalid(path, it.value(), "must be less than or equal to " + it.key() + " limit of " + lq->toString());
                    }
                }
            }
        }
    }
}

// A Deployment's or ReplicaSet's template must carry the labels its selector selects, or
// the controller would create pods it cannot see.
void selectorMatchesTemplate(Walker &w, const json &spec, Path &path, bool mapSelector)
{
    const json *selector = child(spec, "selector");
    const json *tmpl = child(spec, "template");
    const json *tmeta = tmpl ? child(*tmpl, "metadata") : nullptr;
    const json *tlabels = tmeta ? child(*tmeta, "labels") : nullptr;
    if (!selector)
        return;
    Result<LabelSelector> sel = mapSelector ? LabelSelector::fromMatchLabels(*selector) : LabelSelector::fromJson(*selector);
    if (!sel) {
        FieldStep s(path, "selector");
        w.invalid(path, *selector, sel.error().message());
        return;
    }
    if (sel->empty()) {
        FieldStep s(path, "selector");
        w.invalid(path, *selector, "empty selector is invalid for deployment");
        return;
    }
    if (!tmpl)
        return;
    Labels labels = tlabels ? labelsFromJson(*tlabels) : Labels{};
    if (!sel->matches(labels)) {
        FieldStep t(path, "template");
        FieldStep m(path, "metadata");
        FieldStep l(path, "labels");
        w.invalid(path, tlabels ? *tlabels : json::object(), "`selector` does not match template `labels`");
    }
    if (const json *tspec = child(*tmpl, "spec")) {
        std::string rp = stringAt(*tspec, "restartPolicy");
        if (!rp.empty() && rp != "Always") {
            FieldStep t(path, "template");
            FieldStep s(path, "spec");
            FieldStep r(path, "restartPolicy");
            w.notSupported(path, json(rp), {"Always"});
        }
    }
}

bool isPercent(const json &v) { return v.is_string() && !v.get_ref<const std::string &>().empty() && v.get_ref<const std::string &>().back() == '%'; }

// 25% -> 25; 3 -> 3; nullopt when malformed.
std::optional<int64_t> intOrPercent(const json &v, bool &percent)
{
    percent = isPercent(v);
    int64_t i;
    if (isIntegral(v, i))
        return i;
    if (percent) {
        std::string s = v.get<std::string>();
        s.pop_back();
        if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
            return std::nullopt;
        return std::stoll(s.substr(0, 12));
    }
    return std::nullopt;
}

void deploymentSpecRule(Walker &w, const json &spec, Path &path)
{
    selectorMatchesTemplate(w, spec, path, false);
    const json *strategy = child(spec, "strategy");
    if (!strategy)
        return;
    FieldStep ss(path, "strategy");
    std::string type = stringAt(*strategy, "type");
    const json *ru = child(*strategy, "rollingUpdate");
    if (type == "Recreate" && ru) {
        FieldStep r(path, "rollingUpdate");
        w.forbidden(path, "may not be specified when strategy `type` is 'Recreate'");
        return;
    }
    if (!ru)
        return;
    FieldStep r(path, "rollingUpdate");
    std::optional<int64_t> values[2];
    const char *names[2] = {"maxUnavailable", "maxSurge"};
    for (int i = 0; i < 2; ++i) {
        const json *v = child(*ru, names[i]);
        if (!v)
            continue;
        FieldStep f(path, names[i]);
        bool percent = false;
        values[i] = intOrPercent(*v, percent);
        if (!values[i])
            w.invalid(path, *v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%')");
        else if (*values[i] < 0)
            w.invalid(path, *v, "must be greater than or equal to 0");
        else if (percent && *values[i] > 100 && i == 0)
            w.invalid(path, *v, "must not be greater than 100%");
    }
    if (values[0] && values[1] && *values[0] == 0 && *values[1] == 0) {
        FieldStep f(path, "maxUnavailable");
        w.invalid(path, json(0), "may not be 0 when `maxSurge` is 0");
    }
}

void replicaSetSpecRule(Walker &w, const json &spec, Path &path) { selectorMatchesTemplate(w, spec, path, false); }
void replicationControllerSpecRule(Walker &w, const json &spec, Path &path)
{
    selectorMatchesTemplate(w, spec, path, true);
}

void serviceSpecRule(Walker &w, const json &spec, Path &path)
{
    std::string type = stringAt(spec, "type");
    if (type.empty())
        type = "ClusterIP";
    const json *ports = child(spec, "ports");
    if (type == "ExternalName") {
        if (stringAt(spec, "externalName").empty()) {
            FieldStep f(path, "externalName");
            w.required(path);
        }
    } else if (!ports || !ports->is_array() || ports->empty()) {
        std::string clusterIP = stringAt(spec, "clusterIP");
        if (clusterIP != "None") {
            FieldStep f(path, "ports");
            w.required(path);
        }
    }
    if (ports && ports->is_array()) {
        FieldStep ps(path, "ports");
        std::set<std::string> names;
        for (size_t i = 0; i < ports->size(); ++i) {
            const json &p = (*ports)[i];
            if (!p.is_object())
                continue;
            IndexStep is(path, i);
            std::string name = stringAt(p, "name");
            if (ports->size() > 1 && name.empty()) {
                FieldStep n(path, "name");
                w.required(path);
            } else if (!name.empty() && !names.insert(name).second) {
                FieldStep n(path, "name");
                w.add(cause::Duplicate, path, "Duplicate value: \"" + name + "\"");
            }
            if (const json *np = child(p, "nodePort"); np && np->is_number() && np->get<double>() != 0
                                                        && type != "NodePort" && type != "LoadBalancer") {
                FieldStep n(path, "nodePort");
                w.forbidden(path, "may not be used when `type` is '" + type + "'");
            }
            if (const json *tp = child(p, "targetPort")) {
                FieldStep t(path, "targetPort");
                int64_t i64;
                if (isIntegral(*tp, i64)) {
                    if (i64 < 1 || i64 > 65535)
                        w.invalid(path, *tp, "must be between 1 and 65535, inclusive");
                } else if (tp->is_string()) {
                    for (const auto &problem : isValidPortName(tp->get<std::string>()))
                        w.invalid(path, *tp, problem);
                }
            }
        }
    }
    std::string clusterIP = stringAt(spec, "clusterIP");
    if (!clusterIP.empty() && clusterIP != "None") {
        FieldStep f(path, "clusterIP");
        for (const auto &problem : isValidIp(clusterIP))
            w.invalid(path, json(clusterIP), problem);
    }
    if (type == "ClusterIP" || type == "NodePort" || type == "LoadBalancer") {
        if (clusterIP == "None" && type != "ClusterIP") {
            FieldStep f(path, "clusterIP");
            w.invalid(path, json(clusterIP), "may not be set to 'None' for " + type + " services");
        }
    }
}

void dataKeysRule(Walker &w, const json &object, Path &path)
{
    size_t total = 0;
    for (const char *field : {"data", "binaryData", "stringData"}) {
        const json *data = child(object, field);
        if (!data || !data->is_object())
            continue;
        FieldStep f(path, field);
        for (auto it = data->begin(); it != data->end(); ++it) {
            KeyStep k(path, it.key());
            for (const auto &problem : isConfigMapKey(it.key()))
                w.invalid(path, json(it.key()), problem);
            if (it.value().is_string())
                total += it.value().get_ref<const std::string &>().size();
        }
    }
    if (total > 1024 * 1024)
        w.add(cause::TooLong, path, "Too long: must have at most 1048576 bytes");
}

Walker::Rule Walker::typeRule(std::string_view typeName)
{
    static const std::map<std::string_view, Rule> rules = {
        {"ObjectMeta", objectMetaRule},
        {"PodSpec", podSpecRule},
        {"DeploymentSpec", deploymentSpecRule},
        {"ReplicaSetSpec", replicaSetSpecRule},
        {"ReplicationControllerSpec", replicationControllerSpecRule},
        {"ServiceSpec", serviceSpecRule},
        {"ConfigMap", dataKeysRule},
        {"Secret", dataKeysRule},
    };
    auto it = rules.find(typeName);
    return it == rules.end() ? Rule() : it->second;
}

// The name rule per kind, as the API server applies it.
std::vector<std::string> checkName(std::string_view kind, const std::string &name)
{
    if (kind == "Namespace")
        return isDns1123Label(name);
    if (kind == "Service")
        return isDns1035Label(name);
    return isDns1123Subdomain(name);
}

} // namespace

Validator::Validator(const SchemaRegistry &registry) : m_registry(registry) {}

std::vector<ValidationIssue> Validator::validateType(std::string_view typeName, const json &value) const
{
    std::vector<ValidationIssue> issues;
    Walker w(m_registry, issues);
    Path path;
    TypeRef t;
    t.kind = FieldKind::Ref;
    t.ref = typeName;
    w.walkType(t, value, path, nullptr);
    return issues;
}

std::vector<ValidationIssue> Validator::validate(const json &object) const
{
    std::vector<ValidationIssue> issues;
    Walker w(m_registry, issues);
    Path path;
    if (!object.is_object()) {
        w.add(cause::TypeInvalid, path, "expected an object, got " + jsonTypeOf(object));
        return issues;
    }
    std::string apiVersion = stringAt(object, "apiVersion");
    std::string kind = stringAt(object, "kind");
    if (apiVersion.empty()) {
        FieldStep s(path, "apiVersion");
        w.required(path);
    }
    if (kind.empty()) {
        FieldStep s(path, "kind");
        w.required(path);
    }
    if (apiVersion.empty() || kind.empty())
        return issues;
    const ResourceInfo *info = m_registry.resourceFor(apiVersion, kind);
    if (!info) {
        std::string hint;
        for (const auto &r : m_registry.resources())
            if (r.kind == kind)
                hint = "; " + kind + " is served as apiVersion \"" + r.apiVersion() + "\"";
        FieldStep s(path, "kind");
        w.add(cause::NotSupported, path,
              "no kind \"" + kind + "\" is registered for version \"" + apiVersion + "\"" + hint);
        return issues;
    }
    TypeRef t;
    t.kind = FieldKind::Ref;
    t.ref = info->type;
    w.walkType(t, object, path, nullptr);

    const json *meta = child(object, "metadata");
    std::string name = meta ? stringAt(*meta, "name") : std::string();
    std::string generateName = meta ? stringAt(*meta, "generateName") : std::string();
    FieldStep ms(path, "metadata");
    if (name.empty() && generateName.empty()) {
        FieldStep s(path, "name");
        w.add(cause::Required, path, "Required value: name or generateName is required");
    } else if (!name.empty()) {
        FieldStep s(path, "name");
        for (const auto &p : checkName(kind, name))
            w.invalid(path, json(name), p);
    }
    if (meta) {
        std::string ns = stringAt(*meta, "namespace");
        if (!ns.empty()) {
            FieldStep s(path, "namespace");
            if (!info->namespaced)
                w.forbidden(path, "not allowed on this type (" + kind + " is cluster-scoped)");
            else
                for (const auto &p : isDns1123Label(ns))
                    w.invalid(path, json(ns), p);
        }
    }
    return issues;
}

namespace {

// Immutable fields from the schema, compared where both old and new have a value.
void checkImmutable(Walker &w, const SchemaRegistry &registry, const TypeRef &type, const json &now, const json &old,
                    Path &path)
{
    if (type.kind != FieldKind::Ref || !now.is_object() || !old.is_object())
        return;
    const TypeSchema *ts = registry.type(type.ref);
    if (!ts)
        return;
    for (const auto &f : ts->fields) {
        auto n = now.find(f.name);
        auto o = old.find(f.name);
        if (o == old.end() || o->is_null())
            continue;
        FieldStep s(path, f.name);
        if (f.immutable) {
            if (n == now.end() || *n != *o)
                w.invalid(path, n == now.end() ? json(nullptr) : *n, "field is immutable");
            continue;
        }
        if (n != now.end() && f.type.kind == FieldKind::Ref)
            checkImmutable(w, registry, f.type, *n, *o, path);
    }
}

} // namespace

std::vector<ValidationIssue> Validator::validateUpdate(const json &updated, const json &old) const
{
    std::vector<ValidationIssue> issues = validate(updated);
    Walker w(m_registry, issues);
    Path path;
    std::string kind = stringAt(updated, "kind");
    const ResourceInfo *info = m_registry.resourceFor(stringAt(updated, "apiVersion"), kind);
    if (!info)
        return issues;
    TypeRef t;
    t.kind = FieldKind::Ref;
    t.ref = info->type;
    checkImmutable(w, m_registry, t, updated, old, path);

    const json *meta = child(updated, "metadata");
    const json *oldMeta = child(old, "metadata");
    if (meta && oldMeta) {
        FieldStep ms(path, "metadata");
        for (const char *f : {"name", "namespace", "uid"}) {
            std::string a = stringAt(*meta, f), b = stringAt(*oldMeta, f);
            if (!b.empty() && !a.empty() && a != b) {
                FieldStep s(path, f);
                w.invalid(path, json(a), "field is immutable");
            }
        }
    }
    // ConfigMaps and Secrets marked immutable keep their data.
    if ((kind == "ConfigMap" || kind == "Secret") && old.value("immutable", false)) {
        for (const char *f : {"data", "binaryData"}) {
            json a = updated.value(f, json()), b = old.value(f, json());
            if (a != b) {
                FieldStep s(path, f);
                w.forbidden(path, "field is immutable when `immutable` is set");
            }
        }
        if (!updated.value("immutable", false)) {
            FieldStep s(path, "immutable");
            w.forbidden(path, "field is immutable when `immutable` is set");
        }
    }
    // A pod's spec is fixed once created, except images, activeDeadlineSeconds and added tolerations.
    if (kind == "Pod") {
        json a = updated.value("spec", json::object()), b = old.value("spec", json::object());
        for (json *s : {&a, &b}) {
            for (const char *list : {"containers", "initContainers"})
                if (s->contains(list) && (*s)[list].is_array())
                    for (auto &c : (*s)[list])
                        if (c.is_object())
                            c.erase("image");
            s->erase("activeDeadlineSeconds");
            s->erase("tolerations");
            s->erase("nodeName"); // set through the binding subresource
        }
        if (a != b) {
            FieldStep s(path, "spec");
            w.forbidden(path, "pod updates may not change fields other than `spec.containers[*].image`, "
                              "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds` or `spec.tolerations` "
                              "(only additions to existing tolerations)");
        }
    }
    return issues;
}

std::string closestMatch(std::string_view word, const std::vector<std::string> &candidates)
{
    std::string best;
    size_t bestDistance = std::string::npos;
    for (const auto &c : candidates) {
        size_t d = editDistance(word, c);
        if (d < bestDistance) {
            bestDistance = d;
            best = c;
        }
    }
    // One edit for short words, about a third of the word for longer ones.
    size_t allowed = std::max<size_t>(1, word.size() / 3);
    return bestDistance <= allowed ? best : std::string();
}

Error invalidError(const json &object, const std::vector<ValidationIssue> &issues)
{
    std::vector<Cause> causes;
    for (const auto &i : issues)
        causes.push_back({i.type, i.message, i.field});
    std::string kind = object.is_object() ? object.value("kind", std::string()) : std::string();
    std::string name;
    if (object.is_object() && object.contains("metadata") && object["metadata"].is_object())
        name = object["metadata"].value("name", std::string());
    Error e = Error::invalid(kind.empty() ? "object" : kind, name, std::move(causes));
    return e;
}

Error unknownFieldsError(const std::vector<ValidationIssue> &unknown)
{
    // The API server's strict decoding wording, which kubectl prints as is.
    std::string msg = "strict decoding error: ";
    for (size_t i = 0; i < unknown.size(); ++i)
        msg += (i ? ", " : "") + std::string("unknown field \"") + unknown[i].field + "\"";
    Error e(Reason::BadRequest, msg);
    for (const auto &u : unknown)
        e.addCause({u.type, u.message, u.field});
    return e;
}

std::string describeIssues(const std::vector<ValidationIssue> &issues, const YamlDocument *source,
                           std::string_view sourceName)
{
    struct Line {
        SourcePosition at;
        std::string text;
    };
    std::vector<Line> lines;
    for (const auto &i : issues) {
        Line l;
        if (source)
            l.at = source->positionOf(i.pointer);
        std::string prefix;
        if (source) {
            prefix = sourceName.empty() ? "line " + std::to_string(l.at.line) + ", column " + std::to_string(l.at.column) + ": "
                                        : std::string(sourceName) + ":" + std::to_string(l.at.line) + ":"
                                              + std::to_string(l.at.column) + ": ";
        }
        l.text = prefix + i.toString();
        lines.push_back(std::move(l));
    }
    std::stable_sort(lines.begin(), lines.end(), [](const Line &a, const Line &b) {
        return a.at.line != b.at.line ? a.at.line < b.at.line : a.at.column < b.at.column;
    });
    std::string out;
    for (const auto &l : lines)
        out += l.text + "\n";
    return out;
}

} // namespace podscape::core::model
