#pragma once
// Base64 (RFC 4648, with padding), as Kubernetes' JSON carries []byte fields.
#include <string>
#include <string_view>

namespace podscape::core {

std::string base64Encode(std::string_view data);

} // namespace podscape::core
