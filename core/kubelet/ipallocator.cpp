#include "ipallocator.h"

#include <cstdlib>

namespace podscape::core::kubelet {

std::optional<uint32_t> IpAllocator::parse(std::string_view ip)
{
    uint32_t out = 0;
    int parts = 0;
    size_t pos = 0;
    while (parts < 4) {
        size_t end = ip.find('.', pos);
        std::string_view part = ip.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        if (part.empty() || part.size() > 3 || part.find_first_not_of("0123456789") != std::string_view::npos)
            return std::nullopt;
        int v = std::atoi(std::string(part).c_str());
        if (v > 255)
            return std::nullopt;
        out = (out << 8) | uint32_t(v);
        ++parts;
        if (end == std::string_view::npos)
            break;
        pos = end + 1;
    }
    if (parts != 4)
        return std::nullopt;
    return out;
}

std::string IpAllocator::format(uint32_t ip)
{
    return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." + std::to_string((ip >> 8) & 255) + "."
           + std::to_string(ip & 255);
}

Result<IpAllocator> IpAllocator::create(std::string_view cidr)
{
    auto bad = [&] { return fail(Reason::Invalid, "invalid pod CIDR \"" + std::string(cidr) + "\": expected an IPv4 range such as 127.244.0.0/24"); };
    size_t slash = cidr.find('/');
    if (slash == std::string_view::npos)
        return bad();
    auto ip = parse(cidr.substr(0, slash));
    std::string_view bits = cidr.substr(slash + 1);
    if (!ip || bits.empty() || bits.find_first_not_of("0123456789") != std::string_view::npos)
        return bad();
    int prefix = std::atoi(std::string(bits).c_str());
    if (prefix < 8 || prefix > 30)
        return bad();
    uint32_t mask = prefix == 0 ? 0 : ~uint32_t(0) << (32 - prefix);
    IpAllocator a;
    a.m_cidr = std::string(cidr);
    a.m_network = *ip & mask;
    a.m_first = a.m_network + 2;
    a.m_last = (a.m_network | ~mask) - 1;
    a.m_cursor = a.m_last; // the first allocation wraps to m_first
    return a;
}

Result<std::string> IpAllocator::allocate(const std::string &owner)
{
    if (auto it = m_byOwner.find(owner); it != m_byOwner.end())
        return format(it->second);
    if (m_used.size() >= capacity())
        return fail(Reason::ServiceUnavailable, "failed to allocate for range 0: no IP addresses available in range set: "
                                                    + format(m_first) + "-" + format(m_last));
    uint32_t ip = m_cursor;
    do {
        ip = ip >= m_last ? m_first : ip + 1;
    } while (m_used.count(ip));
    m_cursor = ip;
    m_used.insert(ip);
    m_byOwner[owner] = ip;
    return format(ip);
}

bool IpAllocator::reserve(const std::string &ip, const std::string &owner)
{
    auto v = parse(ip);
    if (!v || *v < m_first || *v > m_last)
        return false;
    if (auto it = m_byOwner.find(owner); it != m_byOwner.end())
        return it->second == *v;
    if (m_used.count(*v))
        return false;
    m_used.insert(*v);
    m_byOwner[owner] = *v;
    return true;
}

void IpAllocator::release(const std::string &owner)
{
    auto it = m_byOwner.find(owner);
    if (it == m_byOwner.end())
        return;
    m_used.erase(it->second);
    m_byOwner.erase(it);
}

std::optional<std::string> IpAllocator::ipOf(const std::string &owner) const
{
    auto it = m_byOwner.find(owner);
    if (it == m_byOwner.end())
        return std::nullopt;
    return format(it->second);
}

bool IpAllocator::contains(std::string_view ip) const
{
    auto v = parse(ip);
    return v && *v >= m_network && *v <= m_last + 1;
}

} // namespace podscape::core::kubelet
