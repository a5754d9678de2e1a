#include "labelselector.h"

#include "names.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>

namespace podscape::core::model {

namespace {

// Go's strconv.ParseInt(s, 10, 64), which Kubernetes uses for the '>' and '<' operators.
std::optional<int64_t> parseGoInt64(std::string_view s)
{
    bool negative = false;
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    uint64_t v = 0;
    if (std::from_chars(s.data(), s.data() + s.size(), v).ec != std::errc{})
        return std::nullopt;
    constexpr uint64_t kMax = uint64_t(std::numeric_limits<int64_t>::max());
    if (!negative)
        return v <= kMax ? std::optional<int64_t>(int64_t(v)) : std::nullopt;
    if (v > kMax + 1)
        return std::nullopt;
    return v == kMax + 1 ? std::numeric_limits<int64_t>::min() : -int64_t(v);
}

std::string join(const std::vector<std::string> &parts, std::string_view separator)
{
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) {
        if (i)
            out += separator;
        out += parts[i];
    }
    return out;
}

// ---- The string syntax: the same tokens and grammar as Kubernetes' labels.Parse -------------

enum class Tok { End, OpenParen, CloseParen, Comma, Not, Equals, DoubleEquals, NotEquals, Greater, Less, In, NotIn, Identifier };

struct Token {
    Tok kind;
    std::string_view text;
    size_t pos;
};

bool isWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool isSpecial(char c)
{
    switch (c) {
    case '=': case '!': case '(': case ')': case ',': case '>': case '<': return true;
    default: return false;
    }
}

std::vector<Token> lex(std::string_view s)
{
    std::vector<Token> tokens;
    size_t pos = 0;
    while (true) {
        while (pos < s.size() && isWhitespace(s[pos]))
            ++pos;
        if (pos == s.size()) {
            tokens.push_back({Tok::End, {}, pos});
            return tokens;
        }
        const size_t start = pos;
        const char c = s[pos];
        if (isSpecial(c)) {
            // The longest symbol wins: "!=" and "==" are the only two-character ones.
            const bool twoChars = pos + 1 < s.size() && s[pos + 1] == '=' && (c == '!' || c == '=');
            Tok kind = Tok::End;
            switch (c) {
            case '=': kind = twoChars ? Tok::DoubleEquals : Tok::Equals; break;
            case '!': kind = twoChars ? Tok::NotEquals : Tok::Not; break;
            case '(': kind = Tok::OpenParen; break;
            case ')': kind = Tok::CloseParen; break;
            case ',': kind = Tok::Comma; break;
            case '>': kind = Tok::Greater; break;
            case '<': kind = Tok::Less; break;
            }
            pos += twoChars ? 2 : 1;
            tokens.push_back({kind, s.substr(start, pos - start), start});
            continue;
        }
        while (pos < s.size() && !isWhitespace(s[pos]) && !isSpecial(s[pos]))
            ++pos;
        const std::string_view word = s.substr(start, pos - start);
        const Tok kind = word == "in" ? Tok::In : (word == "notin" ? Tok::NotIn : Tok::Identifier);
        tokens.push_back({kind, word, start});
    }
}

std::string describe(const Token &t)
{
    if (t.kind == Tok::End)
        return "end of string";
    const bool plain = t.text.size() <= 40 && std::all_of(t.text.begin(), t.text.end(), [](char c) {
                           return c > 0x20 && c < 0x7f && c != '\'';
                       });
    return plain ? "'" + std::string(t.text) + "'" : quoteForMessage(t.text);
}

struct ParsedValue {
    std::string text;
    size_t pos;
};

class Parser
{
public:
    explicit Parser(std::string_view text) : m_text(text), m_tokens(lex(text)) {}

