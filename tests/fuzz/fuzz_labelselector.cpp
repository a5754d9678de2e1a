// libFuzzer target for LabelSelector::parse: any input parses or fails with BadRequest and a
// valid UTF-8 message; a parsed selector prints canonically, the canonical text parses back to
// an equal selector and prints the same, and the metav1.LabelSelector JSON built from it selects
// the same labels.
#include "core/model/labelselector.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

using namespace podscape::core;
using namespace podscape::core::model;
using Op = LabelSelector::Operator;

namespace {

[[noreturn]] void failWith(const char *what, std::string_view input, const std::string &detail)
{
    fprintf(stderr, "%s\ninput: %s\ndetail: %s\n", what, nlohmann::json(std::string(input)).dump(-1, ' ', true).c_str(),
            detail.c_str());
    abort();
}

// The metav1 form of a parsed selector, or null when it has '>' or '<' (which it cannot express).
nlohmann::json asMetav1(const LabelSelector &s)
{
    nlohmann::json exprs = nlohmann::json::array();
    for (const auto &r : s.requirements()) {
        const char *op = nullptr;
        switch (r.op) {
        case Op::In: case Op::Equals: case Op::DoubleEquals: op = "In"; break;
        case Op::NotIn: case Op::NotEquals: op = "NotIn"; break;
        case Op::Exists: op = "Exists"; break;
        case Op::DoesNotExist: op = "DoesNotExist"; break;
        case Op::GreaterThan: case Op::LessThan: return nullptr;
        }
        nlohmann::json e = {{"key", r.key}, {"operator", op}};
        if (!r.values.empty())
            e["values"] = r.values;
        exprs.push_back(std::move(e));
    }
    return {{"matchExpressions", exprs}};
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    auto parsed = LabelSelector::parse(text);
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
    const LabelSelector &s = *parsed;
    const std::string canonical = s.toString();
    auto again = LabelSelector::parse(canonical);
    if (!again)
        failWith("canonical form does not parse", text, canonical + ": " + again.error().message());
    if (!(*again == s))
        failWith("canonical form is a different selector", text, canonical + " -> " + again->toString());
    if (again->toString() != canonical)
        failWith("canonical form is not a fixed point", text, canonical + " -> " + again->toString());
    if (s.isEmpty() != canonical.empty() || s.selectsNothing())
        failWith("emptiness disagrees with the text", text, canonical);

    // Labels that use every value mentioned, and none: both selectors judge them alike, and the
    // metav1 JSON form (where it exists) too.
    Labels some;
    for (const auto &r : s.requirements())
        some[r.key] = r.values.empty() ? std::string() : r.values.back();
    const Labels none;
    const nlohmann::json doc = asMetav1(s);
    std::optional<LabelSelector> fromJson;
    if (!doc.is_null()) {
        auto j = LabelSelector::fromJson(doc);
        if (!j)
            failWith("metav1 form is rejected", text, doc.dump() + ": " + j.error().message());
        fromJson = *j;
    }
    for (const Labels *labels : {static_cast<const Labels *>(&some), &none}) {
        const bool m = s.matches(*labels);
        if (again->matches(*labels) != m)
            failWith("re-parsed selector matches differently", text, canonical);
        if (fromJson && fromJson->matches(*labels) != m)
            failWith("metav1 form matches differently", text, doc.dump());
    }
    return 0;
}
