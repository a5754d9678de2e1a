#include "flagparser.h"

#include <algorithm>
#include <charconv>

namespace podscape::image {

FlagParser::FlagParser(std::vector<std::string> names)
    : m_names(std::move(names))
{
}

bool FlagParser::parse(const std::vector<std::string> &args, std::string &error)
{
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &arg = args[i];
        if (arg.size() < 2 || arg[0] != '-') {
            error = "unexpected argument \"" + arg + "\"";
            return false;
        }
        std::string flag = arg.substr(arg[1] == '-' ? 2 : 1);
        std::optional<std::string> value;
        if (auto eq = flag.find('='); eq != std::string::npos) {
            value = flag.substr(eq + 1);
            flag.resize(eq);
        }
        if (std::find(m_names.begin(), m_names.end(), flag) == m_names.end()) {
            error = "flag provided but not defined: -" + flag;
            return false;
        }
        if (!value) {
            if (i + 1 >= args.size()) {
                error = "flag needs an argument: -" + flag;
                return false;
            }
            value = args[++i];
        }
        m_values[flag] = *value;
    }
    return true;
}

std::optional<std::string> FlagParser::value(const std::string &name) const
{
    auto it = m_values.find(name);
    if (it == m_values.end())
        return std::nullopt;
    return it->second;
}

bool FlagParser::number(const std::string &name, int min, int max, int fallback, int &out, std::string &error) const
{
    auto text = value(name);
    if (!text) {
        out = fallback;
        return true;
    }
    if (!parseNumber(*text, min, max, out)) {
        error = "invalid value \"" + *text + "\" for flag -" + name + ": want a number from " + std::to_string(min)
                + " to " + std::to_string(max);
        return false;
    }
    return true;
}

bool FlagParser::parseNumber(const std::string &text, int min, int max, int &out)
{
    int parsed = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (ec != std::errc() || end != text.data() + text.size() || parsed < min || parsed > max)
        return false;
    out = parsed;
    return true;
}

} // namespace podscape::image
