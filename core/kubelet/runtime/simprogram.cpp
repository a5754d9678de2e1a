#include "simprogram.h"

#include "imagereference.h"
#include "core/model/quantity.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>

namespace podscape::core::kubelet::runtime {

using namespace std::chrono_literals;

namespace {

constexpr std::string_view kPrefix = "sim.podscape.io/";
// Date placeholders: kDateOpen <strftime format> kDateClose ("" is busybox date's format).
constexpr char kDateOpen = '\x01';
constexpr char kDateClose = '\x02';

std::string datePlaceholder(std::string_view format = {})
{
    return std::string(1, kDateOpen) + std::string(format) + std::string(1, kDateClose);
}

uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::optional<std::string> annotation(const ContainerConfig &config, std::string_view key)
{
    // A container-specific key ("sim.podscape.io/crash-after.sidecar") wins over the pod's.
    std::string base = std::string(kPrefix) + std::string(key);
    if (auto it = config.annotations.find(base + "." + config.name); it != config.annotations.end())
        return it->second;
    if (auto it = config.annotations.find(base); it != config.annotations.end())
        return it->second;
    return std::nullopt;
}

Error badAnnotation(std::string_view key, const std::string &value, std::string_view expected)
{
    return Error(Reason::Invalid, "annotation " + std::string(kPrefix) + std::string(key) + ": \"" + value + "\" is not "
                                      + std::string(expected));
}

Result<std::optional<Duration>> durationAnnotation(const ContainerConfig &config, std::string_view key)
{
    auto v = annotation(config, key);
    if (!v)
        return std::optional<Duration>();
    auto d = SimProgram::parseDuration(*v);
    if (!d)
        return badAnnotation(key, *v, "a duration such as 500ms, 5s or 1m30s");
    return std::optional<Duration>(*d);
}

bool truthy(const std::string &v)
{
    std::string l;
    for (char c : v)
        l += char(std::tolower(static_cast<unsigned char>(c)));
    return l == "true" || l == "1" || l == "yes" || l == "on";
}

std::string baseName(const std::string &path)
{
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// ---- a small shell ------------------------------------------------------------------------------
//
// Enough of sh for the scripts manifests carry: it runs them once on a virtual clock, and
// an endless loop becomes a Loop the runtime replays lazily.

struct WordPart {
    std::string text;
    char quote = 0; // 0, '\'' or '"'
};
using Word = std::vector<WordPart>;

struct Token {
    enum Kind { WordToken, Op } kind = WordToken;
    Word word;
    std::string op; // ";", "&&", "||", "|", "&", "\n", ">", ">>", "<", "2>&1", ">&2", "(", ")"
};

// Reads a $( ... ) or ` ... ` span starting at `i` (at '$(' or '`'); returns the end index.
size_t skipSubstitution(const std::string &s, size_t i)
{
    if (s[i] == '`') {
        size_t j = s.find('`', i + 1);
        return j == std::string::npos ? s.size() : j + 1;
    }
    int depth = 0;
    for (size_t j = i + 1; j < s.size(); ++j) {
        if (s[j] == '(')
            ++depth;
        else if (s[j] == ')' && --depth == 0)
            return j + 1;
    }
    return s.size();
}

std::vector<Token> tokenize(const std::string &s)
{
    std::vector<Token> out;
    Word word;
    bool inWord = false;
    auto flush = [&] {
        if (inWord)
            out.push_back({Token::WordToken, std::move(word), {}});
        word.clear();
        inWord = false;
    };
    auto append = [&](char quote, std::string_view text) {
        if (word.empty() || word.back().quote != quote)
            word.push_back({std::string(), quote});
        word.back().text += text;
        inWord = true;
    };
    size_t i = 0;
    while (i < s.size()) {
        char c = s[i];
        if (c == '#' && !inWord) {
            while (i < s.size() && s[i] != '\n')
                ++i;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
            flush();
            ++i;
            continue;
        }
        if (c == '\\' && i + 1 < s.size()) {
            if (s[i + 1] != '\n')
                append('\'', std::string_view(&s[i + 1], 1));
            i += 2;
            continue;
        }
        if (c == '\'') {
            size_t j = s.find('\'', i + 1);
            if (j == std::string::npos)
                j = s.size();
            append('\'', std::string_view(s).substr(i + 1, j - i - 1));
            inWord = true;
            i = j + 1;
            continue;
        }
        if (c == '"') {
            std::string text;
            size_t j = i + 1;
            while (j < s.size() && s[j] != '"') {
                if (s[j] == '\\' && j + 1 < s.size() && std::string_view("\"\\$`").find(s[j + 1]) != std::string_view::npos) {
                    text += s[j] == '\\' && s[j + 1] == '$' ? std::string("\\$") : std::string(1, s[j + 1]);
                    j += 2;
                } else if ((s[j] == '$' && j + 1 < s.size() && s[j + 1] == '(') || s[j] == '`') {
                    size_t end = skipSubstitution(s, j);
                    text += s.substr(j, end - j);
                    j = end;
                } else {
                    text += s[j++];
                }
            }
            append('"', text);
            inWord = true;
            i = std::min(j + 1, s.size());
            continue;
        }
        if ((c == '$' && i + 1 < s.size() && s[i + 1] == '(') || c == '`') {
            size_t end = skipSubstitution(s, i);
            append(0, std::string_view(s).substr(i, end - i));
            i = end;
            continue;
        }
        auto op = [&](std::string_view text) {
            flush();
            out.push_back({Token::Op, {}, std::string(text)});
            i += text.size();
        };
        std::string_view rest = std::string_view(s).substr(i);
        if (rest.starts_with("2>&1") || rest.starts_with("1>&2") || rest.starts_with(">&2")) {
            op(rest.starts_with("2>&1") ? "2>&1" : (rest.starts_with("1>&2") ? "1>&2" : ">&2"));
            if (out.back().op == "1>&2")
                out.back().op = ">&2";
            continue;
        }
        if (rest.starts_with("2>")) { // stderr redirected somewhere: drop the target word
            op("2>");
            continue;
        }
        if (rest.starts_with("&&") || rest.starts_with("||") || rest.starts_with(">>") || rest.starts_with(";;")) {
            op(rest.substr(0, 2));
            continue;
        }
        if (rest.starts_with("&>")) {
            op(">");
            continue;
        }
        if (std::string_view(";|&\n><(){}").find(c) != std::string_view::npos) {
            if ((c == '{' || c == '}') && inWord) {
                append(0, std::string_view(&s[i], 1));
                ++i;
                continue;
            }
            op(std::string_view(&s[i], 1));
            continue;
        }
        append(0, std::string_view(&s[i], 1));
        ++i;
    }
    flush();
    return out;
}

struct Command {
    enum Type { Simple, While, For, If, Group } type = Simple;
    std::vector<Word> words;
    bool outputDiscarded = false; // redirected to a file
    bool toStderr = false;
    std::vector<Command> pipeline; // Simple: the commands after '|'
    std::vector<Command> condition;
    std::vector<Command> body;
    std::vector<Command> elseBody;
    std::string variable;         // For
    std::vector<Word> items;      // For
    bool negate = false;          // While: `until`
    std::string joinWithNext = ";"; // ";", "&&", "||", "&"
};

std::string plainText(const Word &w)
{
    std::string out;
    for (const auto &p : w)
        out += p.text;
    return out;
}

bool isKeyword(const Token &t, std::string_view kw)
{
    return t.kind == Token::WordToken && t.word.size() == 1 && t.word[0].quote == 0 && t.word[0].text == kw;
}

class Parser
{
public:
    explicit Parser(std::vector<Token> tokens) : m_tokens(std::move(tokens)) {}

    std::vector<Command> parseList(std::initializer_list<std::string_view> terminators)
    {
        std::vector<Command> list;
        while (m_pos < m_tokens.size()) {
            const Token &t = m_tokens[m_pos];
            if (t.kind == Token::Op && (t.op == ";" || t.op == "\n" || t.op == "&")) {
                if (!list.empty())
                    list.back().joinWithNext = t.op == "&" ? "&" : ";";
                ++m_pos;
                continue;
            }
            if (t.kind == Token::Op && (t.op == "&&" || t.op == "||")) {
                if (!list.empty())
                    list.back().joinWithNext = t.op;
                ++m_pos;
                continue;
            }
            bool stop = false;
            for (auto term : terminators)
                stop = stop || isKeyword(t, term) || (t.kind == Token::Op && t.op == term);
            if (stop)
                break;
            list.push_back(parseCommand());
        }
        return list;
    }

private:
    void expectKeyword(std::string_view kw)
    {
        if (m_pos < m_tokens.size() && isKeyword(m_tokens[m_pos], kw))
            ++m_pos;
    }

    Command parseCommand()
    {
        const Token &t = m_tokens[m_pos];
        if (isKeyword(t, "while") || isKeyword(t, "until")) {
            Command c;
            c.type = Command::While;
            c.negate = isKeyword(t, "until");
            ++m_pos;
            c.condition = parseList({"do"});
            expectKeyword("do");
            c.body = parseList({"done"});
            expectKeyword("done");
            return c;
        }
        if (isKeyword(t, "for")) {
            Command c;
            c.type = Command::For;
            ++m_pos;
            if (m_pos < m_tokens.size())
                c.variable = plainText(m_tokens[m_pos++].word);
            if (m_pos < m_tokens.size() && isKeyword(m_tokens[m_pos], "in")) {
                ++m_pos;
                while (m_pos < m_tokens.size() && m_tokens[m_pos].kind == Token::WordToken
                       && !isKeyword(m_tokens[m_pos], "do"))
                    c.items.push_back(m_tokens[m_pos++].word);
            }
            parseList({"do"});
            expectKeyword("do");
            c.body = parseList({"done"});
            expectKeyword("done");
            return c;
        }
        if (isKeyword(t, "if")) {
            Command c;
            c.type = Command::If;
            ++m_pos;
            c.condition = parseList({"then"});
            expectKeyword("then");
            c.body = parseList({"else", "elif", "fi"});
            if (m_pos < m_tokens.size() && (isKeyword(m_tokens[m_pos], "else") || isKeyword(m_tokens[m_pos], "elif"))) {
                ++m_pos;
                c.elseBody = parseList({"fi"});
            }
            expectKeyword("fi");
            return c;
        }
        if (t.kind == Token::Op && (t.op == "(" || t.op == "{")) {
            Command c;
            c.type = Command::Group;
            ++m_pos;
            c.body = parseList({")", "}"});
            if (m_pos < m_tokens.size())
                ++m_pos;
            return c;
        }
        if (isKeyword(t, "{")) {
            Command c;
            c.type = Command::Group;
            ++m_pos;
            c.body = parseList({"}"});
            if (m_pos < m_tokens.size())
                ++m_pos;
            return c;
        }
        return parseSimple();
    }

    Command parseSimple()
    {
        Command c;
        while (m_pos < m_tokens.size()) {
            const Token &t = m_tokens[m_pos];
            if (t.kind == Token::WordToken) {
                c.words.push_back(t.word);
                ++m_pos;
                continue;
            }
            if (t.op == ">" || t.op == ">>" || t.op == "<" || t.op == "2>") {
                ++m_pos;
                std::string target = m_pos < m_tokens.size() ? plainText(m_tokens[m_pos].word) : std::string();
                if (m_pos < m_tokens.size() && m_tokens[m_pos].kind == Token::WordToken)
                    ++m_pos;
                if (t.op == ">" || t.op == ">>") {
                    if (target == "/dev/stderr" || target == "/proc/1/fd/2")
                        c.toStderr = true;
                    else if (target != "/dev/stdout" && target != "/proc/1/fd/1")
                        c.outputDiscarded = true;
                }
                continue;
            }
            if (t.op == ">&2") {
                c.toStderr = true;
                ++m_pos;
                continue;
            }
            if (t.op == "2>&1") {
                ++m_pos;
                continue;
            }
            if (t.op == "|") {
                ++m_pos;
                if (m_pos < m_tokens.size())
                    c.pipeline.push_back(parseSimple());
                return c;
            }
            break;
        }
        return c;
    }

    std::vector<Token> m_tokens;
    size_t m_pos = 0;
};

// The run of a script on a virtual clock.
struct ShellRun {
    Duration now{0};
    std::vector<SimProgram::Line> out;
    std::map<std::string, std::string> vars;
    int status = 0;
    bool exited = false;
    bool forever = false; // blocked for good (sleep infinity, a server, tail -f)
    bool handlesTerm = false;
    std::optional<SimProgram::Loop> loop;
    int steps = 0;
    bool capture = false; // inside $( ): output is collected, not logged
    std::string captured;
    const SimContext *context = nullptr;

    bool done() const { return exited || forever || loop || steps > 100'000; }
};

constexpr size_t kMaxStartupLines = 2000;

void emit(ShellRun &run, const std::string &text, bool toStderr, bool discarded)
{
    if (discarded)
        return;
    if (run.capture) {
        if (!run.captured.empty())
            run.captured += "\n";
        run.captured += text;
        return;
    }
    if (run.out.size() < kMaxStartupLines)
        run.out.push_back({run.now, text, toStderr});
}

void execList(ShellRun &run, const std::vector<Command> &list, bool topLevel);

std::string substitute(ShellRun &run, const std::string &inner)
{
    // Command substitution: run the inner script capturing its output; date is left as a
    // placeholder so that each logged line carries its own time.
    ShellRun sub;
    sub.vars = run.vars;
    sub.capture = true;
    sub.context = run.context;
    sub.now = run.now;
    Parser parser(tokenize(inner));
    execList(sub, parser.parseList({}), false);
    run.now = sub.now;
    std::string out = sub.captured;
    while (!out.empty() && out.back() == '\n')
        out.pop_back();
    return out;
}

int64_t evalArithmetic(ShellRun &run, std::string_view expr);

std::string expandText(ShellRun &run, const std::string &text, bool allowSubst)
{
    std::string out;
    for (size_t i = 0; i < text.size();) {
        char c = text[i];
        if (c == '\\' && i + 1 < text.size() && text[i + 1] == '$') {
            out += '$';
            i += 2;
            continue;
        }
        if (allowSubst && c == '`') {
            size_t end = skipSubstitution(text, i);
            out += substitute(run, text.substr(i + 1, end - i - 2));
            i = end;
            continue;
        }
        if (c != '$' || i + 1 >= text.size()) {
            out += c;
            ++i;
            continue;
        }
        char n = text[i + 1];
        if (n == '(' && i + 2 < text.size() && text[i + 2] == '(') {
            size_t end = text.find("))", i + 3);
            if (end == std::string::npos)
                end = text.size();
            out += std::to_string(evalArithmetic(run, std::string_view(text).substr(i + 3, end - i - 3)));
            i = std::min(end + 2, text.size());
            continue;
        }
        if (n == '(' && allowSubst) {
            size_t end = skipSubstitution(text, i);
            out += substitute(run, text.substr(i + 2, end - i - 3));
            i = end;
            continue;
        }
        if (n == '{') {
            size_t end = text.find('}', i + 2);
            if (end == std::string::npos)
                end = text.size();
            std::string name = text.substr(i + 2, end - i - 2);
            // ${VAR:-default}
            std::string fallback;
            if (size_t dash = name.find(":-"); dash != std::string::npos) {
                fallback = name.substr(dash + 2);
                name = name.substr(0, dash);
            }
            auto it = run.vars.find(name);
            out += it != run.vars.end() && !it->second.empty() ? it->second : fallback;
            i = std::min(end + 1, text.size());
            continue;
        }
        if (n == '?') {
            out += std::to_string(run.status);
            i += 2;
            continue;
        }
        if (n == '$') {
            out += "1";
            i += 2;
            continue;
        }
        if (std::isalpha(static_cast<unsigned char>(n)) || n == '_') {
            size_t j = i + 1;
            while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_'))
                ++j;
            std::string name = text.substr(i + 1, j - i - 1);
            if (name == "RANDOM")
                out += std::to_string(mix(uint64_t(run.steps)) % 32768);
            else if (auto it = run.vars.find(name); it != run.vars.end())
                out += it->second;
            i = j;
            continue;
        }
        out += c;
        ++i;
    }
    return out;
}

// $(( )): integers, variables, + - * / % and parentheses.
int64_t evalArithmetic(ShellRun &run, std::string_view expr)
{
    size_t pos = 0;
    std::function<int64_t()> sum;
    auto skip = [&] {
        while (pos < expr.size() && std::isspace(static_cast<unsigned char>(expr[pos])))
            ++pos;
    };
    auto atom = [&]() -> int64_t {
        skip();
        if (pos < expr.size() && expr[pos] == '(') {
            ++pos;
            int64_t v = sum();
            skip();
            if (pos < expr.size() && expr[pos] == ')')
                ++pos;
            return v;
        }
        bool neg = false;
        if (pos < expr.size() && expr[pos] == '-') {
            neg = true;
            ++pos;
        }
        if (pos < expr.size() && expr[pos] == '$')
            ++pos;
        size_t start = pos;
        while (pos < expr.size() && (std::isalnum(static_cast<unsigned char>(expr[pos])) || expr[pos] == '_'))
            ++pos;
        std::string token(expr.substr(start, pos - start));
        int64_t v = 0;
        if (!token.empty() && std::isdigit(static_cast<unsigned char>(token[0])))
            v = std::strtoll(token.c_str(), nullptr, 10);
        else if (auto it = run.vars.find(token); it != run.vars.end())
            v = std::strtoll(it->second.c_str(), nullptr, 10);
        return neg ? -v : v;
    };
    auto product = [&]() -> int64_t {
        int64_t v = atom();
        while (true) {
            skip();
            if (pos >= expr.size() || std::string_view("*/%").find(expr[pos]) == std::string_view::npos)
                return v;
            char op = expr[pos++];
            int64_t r = atom();
            v = op == '*' ? v * r : (r == 0 ? 0 : (op == '/' ? v / r : v % r));
        }
    };
    sum = [&]() -> int64_t {
        int64_t v = product();
        while (true) {
            skip();
            if (pos >= expr.size() || (expr[pos] != '+' && expr[pos] != '-'))
                return v;
            char op = expr[pos++];
            int64_t r = product();
            v = op == '+' ? v + r : v - r;
        }
    };
    return sum();
}

std::vector<std::string> expandWords(ShellRun &run, const std::vector<Word> &words)
{
    std::vector<std::string> argv;
    for (const auto &w : words) {
        std::string text;
        bool anyQuoted = false;
        bool unquotedSubst = false;
        for (const auto &p : w) {
            if (p.quote == '\'') {
                text += p.text;
                anyQuoted = true;
            } else {
                std::string e = expandText(run, p.text, true);
                if (p.quote == 0 && e != p.text)
                    unquotedSubst = true;
                anyQuoted = anyQuoted || p.quote == '"';
                text += e;
            }
        }
        if (unquotedSubst && !anyQuoted) {
            // Unquoted expansions split into fields (the placeholder stays one field).
            std::string field;
            for (char c : text) {
                if (c == ' ' || c == '\n' || c == '\t') {
                    if (!field.empty())
                        argv.push_back(field);
                    field.clear();
                } else {
                    field += c;
                }
            }
            if (!field.empty())
                argv.push_back(field);
        } else {
            argv.push_back(text);
        }
    }
    return argv;
}

// "5", "1.5", "2m", "infinity": seconds for sleep; nullopt for infinity.
std::optional<Duration> sleepDuration(const std::string &arg)
{
    if (arg == "infinity" || arg == "inf")
        return std::nullopt;
    char *end = nullptr;
    double v = std::strtod(arg.c_str(), &end);
    double unit = 1;
    if (end && *end) {
        switch (*end) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: unit = 1;
        }
    }
    if (!(v >= 0))
        v = 0;
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(v * unit));
}

std::string decodeEscapes(const std::string &s)
{
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
            char n = s[i + 1];
            if (n == 'n' || n == 't' || n == '\\') {
                out += n == 'n' ? '\n' : (n == 't' ? '\t' : '\\');
                ++i;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

void emitText(ShellRun &run, const std::string &text, const Command &c)
{
    // One log line per line of output; a trailing newline ends the last line.
    size_t start = 0;
    while (start <= text.size()) {
        size_t nl = text.find('\n', start);
        if (nl == std::string::npos) {
            if (start < text.size())
                emit(run, text.substr(start), c.toStderr, c.outputDiscarded);
            break;
        }
        emit(run, text.substr(start, nl - start), c.toStderr, c.outputDiscarded);
        start = nl + 1;
    }
}

// Commands that do their work and return; their output is unknown to the simulation.
bool shortCommand(const std::string &name)
{
    static const char *const kShort[] = {
        "cat", "ls", "touch", "mkdir", "rm", "cp", "mv", "chmod", "chown", "ln", "test", "[", "[[", "expr",
        "wget", "curl", "nslookup", "dig", "dd", "grep", "sed", "awk", "cut", "head", "wc", "export", "set",
        "cd", "source", ".", "kill", "wait", "mount", "umount", "apk", "apt-get", "yum", "sync", "stat", "find",
        "sort", "uniq", "tr", "xargs", "basename", "dirname", "readlink", "sh", "bash", "ash", "nc", "unset",
        "shift", "local", "return", "break", "continue", "ulimit", "umask", "df", "du", "free", "ps", "top",
        "netstat", "ip", "ifconfig", "route", "md5sum", "sha256sum", "base64", "tar", "gzip", "gunzip", "which",
        "type", "command", "getent", "nohup", "timeout", "tee", "seq"};
    for (const char *s : kShort)
        if (name == s)
            return true;
    return false;
}

void execSimple(ShellRun &run, const Command &c, bool last)
{
    ++run.steps;
    std::vector<std::string> argv = expandWords(run, c.words);
    // Leading assignments: NAME=value.
    size_t first = 0;
    for (; first < argv.size(); ++first) {
        size_t eq = argv[first].find('=');
        if (eq == std::string::npos || eq == 0)
            break;
        std::string name = argv[first].substr(0, eq);
        bool ident = std::all_of(name.begin(), name.end(), [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; });
        if (!ident)
            break;
        run.vars[name] = argv[first].substr(eq + 1);
    }
    argv.erase(argv.begin(), argv.begin() + first);
    if (argv.empty()) {
        run.status = 0;
        return;
    }
    if (argv[0] == "exec" && argv.size() > 1)
        argv.erase(argv.begin());
    const std::string name = baseName(argv[0]);
    const bool piped = !c.pipeline.empty();
    Command sink = c; // where output goes: through a pipe only `tee` passes it on
    if (piped)
        sink.outputDiscarded = sink.outputDiscarded || baseName(plainText(c.pipeline.back().words.empty() ? Word{} : c.pipeline.back().words[0])) != "tee";
    run.status = 0;
    if (name == "echo") {
        size_t i = 1;
        bool newline = true, escapes = false;
        while (i < argv.size() && (argv[i] == "-n" || argv[i] == "-e" || argv[i] == "-ne" || argv[i] == "-en")) {
            newline = newline && argv[i].find('n') == std::string::npos;
            escapes = escapes || argv[i].find('e') != std::string::npos;
            ++i;
        }
        std::string text;
        for (; i < argv.size(); ++i)
            text += (text.empty() ? "" : " ") + argv[i];
        if (escapes)
            text = decodeEscapes(text);
        (void)newline;
        emitText(run, text, sink);
    } else if (name == "printf") {
        std::string format = argv.size() > 1 ? decodeEscapes(argv[1]) : std::string();
        std::string text;
        size_t arg = 2;
        for (size_t i = 0; i < format.size(); ++i) {
            if (format[i] == '%' && i + 1 < format.size()) {
                char f = format[++i];
                if (f == '%')
                    text += '%';
                else
                    text += arg < argv.size() ? argv[arg++] : std::string();
            } else {
                text += format[i];
            }
        }
        emitText(run, text, sink);
    } else if (name == "sleep") {
        auto d = sleepDuration(argv.size() > 1 ? argv[1] : "0");
        if (!d)
            run.forever = true;
        else
            run.now += *d;
    } else if (name == "exit") {
        run.status = argv.size() > 1 ? int(std::strtol(argv[1].c_str(), nullptr, 10)) & 0xff : run.status;
        run.exited = true;
    } else if (name == "true" || name == ":") {
    } else if (name == "false") {
        run.status = 1;
    } else if (name == "date") {
        std::string format;
        for (size_t i = 1; i < argv.size(); ++i)
            if (argv[i].size() > 1 && argv[i][0] == '+')
                format = argv[i].substr(1);
        emitText(run, datePlaceholder(format), sink);
    } else if (name == "hostname") {
        emitText(run, run.context ? run.context->podName : "localhost", sink);
    } else if (name == "whoami") {
        emitText(run, "root", sink);
    } else if (name == "id") {
        emitText(run, "uid=0(root) gid=0(root) groups=0(root),10(wheel)", sink);
    } else if (name == "pwd") {
        emitText(run, run.vars.count("PWD") ? run.vars["PWD"] : "/", sink);
    } else if (name == "uname") {
        bool all = argv.size() > 1 && argv[1] == "-a";
        emitText(run, all ? "Linux " + (run.context ? run.context->podName : std::string("localhost"))
                                + " 6.8.0-podscape #1 SMP PREEMPT_DYNAMIC x86_64 GNU/Linux"
                          : "Linux",
                 sink);
    } else if (name == "env" || name == "printenv") {
        if (argv.size() > 1) {
            auto it = run.vars.find(argv[1]);
            if (it != run.vars.end())
                emitText(run, it->second, sink);
            else
                run.status = 1;
        } else {
            for (const auto &[k, v] : run.vars)
                emit(run, k + "=" + v, sink.toStderr, sink.outputDiscarded);
        }
    } else if (name == "seq") {
        int64_t from = 1, to = 0;
        if (argv.size() == 2)
            to = std::strtoll(argv[1].c_str(), nullptr, 10);
        else if (argv.size() >= 3)
            from = std::strtoll(argv[1].c_str(), nullptr, 10), to = std::strtoll(argv[2].c_str(), nullptr, 10);
        for (int64_t i = from; i <= to && i - from < 10'000; ++i)
            emit(run, std::to_string(i), sink.toStderr, sink.outputDiscarded);
    } else if (name == "trap") {
        run.handlesTerm = true;
    } else if (name == "tail" && std::find(argv.begin(), argv.end(), "-f") != argv.end()) {
        run.forever = true;
    } else if (name == "ping" && std::find(argv.begin(), argv.end(), "-c") == argv.end()) {
        run.forever = true;
    } else if (name == "cat" && argv.size() == 1) {
        run.forever = true; // reads stdin until it closes
    } else if (shortCommand(name)) {
    } else if (last) {
        // Anything else at the end of a script is taken for the long-running program the
        // script exists to start (exec nginx, node app.js, python -m http.server...).
        run.forever = true;
    }
}

void execCommand(ShellRun &run, const Command &c, bool last, bool inLoop)
{
    switch (c.type) {
    case Command::Simple:
        execSimple(run, c, last);
        return;
    case Command::Group:
        execList(run, c.body, last);
        return;
    case Command::If:
        // Conditions are not evaluated: the then-branch is the likely path.
        execList(run, c.condition, false);
        execList(run, c.body, last);
        return;
    case Command::For: {
        std::vector<std::string> items = expandWords(run, c.items);
        for (size_t i = 0; i < items.size() && i < 10'000 && !run.done(); ++i) {
            run.vars[c.variable] = items[i];
            execList(run, c.body, false);
        }
        return;
    }
    case Command::While: {
        // `while false` never runs; any other condition is taken as endless, as the loops in
        // manifests are. One iteration is run to learn its output and length.
        bool never = c.condition.size() == 1 && c.condition[0].type == Command::Simple && !c.condition[0].words.empty()
                     && plainText(c.condition[0].words[0]) == (c.negate ? "true" : "false");
        if (never)
            return;
        ShellRun body;
        body.vars = run.vars;
        body.context = run.context;
        body.capture = run.capture;
        execList(body, c.condition, false);
        execList(body, c.body, false);
        run.handlesTerm = run.handlesTerm || body.handlesTerm;
        run.steps += body.steps;
        if (run.capture) {
            run.captured += body.captured;
            run.forever = true;
            return;
        }
        if (body.exited || body.forever || body.loop || inLoop) {
            for (auto &l : body.out) {
                l.at += run.now;
                if (run.out.size() < kMaxStartupLines)
                    run.out.push_back(std::move(l));
            }
            run.now += body.now;
            run.status = body.status;
            run.exited = body.exited;
            run.forever = !body.exited;
            return;
        }
        SimProgram::Loop loop;
        loop.firstAt = run.now;
        loop.period = std::max<Duration>(body.now, std::chrono::milliseconds(1));
        loop.body = std::move(body.out);
        run.loop = std::move(loop);
        return;
    }
    }
}

void execList(ShellRun &run, const std::vector<Command> &list, bool topLevel)
{
    for (size_t i = 0; i < list.size() && !run.done(); ++i) {
        const Command &c = list[i];
        if (i > 0) {
            const std::string &join = list[i - 1].joinWithNext;
            if ((join == "&&" && run.status != 0) || (join == "||" && run.status == 0))
                continue;
        }
        bool last = topLevel && i + 1 == list.size();
        if (c.joinWithNext == "&") {
            // A background job: its output interleaves; the script goes on at once.
            ShellRun bg;
            bg.vars = run.vars;
            bg.context = run.context;
            bg.now = run.now;
            execCommand(bg, c, false, false);
            for (auto &l : bg.out)
                if (run.out.size() < kMaxStartupLines)
                    run.out.push_back(std::move(l));
            if (bg.loop && !run.loop)
                run.loop = std::move(bg.loop);
            continue;
        }
        execCommand(run, c, last, false);
    }
}

// The outcome of running argv as a container's process.
struct ScriptOutcome {
    std::vector<SimProgram::Line> lines;
    std::optional<SimProgram::Loop> loop;
    bool forever = false;
    Duration duration{0};
    int exitCode = 0;
    bool handlesTerm = false;
};

ScriptOutcome runArgv(const std::vector<std::string> &argv, const ContainerConfig &config, const SimContext &context)
{
    ShellRun run;
    run.context = &context;
    run.vars["HOSTNAME"] = context.podName;
    run.vars["HOME"] = "/root";
    run.vars["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (const auto &[k, v] : config.env)
        run.vars[k] = v;
    std::vector<Command> commands;
    std::string shell = argv.empty() ? std::string() : baseName(argv[0]);
    bool isShell = shell == "sh" || shell == "bash" || shell == "ash" || shell == "dash" || shell == "zsh";
    if (isShell) {
        auto dashC = std::find_if(argv.begin() + 1, argv.end(), [](const std::string &a) {
            return a.size() >= 2 && a[0] == '-' && a.find('c') != std::string::npos;
        });
        if (dashC != argv.end() && dashC + 1 != argv.end()) {
            Parser parser(tokenize(*(dashC + 1)));
            commands = parser.parseList({});
        } else {
            // An interactive shell: with stdin open it waits for input, without it exits.
            ScriptOutcome o;
            o.forever = config.stdinOpen;
            o.handlesTerm = false;
            return o;
        }
    } else {
        Command c;
        for (const auto &a : argv)
            c.words.push_back(Word{{a, '\''}});
        commands.push_back(std::move(c));
    }
    execList(run, commands, true);
    ScriptOutcome o;
    o.lines = std::move(run.out);
    o.loop = std::move(run.loop);
    o.forever = run.forever || (run.steps > 100'000 && !run.exited);
    o.duration = run.now;
    o.exitCode = run.status;
    o.handlesTerm = run.handlesTerm;
    return o;
}

ImageKind kindOf(const ImageReference &ref)
{
    std::string name = ref.name();
    std::string path = ref.path();
    if (path.find("kubia") != std::string::npos)
        return ImageKind::Kubia;
    if (name.find("nginx") != std::string::npos)
        return ImageKind::Nginx;
    if (name == "http-echo" || name == "echo-server" || name == "echoserver")
        return ImageKind::HttpEcho;
    if (name == "httpd" || name == "apache")
        return ImageKind::Httpd;
    if (name == "fortune")
        return ImageKind::Fortune;
    static const char *const kShells[] = {"busybox", "alpine", "ubuntu", "debian", "centos", "fedora", "bash",
                                          "rockylinux", "almalinux", "amazonlinux", "opensuse", "archlinux",
                                          "debian-slim", "distroless"};
    for (const char *s : kShells)
        if (name == s)
            return ImageKind::Shell;
    return ImageKind::Generic;
}

// Whether argv is something the interpreter understands rather than the image's server.
bool scriptLike(const std::vector<std::string> &argv)
{
    if (argv.empty())
        return false;
    std::string n = baseName(argv[0]);
    return n == "sh" || n == "bash" || n == "ash" || n == "dash" || n == "echo" || n == "sleep" || n == "printf"
           || n == "true" || n == "false" || n == "date" || n == "tail" || n == "cat" || n == "env" || n == "printenv"
           || n == "hostname";
}

std::string httpDate() { return datePlaceholder("%d/%b/%Y:%H:%M:%S +0000"); }

} // namespace

// ---- SimProgram ------------------------------------------------------------------------------

Result<Duration> SimProgram::parseDuration(std::string_view text)
{
    auto bad = [&] { return fail(Reason::Invalid, "\"" + std::string(text) + "\" is not a duration"); };
    std::string s;
    for (char c : text)
        if (!std::isspace(static_cast<unsigned char>(c)))
            s += c;
    if (s.empty())
        return bad();
    if (s.find_first_not_of("0123456789.") == std::string::npos) {
        char *end = nullptr;
        double v = std::strtod(s.c_str(), &end);
        if (!end || *end)
            return bad();
        return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(v));
    }
    double total = 0;
    size_t i = 0;
    while (i < s.size()) {
        size_t start = i;
        while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.'))
            ++i;
        if (i == start)
            return bad();
        double v = std::strtod(s.substr(start, i - start).c_str(), nullptr);
        size_t u = i;
        while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i])) && s[i] != '.')
            ++i;
        std::string unit = s.substr(u, i - u);
        double scale;
        if (unit == "ns")
            scale = 1e-9;
        else if (unit == "us" || unit == "\xc2\xb5s")
            scale = 1e-6;
        else if (unit == "ms")
            scale = 1e-3;
        else if (unit == "s")
            scale = 1;
        else if (unit == "m")
            scale = 60;
        else if (unit == "h")
            scale = 3600;
        else
            return bad();
        total += v * scale;
    }
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(total));
}

