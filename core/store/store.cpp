#include "store.h"

#include "backend.h"
#include "core/base/logger.h"
#include "core/base/timeformat.h"
#include "core/model/names.h"

#include <algorithm>
#include <random>

namespace podscape::core::store {

using nlohmann::json;

namespace {

constexpr int kMaxConflictRetries = 100;

std::string metaString(const json &o, const char *key)
{
    auto m = o.find("metadata");
    if (m == o.end() || !m->is_object())
        return {};
    auto it = m->find(key);
    return it != m->end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The value of a dotted field path as a field selector compares it.
std::optional<std::string> fieldValue(const json &o, std::string_view field)
{
    const json *cur = &o;
    size_t pos = 0;
    while (pos <= field.size()) {
        size_t dot = field.find('.', pos);
        if (dot == std::string_view::npos)
            dot = field.size();
        if (!cur->is_object())
            return std::nullopt;
        auto it = cur->find(field.substr(pos, dot - pos));
        if (it == cur->end())
            return std::nullopt;
        cur = &*it;
        pos = dot + 1;
    }
    if (cur->is_string())
        return cur->get<std::string>();
    if (cur->is_boolean())
        return cur->get<bool>() ? "true" : "false";
    if (cur->is_number())
        return cur->dump();
    return std::nullopt;
}

bool selected(const json &o, const std::string &ns, const model::LabelSelector &labels, const model::FieldSelector &fields)
{
    if (!ns.empty() && metaString(o, "namespace") != ns)
        return false;
    if (!labels.isEmpty() || labels.selectsNothing()) {
        model::Labels l;
        if (auto m = o.find("metadata"); m != o.end() && m->is_object())
            if (auto it = m->find("labels"); it != m->end())
                l = model::labelsFromJson(*it);
        if (!labels.matches(l))
            return false;
    }
    if (!fields.isEmpty() && !fields.matches([&](std::string_view f) { return fieldValue(o, f); }))
        return false;
    return true;
}

// Everything but metadata and status: a change here is a new generation.
bool specChanged(const json &a, const json &b)
{
    for (auto it = a.begin(); it != a.end(); ++it) {
        if (it.key() == "metadata" || it.key() == "status")
            continue;
        auto o = b.find(it.key());
        if (o == b.end() || *o != it.value())
            return true;
    }
    for (auto it = b.begin(); it != b.end(); ++it)
        if (it.key() != "metadata" && it.key() != "status" && !a.contains(it.key()))
            return true;
    return false;
}

std::string resourceName(const std::string &resource)
{
    // "deployments.apps" -> "deployments.apps" (as the API server qualifies it in messages)
    return resource;
}

std::string encodeContinue(Revision rv, const std::string &startKey)
{
    static const char *kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string raw = json{{"v", "meta.k8s.io/v1"}, {"rv", rv}, {"start", startKey}}.dump();
    std::string out;
    uint32_t buf = 0;
    int bits = 0;
    for (unsigned char c : raw) {
        buf = (buf << 8) | c;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += kAlphabet[(buf >> bits) & 63];
        }
    }
    if (bits > 0)
        out += kAlphabet[(buf << (6 - bits)) & 63];
    return out;
}

std::optional<std::pair<Revision, std::string>> decodeContinue(const std::string &token)
{
    std::string raw;
    uint32_t buf = 0;
    int bits = 0;
    for (char c : token) {
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '-') v = 62;
        else if (c == '_') v = 63;
        else return std::nullopt;
        buf = (buf << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw += static_cast<char>((buf >> bits) & 0xff);
        }
    }
    json j = json::parse(raw, nullptr, false);
    if (!j.is_object() || !j.contains("rv") || !j["rv"].is_number_integer() || !j.contains("start") || !j["start"].is_string())
        return std::nullopt;
    return std::make_pair(j["rv"].get<Revision>(), j["start"].get<std::string>());
}

Error tooOld(Revision requested, Revision oldest)
{
    return Error(Reason::Expired, "too old resource version: " + std::to_string(requested) + " (" + std::to_string(oldest) + ")");
}

} // namespace

// ---- ObjectKey ---------------------------------------------------------------------------

std::string ObjectKey::toString() const { return resource + "/" + ns + "/" + name; }