    Result<std::vector<LabelSelector::Requirement>> parse()
    {
        std::vector<LabelSelector::Requirement> requirements;
        while (true) {
            const Token t = lookahead(true);
            if (t.kind == Tok::End)
                return requirements;
            if (t.kind != Tok::Identifier && t.kind != Tok::Not)
                return unexpected(t, "'!', a key or end of string");
            auto r = parseRequirement();
            if (!r)
                return r.takeError();
            requirements.push_back(std::move(*r));
            const Token next = consume(true);
            if (next.kind == Tok::End)
                return requirements;
            if (next.kind != Tok::Comma)
                return unexpected(next, "',' or end of string");
            const Token after = lookahead(true);
            if (after.kind != Tok::Identifier && after.kind != Tok::Not)
                return unexpected(after, "'!' or a key after ','");
        }
    }

private:
    // In value position the words "in" and "notin" are plain identifiers ("x in (in)").
    Token lookahead(bool values) const { return asContext(m_tokens[m_pos], values); }
    Token consume(bool values)
    {
        const Token t = asContext(m_tokens[m_pos], values);
        if (m_pos + 1 < m_tokens.size())
            ++m_pos;
        return t;
    }
    static Token asContext(Token t, bool values)
    {
        if (values && (t.kind == Tok::In || t.kind == Tok::NotIn))
            t.kind = Tok::Identifier;
        return t;
    }

    Error fail(const std::string &problem) const
    {
        return Error::badRequest("unable to parse label selector " + quoteForMessage(m_text) + ": " + problem);
    }
    Error unexpected(const Token &t, std::string_view expected) const
    {
        return fail("found " + describe(t) + " at position " + std::to_string(t.pos) + ", expected: " +
                    std::string(expected));
    }

    Result<LabelSelector::Requirement> parseRequirement()
    {
        using Op = LabelSelector::Operator;
        Token t = consume(true);
        std::optional<Op> op;
        if (t.kind == Tok::Not) {
            op = Op::DoesNotExist;
            t = consume(true);
        }
        if (t.kind != Tok::Identifier)
            return unexpected(t, "a key");
        const std::string key(t.text);
        if (auto errs = isQualifiedName(key); !errs.empty())
            return fail("invalid key " + quoteForMessage(key) + " at position " + std::to_string(t.pos) + ": " +
                        join(errs, "; "));
        const Token next = lookahead(true);
        if (op || next.kind == Tok::End || next.kind == Tok::Comma)
            return LabelSelector::Requirement{key, op.value_or(Op::Exists), {}};

        const Token opToken = consume(false);
        switch (opToken.kind) {
        case Tok::In: op = Op::In; break;
        case Tok::NotIn: op = Op::NotIn; break;
        case Tok::Equals: op = Op::Equals; break;
        case Tok::DoubleEquals: op = Op::DoubleEquals; break;
        case Tok::NotEquals: op = Op::NotEquals; break;
        case Tok::Greater: op = Op::GreaterThan; break;
        case Tok::Less: op = Op::LessThan; break;
        default: return unexpected(opToken, "an operator (in, notin, =, ==, !=, >, <)");
        }

        std::vector<ParsedValue> values;
        if (*op == Op::In || *op == Op::NotIn) {
            if (auto r = parseValueSet(values); !r)
                return r.takeError();
        } else {
            const Token v = lookahead(true);
            if (v.kind == Tok::End || v.kind == Tok::Comma) {
                values.push_back({"", v.pos});
            } else {
                const Token value = consume(true);
                if (value.kind != Tok::Identifier)
                    return unexpected(value, "a value");
                values.push_back({std::string(value.text), value.pos});
            }
        }

        for (const auto &v : values) {
            if ((*op == Op::GreaterThan || *op == Op::LessThan) && !parseGoInt64(v.text))
                return fail("invalid value " + quoteForMessage(v.text) + " for key " + quoteForMessage(key) +
                            " at position " + std::to_string(v.pos) + ": for '>' and '<' the value must be an integer");
            if (auto errs = isValidLabelValue(v.text); !errs.empty())
                return fail("invalid value " + quoteForMessage(v.text) + " for key " + quoteForMessage(key) +
                            " at position " + std::to_string(v.pos) + ": " + join(errs, "; "));
        }
        // A set, as Kubernetes parses into one: sorted, each value once.
        std::set<std::string> unique;
        for (auto &v : values)
            unique.insert(std::move(v.text));
        return LabelSelector::Requirement{key, *op, std::vector<std::string>(unique.begin(), unique.end())};
    }