std::string SimProgram::render(const std::string &text, TimePoint at)
{
    size_t open = text.find(kDateOpen);
    if (open == std::string::npos)
        return text;
    std::time_t tt = std::chrono::system_clock::to_time_t(
        std::chrono::time_point_cast<std::chrono::system_clock::duration>(std::chrono::floor<std::chrono::seconds>(at)));
    std::tm tm{};
    gmtime_r(&tt, &tm);
    std::string out;
    size_t pos = 0;
    while (open != std::string::npos) {
        size_t close = text.find(kDateClose, open);
        if (close == std::string::npos)
            break;
        out += text.substr(pos, open - pos);
        std::string format = text.substr(open + 1, close - open - 1);
        if (format.empty())
            format = "%a %b %e %H:%M:%S UTC %Y"; // busybox date
        if (format == "%s") {
            out += std::to_string(tt);
        } else {
            char buf[128];
            size_t n = std::strftime(buf, sizeof buf, format.c_str(), &tm);
            out.append(buf, n);
        }
        pos = close + 1;
        open = text.find(kDateOpen, pos);
    }
    out += text.substr(pos);
    return out;
}

Result<SimProgram> SimProgram::build(const ContainerConfig &config, const SimContext &context)
{
    SimProgram p;
    p.m_context = context;
    p.m_ports = config.ports;
    auto ref = ImageReference::parse(config.image);
    if (!ref)
        return ref.error();
    p.m_kind = kindOf(*ref);
    p.m_image = ref->name();
    p.m_tag = ref->tag();

    std::vector<std::string> argv = config.command;
    argv.insert(argv.end(), config.args.begin(), config.args.end());
    const bool commandGiven = !config.command.empty();
    bool interpret = false;
    switch (p.m_kind) {
    case ImageKind::Kubia:
        p.m_listenPort = 8080;
        p.m_cpuMilli = 1;
        p.m_memoryBytes = 11 << 20;
        p.m_startup = {{0ms, "Kubia server starting..."}};
        p.m_ignoresSigterm = true; // node as PID 1 installs no SIGTERM handler
        if (ref->name() == "kubia-unhealthy")
            p.m_healthyRequests = 5;
        if (p.m_tag == "v3")
            p.m_errorAfterRequests = 5;
        interpret = commandGiven && scriptLike(argv);
        break;
    case ImageKind::Nginx: {
        p.m_listenPort = 80;
        p.m_cpuMilli = 1;
        p.m_memoryBytes = 3 << 20;
        std::string d = datePlaceholder("%Y/%m/%d %H:%M:%S");
        p.m_startup = {
            {0ms, "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration"},
            {0ms, "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/"},
            {0ms, "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh"},
            {0ms, "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf"},
            {0ms, "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf"},
            {0ms, "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh"},
            {0ms, "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh"},
            {0ms, "/docker-entrypoint.sh: Configuration complete; ready for start up"},
            {0ms, d + " [notice] 1#1: using the \"epoll\" event method", true},
            {0ms, d + " [notice] 1#1: nginx/1.27.3", true},
            {0ms, d + " [notice] 1#1: built by gcc 12.2.0 (Debian 12.2.0-14)", true},
            {0ms, d + " [notice] 1#1: OS: Linux 6.8.0-podscape", true},
            {0ms, d + " [notice] 1#1: getrlimit(RLIMIT_NOFILE): 1048576:1048576", true},
            {0ms, d + " [notice] 1#1: start worker processes", true},
            {0ms, d + " [notice] 1#1: start worker process 29", true},
        };
        p.m_termExitCode = 0; // STOPSIGNAL SIGQUIT: a graceful shutdown
        interpret = commandGiven && scriptLike(argv);
        break;
    }
    case ImageKind::HttpEcho: {
        p.m_listenPort = 5678;
        p.m_cpuMilli = 1;
        p.m_memoryBytes = 2 << 20;
        for (size_t i = 0; i < config.args.size(); ++i) {
            const std::string &a = config.args[i];
            auto value = [&](std::string_view flag) -> std::optional<std::string> {
                std::string f1 = "-" + std::string(flag), f2 = "--" + std::string(flag);
                for (const auto &f : {f1, f2}) {
                    if (a.rfind(f + "=", 0) == 0)
                        return a.substr(f.size() + 1);
                    if (a == f && i + 1 < config.args.size())
                        return config.args[i + 1];
                }
                return std::nullopt;
            };
            if (auto t = value("text"))
                p.m_echoText = *t;
            if (auto l = value("listen")) {
                size_t colon = l->rfind(':');
                p.m_listenPort = std::atoi(l->substr(colon == std::string::npos ? 0 : colon + 1).c_str());
            }
        }
        p.m_startup = {{0ms, datePlaceholder("%Y/%m/%d %H:%M:%S") + " [INFO] server is listening on :"
                                 + std::to_string(p.m_listenPort)}};
        p.m_termExitCode = 0;
        interpret = commandGiven && scriptLike(argv);
        break;
    }
    case ImageKind::Httpd: {
        p.m_listenPort = 80;
        p.m_cpuMilli = 1;
        p.m_memoryBytes = 5 << 20;
        std::string d = datePlaceholder("%a %b %d %H:%M:%S.000000 %Y");
        std::string fqdn = "AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using "
                           + context.podIP + ". Set the 'ServerName' directive globally to suppress this message";
        p.m_startup = {{0ms, fqdn, true},
                       {0ms, fqdn, true},
                       {0ms, "[" + d + "] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/2.4.62 (Unix) configured -- resuming normal operations", true},
                       {0ms, "[" + d + "] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'", true}};
        p.m_termExitCode = 0;
        interpret = commandGiven && scriptLike(argv);
        break;
    }
    case ImageKind::Fortune: {
        p.m_cpuMilli = 1;
        p.m_memoryBytes = 1 << 20;
        Duration interval = 10s;
        if (!config.args.empty())
            if (auto d = sleepDuration(config.args[0]))
                interval = std::max<Duration>(*d, 1ms);
        auto seconds = std::chrono::duration_cast<std::chrono::seconds>(interval).count();
        p.m_startup = {{0ms, "Configured to generate new fortune every " + std::to_string(seconds) + " seconds"}};
        p.m_loop = Loop{0ms, interval, {{0ms, datePlaceholder() + " Writing fortune to /var/htdocs/index.html"}}};
        p.m_ignoresSigterm = true; // a shell script as PID 1
        interpret = commandGiven && scriptLike(argv);
        break;
    }
    case ImageKind::Shell:
        p.m_cpuMilli = 0;
        p.m_memoryBytes = 400 << 10;
        interpret = true;
        if (argv.empty())
            argv = {"sh"};
        break;
    case ImageKind::Generic:
        p.m_cpuMilli = 2;
        p.m_memoryBytes = 16 << 20;
        interpret = scriptLike(argv);
        break;
    }

    if (interpret) {
        ScriptOutcome o = runArgv(argv, config, context);
        p.m_startup = std::move(o.lines);
        p.m_loop = std::move(o.loop);
        p.m_listenPort = -1; // a script serves nothing
        if (!o.forever && !p.m_loop) {
            p.m_exitAfter = o.duration;
            p.m_exitCode = o.exitCode;
        }
        // A shell or sleep as PID 1 ignores SIGTERM unless the script traps it.
        p.m_ignoresSigterm = !o.handlesTerm;
        p.m_termExitCode = 143;
    }

    // ---- annotations --------------------------------------------------------------------------
    auto exitCode = annotation(config, "exit-code");
    std::optional<int> code;
    if (exitCode) {
        char *end = nullptr;
        long v = std::strtol(exitCode->c_str(), &end, 10);
        if (exitCode->empty() || (end && *end) || v < 0 || v > 255)
            return badAnnotation("exit-code", *exitCode, "an exit code from 0 to 255");
        code = int(v);
    }
    if (code && p.m_exitAfter)
        p.m_exitCode = *code;
    auto exitAt = [&](Duration after, int exit, std::string reason) {
        if (!p.m_exitAfter || after < *p.m_exitAfter) {
            p.m_exitAfter = after;
            p.m_exitCode = exit;
            p.m_exitReason = std::move(reason);
        }
    };
    auto crash = durationAnnotation(config, "crash-after");
    if (!crash)
        return crash.error();
    if (*crash)
        exitAt(**crash, code.value_or(1), "");
    auto runFor = durationAnnotation(config, "run-for");
    if (!runFor)
        return runFor.error();
    if (*runFor)
        exitAt(**runFor, code.value_or(0), "");
    if (auto cpu = annotation(config, "cpu")) {
        auto q = model::Quantity::parse(*cpu);
        if (!q || q->sign() < 0)
            return badAnnotation("cpu", *cpu, "a CPU quantity such as 250m or 1");
        p.m_cpuMilli = q->milliValue();
    }
    if (auto mem = annotation(config, "memory")) {
        auto q = model::Quantity::parse(*mem);
        if (!q || q->sign() < 0)
            return badAnnotation("memory", *mem, "a memory quantity such as 64Mi");
        p.m_memoryBytes = q->value();
    }
    auto oom = durationAnnotation(config, "oom-after");
    if (!oom)
        return oom.error();
    if (*oom)
        exitAt(**oom, 137, "OOMKilled");
    else if (config.memoryLimitBytes > 0 && p.m_memoryBytes > config.memoryLimitBytes)
        exitAt(1s, 137, "OOMKilled"); // it grows past its limit as soon as it gets going
    if (p.m_exitAfter && p.m_exitReason != "OOMKilled")
        p.m_exitReason = p.m_exitCode == 0 ? "Completed" : "Error";

    auto ready = durationAnnotation(config, "ready-after");
    if (!ready)
        return ready.error();
    if (*ready)
        p.m_readyAfter = **ready;
    auto startup = durationAnnotation(config, "startup-after");
    if (!startup)
        return startup.error();
    if (*startup)
        p.m_startupAfter = **startup;
    if (auto f = annotation(config, "fail-readiness"))
        p.m_failReadiness = truthy(*f);
    if (auto f = annotation(config, "fail-liveness"); f && truthy(*f))
        p.m_failLivenessAfter = 0s;
    auto liveAfter = durationAnnotation(config, "fail-liveness-after");
    if (!liveAfter)
        return liveAfter.error();
    if (*liveAfter)
        p.m_failLivenessAfter = **liveAfter;
    if (auto stop = annotation(config, "stop-after")) {
        if (*stop == "never") {
            p.m_ignoresSigterm = true;
        } else {
            auto d = SimProgram::parseDuration(*stop);
            if (!d)
                return badAnnotation("stop-after", *stop, "a duration or \"never\"");
            p.m_ignoresSigterm = false;
            p.m_stopAfter = *d;
            p.m_termExitCode = 0; // it handles SIGTERM and shuts down cleanly
        }
    }
    // Background jobs interleave their output with the script's.
    std::stable_sort(p.m_startup.begin(), p.m_startup.end(), [](const Line &a, const Line &b) { return a.at < b.at; });
    return p;
}

