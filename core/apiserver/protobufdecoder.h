#pragma once
// Request bodies in Kubernetes' protobuf encoding (application/vnd.kubernetes.protobuf), which
// kubectl's typed commands send: `kubectl create deployment|configmap|secret|namespace|service`.
// The body is the magic "k8s\0" and a runtime.Unknown holding the TypeMeta and the object's
// bytes; the object is decoded into the same JSON the API would have received, using the
// field numbers of Kubernetes' generated.proto for the kinds those commands create (see
// protobuffields.cpp). Anything else is refused with a message that says to send JSON.
//
// Go's encoder writes non-pointer fields even when empty; those zero values are dropped, so
// the JSON matches what `kubectl create --dry-run=client -o json` prints.

#include "core/base/result.h"

#include <nlohmann/json.hpp>

#include <string_view>

namespace podscape::core::apiserver {

class ProtobufDecoder
{
public:
    static constexpr std::string_view kMediaType = "application/vnd.kubernetes.protobuf";

    // The object a protobuf body holds, with apiVersion and kind; BadRequest naming the field
    // path for malformed bytes, UnsupportedMediaType for a kind it has no field table for.
    static Result<nlohmann::json> decode(std::string_view body);
};

} // namespace podscape::core::apiserver
