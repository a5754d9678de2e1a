#include "names.h"

#include <array>
#include <optional>

namespace podscape::core::model {

namespace {

// The regular expressions and messages the API server uses; the patterns only appear in
// messages, matching is done by hand below (std::regex is slow and these are hot paths).
constexpr std::string_view kDns1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
constexpr std::string_view kDns1123LabelMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character";
constexpr std::string_view kDns1123SubdomainFmt =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr std::string_view kDns1123SubdomainMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character";
constexpr std::string_view kDns1035LabelFmt = "[a-z]([-a-z0-9]*[a-z0-9])?";
constexpr std::string_view kDns1035LabelMsg =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character";
constexpr std::string_view kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr std::string_view kQualifiedNameMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character";
constexpr std::string_view kLabelValueFmt = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
constexpr std::string_view kLabelValueMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character";
constexpr std::string_view kEnvVarNameFmt = "[-._a-zA-Z][-._a-zA-Z0-9]*";
constexpr std::string_view kEnvVarNameMsg =
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and "
    "must not start with a digit";
constexpr std::string_view kConfigMapKeyFmt = "[-._a-zA-Z0-9]+";
constexpr std::string_view kConfigMapKeyMsg = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";

constexpr size_t kDns1123LabelMaxLength = 63;
constexpr size_t kDns1123SubdomainMaxLength = 253;
constexpr size_t kQualifiedNameMaxLength = 63;
constexpr size_t kLabelValueMaxLength = 63;

bool isLower(char c) { return c >= 'a' && c <= 'z'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlpha(char c) { return isLower(c) || (c >= 'A' && c <= 'Z'); }
bool isLowerAlnum(char c) { return isLower(c) || isDigit(c); }
bool isAlnum(char c) { return isAlpha(c) || isDigit(c); }

std::string maxLenError(size_t length) { return "must be no more than " + std::to_string(length) + " characters"; }

// Kubernetes' RegexError, including its "'a',  or 'b'" spacing.
std::string regexError(std::string_view msg, std::string_view fmt, std::initializer_list<std::string_view> examples)
{
    std::string out(msg);
    if (examples.size() == 0)
        return out + " (regex used for validation is '" + std::string(fmt) + "')";
    out += " (e.g. ";
    bool first = true;
    for (auto example : examples) {
        if (!first)
            out += " or ";
        first = false;
        out += "'" + std::string(example) + "', ";
    }
    return out + "regex used for validation is '" + std::string(fmt) + "')";
}

bool matchesDns1123Label(std::string_view v)
{
    if (v.empty() || !isLowerAlnum(v.front()) || !isLowerAlnum(v.back()))
        return false;
    for (char c : v)
        if (!isLowerAlnum(c) && c != '-')
            return false;
    return true;
}

bool matchesDns1123Subdomain(std::string_view v)
{
    size_t start = 0;
    while (true) {
        const size_t dot = v.find('.', start);
        if (!matchesDns1123Label(v.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start)))
            return false;
        if (dot == std::string_view::npos)
            return true;
        start = dot + 1;
    }
}

bool matchesDns1035Label(std::string_view v)
{
    return !v.empty() && isLower(v.front()) && matchesDns1123Label(v);
}

bool matchesQualifiedNamePart(std::string_view v)
{
    if (v.empty() || !isAlnum(v.front()) || !isAlnum(v.back()))
        return false;
    for (char c : v)
        if (!isAlnum(c) && c != '-' && c != '_' && c != '.')
            return false;
    return true;
}

void appendChDirErrors(std::string_view value, std::vector<std::string> &errs)
{
    if (value == ".")
        errs.emplace_back("must not be '.'");
    else if (value == "..")
        errs.emplace_back("must not be '..'");
    else if (value.starts_with(".."))
        errs.emplace_back("must not start with '..'");
}

// Go's pre-1.17 net.ParseIP, which Kubernetes keeps as ParseIPSloppy: decimal octets, leading
// zeros allowed. Writes the 4 octets.
bool parseIPv4(std::string_view s, std::array<uint8_t, 4> &out)
{
    for (size_t i = 0; i < 4; ++i) {
        if (s.empty())
            return false;
        if (i > 0) {
            if (s.front() != '.')
                return false;
            s.remove_prefix(1);
        }
        size_t n = 0;
        unsigned value = 0;
        while (n < s.size() && isDigit(s[n])) {
            value = value * 10 + unsigned(s[n] - '0');
            if (value > 0xff)
                return false;
            ++n;
        }
        if (n == 0)
            return false;
        out[i] = uint8_t(value);
        s.remove_prefix(n);
    }
    return s.empty();
}

int hexValue(char c)
{
    if (isDigit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Go's pre-1.17 parseIPv6: hex groups, one "::", an optional trailing dotted IPv4.
bool parseIPv6(std::string_view s)
{
    constexpr int kLen = 16;
    int ellipsis = -1;
    int i = 0;
    if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
        ellipsis = 0;
        s.remove_prefix(2);
        if (s.empty())
            return true;
    }
    while (i < kLen) {
        size_t n = 0;
        unsigned value = 0;
        while (n < s.size() && hexValue(s[n]) >= 0) {
            value = value * 16 + unsigned(hexValue(s[n]));
            if (value > 0xffff)
                return false;
            ++n;
        }
        if (n == 0)
            return false;
        if (n < s.size() && s[n] == '.') {
            if (ellipsis < 0 && i != kLen - 4)
                return false;
            if (i + 4 > kLen)
                return false;
            std::array<uint8_t, 4> v4{};
            if (!parseIPv4(s, v4))
                return false;
            s = {};
            i += 4;
            break;
        }
        i += 2;
        s.remove_prefix(n);
        if (s.empty())
            break;
        if (s.front() != ':' || s.size() == 1)
            return false;
        s.remove_prefix(1);
        if (s.front() == ':') {
            if (ellipsis >= 0)
                return false;
            ellipsis = i;
            s.remove_prefix(1);
            if (s.empty())
                break;
        }
    }
    if (!s.empty())
        return false;
    if (i < kLen)
        return ellipsis >= 0;
    return ellipsis < 0; // "::" must stand for at least one group
}

// 4 or 16 (the address length) when `s` is an IP address, 0 otherwise.
int ipLength(std::string_view s)
{
    for (char c : s) {
        if (c == '.') {
            std::array<uint8_t, 4> v4{};
            return parseIPv4(s, v4) ? 4 : 0;
        }
        if (c == ':')
            return parseIPv6(s) ? 16 : 0;
    }
    return 0;
}

// Length of the valid UTF-8 sequence at the start of `s`, 0 if it is not one.
size_t utf8SequenceLength(std::string_view s)
{
    const auto b0 = static_cast<unsigned char>(s[0]);
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf; // allowed range of the second byte
    if (b0 < 0x80)
        return 1;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        len = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        len = 3;
        if (b0 == 0xe0)
            lo = 0xa0; // no overlong forms
        if (b0 == 0xed)
            hi = 0x9f; // no surrogates
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        len = 4;
        if (b0 == 0xf0)
            lo = 0x90;
        if (b0 == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (s.size() < len)
        return 0;
    for (size_t i = 1; i < len; ++i) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf))
            return 0;
    }
    return len;
}

} // namespace

