#include "schemaregistry.h"

#include "yamlcodec.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>

namespace podscape::core::model {

using nlohmann::json;

namespace {

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto &c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::vector<std::string> splitList(std::string_view s)
{
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= s.size()) {
        size_t comma = s.find(',', pos);
        if (comma == std::string_view::npos)
            comma = s.size();
        out.emplace_back(s.substr(pos, comma - pos));
        pos = comma + 1;
    }
    return out;
}

std::optional<TypeRef> parseType(std::string_view s)
{
    TypeRef t;
    if (s.rfind("[]", 0) == 0) {
        auto element = parseType(s.substr(2));
        if (!element)
            return std::nullopt;
        t.kind = FieldKind::Array;
        t.element = std::make_shared<const TypeRef>(*element);
        return t;
    }
    if (s.rfind("map[", 0) == 0 && s.back() == ']') {
        auto element = parseType(s.substr(4, s.size() - 5));
        if (!element)
            return std::nullopt;
        t.kind = FieldKind::Map;
        t.element = std::make_shared<const TypeRef>(*element);
        return t;
    }
    static const std::pair<std::string_view, FieldKind> kScalars[] = {
        {"string", FieldKind::String},   {"int32", FieldKind::Int32},
        {"int64", FieldKind::Int64},     {"number", FieldKind::Number},
        {"boolean", FieldKind::Boolean}, {"quantity", FieldKind::Quantity},
        {"int-or-string", FieldKind::IntOrString}, {"time", FieldKind::Time},
        {"microtime", FieldKind::MicroTime}, {"bytes", FieldKind::Bytes},
        {"any", FieldKind::Any},         {"object", FieldKind::Object},
    };
    for (auto [name, kind] : kScalars)
        if (s == name) {
            t.kind = kind;
            return t;
        }
    if (s.empty() || !std::isupper(static_cast<unsigned char>(s.front())))
        return std::nullopt;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)))
            return std::nullopt;
    t.kind = FieldKind::Ref;
    t.ref = s;
    return t;
}

// Reads a default value written as text in the field's own type.
std::optional<json> parseDefault(const TypeRef &type, std::string_view text)
{
    switch (type.kind) {
    case FieldKind::Int32:
    case FieldKind::Int64: {
        json v = resolvePlainScalar(text);
        return v.is_number_integer() ? std::optional<json>(v) : std::nullopt;
    }
    case FieldKind::Number: {
        json v = resolvePlainScalar(text);
        return v.is_number() ? std::optional<json>(v) : std::nullopt;
    }
    case FieldKind::Boolean: {
        if (text == "true")
            return json(true);
        if (text == "false")
            return json(false);
        return std::nullopt;
    }
    case FieldKind::IntOrString: {
        json v = resolvePlainScalar(text);
        return v.is_number_integer() ? v : json(std::string(text));
    }
    case FieldKind::String:
    case FieldKind::Quantity:
    case FieldKind::Time:
        if (text == "\"\"" || text == "''")
            return json("");
        return json(std::string(text));
    default:
        return std::nullopt;
    }
}

struct Loader {
    std::vector<std::string> problems;
    std::map<std::string, TypeSchema, std::less<>> types;
    std::vector<ResourceInfo> resources;
    std::vector<SubresourceKind> subresourceKinds;

    void problem(const YamlDocument &doc, const std::string &pointer, const std::string &what)
    {
        auto p = doc.positionOf(pointer);
        problems.push_back("schema document " + std::to_string(docNumber) + " line " + std::to_string(p.line) + ": "
                           + what);
    }

    int docNumber = 0;

