#pragma once
// What the scheduler knows about one node: the Node object (parsed once per change) and the
// pods that count against it, bound or assumed, with their summed requests. Kept up to date
// incrementally as pods come and go, so a filter reads totals instead of walking pods.
//
// A NodeInfo can exist before its Node does (a pod bound to a node the scheduler has not seen
// yet); it is not offered to filters until the Node arrives.

#include "podinfo.h"
#include "resources.h"
#include "taint.h"

#include "core/model/object.h"
#include "core/store/store.h"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace podscape::core::scheduler {

class NodeInfo
{
public:
    // The status of the node's Ready condition; Missing when the node reports no conditions
    // (a node registered by hand, not by a kubelet).
    enum class Readiness { Ready, NotReady, Unknown, Missing };

    explicit NodeInfo(std::string name);

    const std::string &name() const { return m_name; }
    const store::ObjectPtr &node() const { return m_node; }
    bool hasNode() const { return m_node != nullptr; }
    void setNode(store::ObjectPtr node);
    void clearNode();

    // Pods counting against the node. Adding a pod already present replaces it.
    void addPod(PodInfoPtr pod);
    bool removePod(const std::string &key);
    const PodInfo *pod(const std::string &key) const;
    const std::unordered_map<std::string, PodInfoPtr> &pods() const { return m_pods; }
    int podCount() const { return static_cast<int>(m_pods.size()); }

    const Resources &allocatable() const { return m_allocatable; }
    const Resources &requested() const { return m_requested; }
    int64_t nonZeroRequestedMilliCpu() const { return m_nonZeroMilliCpu; }
    int64_t nonZeroRequestedMemory() const { return m_nonZeroMemory; }
    const model::Labels &labels() const { return m_labels; }
    const std::vector<Taint> &taints() const { return m_taints; }
    bool isUnschedulable() const { return m_unschedulable; }
    Readiness readiness() const { return m_readiness; }
    // Region and zone labels joined, "" when the node has neither (for zone spreading).
    const std::string &zoneKey() const { return m_zoneKey; }
    // Pods here, not being deleted, whose controller has this uid.
    int ownerCount(const std::string &controllerUid) const;
    // Bumped on every change.
    uint64_t generation() const { return m_generation; }

private:
    void account(const PodInfo &pod, int sign);

    std::string m_name;
    store::ObjectPtr m_node;
    std::unordered_map<std::string, PodInfoPtr> m_pods;
    Resources m_allocatable;
    Resources m_requested;
    int64_t m_nonZeroMilliCpu = 0;
    int64_t m_nonZeroMemory = 0;
    model::Labels m_labels;
    std::vector<Taint> m_taints;
    bool m_unschedulable = false;
    Readiness m_readiness = Readiness::Missing;
    std::string m_zoneKey;
    std::unordered_map<std::string, int> m_ownerCounts;
    uint64_t m_generation = 0;
};

} // namespace podscape::core::scheduler
