#pragma once
// Pod IPs of one node, from its pod CIDR (127.244.<node-index>.0/24 by default), as the
// host-local IPAM plugin hands them out: the network address, the gateway (.1) and the
// broadcast address are never given, and allocation goes round-robin from the last address
// handed out, so a released IP is not reused at once (a stale endpoint would reach the new
// pod). Disjoint CIDRs per node make IPs unique across the cluster. Not thread-safe: the
// kubelet's sync loop owns it.

#include "core/base/result.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace podscape::core::kubelet {

class IpAllocator
{
public:
    // "127.244.3.0/24"; the prefix may be 8 to 30. Invalid for anything else.
    static Result<IpAllocator> create(std::string_view cidr);

    // The IP for `owner` (a pod uid): the one it has, or the next free one. ServiceUnavailable
    // when the range is full.
    Result<std::string> allocate(const std::string &owner);
    // Takes over an IP already in use (a pod found running after a restart). False if the IP
    // is outside the range or held by another owner.
    bool reserve(const std::string &ip, const std::string &owner);
    void release(const std::string &owner);
    std::optional<std::string> ipOf(const std::string &owner) const;
    bool contains(std::string_view ip) const;

    const std::string &cidr() const { return m_cidr; }
    std::string gateway() const { return format(m_network + 1); }
    size_t used() const { return m_byOwner.size(); }
    size_t capacity() const { return size_t(m_last - m_first + 1); }

    static std::optional<uint32_t> parse(std::string_view ip);
    static std::string format(uint32_t ip);

private:
    std::string m_cidr;
    uint32_t m_network = 0;
    uint32_t m_first = 0; // .2: the first address handed out
    uint32_t m_last = 0;  // the one before broadcast
    uint32_t m_cursor = 0; // the last address handed out
    std::map<std::string, uint32_t> m_byOwner;
    std::set<uint32_t> m_used;
};

} // namespace podscape::core::kubelet
