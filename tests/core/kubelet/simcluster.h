#pragma once
// A store, a fake clock and kubelets with simulated runtimes, for kubelet tests. Time only
// moves when a test moves it, and then stops at every moment a kubelet asked to wake up, so
// each thing happens at the cluster time it would (never by sleeping).

#include "core/base/clock.h"
#include "core/kubelet/kubelet.h"
#include "core/kubelet/runtime/simruntime.h"
#include "core/store/store.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace podscape::tests {

using namespace std::chrono_literals;

class SimCluster
{
public:
    using TimePoint = core::Clock::TimePoint;

    SimCluster() : m_store(std::make_unique<core::store::Store>(m_clock)) {}
    ~SimCluster()
    {
        m_kubelets.clear(); // before the store they write to
    }

    core::FakeClock &clock() { return m_clock; }
    core::store::Store &store() { return *m_store; }

    core::kubelet::Kubelet &addNode(core::kubelet::KubeletOptions options,
                                    core::kubelet::runtime::SimTiming timing = core::kubelet::runtime::SimTiming::realistic())
    {
        core::kubelet::runtime::SimRuntimeOptions ro;
        ro.timing = timing;
        ro.seed = options.nodeName;
        auto runtime = std::make_unique<core::kubelet::runtime::SimRuntime>(m_clock, ro);
        m_kubelets.push_back(std::make_unique<core::kubelet::Kubelet>(*m_store, std::move(runtime), m_clock, options));
        return *m_kubelets.back();
    }

    // Every running kubelet has handled everything due now.
    bool settle()
    {
        for (auto &k : m_kubelets)
            if (!k->waitIdle(20s))
                return false;
        return true;
    }

    // Moves the clock to `target`, stopping at every wake-up on the way. False if a kubelet
    // did not settle.
    bool advanceTo(TimePoint target)
    {
        m_stuck = false;
        (void)until([] { return false; }, target);
        return !m_stuck;
    }
    bool advance(core::Clock::Duration d) { return advanceTo(m_clock.now() + d); }

    // Moves the clock (as advanceTo) until `done` holds or `limit` is reached; true if it held.
    bool until(const std::function<bool()> &done, TimePoint limit)
    {
        while (true) {
            if (!settle()) {
                m_stuck = true;
                return false;
            }
            if (done())
                return true;
            TimePoint next = TimePoint::max();
            for (auto &k : m_kubelets)
                if (k->isRunning())
                    next = std::min(next, k->nextWakeup());
            if (next > limit)
                break;
            m_clock.set(std::max(next, m_clock.now()));
        }
        if (m_clock.now() < limit)
            m_clock.set(limit);
        if (!settle()) {
            m_stuck = true;
            return false;
        }
        return done();
    }
    bool within(core::Clock::Duration d, const std::function<bool()> &done) { return until(done, m_clock.now() + d); }

    nlohmann::json pod(const std::string &name, const std::string &ns = "default")
    {
        auto p = m_store->get("pods", ns, name);
        return p ? **p : nlohmann::json();
    }
    bool exists(const std::string &name, const std::string &ns = "default") { return m_store->get("pods", ns, name).ok(); }
    std::string phase(const std::string &name) { return pod(name).value("status", nlohmann::json::object()).value("phase", ""); }

    // The first container's status.
    nlohmann::json container(const std::string &name, size_t index = 0)
    {
        auto s = pod(name).value("status", nlohmann::json::object()).value("containerStatuses", nlohmann::json::array());
        return index < s.size() ? s[index] : nlohmann::json();
    }
    std::string waitingReason(const std::string &name)
    {
        auto c = container(name);
        return c.is_object() && c["state"].contains("waiting") ? c["state"]["waiting"].value("reason", "") : "";
    }
    std::string condition(const std::string &name, const std::string &type)
    {
        for (const auto &c : pod(name).value("status", nlohmann::json::object()).value("conditions", nlohmann::json::array()))
            if (c.value("type", "") == type)
                return c.value("status", "");
        return "";
    }

    // Events about an object, oldest first, as "Reason: message".
    std::vector<std::string> events(const std::string &object, const std::string &ns = "default")
    {
        std::vector<std::pair<std::string, std::string>> found;
        core::store::ListOptions o;
        o.ns = ns;
        const auto list = m_store->list("events", o);
        for (const auto &e : list->items)
            if ((*e)["involvedObject"].value("name", "") == object)
                found.emplace_back((*e)["metadata"]["name"].get<std::string>(),
                                   (*e)["reason"].get<std::string>() + ": " + (*e)["message"].get<std::string>());
        std::sort(found.begin(), found.end());
        std::vector<std::string> out;
        for (auto &f : found)
            out.push_back(f.second);
        return out;
    }
    std::vector<std::string> eventReasons(const std::string &object, const std::string &ns = "default")
    {
        std::vector<std::string> out;
        for (const auto &e : events(object, ns))
            out.push_back(e.substr(0, e.find(':')));
        return out;
    }
    int eventCount(const std::string &object, const std::string &reason, const std::string &ns = "default")
    {
        int n = 0;
        core::store::ListOptions o;
        o.ns = ns;
        const auto list = m_store->list("events", o);
        for (const auto &e : list->items)
            if ((*e)["involvedObject"].value("name", "") == object && (*e)["reason"] == reason)
                n += (*e).value("count", 1);
        return n;
    }

    // A pod bound to `node`, with one container.
    static nlohmann::json makePod(const std::string &name, const std::string &node, const std::string &image,
                                  nlohmann::json extraSpec = nlohmann::json::object(),
                                  nlohmann::json annotations = nlohmann::json::object(),
                                  nlohmann::json containerExtra = nlohmann::json::object())
    {
        nlohmann::json container = {{"name", "main"}, {"image", image}};
        if (containerExtra.is_object())
            container.update(containerExtra);
        if (!annotations.is_object())
            annotations = nlohmann::json::object();
        nlohmann::json p = {{"apiVersion", "v1"},
                            {"kind", "Pod"},
                            {"metadata", {{"name", name}, {"namespace", "default"}, {"annotations", annotations}}},
                            {"spec", {{"nodeName", node}, {"containers", nlohmann::json::array({container})}}}};
        if (extraSpec.is_object())
            p["spec"].update(extraSpec);
        return p;
    }

private:
    core::FakeClock m_clock;
    std::unique_ptr<core::store::Store> m_store;
    std::vector<std::unique_ptr<core::kubelet::Kubelet>> m_kubelets;
    bool m_stuck = false;
};

inline std::string seconds(core::Clock::TimePoint t) { return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count()); }

} // namespace podscape::tests
