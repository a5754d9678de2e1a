#include "informer.h"

#include "core/base/logger.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <random>

namespace podscape::core::cache {

struct Informer::State {
    std::mutex mutex;
    std::condition_variable cv;
    bool eventsPending = false; // the stream signalled events (or its end)
    bool stopping = false;
    bool running = false;
    bool synced = false;
    std::optional<Error> lastError;
    store::Revision revision = 0;
    uint64_t lists = 0;
};

Informer::Informer(std::unique_ptr<ListWatch> source, Clock &clock, InformerOptions options)
    : m_source(std::move(source)), m_clock(clock), m_options(std::move(options)), m_state(std::make_shared<State>()),
      m_random(std::random_device{}())
{
    if (m_options.name.empty())
        m_options.name = m_source->describe();
}

Informer::~Informer() { stop(); }

void Informer::addEventHandlers(EventHandlers handlers)
{
    if (isRunning()) {
        PS_LOG(Error, "informer") << m_options.name << ": handlers added while running miss earlier events";
    }
    std::lock_guard g(m_handlersMutex);
    m_handlers.push_back(std::move(handlers));
}

Result<void> Informer::addIndex(std::string name, Indexer::IndexFunc func)
{
    return m_indexer.addIndex(std::move(name), std::move(func));
}

void Informer::start()
{
    std::lock_guard lifecycle(m_lifecycleMutex);
    {
        std::lock_guard g(m_state->mutex);
        if (m_state->running)
            return;
        m_state->running = true;
        m_state->stopping = false;
    }
    m_thread = std::thread([this] { run(); });
}

void Informer::stop()
{
    std::lock_guard lifecycle(m_lifecycleMutex);
    {
        std::lock_guard g(m_state->mutex);
        m_state->stopping = true;
    }
    m_state->cv.notify_all();
    if (m_thread.joinable())
        m_thread.join();
    std::lock_guard g(m_state->mutex);
    m_state->running = false;
}

bool Informer::isRunning() const
{
    std::lock_guard g(m_state->mutex);
    return m_state->running && !m_state->stopping;
}

bool Informer::hasSynced() const
{
    std::lock_guard g(m_state->mutex);
    return m_state->synced;
}

bool Informer::waitForSync(Clock::Duration timeout)
{
    std::unique_lock lock(m_state->mutex);
    m_clock.waitUntil(lock, m_state->cv, m_clock.now() + timeout,
                      [this] { return m_state->synced || m_state->stopping; });
    return m_state->synced;
}

std::optional<Error> Informer::lastError() const
{
    std::lock_guard g(m_state->mutex);
    return m_state->lastError;
}

store::Revision Informer::revision() const
{
    std::lock_guard g(m_state->mutex);
    return m_state->revision;
}

uint64_t Informer::listCount() const
{
    std::lock_guard g(m_state->mutex);
    return m_state->lists;
}

bool Informer::stopping() const
{
    std::lock_guard g(m_state->mutex);
    return m_state->stopping;
}

void Informer::setError(const Error &error)
{
    PS_LOG(Warning, "informer") << m_options.name << ": " << error.toString();
    std::lock_guard g(m_state->mutex);
    m_state->lastError = error;
}

void Informer::clearError()
{
    std::lock_guard g(m_state->mutex);
    m_state->lastError.reset();
}

Clock::Duration Informer::backoffFor(int failures, const InformerOptions &options, double random01)
{
    const double base = double(options.initialBackoff.count()) * std::pow(2.0, std::max(0, failures - 1));
    const double capped = std::min(base, double(options.maxBackoff.count()));
    const double stretched = capped * (1.0 + std::max(0.0, options.jitter) * std::clamp(random01, 0.0, 1.0));
    return Clock::Duration(static_cast<Clock::Duration::rep>(stretched));
}

void Informer::waitBackoff(int failures)
{
    const auto delay = backoffFor(failures, m_options, std::uniform_real_distribution<double>(0.0, 1.0)(m_random));
    std::unique_lock lock(m_state->mutex);
    m_clock.waitUntil(lock, m_state->cv, m_clock.now() + delay, [this] { return m_state->stopping; });
}

void Informer::run()
{
    // The first consecutive Expired/Gone relists at once; repeated failures of any kind
    // without progress in between back off, so a broken source is not hammered.
    int failures = 0;
    bool needList = !hasSynced();
    while (!stopping()) {
        if (needList) {
            auto listed = listAll();
            if (stopping())
                return;
            if (!listed) {
                setError(listed.error());
                waitBackoff(++failures);
                continue;
            }
            applyList(std::move(listed).value());
            needList = false;
        }

        store::WatchOptions options;
        options.fromRevision = revision();
        options.bookmarks = m_options.bookmarks;
        options.queueLimit = m_options.watchQueueLimit;
        auto stream = m_source->watch(options);
        if (!stream) {
            setError(stream.error());
            if (stream.error().isGone()) {
                needList = true;
                if (failures++ == 0)
                    continue;
            } else {
                ++failures;
            }
            waitBackoff(failures);
            continue;
        }
        if (options.fromRevision == 0) {
            // Revision 0 (a list of a store never written to) reads as "from now" to a watch:
            // a write between that list and this watch would be missed. Only if the source
            // is still at revision 0 now did the watch start early enough.
            store::ListOptions probe;
            probe.limit = 1;
            auto current = m_source->list(probe);
            if (!current || current->revision != 0) {
                (*stream)->stop();
                if (!current) {
                    setError(current.error());
                    waitBackoff(++failures);
                }
                needList = true;
                continue;
            }
        }
        clearError();
        StreamEnd end = consume(**stream);
        (*stream)->stop();
        if (end.progressed)
            failures = 0;
        switch (end.kind) {
        case StreamEnd::Stopped:
            return;
        case StreamEnd::Ended:
            // Resume from the last revision seen; a stream ending at once without a single
            // event is a failing source, not a server-side timeout.
            if (!end.progressed)
                waitBackoff(++failures);
            break;
        case StreamEnd::Failed:
            setError(end.error);
            if (end.error.isGone()) {
                needList = true;
                if (failures++ == 0)
                    break;
            } else {
                ++failures;
            }
            waitBackoff(failures);
            break;
        }
    }
}

Result<store::ListResult> Informer::listAll()
{
    store::ListResult all;
    store::ListOptions options;
    options.limit = std::max<int64_t>(0, m_options.pageSize);
    bool restarted = false;
    while (true) {
        auto page = m_source->list(options);
        if (!page) {
            if (page.error().isGone() && !options.continueToken.empty() && !restarted) {
                // The pages' revision was compacted away mid-list: start over, once.
                restarted = true;
                all = {};
                options.continueToken.clear();
                continue;
            }
            return page.takeError();
        }
        if (options.continueToken.empty())
            all.revision = page->revision;
        all.items.insert(all.items.end(), std::make_move_iterator(page->items.begin()),
                         std::make_move_iterator(page->items.end()));
        if (page->continueToken.empty())
            return all;
        if (stopping())
            return fail(Reason::ServiceUnavailable, "the informer is stopping");
        options.continueToken = std::move(page->continueToken);
    }
}

void Informer::applyList(store::ListResult list)
{
    const store::Revision revision = list.revision;
    const auto changes = m_indexer.replace(std::move(list.items), revision);
    {
        std::lock_guard g(m_state->mutex);
        m_state->revision = revision;
        m_state->lastError.reset();
    }
    for (const auto &c : changes) {
        if (c.oldObject && c.newObject)
            dispatchUpdate(c.oldObject, c.newObject);
        else if (c.newObject)
            dispatchAdd(c.newObject);
        else
            dispatchDelete(c.oldObject);
    }
    {
        // Counted once the handlers ran: a caller that sees the list sees its events too.
        std::lock_guard g(m_state->mutex);
        m_state->synced = true;
        ++m_state->lists;
    }
    m_state->cv.notify_all();
}

Informer::StreamEnd Informer::consume(WatchStream &stream)
{
    {
        std::lock_guard g(m_state->mutex);
        m_state->eventsPending = true; // drain whatever was queued before the notify was set
    }
    // The callback holds the state, not the informer: the producer may call it late.
    stream.setNotify([state = m_state] {
        {
            std::lock_guard g(state->mutex);
            state->eventsPending = true;
        }
        state->cv.notify_all();
    });

    StreamEnd end;
    while (true) {
        {
            std::unique_lock lock(m_state->mutex);
            if (!m_state->eventsPending && !m_state->stopping)
                m_clock.waitUntil(lock, m_state->cv, m_clock.now() + m_options.streamCheckInterval,
                                  [this] { return m_state->eventsPending || m_state->stopping; });
            if (m_state->stopping) {
                end.kind = StreamEnd::Stopped;
                break;
            }
            m_state->eventsPending = false;
        }
        // Looked at before draining: whatever was queued before the end is in this drain.
        const bool ended = stream.isStopped();
        auto events = stream.drain();
        bool failed = false;
        for (const auto &e : events) {
            if (e.type == store::EventType::Error) {
                end.kind = StreamEnd::Failed;
                end.error = e.error;
                failed = true;
                break;
            }
            applyEvent(e);
            end.progressed = true;
        }
        if (failed)
            break;
        if (ended) {
            end.kind = StreamEnd::Ended;
            break;
        }
    }
    stream.setNotify({});
    return end;
}

void Informer::advanceRevision(store::Revision revision)
{
    if (revision <= 0)
        return;
    {
        std::lock_guard g(m_state->mutex);
        if (revision <= m_state->revision)
            return;
        m_state->revision = revision;
    }
    m_indexer.setResourceVersion(revision);
}

void Informer::applyEvent(const store::Event &event)
{
    switch (event.type) {
    case store::EventType::Added:
    case store::EventType::Modified: {
        if (!event.object)
            break;
        ObjectPtr previous = m_indexer.upsert(event.object);
        advanceRevision(event.revision);
        if (!previous)
            dispatchAdd(event.object);
        else if (Indexer::resourceVersionOf(*previous) != Indexer::resourceVersionOf(*event.object))
            dispatchUpdate(previous, event.object);
        break;
    }
    case store::EventType::Deleted: {
        if (!event.object)
            break;
        ObjectPtr removed = m_indexer.remove(Indexer::keyOf(*event.object));
        advanceRevision(event.revision);
        // Unknown keys were never announced (or their delete was already reported by a
        // relist): reporting them would be a delete without an add, or a second delete.
        if (removed)
            dispatchDelete(event.object);
        break;
    }
    case store::EventType::Bookmark:
        advanceRevision(event.revision);
        break;
    case store::EventType::Error:
        break; // handled by consume()
    }
}

template<typename Call>
void Informer::dispatch(const char *what, const Call &call)
{
    std::lock_guard g(m_handlersMutex);
    for (const auto &h : m_handlers) {
        try {
            call(h);
        } catch (const std::exception &e) {
            // A handler bug must not end the informer's thread (and the process with it).
            PS_LOG(Error, "informer") << m_options.name << ": " << what << " handler threw: " << e.what();
        }
    }
}

void Informer::dispatchAdd(const ObjectPtr &object)
{
    dispatch("add", [&](const EventHandlers &h) {
        if (h.onAdd)
            h.onAdd(object);
    });
}

void Informer::dispatchUpdate(const ObjectPtr &oldObject, const ObjectPtr &newObject)
{
    dispatch("update", [&](const EventHandlers &h) {
        if (h.onUpdate)
            h.onUpdate(oldObject, newObject);
    });
}

void Informer::dispatchDelete(const ObjectPtr &object)
{
    dispatch("delete", [&](const EventHandlers &h) {
        if (h.onDelete)
            h.onDelete(object);
    });
}

} // namespace podscape::core::cache