std::vector<SimProgram::Line> SimProgram::termLines() const
{
    std::string d = datePlaceholder("%Y/%m/%d %H:%M:%S");
    switch (m_kind) {
    case ImageKind::Nginx:
        return {{0ms, d + " [notice] 1#1: signal 3 (SIGQUIT) received, shutting down", true},
                {0ms, d + " [notice] 29#29: gracefully shutting down", true},
                {0ms, d + " [notice] 29#29: exiting", true},
                {0ms, d + " [notice] 29#29: exit", true},
                {0ms, d + " [notice] 1#1: worker process 29 exited with code 0", true},
                {0ms, d + " [notice] 1#1: exit", true}};
    case ImageKind::Httpd:
        return {{0ms, "[" + datePlaceholder("%a %b %d %H:%M:%S.000000 %Y")
                          + "] [mpm_event:notice] [pid 1:tid 1] AH00492: caught SIGWINCH, shutting down gracefully",
                 true}};
    case ImageKind::HttpEcho:
        return {{0ms, d + " [INFO] server is shutting down"}};
    default:
        return {};
    }
}

bool SimProgram::listensOn(int port) const
{
    if (m_listenPort < 0)
        return false;
    if (m_listenPort > 0)
        return port == m_listenPort;
    // A generic server listens on the ports it declares (on any, when it declares none).
    return m_ports.empty() || std::find(m_ports.begin(), m_ports.end(), port) != m_ports.end();
}