    // "(a,b)"; empty entries count as the empty value: "()" and "(,)" are {""}, "(a,)" {"", a}.
    Result<void> parseValueSet(std::vector<ParsedValue> &values)
    {
        const Token open = consume(true);
        if (open.kind != Tok::OpenParen)
            return unexpected(open, "'('");
        const Token first = lookahead(true);
        if (first.kind == Tok::CloseParen) {
            consume(true);
            values.push_back({"", first.pos});
            return {};
        }
        if (first.kind != Tok::Identifier && first.kind != Tok::Comma)
            return unexpected(first, "',', ')' or a value");
        while (true) {
            const Token t = consume(true);
            if (t.kind == Tok::Identifier) {
                values.push_back({std::string(t.text), t.pos});
                const Token next = lookahead(true);
                if (next.kind == Tok::CloseParen)
                    break;
                if (next.kind != Tok::Comma)
                    return unexpected(next, "',' or ')'");
            } else if (t.kind == Tok::Comma) {
                if (values.empty())
                    values.push_back({"", t.pos});
                const Token next = lookahead(true);
                if (next.kind == Tok::CloseParen) {
                    values.push_back({"", t.pos});
                    break;
                }
                if (next.kind == Tok::Comma) {
                    consume(true);
                    values.push_back({"", next.pos});
                }
            } else {
                return unexpected(t, "',' or a value");
            }
        }
        consume(true); // the ')' seen above
        return {};
    }

    std::string_view m_text;
    std::vector<Token> m_tokens;
    size_t m_pos = 0;
};

// ---- JSON forms: problems collected as the API server's field errors ------------------------

class FieldErrors
{
public:
    void required(std::string field, std::string_view detail)
    {
        add(cause::Required, std::move(field), "Required value: " + std::string(detail));
    }
    void forbidden(std::string field, std::string_view detail)
    {
        add(cause::Forbidden, std::move(field), "Forbidden: " + std::string(detail));
    }
    void invalid(std::string field, std::string_view value, std::string_view detail)
    {
        add(cause::Invalid, std::move(field), "Invalid value: " + quoteForMessage(value) + ": " + std::string(detail));
    }
    void typeInvalid(std::string field, const nlohmann::json &value, std::string_view expected)
    {
        add(cause::TypeInvalid, std::move(field),
            "Invalid value: " + std::string(value.type_name()) + ": must be " + std::string(expected));
    }
    bool empty() const { return m_causes.empty(); }

    // One cause: "field: message"; several: "[a, b]", as Kubernetes aggregates them.
    Error toError() const
    {
        std::vector<std::string> lines;
        for (const auto &c : m_causes)
            lines.push_back(c.field.empty() ? c.message : c.field + ": " + c.message);
        Error e(Reason::Invalid, lines.size() == 1 ? lines.front() : "[" + join(lines, ", ") + "]");
        for (const auto &c : m_causes)
            e.addCause(c);
        return e;
    }

private:
    void add(std::string_view type, std::string field, std::string message)
    {
        m_causes.push_back({std::string(type), std::move(message), std::move(field)});
    }
    std::vector<Cause> m_causes;
};

std::string childPath(std::string_view parent, std::string_view child)
{
    if (parent.empty())
        return std::string(child);
    return std::string(parent) + "." + std::string(child);
}

// Checks a plain map of labels; the key and value problems are reported at `field` itself,
// as Kubernetes' ValidateLabels does.
void collectMap(const nlohmann::json &map, const std::string &field, FieldErrors &errors,
                std::vector<LabelSelector::Requirement> &out)
{
    for (const auto &[key, value] : map.items()) {
        if (!value.is_string()) {
            errors.typeInvalid(field + "[" + key + "]", value, "a string");
            continue;
        }
        for (const auto &msg : isQualifiedName(key))
            errors.invalid(field, key, msg);
        const auto &text = value.get_ref<const std::string &>();
        for (const auto &msg : isValidLabelValue(text))
            errors.invalid(field, text, msg);
        out.push_back({key, LabelSelector::Operator::Equals, {text}});
    }
}

void sortByKey(std::vector<LabelSelector::Requirement> &requirements)
{
    std::stable_sort(requirements.begin(), requirements.end(),
                     [](const auto &a, const auto &b) { return a.key < b.key; });
}

} // namespace

