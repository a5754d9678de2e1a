#pragma once
// Rolls Deployments (apps/v1) out through ReplicaSets, as Kubernetes' pkg/controller/deployment
// does, so that kubectl's rollout commands work against the embedded cluster:
//
//   - each pod template gets its own ReplicaSet `<deployment>-<pod-template-hash>`, owned
//     through a controller ownerReference (orphans that match are adopted, strays released);
//   - RollingUpdate moves replicas from old ReplicaSets to the new one within maxSurge and
//     maxUnavailable; Recreate scales the old ones to 0 and waits for their pods to be gone;
//   - a scale in mid-rollout is spread over the ReplicaSets in proportion to their sizes;
//   - paused deployments still scale but do not roll; old ReplicaSets at 0 beyond
//     revisionHistoryLimit are deleted, oldest revision first;
//   - revision annotations (what `kubectl rollout history` and `undo` read), the Progressing
//     and Available conditions, and progressDeadlineSeconds measured on the injected Clock.
//
// Writes carry a precondition on what the decision was read from (the Deployment's
// resourceVersion, a ReplicaSet's spec.replicas), so a sync on a stale cache fails with
// Conflict and is retried instead of scaling twice.

#include "core/controllers/controller.h"
#include "core/controllers/deployment/deploymentutil.h"
#include "core/controllers/sharedinformers.h"
#include "core/events/eventrecorder.h"
#include "core/model/labelselector.h"
#include "core/model/object.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace podscape::core::controllers {

class DeploymentController final : public Controller
{
public:
    explicit DeploymentController(SharedInformers &informers);

    Result<void> sync(const std::string &key) override;

private:
    using ObjectPtr = std::shared_ptr<const nlohmann::json>;
    using ReplicaSets = deploymentutil::ReplicaSets;
    // The deployment's pods by the uid of the ReplicaSet that controls them.
    using PodMap = std::map<std::string, std::vector<ObjectPtr>>;

    struct Split {
        ObjectPtr newRS; // null until created
        ReplicaSets oldRSs;
    };
    struct Scaled {
        bool scaled = false; // the size changed
        ObjectPtr rs;        // the ReplicaSet as it now is
    };

    // Handlers: only enqueue.
    void onReplicaSetAdded(const ObjectPtr &rs);
    void onReplicaSetUpdated(const ObjectPtr &oldRS, const ObjectPtr &newRS);
    void onReplicaSetDeleted(const ObjectPtr &rs);
    void onPodDeleted(const ObjectPtr &pod);
    // The key of the cached Deployment an ownerReference points to, if it is one.
    std::optional<std::string> resolveOwner(const std::string &ns, const std::optional<model::OwnerReference> &ref) const;
    std::vector<std::string> deploymentsMatching(const nlohmann::json &rs) const;

    Result<void> syncDeployment(const std::string &key);
    // The steps of a sync, in Kubernetes' names. `d` is the sync's copy of the Deployment;
    // every write of it replaces it with what the store returned.
    Result<ReplicaSets> claimReplicaSets(const nlohmann::json &d, const model::LabelSelector &selector);
    PodMap podMap(const model::LabelSelector &selector, const ReplicaSets &rsList) const;
    Result<void> checkPausedConditions(nlohmann::json &d);
    Result<void> syncStatusOnly(nlohmann::json &d, const ReplicaSets &rsList);
    Result<void> syncScaling(nlohmann::json &d, const ReplicaSets &rsList);
    Result<bool> isScalingEvent(nlohmann::json &d, const ReplicaSets &rsList);
    Result<void> rollback(nlohmann::json &d, const ReplicaSets &rsList, int64_t toRevision);
    Result<void> rolloutRolling(nlohmann::json &d, const ReplicaSets &rsList);
    Result<void> rolloutRecreate(nlohmann::json &d, const ReplicaSets &rsList, const PodMap &pods);

    Result<Split> getAllReplicaSetsAndSyncRevision(nlohmann::json &d, const ReplicaSets &rsList, bool createIfNotExisted);
    Result<ObjectPtr> getNewReplicaSet(nlohmann::json &d, const ReplicaSets &rsList, const ReplicaSets &oldRSs,
                                       bool createIfNotExisted);
    Result<ObjectPtr> createNewReplicaSet(nlohmann::json &d, const ReplicaSets &oldRSs, int64_t newRevision);

    Result<void> scale(const nlohmann::json &d, const ObjectPtr &newRS, const ReplicaSets &oldRSs);
    // Sets spec.replicas and the replica annotations; an event when the size changed.
    Result<Scaled> scaleReplicaSet(const nlohmann::json &d, const ObjectPtr &rs, int64_t newScale);
    // As scaleReplicaSet, but nothing at all when the size is already right.
    Result<Scaled> scaleReplicaSetAndRecordEvent(const nlohmann::json &d, const ObjectPtr &rs, int64_t newScale);
    Result<bool> reconcileNewReplicaSet(const nlohmann::json &d, const ReplicaSets &allRSs, const ObjectPtr &newRS);
    Result<bool> reconcileOldReplicaSets(const nlohmann::json &d, ReplicaSets oldRSs, const ObjectPtr &newRS);
    Result<int64_t> cleanupUnhealthyReplicas(const nlohmann::json &d, ReplicaSets &oldRSs, int64_t maxCleanupCount);
    Result<int64_t> scaleDownOldReplicaSetsForRollingUpdate(const nlohmann::json &d, const ReplicaSets &allRSs,
                                                           ReplicaSets oldRSs);
    Result<void> cleanupDeployment(const nlohmann::json &d, const ReplicaSets &oldRSs);

    nlohmann::json calculateStatus(const nlohmann::json &d, const ReplicaSets &allRSs, const ObjectPtr &newRS) const;
    Result<void> syncDeploymentStatus(nlohmann::json &d, const ReplicaSets &allRSs, const ObjectPtr &newRS);
    Result<void> syncRolloutStatus(nlohmann::json &d, const ReplicaSets &allRSs, const ObjectPtr &newRS);
    void requeueStuckDeployment(const nlohmann::json &d, const nlohmann::json &newStatus);
    void requeueForMinReadySeconds(const nlohmann::json &d, const ReplicaSets &allRSs);
    // Writes `d` as a whole if the store still holds the version it was read at.
    Result<void> writeDeployment(nlohmann::json &d);

    SharedInformers &m_informers;
    cache::Informer &m_deployments;
    cache::Informer &m_replicaSets;
    cache::Informer &m_pods;
    events::EventRecorder m_recorder;
};

} // namespace podscape::core::controllers
