#include "fieldmanager.h"

#include "core/base/timeformat.h"

#include <algorithm>
#include <map>
#include <optional>

namespace podscape::core::apiserver {

using nlohmann::json;

namespace {

const char *const kItself = "."; // FieldsV1's mark for a list item or map entry itself

bool serverOwned(const FieldManager::Path &p)
{
    if (p.empty())
        return true;
    if (p[0] == "f:apiVersion" || p[0] == "f:kind" || p[0] == "f:status")
        return true;
    if (p[0] == "f:metadata" && p.size() >= 2) {
        static const std::set<std::string> owned = {"f:name", "f:namespace", "f:uid", "f:resourceVersion", "f:generation",
                                                    "f:creationTimestamp", "f:managedFields", "f:selfLink",
                                                    "f:deletionTimestamp", "f:deletionGracePeriodSeconds"};
        return owned.count(p[1]) > 0;
    }
    return false;
}

// The list item a "k:{...}" token names, by its key fields.
json::const_iterator findKeyed(const json &list, const json &keys)
{
    return std::find_if(list.begin(), list.end(), [&](const json &item) {
        if (!item.is_object())
            return false;
        for (const auto &[k, v] : keys.items())
            if (!item.contains(k) || item[k] != v)
                return false;
        return true;
    });
}

// The value at `path` (the item itself for a path ending in "."), or nullopt.
std::optional<json> valueAt(const json &root, const FieldManager::Path &path)
{
    const json *at = &root;
    for (const auto &tok : path) {
        if (tok == kItself)
            break;
        const std::string rest = tok.substr(2);
        if (tok.rfind("f:", 0) == 0) {
            if (!at->is_object() || !at->contains(rest))
                return std::nullopt;
            at = &(*at)[rest];
        } else if (tok.rfind("k:", 0) == 0) {
            if (!at->is_array())
                return std::nullopt;
            auto it = findKeyed(*at, json::parse(rest, nullptr, false));
            if (it == at->end())
                return std::nullopt;
            at = &*it;
        } else if (tok.rfind("v:", 0) == 0) {
            if (!at->is_array())
                return std::nullopt;
            const json v = json::parse(rest, nullptr, false);
            if (std::find(at->begin(), at->end(), v) == at->end())
                return std::nullopt;
            return v;
        } else {
            return std::nullopt;
        }
    }
    return *at;
}

void removeAt(json &root, const FieldManager::Path &path)
{
    json *at = &root;
    const bool item = !path.empty() && path.back() == kItself;
    const size_t last = item ? path.size() - 2 : path.size() - 1;
    for (size_t i = 0; i <= last; ++i) {
        const std::string &tok = path[i];
        const std::string rest = tok.substr(2);
        const bool final = i == last;
        if (tok.rfind("f:", 0) == 0) {
            if (!at->is_object() || !at->contains(rest))
                return;
            if (final) {
                at->erase(rest);
                return;
            }
            at = &(*at)[rest];
        } else if (tok.rfind("k:", 0) == 0) {
            if (!at->is_array())
                return;
            auto it = findKeyed(*at, json::parse(rest, nullptr, false));
            if (it == at->end())
                return;
            const auto index = size_t(it - at->cbegin());
            if (final) {
                at->erase(index);
                return;
            }
            at = &(*at)[index];
        } else if (tok.rfind("v:", 0) == 0) {
            if (!at->is_array())
                return;
            const json v = json::parse(rest, nullptr, false);
            for (size_t k = 0; k < at->size(); ++k)
                if ((*at)[k] == v) {
                    at->erase(k);
                    return;
                }
            return;
        }
    }
}

struct Entry {
    std::string manager, operation, apiVersion, time, subresource;
    FieldManager::FieldSet fields;
};

std::vector<Entry> entriesOf(const json &object)
{
    std::vector<Entry> out;
    const json &meta = object.value("metadata", json::object());
    for (const auto &e : meta.value("managedFields", json::array())) {
        if (!e.is_object())
            continue;
        Entry entry{e.value("manager", ""), e.value("operation", ""), e.value("apiVersion", ""), e.value("time", ""),
                    e.value("subresource", ""), FieldManager::fromFieldsV1(e.value("fieldsV1", json::object()))};
        out.push_back(std::move(entry));
    }
    return out;
}

void storeEntries(json &object, const std::vector<Entry> &entries)
{
    json list = json::array();
    for (const auto &e : entries) {
        if (e.fields.empty())
            continue;
        json j = {{"manager", e.manager}, {"operation", e.operation}, {"apiVersion", e.apiVersion}, {"time", e.time},
                  {"fieldsType", "FieldsV1"}, {"fieldsV1", FieldManager::toFieldsV1(e.fields)}};
        if (!e.subresource.empty())
            j["subresource"] = e.subresource;
        list.push_back(std::move(j));
    }
    if (list.empty())
        object["metadata"].erase("managedFields");
    else
        object["metadata"]["managedFields"] = std::move(list);
}

Entry &entryFor(std::vector<Entry> &entries, const std::string &manager, const std::string &operation,
                const std::string &apiVersion)
{
    for (auto &e : entries)
        if (e.manager == manager && e.operation == operation && e.subresource.empty())
            return e;
    entries.push_back(Entry{manager, operation, apiVersion, {}, {}, {}});
    return entries.back();
}

} // namespace

const model::TypeSchema *FieldManager::schemaOf(const model::TypeRef *type) const
{
    return type && type->kind == model::FieldKind::Ref ? m_registry.type(type->ref) : nullptr;
}

void FieldManager::collectObject(const json &object, const model::TypeSchema *schema, Path &prefix, FieldSet &out) const
{
    for (const auto &[key, value] : object.items()) {
        prefix.push_back("f:" + key);
        if (!serverOwned(prefix))
            collect(value, schema ? schema->field(key) : nullptr, prefix, out);
        prefix.pop_back();
    }
}

void FieldManager::collect(const json &value, const model::FieldSchema *field, Path &prefix, FieldSet &out) const
{
    const model::TypeRef *type = field ? &field->type : nullptr;
    if (value.is_object() && !value.empty() && !(type && (type->kind == model::FieldKind::Object || type->kind == model::FieldKind::Any))) {
        // A struct (fields by schema) or a map (keys as fields, values of the element type).
        if (type && type->kind == model::FieldKind::Map) {
            model::FieldSchema element;
            if (type->element)
                element.type = *type->element;
            for (const auto &[key, v] : value.items()) {
                prefix.push_back("f:" + key);
                collect(v, type->element ? &element : nullptr, prefix, out);
                prefix.pop_back();
            }
        } else {
            collectObject(value, schemaOf(type), prefix, out);
        }
        return;
    }
    if (value.is_array() && !value.empty() && field && !field->listKeys.empty()) {
        const model::TypeSchema *itemSchema = schemaOf(type && type->element ? type->element.get() : nullptr);
        for (const auto &item : value) {
            if (!item.is_object())
                continue;
            json keys = json::object();
            for (const auto &k : field->listKeys)
                if (item.contains(k))
                    keys[k] = item[k];
            prefix.push_back("k:" + keys.dump());
            prefix.push_back(kItself);
            out.insert(prefix);
            prefix.pop_back();
            collectObject(item, itemSchema, prefix, out);
            prefix.pop_back();
        }
        return;
    }
    if (value.is_array() && !value.empty() && field && field->set) {
        for (const auto &item : value) {
            prefix.push_back("v:" + item.dump());
            out.insert(prefix);
            prefix.pop_back();
        }
        return;
    }
    out.insert(prefix); // a scalar, an atomic list, an empty or free-form object
}

FieldManager::FieldSet FieldManager::fieldsOf(const json &object, const std::string &type) const
{
    FieldSet out;
    Path prefix;
    if (object.is_object())
        collectObject(object, m_registry.type(type), prefix, out);
    return out;
}

json FieldManager::toFieldsV1(const FieldSet &set)
{
    json root = json::object();
    for (const auto &path : set) {
        json *node = &root;
        for (const auto &tok : path) {
            json &child = (*node)[tok];
            if (!child.is_object())
                child = json::object();
            node = &child;
        }
    }
    return root;
}

FieldManager::FieldSet FieldManager::fromFieldsV1(const json &fields)
{
    FieldSet out;
    Path prefix;
    auto walk = [&](auto &self, const json &node) -> void {
        for (const auto &[key, child] : node.items()) {
            prefix.push_back(key);
            if (key == kItself || !child.is_object() || child.empty())
                out.insert(prefix);
            else
                self(self, child);
            prefix.pop_back();
        }
    };
    if (fields.is_object())
        walk(walk, fields);
    return out;
}

std::string FieldManager::describe(const Path &path)
{
    std::string out;
    for (const auto &tok : path) {
        if (tok == kItself)
            continue;
        const std::string rest = tok.substr(2);
        if (tok.rfind("f:", 0) == 0) {
            out += "." + rest;
        } else if (tok.rfind("k:", 0) == 0) {
            json keys = json::parse(rest, nullptr, false);
            std::string inner;
            for (const auto &[k, v] : keys.items())
                inner += (inner.empty() ? "" : ",") + k + "=" + v.dump();
            out += "[" + inner + "]";
        } else {
            out += "[=" + rest + "]";
        }
    }
    return out;
}

json FieldManager::merge(const json &live, const json &config, const model::TypeSchema *schema) const
{
    if (!config.is_object() || !live.is_object())
        return config;
    json result = live;
    for (const auto &[key, value] : config.items()) {
        const model::FieldSchema *field = schema ? schema->field(key) : nullptr;
        const model::TypeRef *type = field ? &field->type : nullptr;
        if (!result.contains(key)) {
            result[key] = value;
        } else if (value.is_object()) {
            result[key] = merge(result[key], value, schemaOf(type));
        } else if (value.is_array() && field && !field->listKeys.empty() && result[key].is_array()) {
            const model::TypeSchema *itemSchema = schemaOf(type && type->element ? type->element.get() : nullptr);
            json merged = result[key];
            for (const auto &item : value) {
                json keys = json::object();
                for (const auto &k : field->listKeys)
                    if (item.is_object() && item.contains(k))
                        keys[k] = item[k];
                auto it = findKeyed(merged, keys);
                if (it != merged.cend())
                    merged[size_t(it - merged.cbegin())] = merge(*it, item, itemSchema);
                else
                    merged.push_back(item);
            }
            result[key] = std::move(merged);
        } else if (value.is_array() && field && field->set && result[key].is_array()) {
            json merged = result[key];
            for (const auto &item : value)
                if (std::find(merged.begin(), merged.end(), item) == merged.end())
                    merged.push_back(item);
            result[key] = std::move(merged);
        } else {
            result[key] = value;
        }
    }
    return result;
}

Result<json> FieldManager::apply(const json *live, const json &config, const std::string &type, const std::string &manager,
                                 bool force, Clock::TimePoint now) const
{
    const FieldSet applied = fieldsOf(config, type);
    const std::string apiVersion = config.value("apiVersion", "");
    json object = live ? *live : json::object();
    std::vector<Entry> entries = live ? entriesOf(*live) : std::vector<Entry>();

    // Conflicts: fields other managers own whose live value differs from the applied one.
    std::vector<std::pair<Path, std::string>> conflicts;
    for (auto &e : entries) {
        if (e.manager == manager && e.operation == "Apply")
            continue;
        for (const auto &p : e.fields) {
            if (p.back() == kItself || !applied.count(p))
                continue;
            if (valueAt(object, p) != valueAt(config, p))
                conflicts.emplace_back(p, e.manager + "\" using " + e.apiVersion);
        }
    }
    if (!conflicts.empty() && !force) {
        std::string message = "Apply failed with " + std::to_string(conflicts.size()) + " conflict"
                              + (conflicts.size() == 1 ? "" : "s") + ":";
        Error e(Reason::Conflict, "");
        for (const auto &[p, who] : conflicts) {
            message += " conflict with \"" + who + ": " + describe(p) + ";";
            e.addCause(Cause{"FieldManagerConflict", "conflict with \"" + who, describe(p)});
        }
        message.pop_back();
        e.setMessage(message);
        return fail(std::move(e));
    }
    for (auto &e : entries)
        if (!(e.manager == manager && e.operation == "Apply"))
            for (const auto &[p, who] : conflicts)
                e.fields.erase(p);

    // Fields this manager applied before and no longer applies go, unless someone else has them.
    Entry &mine = entryFor(entries, manager, "Apply", apiVersion);
    for (const auto &p : mine.fields) {
        if (applied.count(p))
            continue;
        const bool shared = std::any_of(entries.begin(), entries.end(), [&](const Entry &e) {
            return &e != &mine && e.fields.count(p) > 0;
        });
        if (!shared)
            removeAt(object, p);
    }
    json metadataBefore = object.value("metadata", json::object());
    object = merge(object, config, m_registry.type(type));
    // Server-owned metadata is never taken from the configuration.
    for (const char *k : {"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields"}) {
        if (metadataBefore.contains(k))
            object["metadata"][k] = metadataBefore[k];
        else if (object.contains("metadata"))
            object["metadata"].erase(k);
    }
    Entry &self = entryFor(entries, manager, "Apply", apiVersion);
    self.fields = applied;
    self.apiVersion = apiVersion;
    self.time = formatRfc3339(now);
    storeEntries(object, entries);
    return object;
}

void FieldManager::recordUpdate(const json *old, json &object, const std::string &type, const std::string &manager,
                                Clock::TimePoint now) const
{
    if (manager.empty())
        return;
    std::vector<Entry> entries = old ? entriesOf(*old) : std::vector<Entry>();
    const FieldSet now_ = fieldsOf(object, type);
    FieldSet changed;
    for (const auto &p : now_)
        if (!old || valueAt(*old, p) != valueAt(object, p))
            changed.insert(p);
    // Fields the write removed belong to nobody any more.
    for (auto &e : entries)
        for (auto it = e.fields.begin(); it != e.fields.end();)
            it = now_.count(*it) ? std::next(it) : e.fields.erase(it);
    if (!changed.empty()) {
        for (auto &e : entries)
            if (!(e.manager == manager && e.operation == "Update"))
                for (const auto &p : changed)
                    e.fields.erase(p);
        Entry &mine = entryFor(entries, manager, "Update", object.value("apiVersion", ""));
        mine.fields.insert(changed.begin(), changed.end());
        mine.apiVersion = object.value("apiVersion", "");
        mine.time = formatRfc3339(now);
    }
    storeEntries(object, entries);
}

} // namespace podscape::core::apiserver
