#pragma once
// One informer per resource, shared by every controller that watches it (as client-go's
// SharedInformerFactory): ten controllers reading pods cost one list and one watch.

#include "core/base/clock.h"
#include "core/cache/informer.h"
#include "core/store/store.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace podscape::core::controllers {

class SharedInformers
{
public:
    SharedInformers(store::Store &store, Clock &clock);
    ~SharedInformers();
    SharedInformers(const SharedInformers &) = delete;
    SharedInformers &operator=(const SharedInformers &) = delete;

    // The informer for a resource ("pods", "replicasets.apps"), created on first use.
    // Register handlers and indexes before start().
    cache::Informer &forResource(const std::string &resource);
    // Starts every informer created so far (and any created later, at once).
    void start();
    void stop();
    // Waits until every started informer has synced.
    bool waitForSync(Clock::Duration timeout);

    store::Store &store() { return m_store; }
    Clock &clock() { return m_clock; }

private:
    store::Store &m_store;
    Clock &m_clock;
    std::mutex m_mutex;
    std::map<std::string, std::unique_ptr<cache::Informer>> m_informers;
    bool m_started = false;
};

} // namespace podscape::core::controllers