Labels labelsFromJson(const nlohmann::json &metadataLabelsObject)
{
    Labels labels;
    if (!metadataLabelsObject.is_object())
        return labels;
    for (const auto &[key, value] : metadataLabelsObject.items())
        if (value.is_string())
            labels.emplace(key, value.get<std::string>());
    return labels;
}

bool LabelSelector::Requirement::matches(const Labels &labels) const
{
    const auto it = labels.find(key);
    return matchesValue(it == labels.end() ? nullptr : &it->second);
}

bool LabelSelector::Requirement::matchesValue(const std::string *value) const
{
    const bool has = value != nullptr;
    const auto hasValue = [&] { return std::find(values.begin(), values.end(), *value) != values.end(); };
    switch (op) {
    case Operator::In:
    case Operator::Equals:
    case Operator::DoubleEquals: return has && hasValue();
    case Operator::NotIn:
    case Operator::NotEquals: return !has || !hasValue();
    case Operator::Exists: return has;
    case Operator::DoesNotExist: return !has;
    case Operator::GreaterThan:
    case Operator::LessThan: {
        if (!has || values.size() != 1)
            return false;
        const auto actual = parseGoInt64(*value);
        const auto bound = parseGoInt64(values.front());
        if (!actual || !bound)
            return false;
        return op == Operator::GreaterThan ? *actual > *bound : *actual < *bound;
    }
    }
    return false;
}

std::string LabelSelector::Requirement::toString() const
{
    std::string out = op == Operator::DoesNotExist ? "!" + key : key;
    switch (op) {
    case Operator::Exists:
    case Operator::DoesNotExist: return out;
    case Operator::In: out += " in ("; break;
    case Operator::NotIn: out += " notin ("; break;
    case Operator::Equals: out += "="; break;
    case Operator::DoubleEquals: out += "=="; break;
    case Operator::NotEquals: out += "!="; break;
    case Operator::GreaterThan: out += ">"; break;
    case Operator::LessThan: out += "<"; break;
    }
    std::vector<std::string> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    out += join(sorted, ",");
    if (op == Operator::In || op == Operator::NotIn)
        out += ")";
    return out;
}

LabelSelector LabelSelector::nothing()
{
    LabelSelector s;
    s.m_nothing = true;
    return s;
}

Result<LabelSelector> LabelSelector::parse(std::string_view text)
{
    auto requirements = Parser(text).parse();
    if (!requirements)
        return requirements.takeError();
    LabelSelector s;
    s.m_requirements = std::move(*requirements);
    sortByKey(s.m_requirements);
    return s;
}