std::optional<ObjectKey> ObjectKey::fromString(std::string_view s)
{
    size_t a = s.find('/');
    if (a == std::string_view::npos)
        return std::nullopt;
    size_t b = s.find('/', a + 1);
    if (b == std::string_view::npos)
        return std::nullopt;
    return ObjectKey{std::string(s.substr(0, a)), std::string(s.substr(a + 1, b - a - 1)), std::string(s.substr(b + 1))};
}

bool ObjectKey::operator<(const ObjectKey &o) const
{
    return std::tie(resource, ns, name) < std::tie(o.resource, o.ns, o.name);
}

namespace {
std::string nodeNameOf(const json *pod)
{
    if (!pod)
        return {};
    auto spec = pod->find("spec");
    if (spec == pod->end() || !spec->is_object())
        return {};
    auto n = spec->find("nodeName");
    return n != spec->end() && n->is_string() ? n->get<std::string>() : std::string();
}
} // namespace

// ---- Watcher -----------------------------------------------------------------------------

bool Watcher::objectMatches(const json &object) const
{
    return selected(object, m_options.ns, m_options.labels, m_options.fields);
}

bool Watcher::matches(const Event &e) const
{
    return e.resource == m_resource && e.revision > m_after;
}

bool Watcher::push(const Event &e)
{
    std::function<void()> notify;
    {
        std::lock_guard g(m_mutex);
        if (m_stopped || m_ending)
            return true;
        if (e.type == EventType::Bookmark) {
            m_queue.push_back(e);
        } else {
            // A change that moves an object into or out of the selection is an add or a
            // delete for this watcher, as the API server reports it.
            bool now = e.type != EventType::Deleted && objectMatches(*e.object);
            bool before = e.previous && objectMatches(*e.previous);
            if (e.type == EventType::Deleted)
                now = false, before = objectMatches(*e.object);
            if (!now && !before)
                return true;
            m_queue.push_back(e);
            if (e.type == EventType::Modified && now && !before)
                m_queue.back().type = EventType::Added;
            else if (e.type == EventType::Modified && !now && before)
                m_queue.back().type = EventType::Deleted;
        }
        if (m_queue.size() > m_limit) {
            // Too far behind: end the watch rather than grow; the client relists.
            m_queue.clear();
            Event err;
            err.type = EventType::Error;
            err.error = Error(Reason::Expired, "watch ended: the client fell more than " + std::to_string(m_limit)
                                                   + " events behind; list again and watch from the new revision");
            m_queue.push_back(std::move(err));
            m_ending = true;
        }
        notify = m_notify;
    }
    m_cv.notify_all();
    if (notify)
        notify();
    return !m_ending;
}

void Watcher::end(Error error)
{
    {
        std::lock_guard g(m_mutex);
        if (m_stopped || m_ending)
            return;
        Event err;
        err.type = EventType::Error;
        err.error = std::move(error);
        m_queue.push_back(std::move(err));
        m_ending = true;
    }
    m_cv.notify_all();
}

std::optional<Event> Watcher::next(std::chrono::milliseconds timeout)
{
    std::unique_lock lock(m_mutex);
    m_cv.wait_for(lock, timeout, [&] { return !m_queue.empty() || m_stopped; });
    if (m_queue.empty())
        return std::nullopt;
    Event e = std::move(m_queue.front());
    m_queue.pop_front();
    if (e.type == EventType::Error)
        m_stopped = true;
    return e;
}

std::vector<Event> Watcher::drain()
{
    std::lock_guard g(m_mutex);
    std::vector<Event> out(std::make_move_iterator(m_queue.begin()), std::make_move_iterator(m_queue.end()));
    m_queue.clear();
    if (!out.empty() && out.back().type == EventType::Error)
        m_stopped = true;
    return out;
}

void Watcher::stop()
{
    {
        std::lock_guard g(m_mutex);
        m_stopped = true;
        m_queue.clear();
    }
    m_cv.notify_all();
}

bool Watcher::isStopped() const
{
    std::lock_guard g(m_mutex);
    return m_stopped || m_ending;
}

void Watcher::setNotify(std::function<void()> notify)
{
    bool pending;
    {
        std::lock_guard g(m_mutex);
        m_notify = std::move(notify);
        pending = !m_queue.empty();
    }
    if (pending && m_notify)
        m_notify();
}