SimProgram::Response SimProgram::respond(const std::string &path, Duration, int requests) const
{
    const std::string &host = m_context.podName;
    switch (m_kind) {
    case ImageKind::Kubia:
        if (m_healthyRequests >= 0 && requests >= m_healthyRequests)
            return {500, "I'm not well. Please restart me!"};
        if (m_errorAfterRequests >= 0 && requests >= m_errorAfterRequests)
            return {500, "Some internal error has occurred! This is pod " + host + "\n"};
        if (m_tag == "v2")
            return {200, "This is v2 running in pod " + host + "\n"};
        if (m_tag == "v3")
            return {200, "This is v3 running in pod " + host + "\n"};
        return {200, "You've hit " + host + "\n"};
    case ImageKind::Nginx:
        if (path == "/" || path == "/index.html")
            return {200, "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n"
                         "<h1>Welcome to nginx!</h1>\n</body>\n</html>\n"};
        return {404, "<html>\n<head><title>404 Not Found</title></head>\n<body>\n<center><h1>404 Not Found</h1></center>\n"
                     "<hr><center>nginx/1.27.3</center>\n</body>\n</html>\n"};
    case ImageKind::Httpd:
        if (path == "/" || path == "/index.html")
            return {200, "<html><body><h1>It works!</h1></body></html>\n"};
        return {404, "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>\n"
                     "</head><body>\n<h1>Not Found</h1>\n</body></html>\n"};
    case ImageKind::HttpEcho:
        return {200, m_echoText + "\n"};
    default:
        return {200, "OK\n"};
    }
}

