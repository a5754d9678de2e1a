#pragma once
// Error values in the Kubernetes vocabulary: every fallible call in core/ returns one of
// these (through Result<T>) instead of throwing, and the API server turns them into
// Status objects without losing the reason, the field causes or the message.

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace podscape::core {

enum class Reason {
    Unknown,
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    AlreadyExists,
    Conflict,
    Gone,
    Invalid,
    ServerTimeout,
    Timeout,
    TooManyRequests,
    MethodNotAllowed,
    NotAcceptable,
    RequestEntityTooLarge,
    UnsupportedMediaType,
    InternalError,
    ServiceUnavailable,
    Expired,
};

// The reason string as it appears in a Status ("NotFound"); "" for Unknown.
std::string_view reasonName(Reason reason);
Reason reasonFromName(std::string_view name);
// The HTTP code the API server uses for a reason (404 for NotFound, 422 for Invalid...).
int defaultHttpCode(Reason reason);
// The reason a bare HTTP status implies when a Status object carries none.
Reason reasonForHttpCode(int code);

// One problem with one field, as in Status.details.causes.
struct Cause {
    std::string type;    // Kubernetes CauseType: FieldValueRequired, FieldValueInvalid...
    std::string message; // what is wrong, for a person
    std::string field;   // path such as spec.containers[0].image; may be empty

    bool operator==(const Cause &) const = default;
};

// Well-known cause types (metav1.CauseType).
namespace cause {
inline constexpr std::string_view Required = "FieldValueRequired";
inline constexpr std::string_view Invalid = "FieldValueInvalid";
inline constexpr std::string_view NotSupported = "FieldValueNotSupported";
inline constexpr std::string_view Duplicate = "FieldValueDuplicate";
inline constexpr std::string_view Forbidden = "FieldValueForbidden";
inline constexpr std::string_view TooLong = "FieldValueTooLong";
inline constexpr std::string_view TypeInvalid = "FieldValueTypeInvalid";
inline constexpr std::string_view UnknownField = "FieldValueUnknown";
inline constexpr std::string_view Unexpected = "UnexpectedServerResponse";
} // namespace cause

class Error
{
public:
    Error() = default;
    Error(Reason reason, std::string message, int httpCode = 0);

    static Error badRequest(std::string message) { return {Reason::BadRequest, std::move(message)}; }
    static Error notFound(std::string_view resource, std::string_view name);
    static Error alreadyExists(std::string_view resource, std::string_view name);
    static Error conflict(std::string message) { return {Reason::Conflict, std::move(message)}; }
    static Error internal(std::string message) { return {Reason::InternalError, std::move(message)}; }
    // An Invalid error in the API server's form: `Kind "name" is invalid: [cause, cause]`.
    static Error invalid(std::string_view kind, std::string_view name, std::vector<Cause> causes);

    Reason reason() const { return m_reason; }
    int httpCode() const { return m_httpCode; }
    const std::string &message() const { return m_message; }
    const std::vector<Cause> &causes() const { return m_causes; }

    // Status.details: which object the error concerns.
    const std::string &detailsName() const { return m_name; }
    const std::string &detailsGroup() const { return m_group; }
    const std::string &detailsKind() const { return m_kind; }
    Error &setDetails(std::string kind, std::string name, std::string group = {});
    Error &addCause(Cause cause);
    Error &setMessage(std::string message);
    // Kubernetes answers a too-old resourceVersion with Expired (410); older servers say Gone.
    bool isGone() const { return m_reason == Reason::Gone || m_reason == Reason::Expired; }
    int retryAfterSeconds() const { return m_retryAfter; }
    Error &setRetryAfterSeconds(int seconds);

    // "NotFound: pods \"x\" not found" — for logs and tests.
    std::string toString() const;

    // A metav1.Status document (kind Status, status Failure).
    nlohmann::json toStatus() const;
    // Reads a Status document (or any error body: falls back to httpCode and raw text).
    static Error fromStatus(const nlohmann::json &status, int httpCode = 0);

    bool operator==(const Error &) const = default;

private:
    Reason m_reason = Reason::Unknown;
    int m_httpCode = 500;
    std::string m_message;
    std::vector<Cause> m_causes;
    std::string m_name;
    std::string m_group;
    std::string m_kind;
    int m_retryAfter = 0;
};

} // namespace podscape::core
