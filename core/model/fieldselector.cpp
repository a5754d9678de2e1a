#include "fieldselector.h"

#include "names.h"

#include <algorithm>
#include <tuple>

namespace podscape::core::model {

namespace {

// Splits at commas that are not escaped; escaped ones stay in the term with their backslash.
std::vector<std::string_view> splitTerms(std::string_view text)
{
    std::vector<std::string_view> terms;
    if (text.empty())
        return terms;
    size_t start = 0;
    bool escaped = false;
    for (size_t i = 0; i < text.size(); ++i) {
        if (escaped)
            escaped = false;
        else if (text[i] == '\\')
            escaped = true;
        else if (text[i] == ',') {
            terms.push_back(text.substr(start, i - start));
            start = i + 1;
        }
    }
    terms.push_back(text.substr(start));
    return terms;
}

std::string_view operatorText(FieldSelector::Operator op) { return op == FieldSelector::Operator::Equals ? "=" : "!="; }

auto orderKey(const FieldSelector::Requirement &r) { return std::tie(r.field, r.op, r.value); }

} // namespace

std::string FieldSelector::Requirement::toString() const
{
    return field + std::string(operatorText(op)) + escapeValue(value);
}

FieldSelector FieldSelector::oneTermEqual(std::string field, std::string value)
{
    FieldSelector s;
    s.m_requirements.push_back({std::move(field), Operator::Equals, std::move(value)});
    return s;
}

Result<FieldSelector> FieldSelector::parse(std::string_view text)
{
    auto terms = splitTerms(text);
    // Kubernetes orders the terms by their text before anything else.
    std::sort(terms.begin(), terms.end());
    FieldSelector s;
    for (const auto term : terms) {
        if (term.empty())
            continue;
        // The field has no escapes: the first operator splits the term, "!=" and "==" before "=".
        size_t at = std::string_view::npos;
        size_t opLength = 0;
        Operator op = Operator::Equals;
        for (size_t i = 0; i < term.size() && at == std::string_view::npos; ++i) {
            const std::string_view rest = term.substr(i);
            if (rest.starts_with("!=") || rest.starts_with("==")) {
                at = i;
                opLength = 2;
                op = rest[0] == '!' ? Operator::NotEquals : Operator::Equals;
            } else if (rest.starts_with("=")) {
                at = i;
                opLength = 1;
            }
        }
        if (at == std::string_view::npos)
            return Error::badRequest("invalid field selector " + quoteForMessage(text) + ": cannot understand term " +
                                     quoteForMessage(term) +
                                     ", expected <field>=<value>, <field>==<value> or <field>!=<value>");
        auto value = unescapeValue(term.substr(at + opLength));
        if (!value)
            return Error::badRequest("invalid field selector " + quoteForMessage(text) + ": term " +
                                     quoteForMessage(term) + ": " + value.error().message());
        s.m_requirements.push_back({std::string(term.substr(0, at)), op, std::move(*value)});
    }
    return s;
}

bool FieldSelector::matches(const FieldGetter &get) const
{
    for (const auto &r : m_requirements) {
        const std::string actual = get ? get(r.field).value_or(std::string()) : std::string();
        if ((actual == r.value) != (r.op == Operator::Equals))
            return false;
    }
    return true;
}

std::optional<std::string> FieldSelector::requiresExactMatch(std::string_view field) const
{
    for (const auto &r : m_requirements)
        if (r.op == Operator::Equals && r.field == field)
            return r.value;
    return std::nullopt;
}

std::string FieldSelector::toString() const
{
    std::string out;
    for (size_t i = 0; i < m_requirements.size(); ++i) {
        if (i)
            out += ',';
        out += m_requirements[i].toString();
    }
    return out;
}

bool FieldSelector::operator==(const FieldSelector &other) const
{
    if (m_requirements.size() != other.m_requirements.size())
        return false;
    auto a = m_requirements;
    auto b = other.m_requirements;
    const auto less = [](const Requirement &x, const Requirement &y) { return orderKey(x) < orderKey(y); };
    std::sort(a.begin(), a.end(), less);
    std::sort(b.begin(), b.end(), less);
    return a == b;
}

std::string FieldSelector::escapeValue(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\' || c == ',' || c == '=')
            out += '\\';
        out += c;
    }
    return out;
}

Result<std::string> FieldSelector::unescapeValue(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    for (size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (c == '\\') {
            if (i + 1 == value.size())
                return Error::badRequest("the value ends with a lone '\\' (write '\\\\' for a backslash)");
            const char next = value[++i];
            if (next != '\\' && next != ',' && next != '=')
                return Error::badRequest("invalid escape sequence " + quoteForMessage(value.substr(i - 1, 2)) +
                                         " in the value (only \\\\, \\, and \\= are allowed)");
            out += next;
        } else if (c == ',' || c == '=') {
            // Built in steps: GCC 12 warns falsely (-Warray-bounds) on one long char concatenation.
            std::string message = "unescaped '";
            message += c;
            message += "' in the value (write '\\";
            message += c;
            message += "')";
            return Error::badRequest(std::move(message));
        } else {
            out += c;
        }
    }
    return out;
}

} // namespace podscape::core::model
