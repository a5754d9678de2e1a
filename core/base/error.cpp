#include "error.h"

#include <nlohmann/json.hpp>

#include <array>

namespace podscape::core {

namespace {

struct ReasonInfo {
    Reason reason;
    std::string_view name;
    int code;
};

constexpr std::array kReasons{
    ReasonInfo{Reason::Unknown, "", 500},
    ReasonInfo{Reason::BadRequest, "BadRequest", 400},
    ReasonInfo{Reason::Unauthorized, "Unauthorized", 401},
    ReasonInfo{Reason::Forbidden, "Forbidden", 403},
    ReasonInfo{Reason::NotFound, "NotFound", 404},
    ReasonInfo{Reason::AlreadyExists, "AlreadyExists", 409},
    ReasonInfo{Reason::Conflict, "Conflict", 409},
    ReasonInfo{Reason::Gone, "Gone", 410},
    ReasonInfo{Reason::Invalid, "Invalid", 422},
    ReasonInfo{Reason::ServerTimeout, "ServerTimeout", 500},
    ReasonInfo{Reason::Timeout, "Timeout", 504},
    ReasonInfo{Reason::TooManyRequests, "TooManyRequests", 429},
    ReasonInfo{Reason::MethodNotAllowed, "MethodNotAllowed", 405},
    ReasonInfo{Reason::NotAcceptable, "NotAcceptable", 406},
    ReasonInfo{Reason::RequestEntityTooLarge, "RequestEntityTooLarge", 413},
    ReasonInfo{Reason::UnsupportedMediaType, "UnsupportedMediaType", 415},
    ReasonInfo{Reason::InternalError, "InternalError", 500},
    ReasonInfo{Reason::ServiceUnavailable, "ServiceUnavailable", 503},
    ReasonInfo{Reason::Expired, "Expired", 410},
};

const ReasonInfo &info(Reason r)
{
    for (const auto &i : kReasons)
        if (i.reason == r)
            return i;
    return kReasons[0];
}

} // namespace

std::string_view reasonName(Reason reason) { return info(reason).name; }

Reason reasonFromName(std::string_view name)
{
    for (const auto &i : kReasons)
        if (!i.name.empty() && i.name == name)
            return i.reason;
    return Reason::Unknown;
}

int defaultHttpCode(Reason reason) { return info(reason).code; }

Reason reasonForHttpCode(int code)
{
    switch (code) {
    case 400: return Reason::BadRequest;
    case 401: return Reason::Unauthorized;
    case 403: return Reason::Forbidden;
    case 404: return Reason::NotFound;
    case 405: return Reason::MethodNotAllowed;
    case 406: return Reason::NotAcceptable;
    case 409: return Reason::Conflict;
    case 410: return Reason::Gone;
    case 413: return Reason::RequestEntityTooLarge;
    case 415: return Reason::UnsupportedMediaType;
    case 422: return Reason::Invalid;
    case 429: return Reason::TooManyRequests;
    case 500: return Reason::InternalError;
    case 503: return Reason::ServiceUnavailable;
    case 504: return Reason::Timeout;
    default: return Reason::Unknown;
    }
}

Error::Error(Reason reason, std::string message, int httpCode)
    : m_reason(reason)
    , m_httpCode(httpCode ? httpCode : defaultHttpCode(reason))
    , m_message(std::move(message))
{}

Error Error::notFound(std::string_view resource, std::string_view name)
{
    Error e(Reason::NotFound, std::string(resource) + " \"" + std::string(name) + "\" not found");
    e.m_kind = resource;
    e.m_name = name;
    return e;
}

Error Error::alreadyExists(std::string_view resource, std::string_view name)
{
    Error e(Reason::AlreadyExists, std::string(resource) + " \"" + std::string(name) + "\" already exists");
    e.m_kind = resource;
    e.m_name = name;
    return e;
}

Error Error::invalid(std::string_view kind, std::string_view name, std::vector<Cause> causes)
{
    // Same wording as the API server's NewInvalid, which kubectl prints verbatim.
    std::string msg = std::string(kind) + " \"" + std::string(name) + "\" is invalid: ";
    if (causes.size() == 1) {
        const auto &c = causes.front();
        msg += c.field.empty() ? c.message : c.field + ": " + c.message;
    } else {
        msg += "[";
        for (size_t i = 0; i < causes.size(); ++i) {
            if (i)
                msg += ", ";
            const auto &c = causes[i];
            msg += c.field.empty() ? c.message : c.field + ": " + c.message;
        }
        msg += "]";
    }
    Error e(Reason::Invalid, std::move(msg));
    e.m_kind = kind;
    e.m_name = name;
    e.m_causes = std::move(causes);
    return e;
}

Error &Error::setDetails(std::string kind, std::string name, std::string group)
{
    m_kind = std::move(kind);
    m_name = std::move(name);
    m_group = std::move(group);
    return *this;
}

Error &Error::addCause(Cause cause)
{
    m_causes.push_back(std::move(cause));
    return *this;
}

Error &Error::setMessage(std::string message)
{
    m_message = std::move(message);
    return *this;
}

Error &Error::setRetryAfterSeconds(int seconds)
{
    m_retryAfter = seconds;
    return *this;
}

std::string Error::toString() const
{
    std::string s(reasonName(m_reason));
    if (s.empty())
        s = "Error " + std::to_string(m_httpCode);
    return s + ": " + m_message;
}

nlohmann::json Error::toStatus() const
{
    nlohmann::json status = {
        {"kind", "Status"},
        {"apiVersion", "v1"},
        {"metadata", nlohmann::json::object()},
        {"status", "Failure"},
        {"message", m_message},
        {"code", m_httpCode},
    };
    if (auto name = reasonName(m_reason); !name.empty())
        status["reason"] = name;
    nlohmann::json details = nlohmann::json::object();
    if (!m_name.empty())
        details["name"] = m_name;
    if (!m_group.empty())
        details["group"] = m_group;
    if (!m_kind.empty())
        details["kind"] = m_kind;
    if (m_retryAfter > 0)
        details["retryAfterSeconds"] = m_retryAfter;
    if (!m_causes.empty()) {
        auto &causes = details["causes"] = nlohmann::json::array();
        for (const auto &c : m_causes) {
            nlohmann::json jc = nlohmann::json::object();
            if (!c.type.empty())
                jc["reason"] = c.type;
            if (!c.message.empty())
                jc["message"] = c.message;
            if (!c.field.empty())
                jc["field"] = c.field;
            causes.push_back(std::move(jc));
        }
    }
    if (!details.empty())
        status["details"] = std::move(details);
    return status;
}

Error Error::fromStatus(const nlohmann::json &status, int httpCode)
{
    auto str = [](const nlohmann::json &o, const char *key) -> std::string {
        auto it = o.find(key);
        return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (!status.is_object() || str(status, "kind") != "Status") {
        std::string text = status.is_string() ? status.get<std::string>() : status.dump();
        Reason r = reasonForHttpCode(httpCode);
        return Error(r, text.empty() ? "the server answered HTTP " + std::to_string(httpCode) : text,
                     httpCode ? httpCode : defaultHttpCode(r));
    }
    int code = httpCode;
    if (auto it = status.find("code"); it != status.end() && it->is_number_integer())
        code = it->get<int>();
    Reason reason = reasonFromName(str(status, "reason"));
    if (reason == Reason::Unknown)
        reason = reasonForHttpCode(code);
    Error e(reason, str(status, "message"), code ? code : defaultHttpCode(reason));
    if (auto d = status.find("details"); d != status.end() && d->is_object()) {
        e.m_name = str(*d, "name");
        e.m_group = str(*d, "group");
        e.m_kind = str(*d, "kind");
        if (auto r = d->find("retryAfterSeconds"); r != d->end() && r->is_number_integer())
            e.m_retryAfter = r->get<int>();
        if (auto cs = d->find("causes"); cs != d->end() && cs->is_array())
            for (const auto &c : *cs)
                if (c.is_object())
                    e.m_causes.push_back({str(c, "reason"), str(c, "message"), str(c, "field")});
    }
    return e;
}

} // namespace podscape::core
