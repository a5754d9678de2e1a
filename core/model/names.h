#pragma once
// Validation of names and small string values, with the API server's messages word for word
// (apimachinery pkg/util/validation), so errors read the same as from a real cluster and
// scripts matching on them keep working. Each check returns every problem; empty = valid.

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace podscape::core::model {

// Most object names (ConfigMap, Secret, Deployment...): DNS subdomain, at most 253 characters.
std::vector<std::string> isDns1123Subdomain(std::string_view value);
// Namespace and container names: a DNS label, at most 63 characters.
// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
bool isValidUtf8(std::string_view s);

std::vector<std::string> isDns1123Label(std::string_view value);
// Service names: like a DNS label but must start with a letter.
std::vector<std::string> isDns1035Label(std::string_view value);
// Label and annotation keys: [prefix/]name, prefix a DNS subdomain, name at most 63.
std::vector<std::string> isQualifiedName(std::string_view value);
std::vector<std::string> isValidLabelValue(std::string_view value);
// Named container/service ports (IANA_SVC_NAME): at most 15, [-a-z0-9], one letter at least.
std::vector<std::string> isValidPortName(std::string_view value);
std::vector<std::string> isValidPortNum(int64_t port);
// IPv4 or IPv6, leniently like Kubernetes (IPv4 octets may have leading zeros).
std::vector<std::string> isValidIp(std::string_view value);
// An address/prefix such as 10.9.8.0/24 or 2001:db8::/64 (host bits may be set).
std::vector<std::string> isValidCidr(std::string_view value);
std::vector<std::string> isValidEnvVarName(std::string_view value);
// Keys of ConfigMap and Secret data.
std::vector<std::string> isConfigMapKey(std::string_view value);

// metadata.generateName: base (cut to 58 characters) plus 5 random characters, at most 63,
// from Kubernetes' alphabet without vowels (no words) and without look-alikes (0/o, 1/l).
std::string generateName(std::string_view base);
std::string generateName(std::string_view base, std::mt19937_64 &engine);

// Text for an error message: double-quoted, with quotes, backslashes and unprintable bytes
// escaped (like Go's %q for ASCII) and very long text cut, so any input can be shown safely.
std::string quoteForMessage(std::string_view text);

} // namespace podscape::core::model
