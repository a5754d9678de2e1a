#pragma once
// The arithmetic of Kubernetes' deployment controller (pkg/controller/deployment/util), kept
// free of I/O so it can be tested on its own: pod-template hashes, maxSurge/maxUnavailable
// fenceposts, the revision and replica annotations kubectl reads, conditions, and
// proportional scaling. Deployments and ReplicaSets are the JSON documents the store holds;
// missing fields read as the API server's apps/v1 defaults.

#include "core/base/clock.h"
#include "core/base/result.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podscape::core::controllers::deploymentutil {

using ObjectPtr = std::shared_ptr<const nlohmann::json>;
using ReplicaSets = std::vector<ObjectPtr>;

inline constexpr std::string_view RevisionAnnotation = "deployment.kubernetes.io/revision";
inline constexpr std::string_view RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history";
inline constexpr std::string_view DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
inline constexpr std::string_view MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";
inline constexpr std::string_view ChangeCauseAnnotation = "kubernetes.io/change-cause";
inline constexpr std::string_view LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration";
// extensions/v1beta1's spec.rollbackTo, carried as an annotation in apps/v1.
inline constexpr std::string_view RollbackToAnnotation = "deprecated.deployment.rollback.to";
inline constexpr std::string_view PodTemplateHashLabel = "pod-template-hash";
// The revision-history annotation is cut from the front beyond this many characters.
inline constexpr size_t MaxRevisionHistoryChars = 2000;

// Condition reasons, as kubectl and dashboards match them.
inline constexpr std::string_view NewReplicaSetReason = "NewReplicaSetCreated";
inline constexpr std::string_view FoundNewReplicaSetReason = "FoundNewReplicaSet";
inline constexpr std::string_view ReplicaSetUpdatedReason = "ReplicaSetUpdated";
inline constexpr std::string_view NewReplicaSetAvailableReason = "NewReplicaSetAvailable";
inline constexpr std::string_view TimedOutReason = "ProgressDeadlineExceeded";
inline constexpr std::string_view FailedCreateReason = "ReplicaSetCreateError";
inline constexpr std::string_view PausedReason = "DeploymentPaused";
inline constexpr std::string_view ResumedReason = "DeploymentResumed";
inline constexpr std::string_view MinimumReplicasAvailable = "MinimumReplicasAvailable";
inline constexpr std::string_view MinimumReplicasUnavailable = "MinimumReplicasUnavailable";
// Event reasons of the annotation-driven rollback.
inline constexpr std::string_view RollbackDoneReason = "DeploymentRollback";
inline constexpr std::string_view RollbackRevisionNotFoundReason = "DeploymentRollbackRevisionNotFound";
inline constexpr std::string_view RollbackTemplateUnchangedReason = "DeploymentRollbackTemplateUnchanged";

// ---- fields --------------------------------------------------------------------------------

// The value at a JSON Pointer, or null; never throws, whatever shape the document has.
const nlohmann::json *find(const nlohmann::json &o, std::string_view pointer);
std::string str(const nlohmann::json &o, std::string_view pointer);
int64_t num(const nlohmann::json &o, std::string_view pointer, int64_t fallback = 0);
std::string annotation(const nlohmann::json &o, std::string_view key);
void setAnnotation(nlohmann::json &o, std::string_view key, std::string_view value);
// spec.replicas, 1 when absent (the API server's default).
int64_t specReplicas(const nlohmann::json &o);
// "namespace/name".
std::string keyOf(const nlohmann::json &o);

// ---- pod templates ---------------------------------------------------------------------------

// The template as its typed Go form would compare it: the pod-template-hash label dropped,
// and nulls, "" and empty objects and arrays removed (a template copied back by `kubectl
// rollout undo` carries "creationTimestamp": null and "resources": {}).
nlohmann::json canonicalTemplate(const nlohmann::json &podTemplate);
bool equalIgnoreHash(const nlohmann::json &template1, const nlohmann::json &template2);
// FNV-1a of the canonical template (plus the collision count, when set), printed in decimal
// and mapped onto Kubernetes' alphabet: "7d9f8c6b5".
std::string computeHash(const nlohmann::json &podTemplate, std::optional<int64_t> collisionCount);
// rand.SafeEncodeString: each byte mapped onto "bcdfghjklmnpqrstvwxz2456789".
std::string safeEncodeString(std::string_view s);

// ---- strategy ------------------------------------------------------------------------------

bool isRollingUpdate(const nlohmann::json &deployment);
// An IntOrString: a number, or "25%" of `total` rounded up or down.
Result<int64_t> scaledValue(const nlohmann::json &intOrPercent, int64_t total, bool roundUp);

struct Fenceposts {
    int64_t maxSurge = 0;
    int64_t maxUnavailable = 0;
    bool operator==(const Fenceposts &) const = default;
};
// Surge rounds up, unavailability down; when both come out 0, maxUnavailable is 1 so that a
// rollout can still move (surge may be impossible under a quota). Null values are 0.
Result<Fenceposts> resolveFenceposts(const nlohmann::json &maxSurge, const nlohmann::json &maxUnavailable, int64_t desired);
// The deployment's resolved values (25% each when unset; 0 for Recreate). Values validation
// would refuse read as 0.
int64_t maxSurge(const nlohmann::json &deployment);
int64_t maxUnavailable(const nlohmann::json &deployment);