std::optional<std::string> SimProgram::requestLine(const std::string &fromIp, const std::string &path, int status,
                                                   size_t bytes, bool fromProbe) const
{
    std::string agent = fromProbe ? "kube-probe/1.32" : "curl/8.5.0";
    switch (m_kind) {
    case ImageKind::Kubia:
        return "Received request from ::ffff:" + fromIp;
    case ImageKind::Nginx:
        return fromIp + " - - [" + httpDate() + "] \"GET " + path + " HTTP/1.1\" " + std::to_string(status) + " "
               + std::to_string(bytes) + " \"-\" \"" + agent + "\" \"-\"";
    case ImageKind::Httpd:
        return fromIp + " - - [" + httpDate() + "] \"GET " + path + " HTTP/1.1\" " + std::to_string(status) + " "
               + std::to_string(bytes);
    case ImageKind::HttpEcho:
        return datePlaceholder("%Y/%m/%d %H:%M:%S") + " " + m_context.podIP + ":" + std::to_string(m_listenPort) + " "
               + fromIp + ":48362 \"GET " + path + " HTTP/1.1\" " + std::to_string(status) + " " + std::to_string(bytes)
               + " \"" + agent + "\" 21.4\xc2\xb5s";
    default:
        return std::nullopt;
    }
}

