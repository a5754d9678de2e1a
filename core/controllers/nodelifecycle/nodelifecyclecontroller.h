#pragma once
// Watches nodes' health (Kubernetes' node_lifecycle_controller.go):
//
//   - a node whose Ready condition's lastHeartbeatTime has not changed for `gracePeriod`
//     (timed on this controller's clock from when it saw the heartbeat change, so clock skew
//     and restarts never make a node look dead) gets Ready=Unknown ("NodeStatusUnknown",
//     "Kubelet stopped posting node status."), as do MemoryPressure, DiskPressure and
//     PIDPressure; an event NodeNotReady is recorded and its pods' Ready condition is set to
//     False (MarkPodsNotReady);
//   - conditions become NoSchedule taints (Ready Unknown -> unreachable, False -> not-ready,
//     pressures, spec.unschedulable), so the scheduler keeps new pods away;
//   - a node not ready gets the matching NoExecute taint (unreachable or not-ready), which
//     TaintEvictionController turns into evictions once pods' tolerations run out. NoExecute
//     tainting is rate limited per zone and paused in disrupted zones as Kubernetes does:
//     when every node of every zone is down, the controller assumes its own connectivity
//     failed (master disruption mode), removes the NoExecute taints and evicts nothing;
//   - a node heartbeating again loses these taints and its Ready condition is the kubelet's.
//
// One key drives the periodic health pass (MonitorKey, every `monitorPeriod` and on every
// node change); node names drive the per-node NoSchedule taint pass.

#include "core/controllers/controller.h"
#include "core/controllers/sharedinformers.h"
#include "core/events/eventrecorder.h"

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

namespace podscape::core::controllers {

class NodeLifecycleController final : public Controller
{
public:
    struct Options {
        Clock::Duration monitorPeriod = std::chrono::seconds(5);         // --node-monitor-period
        Clock::Duration gracePeriod = std::chrono::seconds(40);          // --node-monitor-grace-period
        Clock::Duration startupGracePeriod = std::chrono::seconds(60);   // a node that never reported
        double evictionRate = 0.1;            // nodes NoExecute-tainted per second and zone
        double secondaryEvictionRate = 0.01;  // the same in a partially disrupted large zone
        size_t largeClusterThreshold = 50;    // zones up to this size stop tainting when partially disrupted
        double unhealthyZoneThreshold = 0.55; // share of not-ready nodes that makes a partial disruption
    };

    static constexpr const char *MonitorKey = "#monitor";

    NodeLifecycleController(SharedInformers &informers, Options options);
    explicit NodeLifecycleController(SharedInformers &informers) : NodeLifecycleController(informers, Options{}) {}

    // Short times for demonstrations: a node is noticed gone after 10 s.
    static Options teachingPreset();

    // MonitorKey: the health pass over every node; a node name: its NoSchedule taints.
    Result<void> sync(const std::string &key) override;

private:
    using ObjectPtr = std::shared_ptr<const nlohmann::json>;
    enum class ZoneState { Initial, Normal, PartialDisruption, FullDisruption };
    struct Health {
        nlohmann::json ready; // the Ready condition last seen (null: none)
        Clock::TimePoint probe;
        Clock::TimePoint readyTransition;
    };
    struct Limiter { // token bucket, burst 1
        double rate = 0;
        double tokens = 1;
        Clock::TimePoint last;
    };
    struct Observation {
        ObjectPtr node;
        std::string observed; // Ready status before this pass ("" when unknown)
        std::string current;  // after it
    };

    Result<void> monitor();
    // Marks the node Unknown when its heartbeat is overdue; returns the Ready status before
    // and after (an empty `current` when the node still has no Ready condition).
    Result<Observation> updateHealth(const ObjectPtr &node);
    Result<void> markPodsNotReady(const std::string &nodeName);
    Result<void> noScheduleTaintPass(const std::string &nodeName);
    // Adds `add` (stamped timeAdded now) and removes taints with the keys/effects of
    // `remove`; no write when nothing changes.
    Result<void> swapTaints(const std::string &nodeName, const std::vector<nlohmann::json> &add,
                            const std::vector<nlohmann::json> &remove, bool *changed = nullptr);
    bool tryTaint(const std::string &zone, Clock::TimePoint now, Clock::Duration &wait);
    void refundTaint(const std::string &zone); // a token spent on a write that changed nothing
    void setZoneRate(const std::string &zone, size_t zoneSize, ZoneState state);

    Options m_options;
    store::Store &m_store;
    cache::Informer &m_nodes;
    cache::Informer &m_pods;
    events::EventRecorder m_recorder;

    // Touched only by the monitor pass (one key: never two workers at once) but guarded all
    // the same, for the destructor and future callers.
    std::mutex m_mutex;
    std::map<std::string, Health> m_health;
    std::map<std::string, std::string> m_known; // node name -> uid, for Registered/Removing events
    std::map<std::string, ZoneState> m_zoneStates;
    std::map<std::string, Limiter> m_limiters;
    std::set<std::string> m_toTaint;     // not ready, waiting for their zone's limiter
    std::set<std::string> m_retryNotReady; // MarkPodsNotReady failed; try again
};

// The zone a node counts in for disruption: "region:zone" from the topology labels.
std::string nodeZone(const nlohmann::json &node);

} // namespace podscape::core::controllers
