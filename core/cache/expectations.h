#pragma once
// What a controller is still waiting to see in its informer cache, per controller key (the
// shape of kube-controller-manager's ControllerExpectations). After a ReplicaSet creates 3
// pods it expects 3 adds; until the informer has delivered them the cache still shows the
// old count, and syncing then would create 3 more. So a sync acts only when its
// expectations are satisfied, and handlers lower them as the objects are observed.
//
// An expectation older than Timeout counts as satisfied: a create that failed after the
// expectation was set, or an event that never comes, must not stall the controller forever.

#include "core/base/clock.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace podscape::core::cache {

class Expectations
{
public:
    static constexpr Clock::Duration Timeout = std::chrono::minutes(5);

    struct Counts {
        int64_t adds = 0;
        int64_t deletes = 0;
        Clock::TimePoint timestamp; // when the expectations were set
    };

    explicit Expectations(Clock &clock = Clock::system());

    // Replaces the key's expectations (and their timestamp).
    void setExpectations(const std::string &key, int64_t adds, int64_t deletes);
    void expectCreations(const std::string &key, int64_t adds) { setExpectations(key, adds, 0); }
    void expectDeletions(const std::string &key, int64_t deletes) { setExpectations(key, 0, deletes); }
    // Deletions of these uids: deletionObserved(key, uid) counts each uid once, so a pod seen
    // going away twice (graceful deletion's update, then the delete) is not counted twice.
    void expectDeletionsOf(const std::string &key, const std::vector<std::string> &uids);

    // Adjust existing expectations (no-op for an unknown key); the timestamp is kept.
    void raiseExpectations(const std::string &key, int64_t adds, int64_t deletes);
    void lowerExpectations(const std::string &key, int64_t adds, int64_t deletes);
    void creationObserved(const std::string &key) { lowerExpectations(key, 1, 0); }
    void deletionObserved(const std::string &key) { lowerExpectations(key, 0, 1); }
    // Lowers the deletions only if `uid` was expected and not yet observed.
    void deletionObserved(const std::string &key, const std::string &uid);

    // True when the key has no expectations, both counts reached zero, or they expired:
    // the controller may trust its cache and sync.
    bool satisfied(const std::string &key) const;
    void deleteExpectations(const std::string &key);

    std::optional<Counts> expectations(const std::string &key) const;
    size_t size() const;

private:
    struct Entry {
        Counts counts;
        std::set<std::string> uids; // deletions still expected, by uid
    };

    Clock &m_clock;
    mutable std::mutex m_mutex;
    std::map<std::string, Entry> m_entries;
};

} // namespace podscape::core::cache