    void loadField(const YamlDocument &doc, TypeSchema &type, const std::string &name, const json &spec,
                   const std::string &pointer)
    {
        if (!spec.is_string()) {
            problem(doc, pointer, type.name + "." + name + ": expected \"TYPE FLAGS | description\"");
            return;
        }
        std::string line = spec.get<std::string>();
        FieldSchema f;
        f.name = name;
        std::string head = line;
        if (auto bar = line.find(" | "); bar != std::string::npos) {
            head = line.substr(0, bar);
            f.description = line.substr(bar + 3);
        } else if (line.find('|') != std::string::npos) {
            problem(doc, pointer, type.name + "." + name + ": put spaces around the '|' before the description");
        }
        std::istringstream words(head);
        std::string word;
        if (!(words >> word)) {
            problem(doc, pointer, type.name + "." + name + ": missing type");
            return;
        }
        auto t = parseType(word);
        if (!t) {
            problem(doc, pointer, type.name + "." + name + ": unknown type \"" + word + "\"");
            return;
        }
        f.type = *t;
        std::string pendingDefault;
        while (words >> word) {
            auto eq = word.find('=');
            std::string flag = word.substr(0, eq);
            std::string value = eq == std::string::npos ? std::string() : word.substr(eq + 1);
            auto number = [&](std::optional<double> &out) {
                json v = resolvePlainScalar(value);
                if (!v.is_number())
                    problem(doc, pointer, type.name + "." + name + ": " + flag + " needs a number");
                else
                    out = v.get<double>();
            };
            if (flag == "required" && value.empty()) f.required = true;
            else if (flag == "immutable" && value.empty()) f.immutable = true;
            else if (flag == "readonly" && value.empty()) f.readonly = true;
            else if (flag == "retainKeys" && value.empty()) f.retainKeys = true;
            else if (flag == "set" && value.empty()) f.set = true;
            else if (flag == "atomic" && value.empty()) {}
            else if ((flag == "key" || flag == "keys") && !value.empty()) f.listKeys = splitList(value);
            else if (flag == "enum" && !value.empty()) f.enumValues = splitList(value);
            else if (flag == "default" && eq != std::string::npos) pendingDefault = value.empty() ? "\"\"" : value;
            else if (flag == "min") number(f.minimum);
            else if (flag == "max") number(f.maximum);
            else if (flag == "maxlen") {
                std::optional<double> d;
                number(d);
                if (d)
                    f.maxLength = static_cast<size_t>(*d);
            } else if (flag == "format" && !value.empty()) f.format = value;
            else
                problem(doc, pointer, type.name + "." + name + ": unknown flag \"" + word + "\"");
        }
        if (!pendingDefault.empty()) {
            f.defaultValue = parseDefault(f.type, pendingDefault);
            if (!f.defaultValue)
                problem(doc, pointer, type.name + "." + name + ": default \"" + pendingDefault + "\" is not a "
                                          + f.type.spelling());
        }
        if (!f.listKeys.empty() && !(f.type.kind == FieldKind::Array && f.type.element->kind == FieldKind::Ref))
            problem(doc, pointer, type.name + "." + name + ": key= needs a list of objects");
        if (f.set && !(f.type.kind == FieldKind::Array && f.type.element->kind != FieldKind::Ref))
            problem(doc, pointer, type.name + "." + name + ": set needs a list of scalars");
        type.fields.push_back(std::move(f));
    }

    void loadTypes(const YamlDocument &doc, const json &types)
    {
        if (!types.is_object()) {
            problem(doc, "/types", "types: expected a mapping of type names");
            return;
        }
        for (auto it = types.begin(); it != types.end(); ++it) {
            const std::string pointer = "/types/" + escapePointerToken(it.key());
            if (this->types.count(it.key())) {
                problem(doc, pointer, "type " + it.key() + " is defined twice");
                continue;
            }
            if (!it.value().is_object()) {
                problem(doc, pointer, it.key() + ": expected a mapping of fields");
                continue;
            }
            TypeSchema type;
            type.name = it.key();
            // nlohmann sorts keys; keep the file's order, which is what explain shows.
            std::vector<std::pair<SourcePosition, std::string>> order;
            for (auto f = it.value().begin(); f != it.value().end(); ++f) {
                auto p = doc.positionOf(pointer + "/" + escapePointerToken(f.key()));
                order.push_back({p, f.key()});
            }
            std::sort(order.begin(), order.end(), [](const auto &a, const auto &b) {
                return a.first.line != b.first.line ? a.first.line < b.first.line : a.first.column < b.first.column;
            });
            for (const auto &[pos, name] : order) {
                const json &spec = it.value()[name];
                if (name == "_") {
                    type.description = spec.is_string() ? spec.get<std::string>() : std::string();
                    continue;
                }
                loadField(doc, type, name, spec, pointer + "/" + escapePointerToken(name));
            }
            this->types.emplace(type.name, std::move(type));
        }
    }

