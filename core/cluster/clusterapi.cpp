#include "clusterapi.h"

#include "core/model/defaulter.h"
#include "core/model/validator.h"

#include <algorithm>

namespace podscape::core::cluster {

using nlohmann::json;

namespace {

std::string metaString(const json &o, const char *key)
{
    auto m = o.find("metadata");
    if (m == o.end() || !m->is_object())
        return {};
    auto it = m->find(key);
    return it != m->end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Removes the fields at these JSON pointers, deepest first so indices stay valid.
void eraseAll(json &object, std::vector<std::string> pointers)
{
    std::sort(pointers.begin(), pointers.end(), std::greater<>());
    for (const auto &p : pointers) {
        auto slash = p.rfind('/');
        json::json_pointer parent(p.substr(0, slash));
        std::string last = p.substr(slash + 1);
        for (size_t i = 0; (i = last.find('~', i)) != std::string::npos; ++i)
            last.replace(i, 2, last.compare(i, 2, "~1") == 0 ? "/" : "~");
        if (object.contains(parent) && object[parent].is_object())
            object[parent].erase(last);
    }
}

std::string withSource(const std::string &message, const std::vector<model::ValidationIssue> &issues,
                       const model::YamlDocument *source, const std::string &sourceName)
{
    if (!source)
        return message;
    return message + "\n" + model::describeIssues(issues, source, sourceName);
}

} // namespace

ClusterApi::ClusterApi(store::Store &store, const model::SchemaRegistry &registry) : m_store(store), m_registry(registry) {}

void ClusterApi::addAdmission(Admission admission) { m_admissions.push_back(std::move(admission)); }
void ClusterApi::addDeleteHook(DeleteHook hook) { m_deleteHooks.push_back(std::move(hook)); }

std::string ClusterApi::storeResource(const model::ResourceInfo &resource)
{
    return resource.group.empty() ? resource.plural : resource.plural + "." + resource.group;
}

Result<const model::ResourceInfo *> ClusterApi::resourceOf(const json &object) const
{
    if (!object.is_object())
        return fail(Reason::BadRequest, "the object must be a mapping with apiVersion, kind and metadata");
    std::string apiVersion = object.value("apiVersion", std::string());
    std::string kind = object.value("kind", std::string());
    if (apiVersion.empty() || kind.empty())
        return fail(Reason::BadRequest, std::string("the object has no ") + (apiVersion.empty() ? "apiVersion" : "kind")
                                            + "; every manifest needs apiVersion and kind (e.g. apiVersion: v1, kind: Pod)");
    if (const auto *r = m_registry.resourceFor(apiVersion, kind))
        return r;
    std::string hint;
    for (const auto &r : m_registry.resources())
        if (r.kind == kind)
            hint = "; " + kind + " is served as apiVersion \"" + r.apiVersion() + "\"";
    return fail(Reason::BadRequest, "no kind \"" + kind + "\" is registered for version \"" + apiVersion + "\"" + hint);
}

Result<WriteResult> ClusterApi::prepare(json &object, const model::ResourceInfo &resource, const json *old,
                                        const WriteOptions &options, const model::YamlDocument *source,
                                        const std::string &sourceName)
{
    WriteResult result;
    model::Validator validator(m_registry);
    // Unknown fields first: under Strict they are the whole answer, as kubectl shows it.
    std::vector<model::ValidationIssue> unknown;
    for (auto &issue : validator.validate(object))
        if (issue.isUnknownField())
            unknown.push_back(issue);
    if (!unknown.empty()) {
        if (options.fieldValidation == FieldValidation::Strict) {
            Error e = model::unknownFieldsError(unknown);
            e.setMessage(withSource(e.message(), unknown, source, sourceName));
            return fail(std::move(e));
        }
        std::vector<std::string> pointers;
        for (const auto &u : unknown) {
            pointers.push_back(u.pointer);
            if (options.fieldValidation == FieldValidation::Warn)
                result.warnings.push_back("unknown field \"" + u.field + "\"");
        }
        eraseAll(object, pointers);
    }
    // Status belongs to the status subresource: ignored on create and on updates of the object.
    if (options.statusOnly && old) {
        json status = object.contains("status") ? std::move(object["status"]) : json();
        const json resourceVersion = object["metadata"].value("resourceVersion", json());
        object = *old;
        if (status.is_null())
            object.erase("status");
        else
            object["status"] = std::move(status);
        object["metadata"]["resourceVersion"] = resourceVersion;
    } else if (resource.hasSubresource("status")) {
        // A new object starts with an empty status, as Kubernetes serializes it (clients
        // such as python3-kubernetes read `.status` of a just-created Deployment).
        if (old && old->contains("status"))
            object["status"] = (*old)["status"];
        else if (old)
            object.erase("status");
        else
            object["status"] = json::object();
    }
    model::Defaulter(m_registry).apply(object);
    auto issues = old ? validator.validateUpdate(object, *old) : validator.validate(object);
    if (!issues.empty()) {
        Error e = model::invalidError(object, issues);
        e.setMessage(withSource(e.message(), issues, source, sourceName));
        return fail(std::move(e));
    }
    for (const auto &admit : m_admissions)
        if (auto r = admit(resource, object, old, options.dryRun); !r)
            return r.takeError();
    return result;
}

Result<WriteResult> ClusterApi::createResolved(json object, const model::ResourceInfo &resource,
                                               const WriteOptions &options, const model::YamlDocument *source,
                                               const std::string &sourceName)
{
    json &meta = object["metadata"];
    if (!meta.is_object())
        meta = json::object();
    std::string ns = meta.value("namespace", std::string());
    if (resource.namespaced) {
        if (ns.empty())
            meta["namespace"] = ns = "default";
        auto nsObject = m_store.get("namespaces", "", ns);
        if (!nsObject)
            return fail(Error::notFound("namespaces", ns));
        if (!metaString(**nsObject, "deletionTimestamp").empty())
            return fail(Reason::Forbidden, resource.plural + " \"" + meta.value("name", std::string()) +
                                               "\" is forbidden: unable to create new content in namespace " + ns +
                                               " because it is being terminated");
    }
    auto prepared = prepare(object, resource, nullptr, options, source, sourceName);
    if (!prepared)
        return prepared;
    WriteResult result = std::move(*prepared);
    result.created = true;
    if (options.dryRun) {
        result.object = std::make_shared<const json>(std::move(object));
        return result;
    }
    auto stored = m_store.create(storeResource(resource), std::move(object));
    if (!stored)
        return stored.takeError();
    result.object = *stored;
    return result;
}

Result<WriteResult> ClusterApi::updateResolved(json object, const model::ResourceInfo &resource,
                                               const WriteOptions &options, const model::YamlDocument *source,
                                               const std::string &sourceName)
{
    std::string ns = resource.namespaced ? metaString(object, "namespace") : std::string();
    if (resource.namespaced && ns.empty())
        object["metadata"]["namespace"] = ns = "default";
    auto old = m_store.get(storeResource(resource), ns, metaString(object, "name"));
    if (!old)
        return old.takeError();
    auto prepared = prepare(object, resource, old->get(), options, source, sourceName);
    if (!prepared)
        return prepared;
    WriteResult result = std::move(*prepared);
    if (options.dryRun) {
        result.object = std::make_shared<const json>(std::move(object));
        return result;
    }
    auto stored = m_store.update(storeResource(resource), std::move(object));
    if (!stored)
        return stored.takeError();
    result.object = *stored;
    return result;
}

Result<WriteResult> ClusterApi::create(json object, const WriteOptions &options)
{
    auto resource = resourceOf(object);
    if (!resource)
        return resource.takeError();
    return createResolved(std::move(object), **resource, options, nullptr, {});
}

Result<WriteResult> ClusterApi::update(json object, const WriteOptions &options)
{
    auto resource = resourceOf(object);
    if (!resource)
        return resource.takeError();
    return updateResolved(std::move(object), **resource, options, nullptr, {});
}

Result<store::ObjectPtr> ClusterApi::remove(const model::ResourceInfo &resource, const std::string &ns,
                                            const std::string &name, const store::DeleteOptions &options)
{
    auto removed = m_store.remove(storeResource(resource), resource.namespaced ? ns : std::string(), name, options);
    if (removed && metaString(**removed, "deletionTimestamp").empty())
        for (const auto &hook : m_deleteHooks)
            hook(resource, **removed);
    return removed;
}

Result<std::vector<WriteResult>> ClusterApi::applyManifests(std::string_view text, const std::string &sourceName,
                                                             const WriteOptions &options)
{
    auto docs = model::decodeManifests(text, model::YamlDecodeOptions::forSource(sourceName));
    if (!docs)
        return docs.takeError();
    std::vector<WriteResult> results;
    auto applyOne = [&](json object, const model::YamlDocument *source) -> Result<void> {
        auto resource = resourceOf(object);
        if (!resource) {
            Error e = resource.takeError();
            if (source && !sourceName.empty())
                e.setMessage(sourceName + ":" + std::to_string(source->start.line) + ": " + e.message());
            return e;
        }
        std::string ns = (*resource)->namespaced ? metaString(object, "namespace") : std::string();
        if ((*resource)->namespaced && ns.empty())
            ns = "default";
        auto existing = m_store.get(storeResource(**resource), ns, metaString(object, "name"));
        auto r = existing ? updateResolved(std::move(object), **resource, options, source, sourceName)
                          : createResolved(std::move(object), **resource, options, source, sourceName);
        if (!r)
            return r.takeError();
        results.push_back(std::move(*r));
        return {};
    };
    for (const auto &doc : *docs) {
        // A List holds several manifests, as `kubectl get -o yaml` writes them.
        if (doc.value.is_object() && doc.value.value("kind", std::string()) == "List" && doc.value.contains("items")) {
            for (const auto &item : doc.value["items"])
                if (auto r = applyOne(item, nullptr); !r)
                    return r.takeError();
            continue;
        }
        if (auto r = applyOne(doc.value, &doc); !r)
            return r.takeError();
    }
    return results;
}

} // namespace podscape::core::cluster