// ---- Store -------------------------------------------------------------------------------

Store::Store(Clock &clock, StoreOptions options) : Store(clock, std::unique_ptr<Backend>(), options) {}

Store::Store(Clock &clock, std::unique_ptr<Backend> backend, StoreOptions options)
    : m_clock(clock), m_backend(std::move(backend)), m_options(options)
{
    if (m_backend) {
        auto snapshot = m_backend->load();
        if (!snapshot) {
            m_openStatus = snapshot.takeError();
            m_failed = true;
        } else {
            m_revision = snapshot->revision;
            for (auto &r : snapshot->objects) {
                json value = json::parse(r.value, nullptr, false);
                if (value.is_discarded()) {
                    PS_LOG(Error, "store") << "skipping unreadable object " << r.key.toString();
                    continue;
                }
                m_objects[r.key] = {std::make_shared<const json>(std::move(value)), r.revision};
            }
            m_published = m_revision;
            m_backend->setDurableCallback([this](Revision upTo) { publishPending(upTo); });
        }
    }
    m_bookmarks = std::thread([this] { bookmarkLoop(); });
}

Store::~Store()
{
    {
        std::lock_guard g(m_bookmarkMutex);
        m_stopping = true;
    }
    m_bookmarkCv.notify_all();
    if (m_bookmarks.joinable())
        m_bookmarks.join();
    if (m_backend)
        m_backend->close();
    std::lock_guard g(m_watchMutex);
    for (auto &w : m_watchers)
        w->end(Error(Reason::ServiceUnavailable, "the store is shutting down"));
}

std::string Store::newUid()
{
    thread_local std::mt19937_64 rng{std::random_device{}()};
    uint64_t a = rng(), b = rng();
    a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL; // version 4
    b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; // variant 1
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                  static_cast<unsigned>(b >> 48), static_cast<unsigned long long>(b & 0xffffffffffffULL));
    return buf;
}

Revision Store::commitLocked(const ObjectKey &key, ObjectPtr object, ObjectPtr previous, EventType type)
{
    Revision rev = ++m_revision;
    if (type == EventType::Deleted) {
        m_objects.erase(key);
    } else {
        m_objects[key] = {object, rev};
    }
    Event e;
    e.type = type;
    e.revision = rev;
    e.resource = key.resource;
    e.object = object;
    e.previous = std::move(previous);
    m_history.push_back(e);
    while (m_history.size() > m_options.historyLimit)
        m_history.pop_front();
    if (m_backend)
        m_backend->append({key, rev, type == EventType::Deleted ? std::string() : object->dump()});
    std::lock_guard g(m_pendingMutex);
    m_pending.push_back(std::move(e));
    return rev;
}

Result<void> Store::acknowledge(Revision revision)
{
    if (!m_backend) {
        publishPending(revision);
        return {};
    }
    auto durable = m_backend->waitDurable(revision);
    if (!durable) {
        std::unique_lock lock(m_mutex);
        m_failed = true;
        return durable.takeError();
    }
    return {};
}

void Store::publishPending(Revision upTo)
{
    std::lock_guard watchLock(m_watchMutex);
    std::vector<Event> events;
    {
        std::lock_guard g(m_pendingMutex);
        while (!m_pending.empty() && m_pending.front().revision <= upTo) {
            events.push_back(std::move(m_pending.front()));
            m_pending.pop_front();
        }
    }
    if (events.empty())
        return;
    m_published = std::max(m_published, events.back().revision);
    auto offer = [](const std::vector<std::shared_ptr<Watcher>> &watchers, const Event &e) {
        for (const auto &w : watchers)
            if (w->matches(e))
                w->push(e);
    };
    for (const auto &e : events) {
        if (auto it = m_watchersByResource.find(e.resource); it != m_watchersByResource.end())
            offer(it->second, e);
        if (e.resource == "pods" && !m_podWatchersByNode.empty()) {
            // The node the pod is on now and the one it was on (a bind moves it from "").
            const std::string now = nodeNameOf(e.object.get()), before = nodeNameOf(e.previous.get());
            if (auto it = m_podWatchersByNode.find(now); it != m_podWatchersByNode.end())
                offer(it->second, e);
            if (before != now)
                if (auto it = m_podWatchersByNode.find(before); it != m_podWatchersByNode.end())
                    offer(it->second, e);
        }
    }
    // Stopped watchers are dropped now and then rather than checked at every write.
    if (++m_publishes % 64 == 0)
        dropStoppedWatchersLocked();
}

