#include "requestinfo.h"

#include <algorithm>
#include <vector>

namespace podscape::core::apiserver {

namespace {

std::vector<std::string> splitPath(const std::string &path)
{
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string::npos)
            end = path.size();
        if (end > start)
            parts.push_back(path.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

int hexDigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace

std::vector<std::string> RequestInfo::queryValues(const std::string &key) const
{
    std::vector<std::string> out;
    for (const auto &[k, v] : queryItems)
        if (k == key)
            out.push_back(v);
    return out;
}

std::string RequestInfo::queryValue(const std::string &key, const std::string &fallback) const
{
    auto it = query.find(key);
    return it == query.end() ? fallback : it->second;
}

bool RequestInfo::queryFlag(const std::string &key) const
{
    // Go's strconv.ParseBool, as the API server reads flags: Python's client sends "True".
    const std::string v = queryValue(key);
    return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
}

Result<std::string> percentDecode(std::string_view text, bool plusIsSpace)
{
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%') {
            const bool complete = i + 2 < text.size();
            const int hi = complete ? hexDigit(text[i + 1]) : -1;
            const int lo = complete ? hexDigit(text[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return fail(Reason::BadRequest, "invalid URL escape \"" + std::string(text.substr(i, 3)) + "\"");
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plusIsSpace) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

Result<RequestInfo> parseRequest(std::string_view method, std::string_view target)
{
    RequestInfo info;
    const size_t q = target.find('?');
    auto path = percentDecode(target.substr(0, q), false);
    if (!path)
        return path.takeError();
    info.path = *path;
    if (q != std::string_view::npos) {
        std::string_view rest = target.substr(q + 1);
        while (!rest.empty()) {
            const size_t amp = rest.find('&');
            std::string_view pair = rest.substr(0, amp);
            rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
            if (pair.empty())
                continue;
            const size_t eq = pair.find('=');
            auto key = percentDecode(pair.substr(0, eq), true);
            auto value = percentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
            if (!key || !value)
                return fail(Reason::BadRequest, "invalid query: " + std::string(pair));
            info.query[*key] = *value;
            info.queryItems.emplace_back(*key, *value);
        }
    }
    std::string m(method);
    std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return std::tolower(c); });
    info.verb = m;

    const auto parts = splitPath(info.path);
    if (parts.empty() || (parts[0] != "api" && parts[0] != "apis"))
        return info; // a non-resource path
    info.apiPrefix = parts[0];
    size_t i = 1;
    if (info.apiPrefix == "api") {
        if (parts.size() < 2)
            return info; // /api
        info.version = parts[1];
        i = 2;
    } else {
        if (parts.size() < 3)
            return info; // /apis, /apis/apps
        info.group = parts[1];
        info.version = parts[2];
        i = 3;
    }
    if (i >= parts.size())
        return info; // /api/v1, /apis/apps/v1: discovery
    info.isResource = true;
    // /namespaces/{ns}/{resource}...; but /namespaces and /namespaces/{name}[/status|/finalize]
    // are the namespace resource itself (the resolver's namespace subresources).
    if (parts[i] == "namespaces" && i + 2 < parts.size() && parts[i + 2] != "status" && parts[i + 2] != "finalize") {
        info.ns = parts[i + 1];
        i += 2;
    }
    info.resource = parts[i++];
    if (i < parts.size())
        info.name = parts[i++];
    if (i < parts.size())
        info.subresource = parts[i++];
    if (i < parts.size())
        return fail(Reason::NotFound, "the server could not find the requested resource");
    const bool watch = info.queryFlag("watch");
    if (m == "get" || m == "head")
        info.verb = info.name.empty() ? (watch ? "watch" : "list") : (watch ? "watch" : "get");
    else if (m == "post")
        info.verb = "create";
    else if (m == "put")
        info.verb = "update";
    else if (m == "patch")
        info.verb = "patch";
    else if (m == "delete")
        info.verb = info.name.empty() ? "deletecollection" : "delete";
    return info;
}

} // namespace podscape::core::apiserver
