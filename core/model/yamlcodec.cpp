#include "yamlcodec.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <limits>
#include <sstream>

namespace podscape::core::model {

using nlohmann::json;

namespace {

// Thrown inside the decoder only; decode*() turns it into an Error.
struct DecodeFailure {
    SourcePosition at;
    std::string message;
};

std::string where(const YamlDecodeOptions &o, SourcePosition p)
{
    std::string s = o.sourceName.empty() ? std::string("line ") + std::to_string(p.line) + ", column "
                                                   + std::to_string(p.column)
                                         : o.sourceName + ":" + std::to_string(p.line) + ":" + std::to_string(p.column);
    return s;
}

Error decodeError(const YamlDecodeOptions &o, SourcePosition p, const std::string &message)
{
    Error e(Reason::BadRequest, where(o, p) + ": " + message);
    e.addCause({"FieldValueInvalid", message, "line " + std::to_string(p.line) + ", column " + std::to_string(p.column)});
    return e;
}

SourcePosition toPosition(const YAML::Mark &m) { return {m.line + 1, m.column + 1}; }

// Tabs may not indent YAML. yaml-cpp reports them in ways that do not say so (or parses the
// line as something else), and the seed notes' own example is indented with tabs, so look
// for them first. Lines inside block scalars (`|`, `>`) may hold tabs after their indentation.
std::optional<DecodeFailure> findTabIndentation(std::string_view text)
{
    int lineNo = 0;
    bool inBlock = false;
    size_t blockParentIndent = 0;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        ++lineNo;
        size_t spaces = 0;
        while (spaces < line.size() && line[spaces] == ' ')
            ++spaces;
        size_t ws = line.find_first_not_of(" \t");
        bool blank = ws == std::string_view::npos;
        if (!blank) {
            if (inBlock && spaces > blockParentIndent) {
                // content of a block scalar
            } else {
                inBlock = false;
                if (size_t tab = line.substr(0, ws).find('\t'); tab != std::string_view::npos) {
                    std::string shown(line.substr(0, std::min<size_t>(line.size(), 60)));
                    for (auto &c : shown)
                        if (c == '\t')
                            c = ' ';
                    return DecodeFailure{{lineNo, static_cast<int>(tab) + 1},
                                         "found a tab character used for indentation; YAML only allows spaces "
                                         "there. Replace the tab with spaces (line: \""
                                             + shown + "\")"};
                }
                // Does this line open a block scalar? `key: |`, `- >-`, `key: |2 # comment`
                std::string_view rest = line;
                if (size_t hash = rest.find(" #"); hash != std::string_view::npos)
                    rest = rest.substr(0, hash);
                while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t'))
                    rest.remove_suffix(1);
                while (!rest.empty() && (rest.back() == '-' || rest.back() == '+' || std::isdigit(static_cast<unsigned char>(rest.back()))))
                    rest.remove_suffix(1);
                if (!rest.empty() && (rest.back() == '|' || rest.back() == '>')) {
                    rest.remove_suffix(1);
                    if (rest.empty() || rest.back() == ' ' || rest.back() == ':' || rest.back() == '-') {
                        inBlock = true;
                        blockParentIndent = spaces;
                    }
                }
            }
        }
        pos = end + 1;
    }
    return std::nullopt;
}

// YAML streams are printable Unicode; manifests are UTF-8. yaml-cpp would otherwise guess
// UTF-16 or UTF-32 from the first bytes and read binary junk as text.
std::optional<DecodeFailure> findBadCharacter(std::string_view text)
{
    int line = 1, column = 1;
    auto bad = [&](const std::string &what) { return DecodeFailure{{line, column}, what}; };
    for (size_t i = 0; i < text.size();) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        uint32_t cp;
        size_t len;
        if (c < 0x80) {
            cp = c;
            len = 1;
        } else if ((c & 0xe0) == 0xc0) {
            cp = c & 0x1f;
            len = 2;
        } else if ((c & 0xf0) == 0xe0) {
            cp = c & 0x0f;
            len = 3;
        } else if ((c & 0xf8) == 0xf0) {
            cp = c & 0x07;
            len = 4;
        } else {
            return bad("the text is not valid UTF-8 (byte 0x" + std::string(1, "0123456789abcdef"[c >> 4]) +
                       "0123456789abcdef"[c & 15] + "); save the file as UTF-8");
        }
        if (i + len > text.size())
            return bad("the text is not valid UTF-8 (it ends inside a character); save the file as UTF-8");
        for (size_t k = 1; k < len; ++k) {
            unsigned char cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xc0) != 0x80)
                return bad("the text is not valid UTF-8; save the file as UTF-8");
            cp = (cp << 6) | (cc & 0x3f);
        }
        bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
        if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return bad("the text is not valid UTF-8; save the file as UTF-8");
        if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7f || cp == 0xfffe || cp == 0xffff)
            return bad("control character U+" + [&] {
                char b[8];
                std::snprintf(b, sizeof b, "%04X", cp);
                return std::string(b);
            }() + " is not allowed in YAML; remove it (binary data belongs base64-encoded in a Secret's data)");
        if (cp == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
        i += len;
    }
    return std::nullopt;
}