void Store::dropStoppedWatchersLocked()
{
    auto stopped = [](const std::shared_ptr<Watcher> &w) { return w->isStopped(); };
    std::erase_if(m_watchers, stopped);
    for (auto *index : {&m_watchersByResource, &m_podWatchersByNode})
        for (auto it = index->begin(); it != index->end();) {
            std::erase_if(it->second, stopped);
            it = it->second.empty() ? index->erase(it) : std::next(it);
        }
}

Result<ObjectPtr> Store::create(const std::string &resource, json object)
{
    if (!object.is_object())
        return fail(Reason::BadRequest, "the object must be a JSON object");
    json &meta = object["metadata"];
    if (!meta.is_object())
        meta = json::object();
    std::string name = meta.value("name", std::string());
    std::string generateName = meta.value("generateName", std::string());
    if (name.empty() && generateName.empty())
        return fail(Error::invalid(object.value("kind", std::string("object")), "",
                                   {{std::string(cause::Required), "name or generateName is required", "metadata.name"}}));
    std::string ns = meta.value("namespace", std::string());
    meta.erase("deletionTimestamp");
    meta.erase("deletionGracePeriodSeconds");
    meta["uid"] = newUid();
    meta["creationTimestamp"] = formatRfc3339(m_clock.now());
    meta["generation"] = 1;

    Revision rev;
    ObjectPtr stored;
    {
        std::unique_lock lock(m_mutex);
        if (m_failed)
            return fail(Reason::InternalError, "the store cannot save changes: " + (m_openStatus ? std::string("its disk write failed earlier") : m_openStatus.error().message()));
        if (name.empty()) {
            // generateName: retry suffixes until one is free, as the API server would.
            for (int i = 0; i < 8 && name.empty(); ++i) {
                std::string candidate = model::generateName(generateName);
                if (!m_objects.count({resource, ns, candidate}))
                    name = candidate;
            }
            if (name.empty())
                return fail(Reason::AlreadyExists, "could not generate a unique name from \"" + generateName + "\"");
            meta["name"] = name;
        }
        ObjectKey key{resource, ns, name};
        if (m_objects.count(key))
            return fail(Error::alreadyExists(resourceName(resource), name));
        meta["resourceVersion"] = std::to_string(m_revision + 1);
        stored = std::make_shared<const json>(std::move(object));
        rev = commitLocked(key, stored, nullptr, EventType::Added);
    }
    if (auto ack = acknowledge(rev); !ack)
        return ack.takeError();
    return stored;
}

Result<ObjectPtr> Store::get(const std::string &resource, const std::string &ns, const std::string &name) const
{
    std::shared_lock lock(m_mutex);
    auto it = m_objects.find({resource, ns, name});
    if (it == m_objects.end())
        return fail(Error::notFound(resourceName(resource), name));
    return it->second.object;
}

