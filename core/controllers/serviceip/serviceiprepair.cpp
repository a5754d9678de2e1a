#include "serviceiprepair.h"

namespace podscape::core::controllers {

using nlohmann::json;

namespace {

std::string metaString(const json &o, const char *key)
{
    auto m = o.find("metadata");
    if (m == o.end() || !m->is_object())
        return {};
    auto it = m->find(key);
    return it != m->end() && it->is_string() ? it->get<std::string>() : std::string();
}

} // namespace

ServiceIPRepair::ServiceIPRepair(SharedInformers &informers, ServiceIPAllocator &allocator, Options options)
    : Controller("service-ip-repair", informers.clock())
    , m_options(options)
    , m_store(informers.store())
    , m_allocator(allocator)
    , m_services(informers.forResource("services"))
    , m_recorder(informers.store(), informers.clock(), "ipallocator-repair-controller")
{
    waitForCaches({&m_services});
    m_services.addEventHandlers({
        nullptr,
        nullptr,
        [this](const ObjectPtr &s) {
            const std::string key = metaString(*s, "namespace") + "/" + metaString(*s, "name");
            {
                std::lock_guard g(m_mutex);
                m_deleted[key] = s;
            }
            queue().add(key);
        },
    });
    queue().add(SweepKey);
}

Result<void> ServiceIPRepair::sync(const std::string &key)
{
    if (key == SweepKey) {
        auto swept = sweep();
        queue().addAfter(SweepKey, m_options.interval);
        return swept;
    }
    ObjectPtr deleted;
    {
        std::lock_guard g(m_mutex);
        auto it = m_deleted.find(key);
        if (it == m_deleted.end())
            return {};
        deleted = it->second;
        m_deleted.erase(it);
    }
    // A Service of the same name may exist again by now: keep what it uses.
    auto live = m_store.get("services", metaString(*deleted, "namespace"), metaString(*deleted, "name"));
    if (live)
        m_allocator.release(*deleted, **live);
    else if (live.error().reason() == Reason::NotFound)
        m_allocator.release(*deleted);
    else
        return live.takeError();
    return {};
}

Result<void> ServiceIPRepair::sweep()
{
    // The store, not the cache: a sweep must not free what a cache that is behind misses.
    auto services = m_store.list("services");
    if (!services)
        return services.takeError();
    auto result = m_allocator.repair(services->items, m_options.leakSweeps);
    for (const auto &problem : result.problems)
        m_recorder.record(*services->items[problem.service], "Warning", problem.reason, problem.message);
    return {};
}

} // namespace podscape::core::controllers