bool allDigits(std::string_view s, int base)
{
    if (s.empty())
        return false;
    for (char c : s) {
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return false;
        if (d >= base)
            return false;
    }
    return true;
}

// Go's strconv.ParseInt(s, 0, 64) after YAML 1.1 removed the underscores.
std::optional<json> parseGoInt(std::string_view s)
{
    bool negative = false;
    std::string_view body = s;
    if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
        negative = body[0] == '-';
        body.remove_prefix(1);
    }
    int base = 10;
    if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')) {
        base = 16;
        body.remove_prefix(2);
    } else if (body.size() > 2 && body[0] == '0' && (body[1] == 'o' || body[1] == 'O')) {
        base = 8;
        body.remove_prefix(2);
    } else if (body.size() > 2 && body[0] == '0' && (body[1] == 'b' || body[1] == 'B')) {
        base = 2;
        body.remove_prefix(2);
    } else if (body.size() > 1 && body[0] == '0') {
        base = 8;
        body.remove_prefix(1);
    }
    if (!allDigits(body, base))
        return std::nullopt;
    uint64_t magnitude = 0;
    auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), magnitude, base);
    if (ec != std::errc() || p != body.data() + body.size())
        return std::nullopt; // overflow: YAML then tries a float
    if (negative) {
        if (magnitude > uint64_t(std::numeric_limits<int64_t>::max()) + 1)
            return std::nullopt;
        return json(static_cast<int64_t>(0 - magnitude));
    }
    if (magnitude <= uint64_t(std::numeric_limits<int64_t>::max()))
        return json(static_cast<int64_t>(magnitude));
    return json(magnitude);
}

bool isYamlFloat(std::string_view s)
{
    // ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
    size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-'))
        ++i;
    size_t intDigits = 0, fracDigits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
        ++i, ++intDigits;
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
            ++i, ++fracDigits;
        if (intDigits == 0 && fracDigits == 0)
            return false;
    } else if (intDigits == 0) {
        return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-'))
            ++i;
        size_t expDigits = 0;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
            ++i, ++expDigits;
        if (expDigits == 0)
            return false;
    }
    return i == s.size();
}

size_t countNodes(const json &v)
{
    size_t n = 1;
    if (v.is_structured())
        for (const auto &child : v)
            n += countNodes(child);
    return n;
}

class JsonBuilder final : public YAML::EventHandler
{
public:
    JsonBuilder(const YamlDecodeOptions &options, size_t nodeBudget) : m_options(options), m_budget(nodeBudget) {}

    std::vector<YamlDocument> documents;