Result<ListResult> Store::list(const std::string &resource, const ListOptions &options) const
{
    Revision at = options.revision;
    std::string start;
    if (!options.continueToken.empty()) {
        auto c = decodeContinue(options.continueToken);
        if (!c)
            return fail(Reason::BadRequest, "the continue token is malformed; start a new list without it");
        at = c->first;
        start = c->second;
    }
    std::shared_lock lock(m_mutex);
    Revision oldest = m_history.empty() ? m_revision : m_history.front().revision - 1;
    if (at > m_revision)
        return fail(Reason::Timeout, "resource version " + std::to_string(at) + " is newer than the store's " +
                                          std::to_string(m_revision) + "; retry shortly");
    if (at != 0 && at < oldest) {
        if (!options.continueToken.empty())
            return fail(Error(Reason::Expired, "The provided continue parameter is too old to display a consistent list "
                                               "result. You can start a new list without the continue parameter."));
        return fail(tooOld(at, oldest));
    }
    const Revision listRevision = at ? at : m_revision;

    // The state at listRevision: current objects with every later change undone.
    std::map<ObjectKey, ObjectPtr> changed; // key -> object at listRevision (nullptr: absent)
    if (listRevision < m_revision) {
        for (auto it = m_history.rbegin(); it != m_history.rend() && it->revision > listRevision; ++it) {
            if (it->resource != resource)
                continue;
            const json &o = *it->object;
            ObjectKey key{resource, metaString(o, "namespace"), metaString(o, "name")};
            changed[key] = it->type == EventType::Added ? nullptr : (it->type == EventType::Deleted ? it->object : it->previous);
        }
    }
    ListResult result;
    result.revision = listRevision;
    ObjectKey from{resource, options.ns, ""};
    auto inRange = [&](const ObjectKey &k) { return k.resource == resource && (options.ns.empty() || k.ns == options.ns); };
    auto afterStart = [&](const ObjectKey &k) { return start.empty() || k.toString() > start; };
    // Merge the live map with the undone changes, in key order.
    auto live = m_objects.lower_bound(from);
    auto undo = changed.lower_bound(from);
    std::string lastKey;
    int64_t remaining = 0;
    bool full = false;
    while (true) {
        bool liveOk = live != m_objects.end() && inRange(live->first);
        bool undoOk = undo != changed.end() && inRange(undo->first);
        if (!liveOk && !undoOk)
            break;
        ObjectKey key;
        ObjectPtr obj;
        if (undoOk && (!liveOk || !(live->first < undo->first))) {
            key = undo->first;
            obj = undo->second;
            if (liveOk && live->first == undo->first)
                ++live;
            ++undo;
        } else {
            key = live->first;
            obj = live->second.object;
            ++live;
        }
        if (!obj || !afterStart(key) || !selected(*obj, options.ns, options.labels, options.fields))
            continue;
        if (full) {
            ++remaining;
            continue;
        }
        result.items.push_back(obj);
        lastKey = key.toString();
        if (options.limit > 0 && int64_t(result.items.size()) >= options.limit)
            full = true;
    }
    if (full && remaining > 0) {
        result.continueToken = encodeContinue(listRevision, lastKey);
        result.remainingItemCount = remaining;
    }
    return result;
}

