#include "strategicmerge.h"

#include <algorithm>
#include <optional>

namespace podscape::core::apiserver {

using nlohmann::json;

namespace {

constexpr std::string_view kPatch = "$patch";
constexpr std::string_view kRetainKeys = "$retainKeys";
constexpr std::string_view kSetElementOrder = "$setElementOrder/";
constexpr std::string_view kDeleteFromPrimitiveList = "$deleteFromPrimitiveList/";

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

Error badPatch(const std::string &path, const std::string &message)
{
    return Error(Reason::BadRequest, "invalid strategic merge patch at " + (path.empty() ? std::string("<root>") : path) + ": " + message);
}

class Merger
{
public:
    explicit Merger(const model::SchemaRegistry &registry) : m_registry(registry) {}

    // nullopt: the patch deletes the whole object ($patch: delete).
    Result<std::optional<json>> mergeObject(const json &original, const json &patch, const model::TypeSchema *schema,
                                            const std::string &path) const
    {
        if (!patch.is_object())
            return std::optional<json>(patch);
        json result = original.is_object() ? original : json::object();
        if (auto d = patch.find(kPatch); d != patch.end()) {
            if (!d->is_string())
                return fail(badPatch(path, "$patch must be a string"));
            const std::string directive = d->get<std::string>();
            if (directive == "delete")
                return std::optional<json>();
            if (directive == "replace")
                return std::optional<json>(withoutDirectives(patch));
            if (directive != "merge")
                return fail(badPatch(path, "unknown $patch directive \"" + directive + "\" (use replace, delete or merge)"));
        }
        for (const auto &[key, value] : patch.items()) {
            if (startsWith(key, "$"))
                continue;
            const std::string childPath = path.empty() ? key : path + "." + key;
            if (value.is_null()) {
                result.erase(key);
                continue;
            }
            const model::FieldSchema *field = schema ? schema->field(key) : nullptr;
            auto merged = mergeValue(result.contains(key) ? result[key] : json(), value, field, childPath);
            if (!merged)
                return merged.takeError();
            if (*merged)
                result[key] = std::move(**merged);
            else
                result.erase(key);
        }
        // Directives that refer to lists merged above.
        for (const auto &[key, value] : patch.items()) {
            if (startsWith(key, kDeleteFromPrimitiveList)) {
                const std::string list = key.substr(kDeleteFromPrimitiveList.size());
                if (!value.is_array())
                    return fail(badPatch(path, key + " must be a list"));
                if (result.contains(list) && result[list].is_array()) {
                    json &items = result[list];
                    const json &doomed = value; // clang before 16 cannot capture a structured binding
                    items.erase(std::remove_if(items.begin(), items.end(),
                                               [&](const json &v) { return std::find(doomed.begin(), doomed.end(), v) != doomed.end(); }),
                                items.end());
                }
            } else if (startsWith(key, kSetElementOrder)) {
                const std::string list = key.substr(kSetElementOrder.size());
                if (!value.is_array())
                    return fail(badPatch(path, key + " must be a list"));
                const model::FieldSchema *field = schema ? schema->field(list) : nullptr;
                if (result.contains(list) && result[list].is_array())
                    reorder(result[list], value, field ? field->mergeKey() : std::string());
            }
        }
        if (auto retain = patch.find(kRetainKeys); retain != patch.end()) {
            if (!retain->is_array())
                return fail(badPatch(path, "$retainKeys must be a list of field names"));
            for (auto it = result.begin(); it != result.end();) {
                const bool keep = std::find(retain->begin(), retain->end(), json(it.key())) != retain->end();
                it = keep ? std::next(it) : result.erase(it);
            }
        }
        return std::optional<json>(std::move(result));
    }

private:
    const model::TypeSchema *schemaOf(const model::TypeRef *type) const
    {
        return type && type->kind == model::FieldKind::Ref ? m_registry.type(type->ref) : nullptr;
    }

    Result<std::optional<json>> mergeValue(const json &original, const json &patch, const model::FieldSchema *field,
                                           const std::string &path) const
    {
        const model::TypeRef *type = field ? &field->type : nullptr;
        if (patch.is_object()) {
            if (type && type->kind == model::FieldKind::Map)
                return mergeMap(original, patch, type->element.get(), path);
            return mergeObject(original, patch, schemaOf(type), path);
        }
        if (patch.is_array()) {
            if (field && !field->mergeKey().empty())
                return mergeKeyedList(original, patch, field->mergeKey(), schemaOf(type ? type->element.get() : nullptr), path);
            if (field && field->set)
                return mergeSet(original, patch);
            return std::optional<json>(withoutDirectives(patch));
        }
        return std::optional<json>(patch);
    }

