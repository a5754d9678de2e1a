#pragma once
// Keeps `spec.replicas` pods running for each ReplicaSet (apps/v1) or ReplicationController
// (core/v1): the self-healing the seed notes demonstrate by deleting a pod. Like
// Kubernetes' replica_set.go it adopts orphans that match the selector, releases pods that
// stop matching, creates in slow-start batches, and trusts its cache only once the creates
// and deletes it made have been observed (expectations).

#include "core/cache/expectations.h"
#include "core/controllers/controller.h"
#include "core/controllers/sharedinformers.h"
#include "core/events/eventrecorder.h"

#include <chrono>
#include <nlohmann/json.hpp>

namespace podscape::core::controllers {

class ReplicaSetController final : public Controller
{
public:
    enum class Kind { ReplicaSet, ReplicationController };

    struct Options {
        int burstReplicas = 500; // most pods created or deleted in one sync
    };

    ReplicaSetController(SharedInformers &informers, Kind kind, Options options);
    ReplicaSetController(SharedInformers &informers, Kind kind) : ReplicaSetController(informers, kind, Options{}) {}

    Result<void> sync(const std::string &key) override;

    const std::string &resource() const { return m_resource; }

private:
    using ObjectPtr = std::shared_ptr<const nlohmann::json>;

    Result<model::LabelSelector> selectorOf(const nlohmann::json &owner) const;
    std::vector<std::string> ownersMatching(const nlohmann::json &pod) const;
    // Adopts matching orphans and releases owned pods that no longer match; returns the
    // active pods the owner controls afterwards.
    Result<std::vector<ObjectPtr>> claimPods(const nlohmann::json &owner, const model::LabelSelector &selector);
    Result<void> manageReplicas(const std::string &key, const nlohmann::json &owner, std::vector<ObjectPtr> pods);
    nlohmann::json podFromTemplate(const nlohmann::json &owner) const;
    Result<void> updateStatus(const nlohmann::json &owner, const std::vector<ObjectPtr> &pods, const std::string &failure);

    void onPodAdded(const ObjectPtr &pod);
    void onPodUpdated(const ObjectPtr &oldPod, const ObjectPtr &newPod);
    void onPodDeleted(const ObjectPtr &pod);
    void enqueueOwnerOf(const nlohmann::json &pod);

    SharedInformers &m_informers;
    Kind m_kind;
    Options m_options;
    std::string m_resource;
    std::string m_apiVersion;
    std::string m_kindName;
    cache::Informer &m_owners;
    cache::Informer &m_pods;
    cache::Expectations m_expectations;
    events::EventRecorder m_recorder;
};

// Active pods as Kubernetes counts them: not finished, not being deleted.
bool isPodActive(const nlohmann::json &pod);
// Ready, and ready for at least minReadySeconds at `now`.
bool isPodAvailable(const nlohmann::json &pod, int minReadySeconds, Clock::TimePoint now);
bool isPodReady(const nlohmann::json &pod);

} // namespace podscape::core::controllers