    void loadResources(const YamlDocument &doc, const json &list)
    {
        if (!list.is_array()) {
            problem(doc, "/resources", "resources: expected a list");
            return;
        }
        for (size_t i = 0; i < list.size(); ++i) {
            const json &r = list[i];
            const std::string pointer = "/resources/" + std::to_string(i);
            auto str = [&](const char *key, bool required) {
                auto it = r.find(key);
                if (it == r.end() || !it->is_string()) {
                    if (required)
                        problem(doc, pointer, std::string("resource entry needs a string \"") + key + "\"");
                    return std::string();
                }
                return it->get<std::string>();
            };
            auto strings = [&](const char *key) {
                std::vector<std::string> out;
                if (auto it = r.find(key); it != r.end() && it->is_array())
                    for (const auto &s : *it)
                        if (s.is_string())
                            out.push_back(s.get<std::string>());
                return out;
            };
            ResourceInfo info;
            info.kind = str("kind", true);
            info.group = str("group", false);
            info.version = str("version", true);
            info.plural = str("plural", true);
            info.singular = str("singular", false);
            if (info.singular.empty())
                info.singular = lower(info.kind);
            info.namespaced = r.value("namespaced", true);
            info.shortNames = strings("shortNames");
            info.categories = strings("categories");
            info.verbs = strings("verbs");
            info.subresources = strings("subresources");
            info.type = str("type", false);
            if (info.type.empty())
                info.type = info.kind;
            for (auto it = r.begin(); it != r.end(); ++it) {
                static const char *kKnown[] = {"kind", "group", "version", "plural", "singular", "namespaced",
                                               "shortNames", "categories", "verbs", "subresources", "type"};
                if (std::find_if(std::begin(kKnown), std::end(kKnown), [&](const char *k) { return it.key() == k; })
                    == std::end(kKnown))
                    problem(doc, pointer, "resource entry has unknown key \"" + it.key() + "\"");
            }
            resources.push_back(std::move(info));
        }
    }

    void loadSubresourceKinds(const YamlDocument &doc, const json &list)
    {
        if (!list.is_array()) {
            problem(doc, "/subresourceKinds", "subresourceKinds: expected a list");
            return;
        }
        for (size_t i = 0; i < list.size(); ++i) {
            const json &r = list[i];
            const std::string pointer = "/subresourceKinds/" + std::to_string(i);
            if (!r.is_object()) {
                problem(doc, pointer, "subresourceKinds entry: expected a mapping");
                continue;
            }
            SubresourceKind k;
            k.kind = r.value("kind", std::string());
            k.group = r.value("group", std::string());
            k.version = r.value("version", std::string());
            k.subresource = r.value("subresource", std::string());
            k.type = r.value("type", k.kind);
            if (auto v = r.find("verbs"); v != r.end() && v->is_array())
                for (const auto &s : *v)
                    if (s.is_string())
                        k.verbs.push_back(s.get<std::string>());
            if (k.kind.empty() || k.version.empty() || k.subresource.empty())
                problem(doc, pointer, "subresourceKinds entry needs kind, version and subresource");
            subresourceKinds.push_back(std::move(k));
        }
    }

    void checkRef(const TypeRef &t, const std::string &where)
    {
        if (t.kind == FieldKind::Ref && !types.count(t.ref))
            problems.push_back(where + ": type " + t.ref + " is not defined");
        if (t.element)
            checkRef(*t.element, where);
    }