Result<ObjectPtr> Store::update(const std::string &resource, json object)
{
    if (!object.is_object())
        return fail(Reason::BadRequest, "the object must be a JSON object");
    std::string ns = metaString(object, "namespace");
    std::string name = metaString(object, "name");
    std::string rv = metaString(object, "resourceVersion");
    Revision rev;
    ObjectPtr stored;
    {
        std::unique_lock lock(m_mutex);
        if (m_failed)
            return fail(Reason::InternalError, "the store cannot save changes after a failed disk write");
        ObjectKey key{resource, ns, name};
        auto it = m_objects.find(key);
        if (it == m_objects.end())
            return fail(Error::notFound(resourceName(resource), name));
        const json &old = *it->second.object;
        if (!rv.empty() && rv != std::to_string(it->second.revision))
            return fail(Error::conflict("Operation cannot be fulfilled on " + resourceName(resource) + " \"" + name
                                        + "\": the object has been modified; please apply your changes to the latest "
                                          "version and try again"));
        json &meta = object["metadata"];
        const json &oldMeta = old["metadata"];
        // System fields are the store's, not the writer's.
        for (const char *k : {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"}) {
            if (oldMeta.contains(k))
                meta[k] = oldMeta[k];
            else
                meta.erase(k);
        }
        int64_t generation = oldMeta.value("generation", int64_t(1));
        meta["generation"] = specChanged(object, old) ? generation + 1 : generation;
        meta["resourceVersion"] = oldMeta.value("resourceVersion", std::string());
        if (object == old)
            return it->second.object; // no change: no new revision, as the API server does
        bool deleting = meta.contains("deletionTimestamp");
        bool noFinalizers = !meta.contains("finalizers") || !meta["finalizers"].is_array() || meta["finalizers"].empty();
        meta["resourceVersion"] = std::to_string(m_revision + 1);
        stored = std::make_shared<const json>(std::move(object));
        // The last finalizer removed from an object being deleted: it goes now. Graceful pod
        // deletion finishes through remove() with grace 0, not here.
        bool gracefulPod = resource == "pods" && oldMeta.value("deletionGracePeriodSeconds", int64_t(0)) > 0;
        if (deleting && noFinalizers && !gracefulPod)
            rev = commitLocked(key, stored, it->second.object, EventType::Deleted);
        else
            rev = commitLocked(key, stored, it->second.object, EventType::Modified);
    }
    if (auto ack = acknowledge(rev); !ack)
        return ack.takeError();
    return stored;
}

Result<ObjectPtr> Store::modify(const std::string &resource, const std::string &ns, const std::string &name,
                                const std::function<Result<bool>(json &)> &mutate)
{
    for (int attempt = 0; attempt < kMaxConflictRetries; ++attempt) {
        auto current = get(resource, ns, name);
        if (!current)
            return current;
        json copy = **current;
        auto changed = mutate(copy);
        if (!changed)
            return changed.takeError();
        if (!*changed)
            return *current;
        auto updated = update(resource, std::move(copy));
        if (updated || updated.error().reason() != Reason::Conflict)
            return updated;
    }
    return fail(Error::conflict("gave up after " + std::to_string(kMaxConflictRetries) + " conflicting updates of "
                                + resource + " \"" + name + "\""));
}

Result<ObjectPtr> Store::remove(const std::string &resource, const std::string &ns, const std::string &name,
                                const DeleteOptions &options)
{
    Revision rev;
    ObjectPtr result;
    {
        std::unique_lock lock(m_mutex);
        if (m_failed)
            return fail(Reason::InternalError, "the store cannot save changes after a failed disk write");
        ObjectKey key{resource, ns, name};
        auto it = m_objects.find(key);
        if (it == m_objects.end())
            return fail(Error::notFound(resourceName(resource), name));
        const json &old = *it->second.object;
        const json &oldMeta = old["metadata"];
        std::string uid = oldMeta.value("uid", std::string());
        if (options.preconditionUid && *options.preconditionUid != uid)
            return fail(Error::conflict("Precondition failed: UID in precondition: " + *options.preconditionUid
                                        + ", UID in object meta: " + uid));
        if (options.preconditionResourceVersion && *options.preconditionResourceVersion != std::to_string(it->second.revision))
            return fail(Error::conflict("Precondition failed: ResourceVersion in precondition: " + *options.preconditionResourceVersion
                                        + ", ResourceVersion in object meta: " + std::to_string(it->second.revision)));

        json updated = old;
        json &meta = updated["metadata"];
        std::vector<std::string> finalizers;
        if (meta.contains("finalizers") && meta["finalizers"].is_array())
            for (const auto &f : meta["finalizers"])
                if (f.is_string())
                    finalizers.push_back(f.get<std::string>());
        auto addFinalizer = [&](const std::string &f) {
            if (std::find(finalizers.begin(), finalizers.end(), f) == finalizers.end())
                finalizers.push_back(f);
        };
        if (options.propagationPolicy == "Orphan")
            addFinalizer("orphan");
        else if (options.propagationPolicy == "Foreground")
            addFinalizer("foregroundDeletion");

        // Pods on a node get a grace period: the kubelet stops the containers, then deletes
        // the pod with grace 0. Unscheduled or finished pods go at once.
        int64_t grace = 0;
        if (resource == "pods") {
            std::string phase = old.contains("status") ? old["status"].value("phase", std::string()) : std::string();
            bool scheduled = old.contains("spec") && !old["spec"].value("nodeName", std::string()).empty();
            grace = options.gracePeriodSeconds.value_or(old.contains("spec") ? old["spec"].value("terminationGracePeriodSeconds", int64_t(30)) : 30);
            if (!scheduled || phase == "Succeeded" || phase == "Failed")
                grace = 0;
            if (grace < 0)
                grace = 0;
        }
        bool alreadyDeleting = meta.contains("deletionTimestamp");
        int64_t oldGrace = meta.value("deletionGracePeriodSeconds", int64_t(0));
        size_t oldFinalizers = meta.contains("finalizers") && meta["finalizers"].is_array() ? meta["finalizers"].size() : 0;
        if (finalizers.empty() && grace == 0)
            return deleteNow(key, it->second, lock);
        if (alreadyDeleting && grace >= oldGrace && finalizers.size() == oldFinalizers)
            return it->second.object; // deletion is already under way
        auto now = m_clock.now();
        if (!alreadyDeleting || grace < oldGrace) {
            meta["deletionTimestamp"] = formatRfc3339(now + std::chrono::seconds(grace));
            meta["deletionGracePeriodSeconds"] = grace;
        }
        if (!finalizers.empty())
            meta["finalizers"] = finalizers;
        meta["resourceVersion"] = std::to_string(m_revision + 1);
        result = std::make_shared<const json>(std::move(updated));
        rev = commitLocked(key, result, it->second.object, EventType::Modified);
    }
    if (auto ack = acknowledge(rev); !ack)
        return ack.takeError();
    return result;
}

Result<ObjectPtr> Store::deleteNow(const ObjectKey &key, const Entry &entry, std::unique_lock<std::shared_mutex> &lock)
{
    // The DELETED event carries the object with the deletion's revision, as etcd reports it.
    json gone = *entry.object;
    gone["metadata"]["resourceVersion"] = std::to_string(m_revision + 1);
    auto stored = std::make_shared<const json>(std::move(gone));
    Revision rev = commitLocked(key, stored, entry.object, EventType::Deleted);
    lock.unlock();
    if (auto ack = acknowledge(rev); !ack)
        return ack.takeError();
    return stored;
}

Result<std::shared_ptr<Watcher>> Store::watch(const std::string &resource, const WatchOptions &options)
{
    auto w = std::make_shared<Watcher>();
    w->m_resource = resource;
    w->m_options = options;
    w->m_limit = options.queueLimit ? options.queueLimit : m_options.watcherQueueLimit;
    std::lock_guard watchLock(m_watchMutex);
    std::shared_lock lock(m_mutex);
    const Revision published = m_published;
    if (options.fromRevision == 0) {
        w->m_after = published;
    } else {
        Revision oldest = m_history.empty() ? m_revision : m_history.front().revision - 1;
        if (options.fromRevision < oldest)
            return fail(tooOld(options.fromRevision, oldest));
        w->m_after = options.fromRevision;
        // Replay what this watcher missed, up to what has been published; the rest arrives live.
        for (const auto &e : m_history) {
            if (e.revision > published)
                break;
            if (w->matches(e) && !w->push(e))
                break;
        }
        w->m_after = std::max(options.fromRevision, published);
    }
    if (m_watchers.size() % 64 == 63)
        dropStoppedWatchersLocked();
    m_watchers.push_back(w);
    if (resource == "pods")
        w->m_nodeName = options.fields.requiresExactMatch("spec.nodeName");
    if (w->m_nodeName)
        m_podWatchersByNode[*w->m_nodeName].push_back(w);
    else
        m_watchersByResource[resource].push_back(w);
    return w;
}

Revision Store::revision() const
{
    std::shared_lock lock(m_mutex);
    return m_revision;
}

Revision Store::oldestRevision() const
{
    std::shared_lock lock(m_mutex);
    return m_history.empty() ? m_revision : m_history.front().revision - 1;
}

void Store::flush()
{
    Revision r = revision();
    if (m_backend)
        (void)m_backend->waitDurable(r);
}

size_t Store::objectCount() const
{
    std::shared_lock lock(m_mutex);
    return m_objects.size();
}

void Store::bookmarkLoop()
{
    std::unique_lock lock(m_bookmarkMutex);
    while (!m_stopping) {
        auto deadline = m_clock.now() + m_options.bookmarkInterval;
        m_clock.waitUntil(lock, m_bookmarkCv, deadline, [this] { return m_stopping; });
        if (m_stopping)
            break;
        lock.unlock();
        {
            std::lock_guard watchLock(m_watchMutex);
            Event b;
            b.type = EventType::Bookmark;
            b.revision = m_published;
            b.object = std::make_shared<const json>(
                json{{"metadata", {{"resourceVersion", std::to_string(m_published)}}}});
            for (auto &w : m_watchers)
                if (w->m_options.bookmarks) {
                    b.resource = w->m_resource;
                    w->push(b);
                }
        }
        lock.lock();
    }
}

} // namespace podscape::core::store