    void OnDocumentStart(const YAML::Mark &mark) override
    {
        m_doc = YamlDocument{};
        m_doc.start = toPosition(mark);
        m_stack.clear();
        m_anchors.clear();
    }
    void OnDocumentEnd() override
    {
        if (!m_doc.value.is_null()) {
            m_doc.index = static_cast<int>(documents.size());
            documents.push_back(std::move(m_doc));
        }
    }
    void OnNull(const YAML::Mark &mark, YAML::anchor_t anchor) override { addScalar(mark, json(nullptr), "~", anchor); }
    void OnAlias(const YAML::Mark &mark, YAML::anchor_t anchor) override
    {
        auto it = m_anchors.find(anchor);
        if (it == m_anchors.end())
            throw DecodeFailure{toPosition(mark), "unknown alias"};
        spend(it->second.second, mark);
        if (expectingKey())
            throw DecodeFailure{toPosition(mark), "an alias cannot be a mapping key"};
        beginValue(mark);
        insert(json(it->second.first), mark);
    }
    void OnScalar(const YAML::Mark &mark, const std::string &tag, YAML::anchor_t anchor, const std::string &value) override
    {
        addScalar(mark, typedScalar(mark, tag, value), value, anchor);
    }
    void OnSequenceStart(const YAML::Mark &mark, const std::string &, YAML::anchor_t anchor, YAML::EmitterStyle::value) override
    {
        openContainer(mark, json::array(), anchor);
    }
    void OnSequenceEnd() override { closeContainer(); }
    void OnMapStart(const YAML::Mark &mark, const std::string &, YAML::anchor_t anchor, YAML::EmitterStyle::value) override
    {
        openContainer(mark, json::object(), anchor);
    }
    void OnMapEnd() override
    {
        if (m_stack.back().hasKey)
            throw DecodeFailure{m_stack.back().keyPos, "mapping key without a value"};
        closeContainer();
    }

private:
    struct Frame {
        json value;
        std::string pointer;
        YAML::anchor_t anchor = 0;
        SourcePosition start;
        // maps: the key read and waiting for its value
        bool hasKey = false;
        std::string key;
        SourcePosition keyPos;
        bool keyIsMerge = false;
        std::vector<std::string> merged; // keys that came from `<<` and may be overridden
    };

    bool expectingKey() const { return !m_stack.empty() && m_stack.back().value.is_object() && !m_stack.back().hasKey; }

    void spend(size_t nodes, const YAML::Mark &mark)
    {
        if (nodes > m_budget)
            throw DecodeFailure{toPosition(mark), "the document expands to too many values (aliases that repeat "
                                                  "large parts many times); refusing to decode it"};
        m_budget -= nodes;
    }

    json typedScalar(const YAML::Mark &mark, const std::string &tag, const std::string &value)
    {
        // yaml-cpp tags plain scalars "?" and quoted or block scalars "!".
        if (tag == "!" || tag == "tag:yaml.org,2002:str" || tag == "tag:yaml.org,2002:binary")
            return json(value);
        if (tag == "?" || tag.empty())
            return resolvePlainScalar(value);
        if (tag == "tag:yaml.org,2002:int") {
            std::string digits;
            std::copy_if(value.begin(), value.end(), std::back_inserter(digits), [](char c) { return c != '_'; });
            if (auto i = parseGoInt(digits))
                return *i;
            throw DecodeFailure{toPosition(mark), "\"" + value + "\" is tagged !!int but is not an integer"};
        }
        if (tag == "tag:yaml.org,2002:float") {
            if (isYamlFloat(value) || parseGoInt(value))
                return json(std::strtod(value.c_str(), nullptr));
            throw DecodeFailure{toPosition(mark), "\"" + value + "\" is tagged !!float but is not a number"};
        }
        if (tag == "tag:yaml.org,2002:bool") {
            json b = resolvePlainScalar(value);
            if (!b.is_boolean())
                throw DecodeFailure{toPosition(mark), "\"" + value + "\" is tagged !!bool but is not true or false"};
            return b;
        }
        if (tag == "tag:yaml.org,2002:null")
            return json(nullptr);
        // Other tags (local `!foo`) carry no meaning for Kubernetes: read the text as written.
        return resolvePlainScalar(value);
    }