    void checkConsistency()
    {
        for (const auto &[name, type] : types)
            for (const auto &f : type.fields) {
                checkRef(f.type, name + "." + f.name);
                if (!f.listKeys.empty() && f.type.element && f.type.element->kind == FieldKind::Ref) {
                    auto element = types.find(f.type.element->ref);
                    if (element != types.end())
                        for (const auto &k : f.listKeys)
                            if (!element->second.field(k))
                                problems.push_back(name + "." + f.name + ": list key \"" + k + "\" is not a field of "
                                                   + element->first);
                }
            }
        for (const auto &r : resources)
            if (!types.count(r.type))
                problems.push_back("resource " + r.plural + ": type " + r.type + " is not defined");
        for (const auto &k : subresourceKinds)
            if (!types.count(k.type))
                problems.push_back("subresource kind " + k.kind + ": type " + k.type + " is not defined");
    }
};

} // namespace

std::string TypeRef::spelling() const
{
    switch (kind) {
    case FieldKind::String: return "string";
    case FieldKind::Int32: return "int32";
    case FieldKind::Int64: return "int64";
    case FieldKind::Number: return "number";
    case FieldKind::Boolean: return "boolean";
    case FieldKind::Quantity: return "quantity";
    case FieldKind::IntOrString: return "int-or-string";
    case FieldKind::Time: return "time";
    case FieldKind::MicroTime: return "microtime";
    case FieldKind::Bytes: return "bytes";
    case FieldKind::Any: return "any";
    case FieldKind::Object: return "object";
    case FieldKind::Array: return "[]" + element->spelling();
    case FieldKind::Map: return "map[" + element->spelling() + "]";
    case FieldKind::Ref: return ref;
    }
    return "?";
}

std::string TypeRef::jsonTypeName() const
{
    switch (kind) {
    case FieldKind::String:
    case FieldKind::Time:
    case FieldKind::MicroTime:
    case FieldKind::Bytes: return "string";
    case FieldKind::Int32:
    case FieldKind::Int64: return "integer";
    case FieldKind::Number: return "number";
    case FieldKind::Boolean: return "boolean";
    case FieldKind::Quantity: return "quantity (string such as 500m or 1Gi)";
    case FieldKind::IntOrString: return "integer or string";
    case FieldKind::Any: return "any value";
    case FieldKind::Object:
    case FieldKind::Map:
    case FieldKind::Ref: return "object";
    case FieldKind::Array: return "array";
    }
    return "?";
}

const FieldSchema *TypeSchema::field(std::string_view name) const
{
    for (const auto &f : fields)
        if (f.name == name)
            return &f;
    return nullptr;
}

bool ResourceInfo::hasSubresource(std::string_view name) const
{
    return std::find(subresources.begin(), subresources.end(), name) != subresources.end();
}

