// libFuzzer target for ProtobufDecoder::decode, which reads kubectl's protobuf request bodies:
// any input decodes or fails with BadRequest/UnsupportedMediaType (never a crash, UB or
// runaway recursion), and whatever decodes is a JSON object that serializes (valid UTF-8).
#include "core/apiserver/protobufdecoder.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

using namespace podscape::core;
using namespace podscape::core::apiserver;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view body(reinterpret_cast<const char *>(data), size);
    auto decoded = ProtobufDecoder::decode(body);
    if (!decoded) {
        const Reason r = decoded.error().reason();
        if (r != Reason::BadRequest && r != Reason::UnsupportedMediaType) {
            fprintf(stderr, "unexpected reason for: %s\n", decoded.error().message().c_str());
            abort();
        }
        (void)nlohmann::json(decoded.error().message()).dump(); // the message goes into a Status
        return 0;
    }
    if (!decoded->is_object() || !decoded->contains("kind")) {
        fprintf(stderr, "decoded to something that is not an object with a kind\n");
        abort();
    }
    (void)decoded->dump(); // throws (and so aborts) on invalid UTF-8
    return 0;
}
