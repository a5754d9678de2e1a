#include "object.h"

#include <algorithm>

namespace podscape::core::model {

using nlohmann::json;

GroupVersionKind GroupVersionKind::fromApiVersion(std::string_view apiVersion, std::string_view kind)
{
    GroupVersionKind g;
    g.kind = kind;
    if (auto slash = apiVersion.find('/'); slash != std::string_view::npos) {
        g.group = apiVersion.substr(0, slash);
        g.version = apiVersion.substr(slash + 1);
    } else {
        g.version = apiVersion;
    }
    return g;
}

json OwnerReference::toJson() const
{
    json j = {{"apiVersion", apiVersion}, {"kind", kind}, {"name", name}, {"uid", uid}};
    if (controller)
        j["controller"] = true;
    if (blockOwnerDeletion)
        j["blockOwnerDeletion"] = true;
    return j;
}

OwnerReference OwnerReference::fromJson(const json &j)
{
    OwnerReference r;
    if (!j.is_object())
        return r;
    auto s = [&](const char *k) {
        auto it = j.find(k);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    r.apiVersion = s("apiVersion");
    r.kind = s("kind");
    r.name = s("name");
    r.uid = s("uid");
    if (auto it = j.find("controller"); it != j.end() && it->is_boolean())
        r.controller = it->get<bool>();
    if (auto it = j.find("blockOwnerDeletion"); it != j.end() && it->is_boolean())
        r.blockOwnerDeletion = it->get<bool>();
    return r;
}

const json *Object::at(std::string_view pointer) const
{
    const json *cur = &m_doc;
    size_t pos = 0;
    while (pos < pointer.size()) {
        if (pointer[pos] != '/')
            return nullptr;
        size_t next = pointer.find('/', pos + 1);
        if (next == std::string_view::npos)
            next = pointer.size();
        std::string token(pointer.substr(pos + 1, next - pos - 1));
        // unescape ~1 and ~0
        for (size_t i = 0; (i = token.find('~', i)) != std::string::npos; ++i)
            token.replace(i, 2, token.compare(i, 2, "~1") == 0 ? "/" : "~");
        if (cur->is_object()) {
            auto it = cur->find(token);
            if (it == cur->end())
                return nullptr;
            cur = &*it;
        } else if (cur->is_array()) {
            if (token.empty() || token.find_first_not_of("0123456789") != std::string::npos)
                return nullptr;
            size_t i = std::stoul(token.substr(0, 9));
            if (i >= cur->size())
                return nullptr;
            cur = &(*cur)[i];
        } else {
            return nullptr;
        }
        pos = next;
    }
    return cur;
}

std::string Object::str(std::string_view pointer) const
{
    const json *v = at(pointer);
    return v && v->is_string() ? v->get<std::string>() : std::string();
}

int64_t Object::integer(std::string_view pointer, int64_t fallback) const
{
    const json *v = at(pointer);
    if (!v || !v->is_number())
        return fallback;
    return v->is_number_float() ? static_cast<int64_t>(v->get<double>()) : v->get<int64_t>();
}

bool Object::boolean(std::string_view pointer, bool fallback) const
{
    const json *v = at(pointer);
    return v && v->is_boolean() ? v->get<bool>() : fallback;
}

std::map<std::string, std::string> Object::stringMap(std::string_view pointer) const
{
    std::map<std::string, std::string> out;
    const json *v = at(pointer);
    if (v && v->is_object())
        for (auto it = v->begin(); it != v->end(); ++it)
            if (it.value().is_string())
                out.emplace(it.key(), it.value().get<std::string>());
    return out;
}

std::string Object::label(std::string_view key) const
{
    const json *l = at("/metadata/labels");
    if (!l || !l->is_object())
        return {};
    auto it = l->find(key);
    return it != l->end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string Object::annotation(std::string_view key) const
{
    const json *a = at("/metadata/annotations");
    if (!a || !a->is_object())
        return {};
    auto it = a->find(key);
    return it != a->end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<OwnerReference> Object::ownerReferences() const
{
    std::vector<OwnerReference> out;
    if (const json *refs = at("/metadata/ownerReferences"); refs && refs->is_array())
        for (const auto &r : *refs)
            out.push_back(OwnerReference::fromJson(r));
    return out;
}

std::optional<OwnerReference> Object::controllerRef() const { return controllerRefOf(m_doc); }

std::optional<OwnerReference> controllerRefOf(const json &doc)
{
    auto meta = doc.find("metadata");
    if (meta == doc.end() || !meta->is_object())
        return std::nullopt;
    auto refs = meta->find("ownerReferences");
    if (refs == meta->end() || !refs->is_array())
        return std::nullopt;
    for (const auto &r : *refs)
        if (r.is_object() && r.value("controller", false))
            return OwnerReference::fromJson(r);
    return std::nullopt;
}

std::vector<std::string> Object::finalizers() const
{
    std::vector<std::string> out;
    if (const json *f = at("/metadata/finalizers"); f && f->is_array())
        for (const auto &s : *f)
            if (s.is_string())
                out.push_back(s.get<std::string>());
    return out;
}

std::string Object::key() const
{
    std::string ns = namespaceName();
    return ns.empty() ? name() : ns + "/" + name();
}

json &Object::metadata()
{
    json &m = m_doc["metadata"];
    if (!m.is_object())
        m = json::object();
    return m;
}

void Object::setApiVersionKind(std::string_view apiVersion, std::string_view kind)
{
    m_doc["apiVersion"] = apiVersion;
    m_doc["kind"] = kind;
}

void Object::setName(std::string_view name) { metadata()["name"] = name; }
void Object::setNamespace(std::string_view ns) { metadata()["namespace"] = ns; }
void Object::setResourceVersion(std::string_view rv) { metadata()["resourceVersion"] = rv; }

void Object::setLabel(std::string_view key, std::string_view value)
{
    json &l = metadata()["labels"];
    if (!l.is_object())
        l = json::object();
    l[std::string(key)] = value;
}

void Object::removeLabel(std::string_view key)
{
    json &m = metadata();
    if (auto it = m.find("labels"); it != m.end() && it->is_object())
        it->erase(std::string(key));
}

void Object::setAnnotation(std::string_view key, std::string_view value)
{
    json &a = metadata()["annotations"];
    if (!a.is_object())
        a = json::object();
    a[std::string(key)] = value;
}

void Object::removeAnnotation(std::string_view key)
{
    json &m = metadata();
    if (auto it = m.find("annotations"); it != m.end() && it->is_object())
        it->erase(std::string(key));
}

void Object::setOwnerReferences(const std::vector<OwnerReference> &refs)
{
    if (refs.empty()) {
        metadata().erase("ownerReferences");
        return;
    }
    json arr = json::array();
    for (const auto &r : refs)
        arr.push_back(r.toJson());
    metadata()["ownerReferences"] = std::move(arr);
}

std::vector<ContainerInfo> Pod::containers() const
{
    std::vector<ContainerInfo> out;
    if (const json *cs = at("/spec/containers"); cs && cs->is_array())
        for (const auto &c : *cs)
            if (c.is_object())
                out.push_back({c.value("name", std::string()), c.value("image", std::string())});
    return out;
}

std::string Pod::conditionStatus(std::string_view type) const
{
    if (const json *cs = at("/status/conditions"); cs && cs->is_array())
        for (const auto &c : *cs)
            if (c.is_object() && c.value("type", std::string()) == type)
                return c.value("status", std::string());
    return {};
}

bool Pod::isReady() const { return conditionStatus("Ready") == "True"; }

int Pod::restartCount() const
{
    int total = 0;
    if (const json *cs = at("/status/containerStatuses"); cs && cs->is_array())
        for (const auto &c : *cs)
            if (c.is_object())
                total += c.value("restartCount", 0);
    return total;
}

bool Node::isReady() const
{
    if (const json *cs = at("/status/conditions"); cs && cs->is_array())
        for (const auto &c : *cs)
            if (c.is_object() && c.value("type", std::string()) == "Ready")
                return c.value("status", std::string()) == "True";
    return false;
}

std::string Node::capacity(std::string_view resource) const
{
    const json *c = at("/status/capacity");
    if (!c || !c->is_object())
        return {};
    auto it = c->find(resource);
    return it != c->end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string Node::allocatable(std::string_view resource) const
{
    const json *c = at("/status/allocatable");
    if (!c || !c->is_object())
        return {};
    auto it = c->find(resource);
    return it != c->end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string Node::internalIP() const
{
    if (const json *as = at("/status/addresses"); as && as->is_array())
        for (const auto &a : *as)
            if (a.is_object() && a.value("type", std::string()) == "InternalIP")
                return a.value("address", std::string());
    return {};
}

std::string Service::type() const
{
    std::string t = str("/spec/type");
    return t.empty() ? "ClusterIP" : t;
}

std::vector<int> Service::nodePorts() const
{
    std::vector<int> out;
    if (const json *ps = at("/spec/ports"); ps && ps->is_array())
        for (const auto &p : *ps)
            if (p.is_object() && p.contains("nodePort") && p["nodePort"].is_number_integer())
                out.push_back(p["nodePort"].get<int>());
    return out;
}

void Workload::setReplicas(int n)
{
    json &spec = m_doc["spec"];
    if (!spec.is_object())
        spec = json::object();
    spec["replicas"] = n;
}

std::string Deployment::strategyType() const
{
    std::string t = str("/spec/strategy/type");
    return t.empty() ? "RollingUpdate" : t;
}

int64_t Deployment::revision() const
{
    std::string r = annotation("deployment.kubernetes.io/revision");
    if (r.empty() || r.size() > 18 || r.find_first_not_of("0123456789") != std::string::npos)
        return 0;
    return std::stoll(r);
}

std::optional<std::map<std::string, std::string>> Secret::decodedData() const
{
    static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::map<std::string, std::string> out;
    for (const auto &[k, v] : stringMap("/data")) {
        if (v.size() % 4 != 0)
            return std::nullopt;
        std::string decoded;
        uint32_t buf = 0;
        int bits = 0;
        for (char c : v) {
            if (c == '=')
                break;
            auto idx = kAlphabet.find(c);
            if (idx == std::string::npos)
                return std::nullopt;
            buf = (buf << 6) | static_cast<uint32_t>(idx);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                decoded += static_cast<char>((buf >> bits) & 0xff);
            }
        }
        out[k] = decoded;
    }
    for (const auto &[k, v] : stringMap("/stringData"))
        out[k] = v;
    return out;
}

json makeList(std::string_view itemKind, std::string_view apiVersion, std::vector<json> items,
              std::string_view resourceVersion, std::string_view continueToken, std::optional<int64_t> remainingItemCount)
{
    json meta = {{"resourceVersion", resourceVersion}};
    if (!continueToken.empty())
        meta["continue"] = continueToken;
    if (remainingItemCount)
        meta["remainingItemCount"] = *remainingItemCount;
    return {{"kind", std::string(itemKind) + "List"},
            {"apiVersion", apiVersion},
            {"metadata", std::move(meta)},
            {"items", json(std::move(items))}};
}

std::string_view WatchEvent::typeName(Type t)
{
    switch (t) {
    case Type::Added: return "ADDED";
    case Type::Modified: return "MODIFIED";
    case Type::Deleted: return "DELETED";
    case Type::Bookmark: return "BOOKMARK";
    case Type::Error: return "ERROR";
    }
    return "ERROR";
}

json WatchEvent::toJson() const { return {{"type", typeName(type)}, {"object", object}}; }

Result<WatchEvent> WatchEvent::fromJson(const json &j)
{
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string() || !j.contains("object"))
        return fail(Reason::BadRequest, "a watch event needs a string \"type\" and an \"object\"");
    static const std::pair<std::string_view, Type> kTypes[] = {{"ADDED", Type::Added},
                                                               {"MODIFIED", Type::Modified},
                                                               {"DELETED", Type::Deleted},
                                                               {"BOOKMARK", Type::Bookmark},
                                                               {"ERROR", Type::Error}};
    const auto &t = j["type"].get_ref<const std::string &>();
    for (auto [name, type] : kTypes)
        if (t == name)
            return WatchEvent{type, j["object"]};
    return fail(Reason::BadRequest, "unknown watch event type \"" + t + "\"");
}

Scale Scale::forWorkload(const Object &workload, int specReplicas, int statusReplicas, std::string_view selector)
{
    json meta = {{"name", workload.name()}, {"namespace", workload.namespaceName()}};
    if (auto uid = workload.uid(); !uid.empty())
        meta["uid"] = uid;
    if (auto rv = workload.resourceVersion(); !rv.empty())
        meta["resourceVersion"] = rv;
    if (auto ts = workload.creationTimestamp(); !ts.empty())
        meta["creationTimestamp"] = ts;
    json status = {{"replicas", statusReplicas}};
    if (!selector.empty())
        status["selector"] = selector;
    return Scale(json{{"kind", "Scale"},
                      {"apiVersion", "autoscaling/v1"},
                      {"metadata", std::move(meta)},
                      {"spec", {{"replicas", specReplicas}}},
                      {"status", std::move(status)}});
}

void Table::addRow(std::vector<json> cells, json object)
{
    m_rows.push_back({std::move(cells), std::move(object), nullptr});
}

void Table::addPartialRow(std::vector<json> cells, const json &metadata)
{
    m_rows.push_back({std::move(cells), json(), &metadata});
}

namespace {
json partialObject(const json &metadata)
{
    return {{"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", metadata}};
}
} // namespace

json Table::header(bool includeColumns) const
{
    json columns = json::array();
    if (includeColumns)
        for (const auto &c : m_columns)
            columns.push_back({{"name", c.name},
                               {"type", c.type},
                               {"format", c.format},
                               {"description", c.description},
                               {"priority", c.priority}});
    json meta = {{"resourceVersion", m_resourceVersion}};
    if (!m_continue.empty())
        meta["continue"] = m_continue;
    return {{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", std::move(meta)}, {"columnDefinitions", std::move(columns)}};
}

json Table::toJson(bool includeColumns) const
{
    json table = header(includeColumns);
    json rows = json::array();
    for (const auto &r : m_rows)
        rows.push_back({{"cells", r.cells}, {"object", r.metadata ? partialObject(*r.metadata) : r.object}});
    table["rows"] = std::move(rows);
    return table;
}

std::string Table::dump(bool includeColumns) const
{
    std::string out = header(includeColumns).dump();
    out.pop_back(); // the closing brace: rows follow
    out += ",\"rows\":[";
    for (size_t i = 0; i < m_rows.size(); ++i) {
        const Row &r = m_rows[i];
        if (i)
            out += ',';
        out += "{\"cells\":[";
        for (size_t c = 0; c < r.cells.size(); ++c) {
            if (c)
                out += ',';
            out += r.cells[c].dump();
        }
        out += "],\"object\":";
        if (r.metadata) {
            out += "{\"apiVersion\":\"meta.k8s.io/v1\",\"kind\":\"PartialObjectMetadata\",\"metadata\":";
            out += r.metadata->dump();
            out += '}';
        } else {
            out += r.object.dump();
        }
        out += '}';
    }
    out += "]}";
    return out;
}

json makeSuccessStatus(std::string_view kind, std::string_view name, std::string_view uid)
{
    json status = {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()}, {"status", "Success"}};
    json details = json::object();
    if (!kind.empty())
        details["kind"] = kind;
    if (!name.empty())
        details["name"] = name;
    if (!uid.empty())
        details["uid"] = uid;
    if (!details.empty())
        status["details"] = std::move(details);
    return status;
}

} // namespace podscape::core::model
