#include "eventttlcontroller.h"

#include "core/base/logger.h"
#include "core/base/timeformat.h"

#include <algorithm>

namespace podscape::core::controllers {

using nlohmann::json;

namespace {
std::string text(const json &o, const char *key)
{
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// When an Event was last seen: lastTimestamp, else eventTime, else its creation.
Clock::TimePoint lastSeen(const json &e)
{
    for (const std::string &t : {text(e, "lastTimestamp"), text(e, "eventTime"), text(e.value("metadata", json::object()), "creationTimestamp")})
        if (auto parsed = parseRfc3339(t))
            return *parsed;
    return Clock::TimePoint{};
}
} // namespace

EventTTLController::EventTTLController(SharedInformers &informers, Options options)
    : Controller("event-ttl-controller", informers.clock()), m_options(options), m_store(informers.store()),
      m_events(informers.forResource("events"))
{
    waitForCaches({&m_events});
    // New Events only matter once there are too many; the periodic pass handles expiry.
    m_events.addEventHandlers({[this](const cache::ObjectPtr &) {
                                   if (m_events.indexer().size() > m_options.maxEvents)
                                       queue().add(PassKey);
                               },
                               nullptr, nullptr});
    queue().add(PassKey);
}

Result<void> EventTTLController::sync(const std::string &key)
{
    if (key != PassKey)
        return {};
    const auto now = clock().now();
    struct Entry {
        Clock::TimePoint seen;
        cache::ObjectPtr event;
    };
    std::vector<Entry> all;
    for (const auto &e : m_events.indexer().list())
        all.push_back({lastSeen(*e), e});
    // Over the cap, down to 90% of it: room for the next burst without a pass per Event.
    const size_t keep = m_options.maxEvents - m_options.maxEvents / 10;
    size_t excess = all.size() > m_options.maxEvents ? all.size() - keep : 0;
    std::sort(all.begin(), all.end(), [](const Entry &a, const Entry &b) { return a.seen < b.seen; });
    Result<void> result;
    size_t removed = 0;
    for (size_t i = 0; i < all.size(); ++i) {
        if (i >= excess && now - all[i].seen < m_options.ttl)
            break; // sorted: everything after is newer
        const json &meta = (*all[i].event)["metadata"];
        store::DeleteOptions options;
        options.preconditionUid = text(meta, "uid");
        auto r = m_store.remove("events", text(meta, "namespace"), text(meta, "name"), options);
        if (r)
            ++removed;
        else if (r.error().reason() != Reason::NotFound && r.error().reason() != Reason::Conflict && result)
            result = Result<void>(r.takeError());
    }
    if (removed)
        PS_LOG(Debug, name()) << "removed " << removed << " event(s)";
    queue().addAfter(PassKey, m_options.period);
    return result;
}

} // namespace podscape::core::controllers
