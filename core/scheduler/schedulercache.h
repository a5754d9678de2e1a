#pragma once
// The scheduler's picture of the cluster: a NodeInfo per node and where every pod that holds
// resources is (bound ones as observed, assumed ones as decided). Assuming a pod charges its
// requests to the node the moment the decision is made, before the binding is written and
// long before it is observed back, so the next cycle cannot hand out the same room again.
//
// Owned by the scheduling cycle: not thread-safe.

#include "nodeinfo.h"
#include "podinfo.h"

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace podscape::core::scheduler {

class SchedulerCache
{
public:
    // Adds or replaces a node; returns the object it replaced (null when new).
    store::ObjectPtr setNode(store::ObjectPtr node);
    // Returns the removed object, or null. Pods still bound there stay counted until they go.
    store::ObjectPtr removeNode(const std::string &name);
    const NodeInfo *nodeInfo(const std::string &name) const;
    // The nodes with a Node object, sorted by name.
    const std::vector<const NodeInfo *> &nodes();
    size_t nodeCount() const;

    // A pod observed bound to spec.nodeName: added, moved or refreshed; an assumed pod of
    // the same key is confirmed (or corrected, if it was bound elsewhere after all).
    void addPod(PodInfoPtr pod);
    // Removes a bound or assumed pod; false if it was not here.
    bool removePod(const std::string &key);
    // Charges a pending pod to `node` ahead of its binding.
    void assumePod(const PodInfoPtr &pod, const std::string &node);
    // Undoes assumePod (the binding failed).
    void forgetPod(const std::string &key);

    bool contains(const std::string &key) const { return m_pods.count(key) != 0; }
    bool isAssumed(const std::string &key) const;
    const PodInfo *pod(const std::string &key) const;
    // Where the pod counts, "" if nowhere.
    std::string nodeOf(const std::string &key) const;
    size_t podCount() const { return m_pods.size(); }
    size_t assumedCount() const;
    std::vector<std::string> podKeys() const;

private:
    struct PodState {
        PodInfoPtr pod;
        std::string node;
        bool assumed = false;
    };
    NodeInfo &nodeInfoFor(const std::string &name);
    void dropFromNode(const std::string &node, const std::string &key);

    std::map<std::string, std::unique_ptr<NodeInfo>> m_nodes; // stable addresses
    std::unordered_map<std::string, PodState> m_pods;
    std::vector<const NodeInfo *> m_nodeList;
    bool m_nodeListDirty = true;
};

} // namespace podscape::core::scheduler
