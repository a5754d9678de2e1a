#include "listwatch.h"

namespace podscape::core::cache {

namespace {

class StoreWatchStream final : public WatchStream
{
public:
    explicit StoreWatchStream(std::shared_ptr<store::Watcher> watcher) : m_watcher(std::move(watcher)) {}
    ~StoreWatchStream() override
    {
        // Ends the store's side too: it forgets stopped watchers instead of feeding them.
        m_watcher->setNotify({});
        m_watcher->stop();
    }

    void setNotify(std::function<void()> notify) override { m_watcher->setNotify(std::move(notify)); }
    std::vector<store::Event> drain() override { return m_watcher->drain(); }
    bool isStopped() const override { return m_watcher->isStopped(); }
    void stop() override { m_watcher->stop(); }

private:
    std::shared_ptr<store::Watcher> m_watcher;
};

} // namespace

StoreListWatch::StoreListWatch(store::Store &store, std::string resource, Scope scope)
    : m_store(store), m_resource(std::move(resource)), m_scope(std::move(scope))
{}

Result<store::ListResult> StoreListWatch::list(const store::ListOptions &options)
{
    store::ListOptions o;
    o.ns = m_scope.ns;
    o.labels = m_scope.labels;
    o.fields = m_scope.fields;
    o.limit = options.limit;
    o.continueToken = options.continueToken;
    o.revision = options.revision;
    return m_store.list(m_resource, o);
}

Result<std::shared_ptr<WatchStream>> StoreListWatch::watch(const store::WatchOptions &options)
{
    store::WatchOptions o;
    o.ns = m_scope.ns;
    o.labels = m_scope.labels;
    o.fields = m_scope.fields;
    o.fromRevision = options.fromRevision;
    o.bookmarks = options.bookmarks;
    o.queueLimit = options.queueLimit;
    auto watcher = m_store.watch(m_resource, o);
    if (!watcher)
        return watcher.takeError();
    return std::shared_ptr<WatchStream>(std::make_shared<StoreWatchStream>(std::move(watcher).value()));
}

std::string StoreListWatch::describe() const
{
    std::string out = m_resource;
    if (!m_scope.ns.empty())
        out += " in " + m_scope.ns;
    if (!m_scope.labels.isEmpty())
        out += " with labels " + m_scope.labels.toString();
    if (!m_scope.fields.isEmpty())
        out += " with fields " + m_scope.fields.toString();
    return out;
}

} // namespace podscape::core::cache
