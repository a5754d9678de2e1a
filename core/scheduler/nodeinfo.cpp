#include "nodeinfo.h"

#include "jsonfield.h"

#include <nlohmann/json.hpp>

#include <atomic>

namespace podscape::core::scheduler {

using nlohmann::json;

namespace {
uint64_t nextGeneration()
{
    static std::atomic<uint64_t> generation{0};
    return ++generation;
}
} // namespace

NodeInfo::NodeInfo(std::string name) : m_name(std::move(name)), m_generation(nextGeneration()) {}

void NodeInfo::setNode(store::ObjectPtr node)
{
    m_node = std::move(node);
    const model::Node n(m_node ? *m_node : json::object());
    m_labels = n.labels();
    // Allocatable is what kubelets publish for scheduling; a node registered without it
    // (by hand, in a test) is taken at its capacity rather than as having room for nothing.
    const json *alloc = n.at("/status/allocatable");
    if (!alloc || !alloc->is_object())
        alloc = n.at("/status/capacity");
    m_allocatable = alloc ? Resources::fromResourceList(*alloc) : Resources{};
    const json *taints = n.at("/spec/taints");
    m_taints = taints ? Taint::listFromJson(*taints) : std::vector<Taint>{};
    m_unschedulable = n.isUnschedulable();
    m_readiness = Readiness::Missing;
    if (const json *cs = n.at("/status/conditions"); cs && cs->is_array())
        for (const auto &c : *cs)
            if (stringField(c, "type") == "Ready") {
                const std::string status = stringField(c, "status");
                m_readiness = status == "True" ? Readiness::Ready
                                               : (status == "False" ? Readiness::NotReady : Readiness::Unknown);
            }
    auto label = [&](const char *k) {
        auto it = m_labels.find(k);
        return it == m_labels.end() ? std::string() : it->second;
    };
    std::string region = label("topology.kubernetes.io/region");
    if (region.empty())
        region = label("failure-domain.beta.kubernetes.io/region");
    std::string zone = label("topology.kubernetes.io/zone");
    if (zone.empty())
        zone = label("failure-domain.beta.kubernetes.io/zone");
    m_zoneKey = region.empty() && zone.empty() ? std::string() : region + "/" + zone;
    m_generation = nextGeneration();
}

void NodeInfo::clearNode()
{
    m_node.reset();
    m_generation = nextGeneration();
}

void NodeInfo::account(const PodInfo &pod, int sign)
{
    if (sign > 0)
        m_requested.add(pod.requests.requests);
    else
        m_requested.subtract(pod.requests.requests);
    m_nonZeroMilliCpu += sign * pod.requests.nonZeroMilliCpu;
    m_nonZeroMemory += sign * pod.requests.nonZeroMemory;
    // A replica on its way out no longer counts for spreading (as SelectorSpread skips it).
    if (!pod.controllerUid.empty() && !pod.deleting) {
        int &n = m_ownerCounts[pod.controllerUid];
        n += sign;
        if (n <= 0)
            m_ownerCounts.erase(pod.controllerUid);
    }
}

void NodeInfo::addPod(PodInfoPtr pod)
{
    if (!pod)
        return;
    auto [it, inserted] = m_pods.try_emplace(pod->key, nullptr);
    if (!inserted)
        account(*it->second, -1);
    account(*pod, +1);
    it->second = std::move(pod);
    m_generation = nextGeneration();
}

bool NodeInfo::removePod(const std::string &key)
{
    auto it = m_pods.find(key);
    if (it == m_pods.end())
        return false;
    account(*it->second, -1);
    m_pods.erase(it);
    m_generation = nextGeneration();
    return true;
}

const PodInfo *NodeInfo::pod(const std::string &key) const
{
    auto it = m_pods.find(key);
    return it == m_pods.end() ? nullptr : it->second.get();
}

int NodeInfo::ownerCount(const std::string &controllerUid) const
{
    auto it = m_ownerCounts.find(controllerUid);
    return it == m_ownerCounts.end() ? 0 : it->second;
}

} // namespace podscape::core::scheduler
