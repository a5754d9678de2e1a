#pragma once
// Defaulting as the Kubernetes API server does it on create and update: plain defaults come
// from the schema registry (`default=` in the data); the few that depend on other fields
// (imagePullPolicy from the image tag, a Service port's targetPort, a rolling update's 25%,
// a ReplicationController's selector from its template) are rules here, keyed by type.

#include "schemaregistry.h"

#include <nlohmann/json.hpp>

namespace podscape::core::model {

class Defaulter
{
public:
    explicit Defaulter(const SchemaRegistry &registry = SchemaRegistry::builtin());

    // Defaults an object in place; its kind is read from apiVersion/kind. Unknown kinds are
    // left alone.
    void apply(nlohmann::json &object) const;
    // Defaults a value of a named schema type in place.
    void applyType(std::string_view typeName, nlohmann::json &value) const;

private:
    void walk(const TypeRef &type, nlohmann::json &value) const;
    const SchemaRegistry &m_registry;
};

// "Always" for `:latest` or untagged images, else "IfNotPresent" (digests count as tags).
std::string defaultImagePullPolicy(std::string_view image);

} // namespace podscape::core::model
