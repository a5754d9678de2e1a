#include "eventrecorder.h"

#include "core/base/logger.h"
#include "core/base/timeformat.h"

#include <cstdio>

namespace podscape::core::events {

using nlohmann::json;

namespace {
constexpr size_t kMaxSeries = 4096;
constexpr auto kSeriesWindow = std::chrono::minutes(10);

std::string str(const json &o, const char *key)
{
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}
} // namespace

EventRecorder::EventRecorder(store::Store &store, Clock &clock, std::string component, std::string host)
    : m_store(store), m_clock(clock), m_component(std::move(component)), m_host(std::move(host))
{}

void EventRecorder::setObserver(std::function<void(const json &)> observer)
{
    std::lock_guard g(m_mutex);
    m_observer = std::move(observer);
}

void EventRecorder::record(const json &object, std::string_view type, std::string_view reason, const std::string &message)
{
    const json meta = object.value("metadata", json::object());
    json involved = {{"kind", str(object, "kind")},
                     {"name", str(meta, "name")},
                     {"uid", str(meta, "uid")},
                     {"apiVersion", str(object, "apiVersion")},
                     {"resourceVersion", str(meta, "resourceVersion")}};
    std::string objectNs = str(meta, "namespace");
    if (!objectNs.empty())
        involved["namespace"] = objectNs;
    // Events about cluster-scoped objects (nodes) live in "default", as Kubernetes puts them.
    const std::string ns = objectNs.empty() ? "default" : objectNs;
    const std::string seriesKey = str(meta, "uid") + "\x1f" + std::string(type) + "\x1f" + std::string(reason) + "\x1f" + message;
    const auto now = m_clock.now();
    const std::string nowText = formatRfc3339(now);

    std::unique_lock lock(m_mutex);
    auto observer = m_observer;
    if (auto it = m_index.find(seriesKey); it != m_index.end() && now - it->second->second.last < kSeriesWindow) {
        Series series = it->second->second;
        it->second->second.last = now;
        m_recent.splice(m_recent.begin(), m_recent, it->second);
        lock.unlock();
        auto updated = m_store.modify("events", series.ns, series.name, [&](json &e) -> Result<bool> {
            e["count"] = e.value("count", 1) + 1;
            e["lastTimestamp"] = nowText;
            return true;
        });
        if (updated) {
            if (observer)
                observer(**updated);
            return;
        }
        // The event was deleted meanwhile (a namespace went away): write a new one.
        lock.lock();
    }
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ".%016llx", static_cast<unsigned long long>(now.time_since_epoch().count() + (++m_sequence)));
    const std::string name = str(meta, "name") + suffix;
    json event = {{"apiVersion", "v1"},
                  {"kind", "Event"},
                  {"metadata", {{"name", name}, {"namespace", ns}}},
                  {"involvedObject", involved},
                  {"reason", reason},
                  {"message", message},
                  {"source", m_host.empty() ? json{{"component", m_component}} : json{{"component", m_component}, {"host", m_host}}},
                  {"firstTimestamp", nowText},
                  {"lastTimestamp", nowText},
                  {"count", 1},
                  {"type", type},
                  {"eventTime", nullptr},
                  {"reportingComponent", m_component},
                  {"reportingInstance", m_host}};
    m_recent.emplace_front(seriesKey, Series{ns, name, now});
    m_index[seriesKey] = m_recent.begin();
    while (m_recent.size() > kMaxSeries) {
        m_index.erase(m_recent.back().first);
        m_recent.pop_back();
    }
    lock.unlock();
    auto created = m_store.create("events", std::move(event));
    if (!created) {
        PS_LOG(Debug, m_component) << "could not record event " << reason << ": " << created.error().message();
        return;
    }
    if (observer)
        observer(**created);
}

} // namespace podscape::core::events