    void addScalar(const YAML::Mark &mark, json v, const std::string &raw, YAML::anchor_t anchor)
    {
        spend(1, mark);
        if (expectingKey()) {
            Frame &f = m_stack.back();
            // JSON keys are strings: a key reads as the text written (`8080:` is "8080").
            f.key = v.is_null() && raw != "~" ? raw : (v.is_string() ? v.get<std::string>() : raw);
            f.keyPos = toPosition(mark);
            f.keyIsMerge = f.key == "<<";
            if (!f.keyIsMerge && f.value.contains(f.key)
                && std::find(f.merged.begin(), f.merged.end(), f.key) == f.merged.end()) {
                auto first = m_doc.positions.find(f.pointer + "/" + escapePointerToken(f.key));
                std::string firstAt = first != m_doc.positions.end() ? " (first at line " + std::to_string(first->second.line) + ")" : "";
                throw DecodeFailure{f.keyPos, "duplicate key \"" + f.key + "\" in the same mapping" + firstAt
                                                  + "; remove or rename one of them"};
            }
            f.hasKey = true;
            return;
        }
        beginValue(mark);
        if (anchor)
            m_anchors[anchor] = {v, 1};
        insert(std::move(v), mark);
    }

    // Records where the value that starts at `mark` lives; returns its pointer.
    std::string beginValue(const YAML::Mark &mark)
    {
        if (m_stack.empty())
            return "";
        Frame &f = m_stack.back();
        std::string pointer;
        if (f.value.is_object()) {
            pointer = f.pointer + "/" + escapePointerToken(f.key);
            if (!f.keyIsMerge)
                m_doc.positions.emplace(pointer, f.keyPos);
        } else {
            pointer = f.pointer + "/" + std::to_string(f.value.size());
            m_doc.positions.emplace(pointer, toPosition(mark));
        }
        return pointer;
    }

    void insert(json v, const YAML::Mark &mark)
    {
        if (m_stack.empty()) {
            m_doc.value = std::move(v);
            return;
        }
        Frame &f = m_stack.back();
        if (f.value.is_array()) {
            f.value.push_back(std::move(v));
            return;
        }
        if (f.keyIsMerge) {
            // `<<: *defaults` merges a mapping (or a list of them) without overriding keys.
            auto mergeOne = [&](const json &m) {
                if (!m.is_object())
                    throw DecodeFailure{toPosition(mark), "a merge key (<<) needs a mapping or a list of mappings"};
                for (auto it = m.begin(); it != m.end(); ++it)
                    if (!f.value.contains(it.key())) {
                        f.value[it.key()] = it.value();
                        f.merged.push_back(it.key());
                    }
            };
            if (v.is_array())
                for (const auto &m : v)
                    mergeOne(m);
            else
                mergeOne(v);
        } else {
            f.value[f.key] = std::move(v);
        }
        f.hasKey = false;
    }

    void openContainer(const YAML::Mark &mark, json empty, YAML::anchor_t anchor)
    {
        spend(1, mark);
        if (expectingKey())
            throw DecodeFailure{toPosition(mark), "a mapping key must be a plain value, not a list or a mapping"};
        if (static_cast<int>(m_stack.size()) >= m_options.maxDepth)
            throw DecodeFailure{toPosition(mark), "nesting deeper than " + std::to_string(m_options.maxDepth) + " levels"};
        Frame f;
        f.pointer = beginValue(mark);
        f.value = std::move(empty);
        f.anchor = anchor;
        f.start = toPosition(mark);
        m_stack.push_back(std::move(f));
    }

    void closeContainer()
    {
        Frame f = std::move(m_stack.back());
        m_stack.pop_back();
        if (f.anchor)
            m_anchors[f.anchor] = {f.value, countNodes(f.value)};
        YAML::Mark mark;
        mark.line = f.start.line - 1;
        mark.column = f.start.column - 1;
        insert(std::move(f.value), mark);
    }

    const YamlDecodeOptions &m_options;
    size_t m_budget;
    YamlDocument m_doc;
    std::vector<Frame> m_stack;
    std::map<YAML::anchor_t, std::pair<json, size_t>> m_anchors;
};

} // namespace

SourcePosition YamlDocument::positionOf(std::string_view pointer) const
{
    std::string p(pointer);
    while (true) {
        if (auto it = positions.find(p); it != positions.end())
            return it->second;
        size_t slash = p.rfind('/');
        if (slash == std::string::npos || p.empty())
            return start;
        p.resize(slash);
    }
}