bool ResourceInfo::hasVerb(std::string_view verb) const
{
    return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

Result<SchemaRegistry> SchemaRegistry::load(const std::vector<std::string_view> &documents)
{
    Loader loader;
    for (auto text : documents) {
        ++loader.docNumber;
        auto docs = decodeYamlStream(text, YamlDecodeOptions::forSource("schema document " + std::to_string(loader.docNumber)));
        if (!docs)
            return docs.takeError();
        for (const auto &doc : *docs) {
            if (!doc.value.is_object()) {
                loader.problems.push_back("schema document " + std::to_string(loader.docNumber) + ": not a mapping");
                continue;
            }
            for (auto it = doc.value.begin(); it != doc.value.end(); ++it) {
                if (it.key() == "types")
                    loader.loadTypes(doc, it.value());
                else if (it.key() == "resources")
                    loader.loadResources(doc, it.value());
                else if (it.key() == "subresourceKinds")
                    loader.loadSubresourceKinds(doc, it.value());
                else
                    loader.problem(doc, "/" + escapePointerToken(it.key()),
                                   "unknown top-level key \"" + it.key() + "\" (expected types, resources or subresourceKinds)");
            }
        }
    }
    loader.checkConsistency();
    if (!loader.problems.empty()) {
        std::string msg = "the schema data has " + std::to_string(loader.problems.size()) + " problem(s):";
        for (const auto &p : loader.problems)
            msg += "\n  " + p;
        return fail(Reason::InternalError, msg);
    }
    SchemaRegistry registry;
    registry.m_types = std::move(loader.types);
    registry.m_resources = std::move(loader.resources);
    registry.m_subresourceKinds = std::move(loader.subresourceKinds);
    return registry;
}

const SchemaRegistry &SchemaRegistry::builtin()
{
    static const SchemaRegistry registry = [] {
        auto r = load(schemaDocuments());
        if (!r) {
            // The data ships with the binary and tst_schemaregistry loads it; reaching this
            // means a broken build. Say so loudly and carry on with an empty registry.
            std::fprintf(stderr, "podscape: built-in schema data is broken: %s\n", r.error().message().c_str());
            return SchemaRegistry();
        }
        return std::move(r).value();
    }();
    return registry;
}

const TypeSchema *SchemaRegistry::type(std::string_view name) const
{
    auto it = m_types.find(name);
    return it == m_types.end() ? nullptr : &it->second;
}

const ResourceInfo *SchemaRegistry::resourceFor(std::string_view apiVersion, std::string_view kind) const
{
    for (const auto &r : m_resources)
        if (r.kind == kind && r.apiVersion() == apiVersion)
            return &r;
    return nullptr;
}

const ResourceInfo *SchemaRegistry::resourceForGroupKind(std::string_view group, std::string_view kind) const
{
    for (const auto &r : m_resources)
        if (r.kind == kind && r.group == group)
            return &r;
    return nullptr;
}

const ResourceInfo *SchemaRegistry::resolve(std::string_view name) const
{
    std::string n = lower(name);
    std::string group;
    bool qualified = false;
    if (auto dot = n.find('.'); dot != std::string::npos) {
        group = n.substr(dot + 1);
        n.resize(dot);
        qualified = true;
    }
    auto matches = [&](const ResourceInfo &r) {
        if (qualified && r.group != group)
            return false;
        if (r.plural == n || r.singular == n || lower(r.kind) == n)
            return true;
        return std::find(r.shortNames.begin(), r.shortNames.end(), n) != r.shortNames.end();
    };
    for (const auto &r : m_resources)
        if (r.group.empty() && matches(r))
            return &r;
    for (const auto &r : m_resources)
        if (matches(r))
            return &r;
    return nullptr;
}

const SubresourceKind *SchemaRegistry::subresourceKind(std::string_view subresource) const
{
    for (const auto &k : m_subresourceKinds)
        if (k.subresource == subresource)
            return &k;
    return nullptr;
}

std::vector<const ResourceInfo *> SchemaRegistry::category(std::string_view name) const
{
    std::vector<const ResourceInfo *> out;
    for (const auto &r : m_resources)
        if (std::find(r.categories.begin(), r.categories.end(), name) != r.categories.end())
            out.push_back(&r);
    return out;
}

std::optional<TypeRef> SchemaRegistry::typeAt(std::string_view rootType, const std::vector<std::string> &path) const
{
    TypeRef current;
    current.kind = FieldKind::Ref;
    current.ref = rootType;
    for (const auto &step : path) {
        switch (current.kind) {
        case FieldKind::Ref: {
            const TypeSchema *t = type(current.ref);
            const FieldSchema *f = t ? t->field(step) : nullptr;
            if (!f)
                return std::nullopt;
            current = f->type;
            break;
        }
        case FieldKind::Array:
        case FieldKind::Map:
            current = *current.element;
            break;
        default:
            return std::nullopt;
        }
    }
    return current;
}

const FieldSchema *SchemaRegistry::fieldAt(std::string_view rootType, const std::vector<std::string> &path) const
{
    // `explain pods.spec.containers.ports` names fields only: lists and maps are walked through.
    TypeRef current;
    current.kind = FieldKind::Ref;
    current.ref = rootType;
    const FieldSchema *field = nullptr;
    for (const auto &step : path) {
        while (current.kind == FieldKind::Array || current.kind == FieldKind::Map)
            current = *current.element;
        const TypeSchema *t = current.kind == FieldKind::Ref ? type(current.ref) : nullptr;
        field = t ? t->field(step) : nullptr;
        if (!field)
            return nullptr;
        current = field->type;
    }
    return field;
}

} // namespace podscape::core::model
