#pragma once
// Keeps the ServiceIPAllocator honest about what the store holds (Kubernetes' ipallocator
// and portallocator repair controllers). Whoever deletes a Service through the API releases
// its values; this catches the rest:
//
//   - a Service deleted behind the allocator's back (a namespace's content being removed,
//     the garbage collector, a direct store write): its values are released when the
//     informer reports the delete and no Service of that name holds them now;
//   - every `interval` (and once at start) a sweep over the stored Services re-marks
//     values in use that the allocator lost, reports duplicates and values out of range
//     as Warning events on the Service, and frees values no Service has used for
//     `leakSweeps` sweeps (an allocation whose write failed, for instance).

#include "core/controllers/controller.h"
#include "core/controllers/serviceip/serviceipallocator.h"
#include "core/controllers/sharedinformers.h"
#include "core/events/eventrecorder.h"

#include <map>
#include <mutex>

namespace podscape::core::controllers {

class ServiceIPRepair final : public Controller
{
public:
    struct Options {
        Clock::Duration interval = std::chrono::minutes(3);
        int leakSweeps = 3;
    };

    // The key of the periodic sweep (never a "namespace/name").
    static constexpr const char *SweepKey = "#sweep";

    ServiceIPRepair(SharedInformers &informers, ServiceIPAllocator &allocator, Options options);
    ServiceIPRepair(SharedInformers &informers, ServiceIPAllocator &allocator)
        : ServiceIPRepair(informers, allocator, Options{})
    {}

    // SweepKey: a sweep; "namespace/name": a Service the informer saw deleted.
    Result<void> sync(const std::string &key) override;
    // Sweeps now, on the calling thread (tests, and the cluster before it serves).
    Result<void> sweep();

private:
    using ObjectPtr = std::shared_ptr<const nlohmann::json>;

    Options m_options;
    store::Store &m_store;
    ServiceIPAllocator &m_allocator;
    cache::Informer &m_services;
    events::EventRecorder m_recorder;
    std::mutex m_mutex;
    std::map<std::string, ObjectPtr> m_deleted; // seen deleted, not yet released; drained by sync
};

} // namespace podscape::core::controllers