std::string escapePointerToken(std::string_view token)
{
    std::string out;
    out.reserve(token.size());
    for (char c : token) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out += c;
    }
    return out;
}

json resolvePlainScalar(std::string_view s)
{
    // The YAML 1.1 resolution Kubernetes' YAML reader applies to unquoted scalars.
    static constexpr std::string_view kTrue[] = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
    static constexpr std::string_view kFalse[] = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
    static constexpr std::string_view kNull[] = {"", "~", "null", "Null", "NULL"};
    for (auto t : kNull)
        if (s == t)
            return json(nullptr);
    for (auto t : kTrue)
        if (s == t)
            return json(true);
    for (auto t : kFalse)
        if (s == t)
            return json(false);
    char c = s.front();
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.') {
        std::string plain;
        plain.reserve(s.size());
        for (char ch : s)
            if (ch != '_')
                plain += ch;
        if (auto i = parseGoInt(plain))
            return *i;
        if (isYamlFloat(plain)) {
            double d = std::strtod(plain.c_str(), nullptr);
            if (std::isfinite(d))
                return json(d);
        }
    }
    return json(std::string(s));
}

Result<std::vector<YamlDocument>> decodeYamlStream(std::string_view text, const YamlDecodeOptions &options)
{
    if (text.size() > options.maxBytes)
        return fail(Reason::RequestEntityTooLarge,
                    (options.sourceName.empty() ? std::string("input") : options.sourceName) + " is "
                        + std::to_string(text.size()) + " bytes; the limit is " + std::to_string(options.maxBytes)
                        + " bytes");
    if (auto badChar = findBadCharacter(text))
        return fail(decodeError(options, badChar->at, badChar->message));
    if (auto tab = findTabIndentation(text))
        return fail(decodeError(options, tab->at, tab->message));
    // Aliases may repeat parts of a document; allow a generous but bounded expansion.
    JsonBuilder builder(options, 100'000 + text.size() * 8);
    try {
        std::istringstream in{std::string(text)};
        YAML::Parser parser(in);
        while (parser.HandleNextDocument(builder)) {
        }
    } catch (const DecodeFailure &f) {
        return fail(decodeError(options, f.at, f.message));
    } catch (const YAML::Exception &e) {
        SourcePosition at = e.mark.is_null() ? SourcePosition{} : toPosition(e.mark);
        std::string msg = e.msg;
        if (msg == "illegal map value")
            msg += " (a `key: value` where a value was expected — check the indentation of this line and the one above)";
        else if (msg == "end of map not found" || msg == "end of sequence not found")
            msg += " (check the indentation and the brackets)";
        return fail(decodeError(options, at, msg));
    } catch (const std::exception &e) {
        return fail(Reason::BadRequest, std::string("cannot read YAML: ") + e.what());
    }
    return std::move(builder.documents);
}

Result<YamlDocument> decodeYamlDocument(std::string_view text, const YamlDecodeOptions &options)
{
    auto docs = decodeYamlStream(text, options);
    if (!docs)
        return docs.takeError();
    if (docs->empty())
        return fail(Reason::BadRequest, (options.sourceName.empty() ? std::string("input") : options.sourceName)
                                            + " holds no document");
    if (docs->size() > 1)
        return fail(Reason::BadRequest, (options.sourceName.empty() ? std::string("input") : options.sourceName)
                                            + " holds " + std::to_string(docs->size())
                                            + " documents where one was expected");
    return std::move(docs->front());
}

Result<std::vector<YamlDocument>> decodeManifests(std::string_view text, const YamlDecodeOptions &options)
{
    size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || (text[first] != '{' && text[first] != '['))
        return decodeYamlStream(text, options);
    if (text.size() > options.maxBytes)
        return decodeYamlStream(text, options); // same size error
    // JSON: nlohmann reports the byte offset; turn it into a line and column.
    json value;
    try {
        value = json::parse(text);
    } catch (const json::parse_error &e) {
        size_t offset = std::min(e.byte > 0 ? e.byte - 1 : 0, text.size());
        SourcePosition at{1, 1};
        for (size_t i = 0; i < offset; ++i) {
            if (text[i] == '\n') {
                ++at.line;
                at.column = 1;
            } else {
                ++at.column;
            }
        }
        std::string what = e.what();
        if (auto p = what.find("syntax error while parsing"); p != std::string::npos)
            what = what.substr(p);
        return fail(decodeError(options, at, "invalid JSON: " + what));
    }
    // Re-read as YAML for positions (JSON is YAML); the JSON parse already proved it sound.
    std::vector<YamlDocument> docs;
    if (auto yaml = decodeYamlStream(text, options); yaml && yaml->size() == 1) {
        docs = std::move(*yaml);
        docs.front().value = std::move(value); // keep JSON's exact numbers and strings
    } else {
        YamlDocument d;
        d.value = std::move(value);
        d.start = {1, 1};
        docs.push_back(std::move(d));
    }
    // A JSON List (kind: List) is several manifests, as kubectl treats it.
    return docs;
}

