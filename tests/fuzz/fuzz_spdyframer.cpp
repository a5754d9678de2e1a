// libFuzzer target for SpdyFramer::feed, the first code to read a port-forward client's bytes:
// any input yields frames or an error (never a crash, UB or unbounded memory), and where it
// is cut makes no difference: fed whole or in pieces, the same frames come out.
#include "core/apiserver/spdyframer.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

using namespace podscape::core::apiserver;

namespace {

struct Outcome {
    bool ok = true;
    std::vector<SpdyFrame> frames;
};

Outcome run(std::string_view input, size_t piece)
{
    SpdyFramer f;
    Outcome out;
    while (!input.empty()) {
        const auto chunk = input.substr(0, piece);
        input.remove_prefix(chunk.size());
        auto got = f.feed(chunk);
        if (!got) {
            out.ok = false;
            return out;
        }
        for (auto &frame : *got)
            out.frames.push_back(std::move(frame));
    }
    return out;
}

bool same(const SpdyFrame &a, const SpdyFrame &b)
{
    return a.type == b.type && a.flags == b.flags && a.streamId == b.streamId && a.data == b.data && a.headers == b.headers
           && a.value == b.value;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const size_t piece = 1 + data[0] % 64;
    const std::string_view input(reinterpret_cast<const char *>(data) + 1, size - 1);
    const Outcome whole = run(input, input.size() + 1);
    const Outcome cut = run(input, piece);
    // An error can only come earlier or at the same frame when cut; frames before it agree.
    const size_t common = std::min(whole.frames.size(), cut.frames.size());
    for (size_t i = 0; i < common; ++i)
        if (!same(whole.frames[i], cut.frames[i])) {
            fprintf(stderr, "frame %zu differs when the input is fed in pieces of %zu\n", i, piece);
            abort();
        }
    if (whole.ok && cut.ok && whole.frames.size() != cut.frames.size()) {
        fprintf(stderr, "%zu frames whole, %zu in pieces of %zu\n", whole.frames.size(), cut.frames.size(), piece);
        abort();
    }
    for (const auto &f : whole.frames) {
        size_t headerBytes = 0;
        for (const auto &[k, v] : f.headers)
            headerBytes += k.size() + v.size();
        if (headerBytes > SpdyFramer::kMaxHeaderBlock || f.data.size() > SpdyFramer::kMaxFrame) {
            fprintf(stderr, "a frame past the limits was accepted\n");
            abort();
        }
    }
    return 0;
}
