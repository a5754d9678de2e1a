#pragma once
// Field ownership and server-side apply (`kubectl apply --server-side`, PATCH with
// application/apply-patch+yaml), after Kubernetes' structured-merge-diff:
//
//   - every object carries metadata.managedFields: per manager and operation (Apply or
//     Update), the set of fields it last set, in the FieldsV1 form kubectl shows
//     ({"f:spec":{"f:replicas":{}}}, list items by key: "k:{\"name\":\"app\"}", set items
//     "v:...", "." for an item itself);
//   - an apply takes the applied configuration's fields for its manager. A field another
//     manager owns with a different value is a conflict (409, each field a cause) unless
//     forced, which moves the field to the applier. Fields the manager applied before and
//     no longer applies are removed, unless another manager owns them. The configuration
//     merges into the live object: maps by key, keyed lists by their keys, sets as unions,
//     everything else replaced;
//   - any other write (create, update, patch) gives the fields whose value it changed to its
//     manager (operation Update) and takes them from the others.
//
// Fields the API server owns (apiVersion, kind, metadata name/namespace/uid/
// resourceVersion/generation/creationTimestamp/managedFields, status of kinds with a status
// subresource) are never tracked. In-process controllers write around the API and so are
// not recorded as managers.

#include "core/base/clock.h"
#include "core/base/result.h"
#include "core/model/schemaregistry.h"

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

namespace podscape::core::apiserver {

class FieldManager
{
public:
    using Path = std::vector<std::string>;
    using FieldSet = std::set<Path>;

    explicit FieldManager(const model::SchemaRegistry &registry) : m_registry(registry) {}

    // The object `config` applied by `manager` onto `live` (null: the object does not exist
    // yet), with its managedFields updated; Conflict listing the fields when another manager
    // owns some with other values and `force` is false. `type` is the registry's type name.
    Result<nlohmann::json> apply(const nlohmann::json *live, const nlohmann::json &config, const std::string &type,
                                 const std::string &manager, bool force, Clock::TimePoint now) const;

    // After a non-apply write of `object` (over `old`, null on create): the changed fields
    // become `manager`'s, recorded in object.metadata.managedFields.
    void recordUpdate(const nlohmann::json *old, nlohmann::json &object, const std::string &type,
                      const std::string &manager, Clock::TimePoint now) const;

    // The fields set in `object`, as apply counts them.
    FieldSet fieldsOf(const nlohmann::json &object, const std::string &type) const;
    static nlohmann::json toFieldsV1(const FieldSet &set);
    static FieldSet fromFieldsV1(const nlohmann::json &fields);
    // ".spec.containers[name=\"app\"].image": a path as a conflict message names it.
    static std::string describe(const Path &path);

private:
    void collect(const nlohmann::json &value, const model::FieldSchema *field, Path &prefix, FieldSet &out) const;
    void collectObject(const nlohmann::json &object, const model::TypeSchema *schema, Path &prefix, FieldSet &out) const;
    const model::TypeSchema *schemaOf(const model::TypeRef *type) const;
    nlohmann::json merge(const nlohmann::json &live, const nlohmann::json &config, const model::TypeSchema *schema) const;

    const model::SchemaRegistry &m_registry;
};

} // namespace podscape::core::apiserver