// ---- replica sets ----------------------------------------------------------------------------

int64_t replicaCount(const ReplicaSets &rss);          // sum of spec.replicas
int64_t actualReplicaCount(const ReplicaSets &rss);    // sum of status.replicas
int64_t readyReplicaCount(const ReplicaSets &rss);     // sum of status.readyReplicas
int64_t availableReplicaCount(const ReplicaSets &rss); // sum of status.availableReplicas
// Those with spec.replicas > 0 (null entries dropped).
ReplicaSets filterActive(const ReplicaSets &rss);

// Orders of controller.ReplicaSetsByCreationTimestamp / BySizeOlder / BySizeNewer and
// deploymentutil.ReplicaSetsByRevision.
bool createdBefore(const nlohmann::json &a, const nlohmann::json &b);
void sortByCreation(ReplicaSets &rss);
void sortBySizeOlder(ReplicaSets &rss);
void sortBySizeNewer(ReplicaSets &rss);
void sortByRevision(ReplicaSets &rss);

// The oldest ReplicaSet whose template equals the deployment's, or null.
ObjectPtr findNewReplicaSet(const nlohmann::json &deployment, const ReplicaSets &rsList);
// Every other ReplicaSet of the list.
ReplicaSets findOldReplicaSets(const nlohmann::json &deployment, const ReplicaSets &rsList);
// The only active one, or the newest when none is active; null when several are active.
ObjectPtr findActiveOrLatest(const ObjectPtr &newRS, ReplicaSets oldRSs);

// ---- annotations -----------------------------------------------------------------------------

// deployment.kubernetes.io/revision; 0 when absent, nullopt when not a number.
std::optional<int64_t> revision(const nlohmann::json &o);
int64_t maxRevision(const ReplicaSets &rss);
// The second highest revision: what `rollback to 0` means.
int64_t lastRevision(const ReplicaSets &rss);
// Copies the deployment's annotations (but the controller's own and last-applied) onto the
// ReplicaSet, raises its revision to `newRevision` (remembering the one it had in the
// revision history: a rollback), and for a ReplicaSet about to be created sets the replica
// annotations. Returns whether anything changed.
bool setNewReplicaSetAnnotations(const nlohmann::json &deployment, nlohmann::json &rs, int64_t newRevision, bool exists);
bool setReplicasAnnotations(nlohmann::json &rs, int64_t desired, int64_t maxReplicas);
bool replicasAnnotationsNeedUpdate(const nlohmann::json &rs, int64_t desired, int64_t maxReplicas);
bool setDeploymentRevision(nlohmann::json &deployment, const std::string &revision);
// Rollback: the deployment takes the ReplicaSet's annotations, keeping its own for the keys
// the controller manages.
void setDeploymentAnnotationsTo(nlohmann::json &deployment, const nlohmann::json &rs);

// ---- scaling ---------------------------------------------------------------------------------

// How many replicas the new ReplicaSet may have now: up to maxSurge above the desired count
// for RollingUpdate, all of them for Recreate.
int64_t newRSNewReplicas(const nlohmann::json &deployment, const ReplicaSets &allRSs, const nlohmann::json &newRS);
// The new ReplicaSet runs every desired replica, available, and knows it.
bool isSaturated(const nlohmann::json &deployment, const ObjectPtr &rs);
// Replicas to add to (negative: remove from) `rs` when the deployment is scaled mid-rollout,
// in proportion to its size before the scale (the max-replicas annotation).
int64_t proportion(const nlohmann::json &rs, const nlohmann::json &deployment, int64_t toAdd, int64_t added);

// ---- status and conditions ----------------------------------------------------------------------

const nlohmann::json *getCondition(const nlohmann::json &status, std::string_view type);
nlohmann::json newCondition(std::string_view type, std::string_view status, std::string_view reason,
                            const std::string &message, Clock::TimePoint now);
// Replaces the condition of the same type unless status and reason are unchanged; keeps
// lastTransitionTime when only the reason changes.
void setCondition(nlohmann::json &status, nlohmann::json condition);
void removeCondition(nlohmann::json &status, std::string_view type);

bool hasProgressDeadline(const nlohmann::json &deployment);
bool hasRevisionHistoryLimit(const nlohmann::json &deployment);
// Every desired replica is updated and available, no old one is left, and the status is
// about the current generation.
bool deploymentComplete(const nlohmann::json &deployment, const nlohmann::json &newStatus);
// More updated, ready or available replicas than the deployment's status shows, or fewer old.
bool deploymentProgressing(const nlohmann::json &deployment, const nlohmann::json &newStatus);
// The Progressing condition was last updated more than progressDeadlineSeconds ago.
bool deploymentTimedOut(const nlohmann::json &deployment, const nlohmann::json &newStatus, Clock::TimePoint now);

} // namespace podscape::core::controllers::deploymentutil
