#pragma once
// Namespaces' life cycle (Kubernetes' namespace controller and the API server's system
// namespaces): `default`, `kube-system`, `kube-public` and `kube-node-lease` exist (created
// at start, and again if they go); a namespace being deleted is emptied of every namespaced
// object of every resource the engine serves, and only then goes away. While it waits, its
// status shows phase Terminating and the conditions Kubernetes reports
// (NamespaceContentRemaining, NamespaceFinalizersRemaining, NamespaceDeletionContentFailure,
// NamespaceDeletionDiscoveryFailure, NamespaceDeletionGroupVersionParsingFailure).
//
// How the namespace stays: Kubernetes keeps it with `spec.finalizers: [kubernetes]`, which
// only its namespace REST storage understands; the store here only honours
// metadata.finalizers. So the engine mirrors that spec finalizer into metadata.finalizers:
// initializeNamespace() (called on the create path) sets both, this controller adds the
// mirror to any namespace that lacks it (one written to the store directly), and removes
// both when the content is gone, which lets the store delete the namespace. A namespace
// deleted before it got the mirror still has its content removed, after the fact.

#include "core/controllers/controller.h"
#include "core/controllers/sharedinformers.h"
#include "core/model/schemaregistry.h"

#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

namespace podscape::core::controllers {

class NamespaceController final : public Controller
{
public:
    struct Options {
        std::vector<std::string> initialNamespaces = {"default", "kube-system", "kube-public", "kube-node-lease"};
        // Before looking again at content that waits for a finalizer (Kubernetes' estimate).
        Clock::Duration finalizerEstimate = std::chrono::seconds(15);
    };

    // The finalizer token in spec.finalizers, mirrored in metadata.finalizers.
    static constexpr const char *Finalizer = "kubernetes";

    NamespaceController(SharedInformers &informers, Options options,
                        const model::SchemaRegistry &registry = model::SchemaRegistry::builtin());
    explicit NamespaceController(SharedInformers &informers) : NamespaceController(informers, Options{}) {}

    // `key` is the namespace's name.
    Result<void> sync(const std::string &key) override;

    // What the API server gives a new namespace: spec.finalizers [kubernetes] (and its mirror
    // in metadata.finalizers), status.phase Active and the kubernetes.io/metadata.name label.
    static void initializeNamespace(nlohmann::json &ns);
    // The store resources whose objects a namespace's deletion removes.
    const std::vector<std::string> &contentResources() const { return m_content; }

private:
    using ObjectPtr = std::shared_ptr<const nlohmann::json>;
    struct Remaining {
        std::map<std::string, size_t> byResource;  // "pods." -> count, as Kubernetes names them
        std::map<std::string, size_t> byFinalizer; // finalizer -> objects carrying it
        std::vector<std::string> errors;
        int64_t estimateSeconds = 0;
        size_t total = 0;
    };

    Result<void> ensureActive(const nlohmann::json &ns);
    Result<void> finalizeDeletion(const nlohmann::json &ns);
    Remaining deleteAllContent(const std::string &ns);
    Result<void> updateConditions(const nlohmann::json &ns, const Remaining &remaining);
    void onContentDeleted(const ObjectPtr &object);

    Options m_options;
    const model::SchemaRegistry &m_registry;
    store::Store &m_store;
    cache::Informer &m_namespaces;
    std::vector<std::string> m_content;
    std::map<std::string, std::string> m_resourceLabels; // store name -> "pods.", "deployments.apps"
    std::mutex m_mutex;
    std::set<std::string> m_unfinalized; // deleted without their content removed
};

} // namespace podscape::core::controllers
