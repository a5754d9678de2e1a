#include "controller.h"

#include "core/base/logger.h"

namespace podscape::core::controllers {

Controller::Controller(std::string name, Clock &clock) : m_name(std::move(name)), m_clock(clock), m_queue(clock) {}

Controller::~Controller() { stop(); }

void Controller::start(int workers)
{
    for (int i = 0; i < workers; ++i)
        m_workers.emplace_back([this] { worker(); });
}

void Controller::stop()
{
    m_queue.shutDown();
    for (auto &t : m_workers)
        if (t.joinable())
            t.join();
    m_workers.clear();
}

void Controller::worker()
{
    for (auto *informer : m_caches)
        while (!informer->waitForSync(std::chrono::seconds(1)))
            if (m_queue.isShuttingDown())
                return;
    while (processOne()) {
    }
}

bool Controller::processOne()
{
    auto key = m_queue.get();
    if (!key)
        return false;
    auto result = sync(*key);
    ++m_syncs;
    if (result.ok()) {
        m_queue.forget(*key);
    } else {
        // Conflicts are routine (someone wrote first): retry quietly with back-off.
        if (result.error().reason() != Reason::Conflict)
            PS_LOG(Warning, m_name) << "sync " << *key << " failed: " << result.error().message();
        m_queue.addRateLimited(*key);
    }
    m_queue.done(*key);
    return true;
}

void Controller::processAll()
{
    while (m_queue.len() > 0)
        processOne();
}

} // namespace podscape::core::controllers