bool isValidUtf8(std::string_view s)
{
    while (!s.empty()) {
        const size_t n = utf8SequenceLength(s);
        if (n == 0)
            return false;
        s.remove_prefix(n);
    }
    return true;
}

std::vector<std::string> isDns1123Label(std::string_view value)
{
    std::vector<std::string> errs;
    if (value.size() > kDns1123LabelMaxLength)
        errs.push_back(maxLenError(kDns1123LabelMaxLength));
    if (!matchesDns1123Label(value)) {
        // A valid subdomain that is not a valid label (length was checked above) has dots.
        if (matchesDns1123Subdomain(value))
            errs.emplace_back("must not contain dots");
        else
            errs.push_back(regexError(kDns1123LabelMsg, kDns1123LabelFmt, {"my-name", "123-abc"}));
    }
    return errs;
}

std::vector<std::string> isDns1123Subdomain(std::string_view value)
{
    std::vector<std::string> errs;
    if (value.size() > kDns1123SubdomainMaxLength)
        errs.push_back(maxLenError(kDns1123SubdomainMaxLength));
    if (!matchesDns1123Subdomain(value))
        errs.push_back(regexError(kDns1123SubdomainMsg, kDns1123SubdomainFmt, {"example.com"}));
    return errs;
}

std::vector<std::string> isDns1035Label(std::string_view value)
{
    std::vector<std::string> errs;
    if (value.size() > kDns1123LabelMaxLength)
        errs.push_back(maxLenError(kDns1123LabelMaxLength));
    if (!matchesDns1035Label(value))
        errs.push_back(regexError(kDns1035LabelMsg, kDns1035LabelFmt, {"my-name", "abc-123"}));
    return errs;
}

std::vector<std::string> isQualifiedName(std::string_view value)
{
    std::vector<std::string> errs;
    std::string_view name = value;
    const size_t slash = value.find('/');
    if (slash != std::string_view::npos) {
        if (value.find('/', slash + 1) != std::string_view::npos) {
            errs.push_back("a qualified name " +
                           regexError(kQualifiedNameMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}) +
                           " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
            return errs;
        }
        const std::string_view prefix = value.substr(0, slash);
        name = value.substr(slash + 1);
        if (prefix.empty()) {
            errs.emplace_back("prefix part must be non-empty");
        } else {
            for (auto &msg : isDns1123Subdomain(prefix))
                errs.push_back("prefix part " + msg);
        }
    }
    if (name.empty())
        errs.emplace_back("name part must be non-empty");
    else if (name.size() > kQualifiedNameMaxLength)
        errs.push_back("name part " + maxLenError(kQualifiedNameMaxLength));
    if (!matchesQualifiedNamePart(name))
        errs.push_back("name part " + regexError(kQualifiedNameMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}));
    return errs;
}