    Result<std::optional<json>> mergeMap(const json &original, const json &patch, const model::TypeRef *element,
                                         const std::string &path) const
    {
        if (auto d = patch.find(kPatch); d != patch.end() && d->is_string()) {
            if (*d == "replace")
                return std::optional<json>(withoutDirectives(patch));
            if (*d == "delete")
                return std::optional<json>();
        }
        json result = original.is_object() ? original : json::object();
        for (const auto &[key, value] : patch.items()) {
            if (startsWith(key, "$"))
                continue;
            if (value.is_null()) {
                result.erase(key);
                continue;
            }
            const std::string childPath = path + "[" + key + "]";
            Result<std::optional<json>> merged = value.is_object()
                ? mergeObject(result.contains(key) ? result[key] : json(), value, schemaOf(element), childPath)
                : Result<std::optional<json>>(std::optional<json>(value));
            if (!merged)
                return merged.takeError();
            if (*merged)
                result[key] = std::move(**merged);
            else
                result.erase(key);
        }
        return std::optional<json>(std::move(result));
    }

    Result<std::optional<json>> mergeKeyedList(const json &original, const json &patch, const std::string &mergeKey,
                                               const model::TypeSchema *element, const std::string &path) const
    {
        // {"$patch": "replace"} among the elements: the list becomes the other elements.
        for (const auto &item : patch)
            if (item.is_object() && item.value(std::string(kPatch), json()) == "replace")
                return std::optional<json>(withoutDirectiveElements(patch));
        json result = original.is_array() ? original : json::array();
        for (size_t i = 0; i < patch.size(); ++i) {
            const json &item = patch[i];
            const std::string itemPath = path + "[" + std::to_string(i) + "]";
            if (!item.is_object())
                return fail(badPatch(itemPath, "expected an object with the merge key \"" + mergeKey + "\""));
            auto key = item.find(mergeKey);
            if (key == item.end())
                return fail(badPatch(itemPath, "does not contain declared merge key: " + mergeKey));
            auto match = std::find_if(result.begin(), result.end(), [&](const json &o) {
                return o.is_object() && o.contains(mergeKey) && o[mergeKey] == *key;
            });
            if (item.value(std::string(kPatch), json()) == "delete") {
                if (match != result.end())
                    result.erase(match);
                continue;
            }
            auto merged = mergeObject(match != result.end() ? *match : json::object(), item, element, itemPath);
            if (!merged)
                return merged.takeError();
            if (!*merged) {
                if (match != result.end())
                    result.erase(match);
            } else if (match != result.end()) {
                *match = std::move(**merged);
            } else {
                result.push_back(std::move(**merged));
            }
        }
        return std::optional<json>(std::move(result));
    }

    static Result<std::optional<json>> mergeSet(const json &original, const json &patch)
    {
        json result = original.is_array() ? original : json::array();
        for (const auto &v : patch)
            if (std::find(result.begin(), result.end(), v) == result.end())
                result.push_back(v);
        return std::optional<json>(std::move(result));
    }

    // Elements named in `order` first, in that order; the rest (only the server had them)
    // after, in their own order.
    static void reorder(json &list, const json &order, const std::string &mergeKey)
    {
        auto rank = [&](const json &item) -> size_t {
            const json &id = mergeKey.empty() ? item : (item.is_object() ? item.value(mergeKey, json()) : json());
            for (size_t i = 0; i < order.size(); ++i) {
                const json &o = mergeKey.empty() ? order[i] : (order[i].is_object() ? order[i].value(mergeKey, json()) : json());
                if (o == id)
                    return i;
            }
            return order.size();
        };
        std::vector<json> items(list.begin(), list.end());
        std::stable_sort(items.begin(), items.end(), [&](const json &a, const json &b) { return rank(a) < rank(b); });
        list = json(items);
    }

    static json withoutDirectives(const json &value)
    {
        if (value.is_object()) {
            json out = json::object();
            for (const auto &[k, v] : value.items())
                if (!startsWith(k, "$"))
                    out[k] = withoutDirectives(v);
            return out;
        }
        if (value.is_array())
            return withoutDirectiveElements(value);
        return value;
    }

    static json withoutDirectiveElements(const json &list)
    {
        json out = json::array();
        for (const auto &item : list)
            if (!(item.is_object() && item.contains(std::string(kPatch)) && item.size() == 1))
                out.push_back(withoutDirectives(item));
        return out;
    }

    const model::SchemaRegistry &m_registry;
};

} // namespace

Result<json> strategicMerge(const json &original, const json &patch, const model::SchemaRegistry &registry,
                            const std::string &type)
{
    if (!patch.is_object())
        return fail(Reason::BadRequest, "a strategic merge patch must be a JSON object");
    const model::TypeSchema *schema = registry.type(type);
    auto merged = Merger(registry).mergeObject(original, patch, schema, "");
    if (!merged)
        return merged.takeError();
    if (!*merged)
        return fail(Reason::BadRequest, "a strategic merge patch cannot delete the whole object");
    return std::move(**merged);
}

} // namespace podscape::core::apiserver
