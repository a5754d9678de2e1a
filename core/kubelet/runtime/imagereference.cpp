#include "imagereference.h"

#include <cctype>

namespace podscape::core::kubelet::runtime {

namespace {

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// path-component := [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*
bool validComponent(std::string_view c)
{
    if (c.empty() || !isLowerAlnum(c.front()) || !isLowerAlnum(c.back()))
        return false;
    for (size_t i = 0; i < c.size(); ++i) {
        char ch = c[i];
        if (isLowerAlnum(ch))
            continue;
        if (ch == '.' || ch == '-')
            continue;
        if (ch == '_')
            continue;
        return false;
    }
    // Separators: one '.', one or two '_', any number of '-', never mixed.
    for (size_t i = 0; i < c.size();) {
        if (isLowerAlnum(c[i])) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < c.size() && !isLowerAlnum(c[j]))
            ++j;
        std::string_view sep = c.substr(i, j - i);
        bool ok = sep == "." || sep == "_" || sep == "__" || sep.find_first_not_of('-') == std::string_view::npos;
        if (!ok)
            return false;
        i = j;
    }
    return true;
}

bool validDomain(std::string_view d)
{
    size_t colon = d.rfind(':');
    std::string_view host = d;
    if (colon != std::string_view::npos) {
        std::string_view port = d.substr(colon + 1);
        if (port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos)
            return false;
        host = d.substr(0, colon);
    }
    if (host.empty())
        return false;
    size_t start = 0;
    while (start <= host.size()) {
        size_t dot = host.find('.', start);
        std::string_view label = host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty() || !std::isalnum(static_cast<unsigned char>(label.front()))
            || !std::isalnum(static_cast<unsigned char>(label.back())))
            return false;
        for (char c : label)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-')
                return false;
        if (dot == std::string_view::npos)
            break;
        start = dot + 1;
    }
    return true;
}

bool validTag(std::string_view t)
{
    if (t.empty() || t.size() > 128)
        return false;
    auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    if (!word(t.front()))
        return false;
    for (char c : t)
        if (!word(c) && c != '.' && c != '-')
            return false;
    return true;
}

bool validDigest(std::string_view d)
{
    size_t colon = d.find(':');
    if (colon == std::string_view::npos || colon == 0)
        return false;
    std::string_view algorithm = d.substr(0, colon), hex = d.substr(colon + 1);
    for (char c : algorithm)
        if (!isLowerAlnum(c) && c != '+' && c != '.' && c != '_' && c != '-')
            return false;
    if (hex.size() < 32 || hex.find_first_not_of("0123456789abcdef") != std::string_view::npos)
        return false;
    return algorithm != "sha256" || hex.size() == 64;
}

} // namespace

Result<ImageReference> ImageReference::parse(std::string_view text)
{
    auto invalid = [&](std::string why) {
        return fail(Reason::Invalid, "couldn't parse image name \"" + std::string(text) + "\": " + why);
    };
    if (text.empty())
        return invalid("invalid reference format");
    ImageReference ref;
    std::string_view name = text;
    if (size_t at = name.find('@'); at != std::string_view::npos) {
        ref.m_digest = std::string(name.substr(at + 1));
        name = name.substr(0, at);
        if (!validDigest(ref.m_digest))
            return invalid("invalid reference format");
    }
    size_t lastSlash = name.rfind('/');
    size_t colon = name.rfind(':');
    if (colon != std::string_view::npos && (lastSlash == std::string_view::npos || colon > lastSlash)) {
        ref.m_tag = std::string(name.substr(colon + 1));
        ref.m_explicitTag = true;
        name = name.substr(0, colon);
        if (!validTag(ref.m_tag))
            return invalid("invalid reference format");
    }
    if (name.empty() || name.size() > 255)
        return invalid(name.empty() ? "invalid reference format" : "repository name must not be more than 255 characters");

    // The first component is a registry when it looks like a host: a dot, a port, or localhost
    // (or capitals, which a repository path may not have).
    std::string_view remote = name;
    size_t slash = name.find('/');
    if (slash != std::string_view::npos) {
        std::string_view first = name.substr(0, slash);
        bool upper = false;
        for (char c : first)
            upper = upper || std::isupper(static_cast<unsigned char>(c));
        if (first.find_first_of(".:") != std::string_view::npos || first == "localhost" || upper) {
            if (!validDomain(first))
                return invalid("invalid reference format");
            ref.m_domain = std::string(first);
            remote = name.substr(slash + 1);
        }
    }
    if (ref.m_domain.empty() || ref.m_domain == "index.docker.io")
        ref.m_domain = "docker.io";
    for (char c : remote)
        if (std::isupper(static_cast<unsigned char>(c)))
            return invalid("invalid reference format: repository name (" + std::string(remote) + ") must be lowercase");
    size_t start = 0;
    while (true) {
        size_t end = remote.find('/', start);
        std::string_view component = remote.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (!validComponent(component))
            return invalid("invalid reference format");
        if (end == std::string_view::npos)
            break;
        start = end + 1;
    }
    ref.m_path = std::string(remote);
    if (ref.m_domain == "docker.io" && ref.m_path.find('/') == std::string::npos)
        ref.m_path = "library/" + ref.m_path;
    if (ref.m_tag.empty() && ref.m_digest.empty())
        ref.m_tag = "latest";
    return ref;
}

std::string ImageReference::name() const
{
    size_t slash = m_path.rfind('/');
    return slash == std::string::npos ? m_path : m_path.substr(slash + 1);
}

std::string ImageReference::normalized() const
{
    std::string out = repository();
    if (!m_tag.empty())
        out += ":" + m_tag;
    if (!m_digest.empty())
        out += "@" + m_digest;
    return out;
}

std::string ImageReference::familiar() const
{
    std::string out;
    if (m_domain == "docker.io")
        out = m_path.rfind("library/", 0) == 0 ? m_path.substr(8) : m_path;
    else
        out = repository();
    if (!m_tag.empty())
        out += ":" + m_tag;
    if (!m_digest.empty())
        out += "@" + m_digest;
    return out;
}

} // namespace podscape::core::kubelet::runtime