std::vector<std::string> isValidLabelValue(std::string_view value)
{
    std::vector<std::string> errs;
    if (value.size() > kLabelValueMaxLength)
        errs.push_back(maxLenError(kLabelValueMaxLength));
    if (!value.empty() && !matchesQualifiedNamePart(value))
        errs.push_back(regexError(kLabelValueMsg, kLabelValueFmt, {"MyValue", "my_value", "12345"}));
    return errs;
}

std::vector<std::string> isValidPortName(std::string_view value)
{
    std::vector<std::string> errs;
    if (value.size() > 15)
        errs.push_back(maxLenError(15));
    bool charsetOk = !value.empty();
    bool hasLetter = false;
    for (char c : value) {
        charsetOk = charsetOk && (isLowerAlnum(c) || c == '-');
        hasLetter = hasLetter || isLower(c);
    }
    if (!charsetOk)
        errs.emplace_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
    if (!hasLetter)
        errs.emplace_back("must contain at least one letter (a-z)");
    if (value.find("--") != std::string_view::npos)
        errs.emplace_back("must not contain consecutive hyphens");
    if (!value.empty() && (value.front() == '-' || value.back() == '-'))
        errs.emplace_back("must not begin or end with a hyphen");
    return errs;
}

std::vector<std::string> isValidPortNum(int64_t port)
{
    if (port >= 1 && port <= 65535)
        return {};
    return {"must be between 1 and 65535, inclusive"};
}

std::vector<std::string> isValidIp(std::string_view value)
{
    if (ipLength(value) != 0)
        return {};
    return {"must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"};
}

std::vector<std::string> isValidCidr(std::string_view value)
{
    // Go's ParseCIDR: address, '/', a decimal prefix length within the address size.
    const size_t slash = value.find('/');
    bool ok = slash != std::string_view::npos;
    if (ok) {
        const std::string_view addr = value.substr(0, slash);
        const std::string_view mask = value.substr(slash + 1);
        std::array<uint8_t, 4> v4{};
        const int bits = parseIPv4(addr, v4) ? 32 : (parseIPv6(addr) ? 128 : 0);
        unsigned n = 0;
        ok = bits != 0 && !mask.empty();
        for (size_t i = 0; ok && i < mask.size(); ++i) {
            ok = isDigit(mask[i]);
            n = n * 10 + unsigned(mask[i] - '0');
            ok = ok && n <= unsigned(bits);
        }
    }
    if (ok)
        return {};
    return {"must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"};
}

std::vector<std::string> isValidEnvVarName(std::string_view value)
{
    std::vector<std::string> errs;
    bool ok = !value.empty() && !isDigit(value.front());
    for (char c : value)
        ok = ok && (isAlnum(c) || c == '-' || c == '.' || c == '_');
    if (!ok)
        errs.push_back(regexError(kEnvVarNameMsg, kEnvVarNameFmt, {"my.env-name", "MY_ENV.NAME", "MyEnvName1"}));
    appendChDirErrors(value, errs);
    return errs;
}

std::vector<std::string> isConfigMapKey(std::string_view value)
{
    std::vector<std::string> errs;
    if (value.size() > kDns1123SubdomainMaxLength)
        errs.push_back(maxLenError(kDns1123SubdomainMaxLength));
    bool ok = !value.empty();
    for (char c : value)
        ok = ok && (isAlnum(c) || c == '-' || c == '.' || c == '_');
    if (!ok)
        errs.push_back(regexError(kConfigMapKeyMsg, kConfigMapKeyFmt, {"key.name", "KEY_NAME", "key-name"}));
    appendChDirErrors(value, errs);
    return errs;
}

std::string generateName(std::string_view base, std::mt19937_64 &engine)
{
    constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
    constexpr size_t kRandomLength = 5;
    constexpr size_t kMaxBaseLength = 63 - kRandomLength;
    std::string name(base.substr(0, kMaxBaseLength));
    std::uniform_int_distribution<size_t> pick(0, kAlphabet.size() - 1);
    for (size_t i = 0; i < kRandomLength; ++i)
        name += kAlphabet[pick(engine)];
    return name;
}

std::string generateName(std::string_view base)
{
    thread_local std::mt19937_64 engine{std::random_device{}()};
    return generateName(base, engine);
}

std::string quoteForMessage(std::string_view text)
{
    constexpr size_t kMaxShown = 100;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "\"";
    size_t i = 0;
    while (i < text.size() && i < kMaxShown) {
        const char c = text[i];
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (u < 0x20 || u == 0x7f) {
            out += "\\x";
            out += kHex[u >> 4];
            out += kHex[u & 15];
        } else if (u >= 0x80) {
            // Valid UTF-8 stays readable; stray bytes are escaped so the message is valid UTF-8.
            if (const size_t len = utf8SequenceLength(text.substr(i)); len > 0) {
                out.append(text.substr(i, len));
                i += len;
                continue;
            }
            out += "\\x";
            out += kHex[u >> 4];
            out += kHex[u & 15];
        } else {
            out += c;
        }
        ++i;
    }
    out += '"';
    if (i < text.size())
        out += "...";
    return out;
}

} // namespace podscape::core::model
