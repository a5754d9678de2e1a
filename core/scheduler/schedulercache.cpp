#include "schedulercache.h"

namespace podscape::core::scheduler {

NodeInfo &SchedulerCache::nodeInfoFor(const std::string &name)
{
    auto &slot = m_nodes[name];
    if (!slot)
        slot = std::make_unique<NodeInfo>(name);
    return *slot;
}

store::ObjectPtr SchedulerCache::setNode(store::ObjectPtr node)
{
    const std::string name = node ? model::Object(*node).name() : std::string();
    NodeInfo &info = nodeInfoFor(name);
    store::ObjectPtr previous = info.node();
    if (!previous)
        m_nodeListDirty = true;
    info.setNode(std::move(node));
    return previous;
}

store::ObjectPtr SchedulerCache::removeNode(const std::string &name)
{
    auto it = m_nodes.find(name);
    if (it == m_nodes.end() || !it->second->hasNode())
        return nullptr;
    store::ObjectPtr previous = it->second->node();
    if (it->second->podCount() == 0)
        m_nodes.erase(it);
    else
        it->second->clearNode();
    m_nodeListDirty = true;
    return previous;
}

const NodeInfo *SchedulerCache::nodeInfo(const std::string &name) const
{
    auto it = m_nodes.find(name);
    return it == m_nodes.end() ? nullptr : it->second.get();
}

const std::vector<const NodeInfo *> &SchedulerCache::nodes()
{
    if (m_nodeListDirty) {
        m_nodeList.clear();
        for (const auto &[name, info] : m_nodes)
            if (info->hasNode())
                m_nodeList.push_back(info.get());
        m_nodeListDirty = false;
    }
    return m_nodeList;
}

size_t SchedulerCache::nodeCount() const
{
    size_t n = 0;
    for (const auto &[name, info] : m_nodes)
        n += info->hasNode();
    return n;
}

void SchedulerCache::dropFromNode(const std::string &node, const std::string &key)
{
    auto it = m_nodes.find(node);
    if (it == m_nodes.end())
        return;
    it->second->removePod(key);
    if (!it->second->hasNode() && it->second->podCount() == 0)
        m_nodes.erase(it);
}

void SchedulerCache::addPod(PodInfoPtr pod)
{
    if (!pod || pod->nodeName.empty())
        return;
    auto it = m_pods.find(pod->key);
    if (it != m_pods.end() && it->second.node != pod->nodeName)
        dropFromNode(it->second.node, pod->key);
    nodeInfoFor(pod->nodeName).addPod(pod);
    m_pods[pod->key] = PodState{pod, pod->nodeName, false};
}

bool SchedulerCache::removePod(const std::string &key)
{
    auto it = m_pods.find(key);
    if (it == m_pods.end())
        return false;
    dropFromNode(it->second.node, key);
    m_pods.erase(it);
    return true;
}

void SchedulerCache::assumePod(const PodInfoPtr &pod, const std::string &node)
{
    auto assumed = std::make_shared<PodInfo>(*pod);
    assumed->nodeName = node;
    removePod(pod->key);
    nodeInfoFor(node).addPod(assumed);
    m_pods[pod->key] = PodState{std::move(assumed), node, true};
}

void SchedulerCache::forgetPod(const std::string &key)
{
    auto it = m_pods.find(key);
    if (it != m_pods.end() && it->second.assumed)
        removePod(key);
}

bool SchedulerCache::isAssumed(const std::string &key) const
{
    auto it = m_pods.find(key);
    return it != m_pods.end() && it->second.assumed;
}

const PodInfo *SchedulerCache::pod(const std::string &key) const
{
    auto it = m_pods.find(key);
    return it == m_pods.end() ? nullptr : it->second.pod.get();
}

std::string SchedulerCache::nodeOf(const std::string &key) const
{
    auto it = m_pods.find(key);
    return it == m_pods.end() ? std::string() : it->second.node;
}

size_t SchedulerCache::assumedCount() const
{
    size_t n = 0;
    for (const auto &[key, state] : m_pods)
        n += state.assumed;
    return n;
}

std::vector<std::string> SchedulerCache::podKeys() const
{
    std::vector<std::string> keys;
    keys.reserve(m_pods.size());
    for (const auto &[key, state] : m_pods)
        keys.push_back(key);
    return keys;
}

} // namespace podscape::core::scheduler
