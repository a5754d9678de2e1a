// libFuzzer target for FieldSelector::parse: any input parses or fails with BadRequest and a
// valid UTF-8 message; a parsed selector prints to text that parses back to an equal selector,
// whose own text is then a fixed point; escaping round-trips every value.
#include "core/model/fieldselector.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
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
    auto parsed = FieldSelector::parse(text);
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
    const FieldSelector &s = *parsed;
    const std::string printed = s.toString();
    auto again = FieldSelector::parse(printed);
    if (!again)
        failWith("printed form does not parse", text, printed + ": " + again.error().message());
    if (!(*again == s))
        failWith("printed form is a different selector", text, printed + " -> " + again->toString());
    // Terms are ordered by their text, which "==" -> "=" may change once; after that it is stable.
    const std::string canonical = again->toString();
    auto third = FieldSelector::parse(canonical);
    if (!third || third->toString() != canonical)
        failWith("canonical form is not a fixed point", text, canonical);

    std::map<std::string, std::string, std::less<>> object;
    for (const auto &r : s.requirements()) {
        auto back = FieldSelector::unescapeValue(FieldSelector::escapeValue(r.value));
        if (!back || *back != r.value)
            failWith("escaping does not round-trip", text, r.value);
        object[r.field] = r.value;
    }
    const auto get = [&](std::string_view field) -> std::optional<std::string> {
        const auto it = object.find(field);
        return it == object.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    if (s.matches(get) != again->matches(get) || s.matches({}) != again->matches({}))
        failWith("re-parsed selector matches differently", text, printed);
    return 0;
}
