#pragma once
// The shape every controller shares (Kubernetes' level-triggered loop): event handlers only
// enqueue a key; workers pop a key, read the current state from the informers' caches,
// compute the desired state, write it with a resourceVersion precondition, and requeue the
// key with back-off when the sync fails. sync() is idempotent and callable from tests.

#include "core/base/clock.h"
#include "core/base/result.h"
#include "core/cache/informer.h"
#include "core/cache/workqueue.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace podscape::core::controllers {

class Controller
{
public:
    Controller(std::string name, Clock &clock);
    virtual ~Controller();
    Controller(const Controller &) = delete;
    Controller &operator=(const Controller &) = delete;

    const std::string &name() const { return m_name; }
    // Starts `workers` threads popping keys; stop() drains and joins them.
    void start(int workers = 1);
    void stop();

    // Brings the object behind `key` ("namespace/name") to its desired state.
    virtual Result<void> sync(const std::string &key) = 0;

    cache::WorkQueue &queue() { return m_queue; }
    Clock &clock() { return m_clock; }
    // Syncs processed so far (for tests and the teaching narration).
    uint64_t syncCount() const { return m_syncs.load(); }

protected:
    // Workers start only once these informers have synced: a sync on a half-filled cache
    // would, for example, create pods that already exist.
    void waitForCaches(std::vector<cache::Informer *> informers) { m_caches = std::move(informers); }
    // Runs queued syncs on the calling thread until the queue is empty (tests).
    void processAll();

private:
    void worker();
    bool processOne();

    std::string m_name;
    Clock &m_clock;
    cache::WorkQueue m_queue;
    std::vector<std::thread> m_workers;
    std::vector<cache::Informer *> m_caches;
    std::atomic<uint64_t> m_syncs{0};
};

} // namespace podscape::core::controllers
