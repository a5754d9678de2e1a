// libFuzzer target for the YAML decoder: any input either decodes or fails with an Error
// (never a crash, hang or unbounded allocation), and whatever decodes re-encodes to YAML
// that decodes to the same JSON.
#include "core/model/yamlcodec.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace podscape::core::model;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view text(reinterpret_cast<const char *>(data), size);
    auto docs = decodeManifests(text, YamlDecodeOptions::withMaxBytes(1 << 20));
    if (!docs)
        return 0;
    for (const auto &d : *docs) {
        // Non-UTF-8 strings cannot be dumped as JSON or YAML; the API server refuses them too.
        try {
            (void)d.value.dump();
        } catch (const nlohmann::json::type_error &) {
            continue;
        }
        std::string again = encodeYaml(d.value);
        auto back = decodeYamlDocument(again);
        if (!back || back->value != d.value) {
            fprintf(stderr, "round trip failed:\n%s\n---\n%s\n", d.value.dump().c_str(), again.c_str());
            abort();
        }
    }
    return 0;
}
