#pragma once
// Base64 (RFC 4648, with padding), as Kubernetes' JSON carries []byte fields.
#include <optional>
#include <string>
#include <string_view>

namespace podscape::core {

std::string base64Encode(std::string_view data);
// Strict standard alphabet with padding, as Go's StdEncoding reads it (so kubeconfig `*-data`
// and Secret data decode the same here as in kubectl); '\r' and '\n' are skipped.
// nullopt on any other character, bad padding or a truncated quantum.
std::optional<std::string> base64Decode(std::string_view text);

} // namespace podscape::core