ProbeResult SimProgram::probe(const ProbeSpec &spec, Duration sinceStart, int requests) const
{
    const std::string target = m_context.podIP + ":" + std::to_string(spec.port);
    const bool starting = spec.type == ProbeType::Startup ? sinceStart < m_startupAfter : sinceStart < m_readyAfter;
    bool failing = false;
    int failStatus = 503;
    if (spec.type == ProbeType::Readiness)
        failing = starting || m_failReadiness;
    else if (spec.type == ProbeType::Startup)
        failing = starting;
    else if (spec.type == ProbeType::Liveness) {
        failing = m_failLivenessAfter && sinceStart >= *m_failLivenessAfter;
        failStatus = 500;
    }
    switch (spec.handler) {
    case ProbeSpec::Handler::HttpGet: {
        std::string url = (spec.scheme == "HTTPS" ? "https://" : "http://") + target + spec.path;
        if (!listensOn(spec.port) || (starting && spec.type != ProbeType::Liveness))
            return {false, "Get \"" + url + "\": dial tcp " + target + ": connect: connection refused"};
        Response r = respond(spec.path, sinceStart, requests);
        if (failing)
            r.status = failStatus;
        if (r.status >= 200 && r.status < 400)
            return {true, {}};
        return {false, "HTTP probe failed with statuscode: " + std::to_string(r.status)};
    }
    case ProbeSpec::Handler::TcpSocket:
        if (!listensOn(spec.port) || failing)
            return {false, "dial tcp " + target + ": connect: connection refused"};
        return {true, {}};
    case ProbeSpec::Handler::Grpc:
        if (!listensOn(spec.port) || failing)
            return {false, "timeout: failed to connect service \"" + target + "\" within 1s"};
        return {true, {}};
    case ProbeSpec::Handler::Exec:
        if (!failing)
            return {true, {}};
        // `cat /tmp/healthy` is the classic exec probe: say what cat would.
        for (size_t i = 0; i + 1 < spec.command.size(); ++i)
            if (baseName(spec.command[i]) == "cat")
                return {false, "cat: can't open '" + spec.command[i + 1] + "': No such file or directory"};
        return {false, {}};
    }
    return {false, {}};
}

int64_t SimProgram::cpuMilli(Duration sinceStart, uint64_t seed) const
{
    if (m_cpuMilli == 0)
        return 0;
    // +-10%, changing every 15 s: what a scrape interval would see.
    uint64_t bucket = uint64_t(std::chrono::duration_cast<std::chrono::seconds>(sinceStart).count() / 15);
    double f = 0.9 + double(mix(seed ^ bucket) % 2001) / 10000.0;
    return std::max<int64_t>(1, std::llround(double(m_cpuMilli) * f));
}

int64_t SimProgram::memoryBytes(Duration sinceStart, uint64_t seed) const
{
    uint64_t bucket = uint64_t(std::chrono::duration_cast<std::chrono::seconds>(sinceStart).count() / 15);
    double f = 0.97 + double(mix(seed ^ (bucket * 31 + 7)) % 601) / 10000.0;
    return std::llround(double(m_memoryBytes) * f);
}

} // namespace podscape::core::kubelet::runtime