// ---- encoding ------------------------------------------------------------------------------

namespace {

bool needsQuotes(const std::string &s)
{
    if (s.empty())
        return true;
    if (!resolvePlainScalar(s).is_string())
        return true; // "8080", "yes", "null", "1e3" would read back as something else
    if (s.front() == ' ' || s.back() == ' ')
        return true;
    return false;
}

void emit(YAML::Emitter &out, const json &v, bool top)
{
    switch (v.type()) {
    case json::value_t::object: {
        if (v.empty()) {
            out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
            return;
        }
        out << YAML::BeginMap;
        std::vector<std::string> keys;
        for (auto it = v.begin(); it != v.end(); ++it)
            keys.push_back(it.key());
        if (top) {
            static const std::vector<std::string> kFirst = {"apiVersion", "kind", "metadata", "spec", "status"};
            std::stable_sort(keys.begin(), keys.end(), [](const std::string &a, const std::string &b) {
                auto ia = std::find(kFirst.begin(), kFirst.end(), a) - kFirst.begin();
                auto ib = std::find(kFirst.begin(), kFirst.end(), b) - kFirst.begin();
                return ia < ib; // nlohmann already keeps the rest alphabetical
            });
        }
        for (const auto &k : keys) {
            out << YAML::Key;
            if (needsQuotes(k))
                out << YAML::DoubleQuoted;
            out << k << YAML::Value;
            emit(out, v[k], false);
        }
        out << YAML::EndMap;
        return;
    }
    case json::value_t::array:
        if (v.empty()) {
            out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
            return;
        }
        out << YAML::BeginSeq;
        for (const auto &item : v)
            emit(out, item, false);
        out << YAML::EndSeq;
        return;
    case json::value_t::string: {
        const auto &s = v.get_ref<const std::string &>();
        if (s.find('\n') != std::string::npos && s.find_first_of("\t\r") == std::string::npos && s.back() == '\n'
            && s.front() != ' ')
            out << YAML::Literal << s;
        else if (needsQuotes(s) || s.find('\n') != std::string::npos)
            out << YAML::DoubleQuoted << s;
        else
            out << s;
        return;
    }
    case json::value_t::boolean:
        out << (v.get<bool>() ? "true" : "false");
        return;
    case json::value_t::null:
        out << YAML::Null;
        return;
    case json::value_t::number_integer:
        out << v.get<int64_t>();
        return;
    case json::value_t::number_unsigned:
        out << v.get<uint64_t>();
        return;
    default:
        out << v.dump(); // shortest round-trip form of a float
        return;
    }
}

} // namespace

std::string encodeYaml(const json &value)
{
    YAML::Emitter out;
    out.SetIndent(2);
    out.SetNullFormat(YAML::LowerNull);
    emit(out, value, true);
    std::string s = out.c_str();
    if (s.empty() || s.back() != '\n')
        s += '\n';
    return s;
}

std::string encodeYamlStream(const std::vector<json> &values)
{
    std::string out;
    for (size_t i = 0; i < values.size(); ++i) {
        if (i)
            out += "---\n";
        out += encodeYaml(values[i]);
    }
    return out;
}

} // namespace podscape::core::model
