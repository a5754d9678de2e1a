#pragma once
// The write path every client of the embedded cluster goes through — the in-process GUI
// helpers and scenarios now, the HTTP API server later — so that an object is treated the
// same whoever sends it: kind resolved, unknown fields handled (Strict / Warn / Ignore),
// defaults applied, validated, admitted (Service IPs, default tolerations...), then stored.

#include "core/base/result.h"
#include "core/model/schemaregistry.h"
#include "core/model/yamlcodec.h"
#include "core/store/store.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace podscape::core::cluster {

enum class FieldValidation { Ignore, Warn, Strict };

struct WriteOptions {
    bool dryRun = false;
    // An update through the status subresource: only the object's status is taken, spec and
    // metadata stay as stored (resourceVersion still a precondition).
    bool statusOnly = false;
    FieldValidation fieldValidation = FieldValidation::Strict;
};

struct WriteResult {
    store::ObjectPtr object;
    std::vector<std::string> warnings; // unknown fields under Warn, in the API server's wording
    bool created = false;              // applyManifest: created rather than updated
};

class ClusterApi
{
public:
    // Runs after defaulting and validation, before the write. `old` is null on create. An
    // admission may change the object (allocate an IP) or refuse it.
    using Admission = std::function<Result<void>(const model::ResourceInfo &resource, nlohmann::json &object,
                                                 const nlohmann::json *old, bool dryRun)>;
    // Runs after a delete succeeded (release a Service's IP...).
    using DeleteHook = std::function<void(const model::ResourceInfo &resource, const nlohmann::json &object)>;

    explicit ClusterApi(store::Store &store, const model::SchemaRegistry &registry = model::SchemaRegistry::builtin());

    void addAdmission(Admission admission);
    void addDeleteHook(DeleteHook hook);

    // The store's name for a resource: "pods", "deployments.apps".
    static std::string storeResource(const model::ResourceInfo &resource);
    // The resource of an object from its apiVersion and kind, or an error a person can act on.
    Result<const model::ResourceInfo *> resourceOf(const nlohmann::json &object) const;

    Result<WriteResult> create(nlohmann::json object, const WriteOptions &options = {});
    Result<WriteResult> update(nlohmann::json object, const WriteOptions &options = {});
    Result<store::ObjectPtr> remove(const model::ResourceInfo &resource, const std::string &ns, const std::string &name,
                                    const store::DeleteOptions &options = {});
    // Creates each document of a manifest, or replaces the live object's spec when it exists
    // (the in-process equivalent of `kubectl apply` for scenarios and tests). Errors name
    // the source, line and column.
    Result<std::vector<WriteResult>> applyManifests(std::string_view text, const std::string &sourceName = {},
                                                    const WriteOptions &options = {});

    store::Store &store() { return m_store; }
    const model::SchemaRegistry &registry() const { return m_registry; }

private:
    Result<WriteResult> prepare(nlohmann::json &object, const model::ResourceInfo &resource, const nlohmann::json *old,
                                const WriteOptions &options, const model::YamlDocument *source,
                                const std::string &sourceName);
    Result<WriteResult> createResolved(nlohmann::json object, const model::ResourceInfo &resource,
                                       const WriteOptions &options, const model::YamlDocument *source,
                                       const std::string &sourceName);
    Result<WriteResult> updateResolved(nlohmann::json object, const model::ResourceInfo &resource,
                                       const WriteOptions &options, const model::YamlDocument *source,
                                       const std::string &sourceName);

    store::Store &m_store;
    const model::SchemaRegistry &m_registry;
    std::vector<Admission> m_admissions;
    std::vector<DeleteHook> m_deleteHooks;
};

} // namespace podscape::core::cluster
