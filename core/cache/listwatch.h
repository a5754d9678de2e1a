#pragma once
// Where an informer's objects come from: pages of a list, then a watch from the list's
// revision. The in-process Store is one source (StoreListWatch); the HTTP client will be
// another, so an informer works the same on the embedded engine and on a remote cluster.

#include "core/base/result.h"
#include "core/model/fieldselector.h"
#include "core/model/labelselector.h"
#include "core/store/store.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace podscape::core::cache {

// One running watch. Events arrive in revision order, with the store's Event type; the
// stream ends with one Error event (Expired/Gone: the revision is too old or the consumer
// fell behind) or without one when it ends normally (a server-side timeout, stop()).
class WatchStream
{
public:
    virtual ~WatchStream() = default;
    // `notify` runs on the producer's thread whenever events arrive; it must not block.
    // If events are already queued it runs at once, so no wake-up is lost.
    virtual void setNotify(std::function<void()> notify) = 0;
    // Every queued event, without blocking.
    virtual std::vector<store::Event> drain() = 0;
    // The stream has ended; events queued before the end are still returned by drain().
    virtual bool isStopped() const = 0;
    virtual void stop() = 0;
};

class ListWatch
{
public:
    virtual ~ListWatch() = default;
    // One page. The source's own scope (resource, namespace, selectors) replaces those of
    // `options`: only limit, continueToken and revision are taken from it.
    virtual Result<store::ListResult> list(const store::ListOptions &options) = 0;
    // The changes after options.fromRevision, scoped like list(); fromRevision, bookmarks and
    // queueLimit are taken from `options`.
    virtual Result<std::shared_ptr<WatchStream>> watch(const store::WatchOptions &options) = 0;
    // What is listed, for messages: "pods in default", "nodes".
    virtual std::string describe() const = 0;
};

// A ListWatch over the in-process Store, for one resource.
class StoreListWatch final : public ListWatch
{
public:
    struct Scope {
        std::string ns; // empty: every namespace
        model::LabelSelector labels;
        model::FieldSelector fields;
    };

    StoreListWatch(store::Store &store, std::string resource, Scope scope = {});

    Result<store::ListResult> list(const store::ListOptions &options) override;
    Result<std::shared_ptr<WatchStream>> watch(const store::WatchOptions &options) override;
    std::string describe() const override;

private:
    store::Store &m_store;
    std::string m_resource;
    Scope m_scope;
};

} // namespace podscape::core::cache