Result<LabelSelector> LabelSelector::fromJson(const nlohmann::json &selector, std::string_view fieldPath)
{
    if (selector.is_null())
        return nothing();
    FieldErrors errors;
    if (!selector.is_object()) {
        errors.typeInvalid(std::string(fieldPath), selector, "an object with matchLabels and matchExpressions");
        return errors.toError();
    }
    std::vector<Requirement> requirements;

    const std::string labelsPath = childPath(fieldPath, "matchLabels");
    if (const auto it = selector.find("matchLabels"); it != selector.end() && !it->is_null()) {
        if (it->is_object())
            collectMap(*it, labelsPath, errors, requirements);
        else
            errors.typeInvalid(labelsPath, *it, "an object of label keys and values");
    }

    const std::string exprsPath = childPath(fieldPath, "matchExpressions");
    if (const auto it = selector.find("matchExpressions"); it != selector.end() && !it->is_null()) {
        if (!it->is_array())
            errors.typeInvalid(exprsPath, *it, "a list of requirements");
        for (size_t i = 0; it->is_array() && i < it->size(); ++i) {
            const auto &expr = (*it)[i];
            const std::string path = exprsPath + "[" + std::to_string(i) + "]";
            if (!expr.is_object()) {
                errors.typeInvalid(path, expr, "an object with key, operator and values");
                continue;
            }
            const auto stringField = [&](const char *name) -> std::optional<std::string> {
                const auto f = expr.find(name);
                if (f == expr.end() || f->is_null())
                    return std::string();
                if (!f->is_string()) {
                    errors.typeInvalid(path + "." + name, *f, "a string");
                    return std::nullopt;
                }
                return f->get<std::string>();
            };
            const auto key = stringField("key");
            const auto opName = stringField("operator");
            std::vector<std::string> values;
            bool valuesOk = true;
            if (const auto v = expr.find("values"); v != expr.end() && !v->is_null()) {
                if (!v->is_array()) {
                    errors.typeInvalid(path + ".values", *v, "a list of strings");
                    valuesOk = false;
                }
                for (size_t j = 0; valuesOk && j < v->size(); ++j) {
                    if ((*v)[j].is_string())
                        values.push_back((*v)[j].get<std::string>());
                    else
                        errors.typeInvalid(path + ".values[" + std::to_string(j) + "]", (*v)[j], "a string");
                }
            }

            // The checks and wording of Kubernetes' ValidateLabelSelectorRequirement.
            std::optional<Operator> op;
            if (opName) {
                if (*opName == "In" || *opName == "NotIn") {
                    op = *opName == "In" ? Operator::In : Operator::NotIn;
                    if (valuesOk && values.empty())
                        errors.required(path + ".values", "must be specified when `operator` is 'In' or 'NotIn'");
                } else if (*opName == "Exists" || *opName == "DoesNotExist") {
                    op = *opName == "Exists" ? Operator::Exists : Operator::DoesNotExist;
                    if (!values.empty())
                        errors.forbidden(path + ".values",
                                         "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
                } else {
                    errors.invalid(path + ".operator", *opName, "not a valid selector operator");
                }
            }
            if (key)
                for (const auto &msg : isQualifiedName(*key))
                    errors.invalid(path + ".key", *key, msg);
            for (size_t j = 0; j < values.size(); ++j)
                for (const auto &msg : isValidLabelValue(values[j]))
                    errors.invalid(path + ".values[" + std::to_string(j) + "]", values[j], msg);
            if (key && op)
                requirements.push_back({*key, *op, std::move(values)});
        }
    }

    if (!errors.empty())
        return errors.toError();
    LabelSelector s;
    s.m_requirements = std::move(requirements);
    sortByKey(s.m_requirements);
    return s;
}

Result<LabelSelector> LabelSelector::fromMatchLabels(const nlohmann::json &selector, std::string_view fieldPath)
{
    if (selector.is_null())
        return nothing();
    FieldErrors errors;
    if (!selector.is_object()) {
        errors.typeInvalid(std::string(fieldPath), selector, "an object of label keys and values");
        return errors.toError();
    }
    if (selector.empty())
        return nothing();
    std::vector<Requirement> requirements;
    collectMap(selector, std::string(fieldPath), errors, requirements);
    if (!errors.empty())
        return errors.toError();
    LabelSelector s;
    s.m_requirements = std::move(requirements);
    sortByKey(s.m_requirements);
    return s;
}

Result<LabelSelector> LabelSelector::fromSet(const Labels &labels)
{
    FieldErrors errors;
    LabelSelector s;
    for (const auto &[key, value] : labels) {
        for (const auto &msg : isQualifiedName(key))
            errors.invalid("", key, msg);
        for (const auto &msg : isValidLabelValue(value))
            errors.invalid("", value, msg);
        s.m_requirements.push_back({key, Operator::Equals, {value}});
    }
    if (!errors.empty())
        return errors.toError();
    return s; // a std::map iterates in key order already
}

Result<LabelSelector::Requirement> LabelSelector::makeRequirement(std::string key, Operator op,
                                                                  std::vector<std::string> values)
{
    std::vector<std::string> problems;
    for (const auto &msg : isQualifiedName(key))
        problems.push_back("key " + quoteForMessage(key) + ": " + msg);
    switch (op) {
    case Operator::In:
    case Operator::NotIn:
        if (values.empty())
            problems.emplace_back("for 'in', 'notin' operators, values set can't be empty");
        break;
    case Operator::Equals:
    case Operator::DoubleEquals:
    case Operator::NotEquals:
        if (values.size() != 1)
            problems.emplace_back("exact-match compatibility requires one single value");
        break;
    case Operator::Exists:
    case Operator::DoesNotExist:
        if (!values.empty())
            problems.emplace_back("values set must be empty for exists and does not exist");
        break;
    case Operator::GreaterThan:
    case Operator::LessThan:
        if (values.size() != 1)
            problems.emplace_back("for 'Gt', 'Lt' operators, exactly one value is required");
        for (const auto &v : values)
            if (!parseGoInt64(v))
                problems.push_back("value " + quoteForMessage(v) + ": for 'Gt', 'Lt' operators, the value must be an integer");
        break;
    }
    for (const auto &v : values)
        for (const auto &msg : isValidLabelValue(v))
            problems.push_back("value " + quoteForMessage(v) + ": " + msg);
    if (!problems.empty())
        return Error::badRequest("invalid label selector requirement: " + join(problems, "; "));
    return Requirement{std::move(key), op, std::move(values)};
}

LabelSelector &LabelSelector::add(Requirement requirement)
{
    if (m_nothing)
        return *this;
    const auto at = std::upper_bound(m_requirements.begin(), m_requirements.end(), requirement.key,
                                     [](const std::string &key, const Requirement &r) { return key < r.key; });
    m_requirements.insert(at, std::move(requirement));
    return *this;
}

bool LabelSelector::matches(const Labels &labels) const
{
    if (m_nothing)
        return false;
    return std::all_of(m_requirements.begin(), m_requirements.end(),
                       [&](const Requirement &r) { return r.matches(labels); });
}

bool LabelSelector::matchesJson(const nlohmann::json &labelsObject) const
{
    if (m_nothing)
        return false;
    return std::all_of(m_requirements.begin(), m_requirements.end(), [&](const Requirement &r) {
        const std::string *value = nullptr;
        if (labelsObject.is_object())
            if (auto it = labelsObject.find(r.key); it != labelsObject.end() && it->is_string())
                value = &it->get_ref<const std::string &>();
        return r.matchesValue(value);
    });
}

std::optional<std::string> LabelSelector::requiresExactMatch(std::string_view key) const
{
    for (const auto &r : m_requirements) {
        if (r.key != key)
            continue;
        if ((r.op == Operator::Equals || r.op == Operator::DoubleEquals || r.op == Operator::In) && r.values.size() == 1)
            return r.values.front();
        return std::nullopt;
    }
    return std::nullopt;
}

std::string LabelSelector::toString() const
{
    std::string out;
    for (size_t i = 0; i < m_requirements.size(); ++i) {
        if (i)
            out += ',';
        out += m_requirements[i].toString();
    }
    return out;
}

std::string_view LabelSelector::operatorName(Operator op)
{
    switch (op) {
    case Operator::In: return "in";
    case Operator::NotIn: return "notin";
    case Operator::Exists: return "exists";
    case Operator::DoesNotExist: return "!";
    case Operator::Equals: return "=";
    case Operator::DoubleEquals: return "==";
    case Operator::NotEquals: return "!=";
    case Operator::GreaterThan: return "gt";
    case Operator::LessThan: return "lt";
    }
    return "";
}

} // namespace podscape::core::model
