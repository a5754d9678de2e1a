// libFuzzer target for Quantity::parse: any input parses or fails with BadRequest (never a crash
// or UB), an error message is valid UTF-8 (it goes into a JSON Status), and whatever parses has a
// canonical form that parses back to the same amount and prints the same again.
#include "core/model/quantity.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

using namespace podscape::core;
using namespace podscape::core::model;

namespace {

[[noreturn]] void failWith(const char *what, std::string_view input, const std::string &detail)
{
    fprintf(stderr, "%s\ninput: %s\ndetail: %s\n", what, nlohmann::json(std::string(input)).dump(-1, ' ', true).c_str(),
            detail.c_str());
    abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    auto parsed = Quantity::parse(text);
    if (!parsed) {
        if (parsed.error().reason() != Reason::BadRequest)
            failWith("error is not BadRequest", text, parsed.error().message());
        try {
            (void)nlohmann::json(parsed.error().message()).dump();
        } catch (const nlohmann::json::exception &) {
            failWith("error message is not valid UTF-8", text, parsed.error().message());
        }
        return 0;
    }
    const Quantity q = *parsed;
    const std::string canonical = q.toString();
    auto again = Quantity::parse(canonical);
    if (!again)
        failWith("canonical form does not parse", text, canonical + ": " + again.error().message());
    if (*again != q)
        failWith("canonical form changes the amount", text, canonical + " -> " + again->toString());
    if (again->toString() != canonical)
        failWith("canonical form is not a fixed point", text, canonical + " -> " + again->toString());

    // Arithmetic and rounding agree with the order.
    Quantity diff = q;
    if (!diff.sub(q).isZero())
        failWith("q - q is not zero", text, diff.toString());
    if (q.sign() != (q.value() > 0) - (q.value() < 0) || q.sign() != (q.milliValue() > 0) - (q.milliValue() < 0))
        failWith("rounding changed the sign", text, canonical);
    if ((q.sign() > 0 && !(q > Quantity())) || (q.sign() < 0 && !(q < Quantity())))
        failWith("sign disagrees with compare", text, canonical);
    Quantity neg = q;
    neg.neg();
    if (neg.compare(Quantity()) != -q.compare(Quantity()) || neg.toString() != (q.isZero() ? "0" : q.sign() > 0 ? "-" + canonical : canonical.substr(1)))
        failWith("negation is not symmetric", text, neg.toString());
    return 0;
}
