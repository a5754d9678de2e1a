#include "sharedinformers.h"

#include "core/cache/listwatch.h"

namespace podscape::core::controllers {

SharedInformers::SharedInformers(store::Store &store, Clock &clock) : m_store(store), m_clock(clock) {}

SharedInformers::~SharedInformers() { stop(); }

cache::Informer &SharedInformers::forResource(const std::string &resource)
{
    std::lock_guard g(m_mutex);
    auto it = m_informers.find(resource);
    if (it != m_informers.end())
        return *it->second;
    cache::InformerOptions options;
    options.name = resource;
    auto informer = std::make_unique<cache::Informer>(std::make_unique<cache::StoreListWatch>(m_store, resource), m_clock,
                                                      options);
    auto &ref = *informer;
    m_informers.emplace(resource, std::move(informer));
    if (m_started)
        ref.start();
    return ref;
}

void SharedInformers::start()
{
    std::lock_guard g(m_mutex);
    m_started = true;
    for (auto &[name, informer] : m_informers)
        if (!informer->isRunning())
            informer->start();
}

void SharedInformers::stop()
{
    std::lock_guard g(m_mutex);
    m_started = false;
    for (auto &[name, informer] : m_informers)
        informer->stop();
}

bool SharedInformers::waitForSync(Clock::Duration timeout)
{
    std::vector<cache::Informer *> informers;
    {
        std::lock_guard g(m_mutex);
        for (auto &[name, informer] : m_informers)
            informers.push_back(informer.get());
    }
    for (auto *i : informers)
        if (!i->waitForSync(timeout))
            return false;
    return true;
}

} // namespace podscape::core::controllers
