#pragma once
// Keeps Events bounded, as the API server's --event-ttl does (Events expire an hour after they
// were last seen) plus a cap on how many exist at once: an embedded cluster keeps everything
// in memory, and a Deployment of thousands of replicas writes five Events per pod. Over the
// cap, the Events seen longest ago go first.

#include "core/controllers/controller.h"
#include "core/controllers/sharedinformers.h"

#include <chrono>

namespace podscape::core::controllers {

class EventTTLController final : public Controller
{
public:
    struct Options {
        Clock::Duration ttl = std::chrono::hours(1);
        size_t maxEvents = 10'000;
        Clock::Duration period = std::chrono::seconds(10); // between passes
    };
    static constexpr const char *PassKey = "#prune";

    EventTTLController(SharedInformers &informers, Options options);
    explicit EventTTLController(SharedInformers &informers) : EventTTLController(informers, Options{}) {}

    // One pass over every Event (the key is always PassKey); schedules the next one.
    Result<void> sync(const std::string &key) override;

private:
    Options m_options;
    store::Store &m_store;
    cache::Informer &m_events;
};

} // namespace podscape::core::controllers
