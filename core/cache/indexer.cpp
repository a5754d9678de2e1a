#include "indexer.h"

#include "core/base/logger.h"

#include <algorithm>

namespace podscape::core::cache {

using nlohmann::json;

namespace {

const json *member(const json &o, const char *name)
{
    if (!o.is_object())
        return nullptr;
    auto it = o.find(name);
    return it == o.end() ? nullptr : &*it;
}

std::string stringAt(const json &o, const char *a, const char *b)
{
    const json *m = member(o, a);
    const json *v = m ? member(*m, b) : nullptr;
    return v && v->is_string() ? v->get<std::string>() : std::string();
}

std::vector<std::string> namespaceValues(const json &o)
{
    std::string ns = stringAt(o, "metadata", "namespace");
    if (ns.empty())
        return {};
    return {std::move(ns)};
}

std::vector<std::string> ownerValues(const json &o)
{
    const json *m = member(o, "metadata");
    const json *refs = m ? member(*m, "ownerReferences") : nullptr;
    if (!refs || !refs->is_array())
        return {};
    for (const auto &ref : *refs) {
        const json *controller = member(ref, "controller");
        if (controller && controller->is_boolean() && controller->get<bool>()) {
            const json *uid = member(ref, "uid");
            if (uid && uid->is_string() && !uid->get_ref<const std::string &>().empty())
                return {uid->get<std::string>()};
            return {};
        }
    }
    return {};
}

std::vector<std::string> nodeValues(const json &o)
{
    std::string node = stringAt(o, "spec", "nodeName");
    if (node.empty())
        return {};
    return {std::move(node)};
}

std::vector<std::string> labelValues(const json &o)
{
    const json *m = member(o, "metadata");
    const json *labels = m ? member(*m, "labels") : nullptr;
    std::vector<std::string> out;
    if (!labels)
        return out;
    for (const auto &[key, value] : model::labelsFromJson(*labels))
        out.push_back(key + "=" + value);
    return out;
}

} // namespace

Indexer::Indexer()
{
    m_indexes.emplace(std::string(NamespaceIndex), Index{namespaceValues, {}});
    m_indexes.emplace(std::string(OwnerIndex), Index{ownerValues, {}});
    m_indexes.emplace(std::string(NodeIndex), Index{nodeValues, {}});
    m_indexes.emplace(std::string(LabelIndex), Index{labelValues, {}});
}

std::string Indexer::keyOf(std::string_view ns, std::string_view name)
{
    if (ns.empty())
        return std::string(name);
    std::string key;
    key.reserve(ns.size() + 1 + name.size());
    key.append(ns).append("/").append(name);
    return key;
}

std::string Indexer::keyOf(const json &object)
{
    return keyOf(stringAt(object, "metadata", "namespace"), stringAt(object, "metadata", "name"));
}

std::string Indexer::resourceVersionOf(const json &object) { return stringAt(object, "metadata", "resourceVersion"); }

std::vector<std::string> Indexer::valuesOf(const Index &index, const json &object)
{
    std::vector<std::string> values;
    try {
        values = index.func(object);
    } catch (const std::exception &e) {
        // A throwing custom index must not take the informer's thread down with it.
        PS_LOG(Error, "indexer") << "index function failed for " << keyOf(object) << ": " << e.what();
        return {};
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    return values;
}

void Indexer::fileLocked(const std::string &key, const ObjectPtr &oldObject, const ObjectPtr &newObject)
{
    for (auto &[name, index] : m_indexes) {
        const auto before = oldObject ? valuesOf(index, *oldObject) : std::vector<std::string>();
        const auto after = newObject ? valuesOf(index, *newObject) : std::vector<std::string>();
        if (before == after)
            continue;
        for (const auto &v : before) {
            if (std::binary_search(after.begin(), after.end(), v))
                continue;
            auto bucket = index.buckets.find(v);
            if (bucket == index.buckets.end())
                continue;
            bucket->second.erase(key);
            if (bucket->second.empty())
                index.buckets.erase(bucket); // empty buckets would pile up as values churn
        }
        for (const auto &v : after)
            if (!std::binary_search(before.begin(), before.end(), v))
                index.buckets[v].insert(key);
    }
}

Result<void> Indexer::addIndex(std::string name, IndexFunc func)
{
    if (!func)
        return fail(Reason::BadRequest, "index \"" + name + "\" has no function");
    std::unique_lock lock(m_mutex);
    if (m_indexes.count(name))
        return fail(Reason::AlreadyExists, "index \"" + name + "\" already exists");
    Index index{std::move(func), {}};
    for (const auto &[key, object] : m_items)
        for (auto &v : valuesOf(index, *object))
            index.buckets[std::move(v)].insert(key);
    m_indexes.emplace(std::move(name), std::move(index));
    return {};
}

bool Indexer::hasIndex(std::string_view name) const
{
    std::shared_lock lock(m_mutex);
    return m_indexes.find(name) != m_indexes.end();
}

ObjectPtr Indexer::upsert(ObjectPtr object)
{
    if (!object)
        return nullptr;
    std::string key = keyOf(*object);
    std::unique_lock lock(m_mutex);
    auto [it, inserted] = m_items.try_emplace(key, object);
    ObjectPtr previous;
    if (!inserted)
        previous = std::exchange(it->second, object);
    fileLocked(key, previous, object);
    return previous;
}

ObjectPtr Indexer::remove(std::string_view key)
{
    std::unique_lock lock(m_mutex);
    auto it = m_items.find(key);
    if (it == m_items.end())
        return nullptr;
    ObjectPtr previous = std::move(it->second);
    std::string k = it->first;
    m_items.erase(it);
    fileLocked(k, previous, nullptr);
    return previous;
}

std::vector<Indexer::Change> Indexer::replace(std::vector<ObjectPtr> objects, store::Revision revision)
{
    std::map<std::string, ObjectPtr, std::less<>> fresh;
    for (auto &o : objects)
        if (o)
            fresh.insert_or_assign(keyOf(*o), std::move(o));

    std::vector<Change> changes;
    std::unique_lock lock(m_mutex);
    // Both maps are in key order: one merge pass finds every difference.
    auto oldIt = m_items.begin();
    auto newIt = fresh.begin();
    while (oldIt != m_items.end() || newIt != fresh.end()) {
        if (newIt == fresh.end() || (oldIt != m_items.end() && oldIt->first < newIt->first)) {
            changes.push_back({oldIt->second, nullptr});
            fileLocked(oldIt->first, oldIt->second, nullptr);
            ++oldIt;
        } else if (oldIt == m_items.end() || newIt->first < oldIt->first) {
            changes.push_back({nullptr, newIt->second});
            fileLocked(newIt->first, nullptr, newIt->second);
            ++newIt;
        } else {
            const ObjectPtr &before = oldIt->second;
            const ObjectPtr &after = newIt->second;
            if (stringAt(*before, "metadata", "uid") != stringAt(*after, "metadata", "uid")) {
                changes.push_back({before, nullptr});
                changes.push_back({nullptr, after});
            } else if (resourceVersionOf(*before) != resourceVersionOf(*after)) {
                changes.push_back({before, after});
            }
            // The store hands out the same snapshot while an object is unchanged; a changed
            // resourceVersion is the only other way its index values can differ.
            if (before != after && (resourceVersionOf(*before).empty()
                                    || resourceVersionOf(*before) != resourceVersionOf(*after)))
                fileLocked(newIt->first, before, after);
            ++oldIt;
            ++newIt;
        }
    }
    m_items = std::move(fresh);
    m_revision = revision;
    return changes;
}

void Indexer::setResourceVersion(store::Revision revision)
{
    std::unique_lock lock(m_mutex);
    m_revision = revision;
}

store::Revision Indexer::resourceVersion() const
{
    std::shared_lock lock(m_mutex);
    return m_revision;
}

ObjectPtr Indexer::get(std::string_view key) const
{
    std::shared_lock lock(m_mutex);
    auto it = m_items.find(key);
    return it == m_items.end() ? nullptr : it->second;
}

ObjectPtr Indexer::get(std::string_view ns, std::string_view name) const { return get(keyOf(ns, name)); }

std::vector<ObjectPtr> Indexer::list() const
{
    std::shared_lock lock(m_mutex);
    std::vector<ObjectPtr> out;
    out.reserve(m_items.size());
    for (const auto &[key, object] : m_items)
        out.push_back(object);
    return out;
}

std::vector<ObjectPtr> Indexer::list(const model::LabelSelector &selector, std::string_view ns) const
{
    auto matches = [&](const json &o) {
        if (selector.isEmpty())
            return true;
        const json *m = member(o, "metadata");
        const json *labels = m ? member(*m, "labels") : nullptr;
        return selector.matches(labels ? model::labelsFromJson(*labels) : model::Labels());
    };
    std::vector<ObjectPtr> out;
    if (selector.selectsNothing())
        return out;
    std::shared_lock lock(m_mutex);
    if (ns.empty()) {
        for (const auto &[key, object] : m_items)
            if (matches(*object))
                out.push_back(object);
        return out;
    }
    const Index *index = findIndexLocked(NamespaceIndex);
    auto bucket = index->buckets.find(ns);
    if (bucket == index->buckets.end())
        return out;
    for (const auto &key : bucket->second)
        if (auto it = m_items.find(key); it != m_items.end() && matches(*it->second))
            out.push_back(it->second);
    return out;
}

const Indexer::Index *Indexer::findIndexLocked(std::string_view name) const
{
    auto it = m_indexes.find(name);
    if (it == m_indexes.end()) {
        PS_LOG(Error, "indexer") << "no index named \"" << name << "\"";
        return nullptr;
    }
    return &it->second;
}

std::vector<ObjectPtr> Indexer::byIndex(std::string_view index, std::string_view value) const
{
    std::shared_lock lock(m_mutex);
    std::vector<ObjectPtr> out;
    const Index *i = findIndexLocked(index);
    if (!i)
        return out;
    auto bucket = i->buckets.find(value);
    if (bucket == i->buckets.end())
        return out;
    out.reserve(bucket->second.size());
    for (const auto &key : bucket->second)
        if (auto it = m_items.find(key); it != m_items.end())
            out.push_back(it->second);
    return out;
}

std::vector<std::string> Indexer::keysByIndex(std::string_view index, std::string_view value) const
{
    std::shared_lock lock(m_mutex);
    const Index *i = findIndexLocked(index);
    if (!i)
        return {};
    auto bucket = i->buckets.find(value);
    if (bucket == i->buckets.end())
        return {};
    return {bucket->second.begin(), bucket->second.end()};
}

std::vector<std::string> Indexer::indexValues(std::string_view index) const
{
    std::shared_lock lock(m_mutex);
    std::vector<std::string> out;
    if (const Index *i = findIndexLocked(index))
        for (const auto &[value, keys] : i->buckets)
            out.push_back(value);
    return out;
}

std::vector<std::string> Indexer::keys() const
{
    std::shared_lock lock(m_mutex);
    std::vector<std::string> out;
    out.reserve(m_items.size());
    for (const auto &[key, object] : m_items)
        out.push_back(key);
    return out;
}

size_t Indexer::size() const
{
    std::shared_lock lock(m_mutex);
    return m_items.size();
}

} // namespace podscape::core::cache
