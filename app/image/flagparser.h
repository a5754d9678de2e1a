#pragma once
// Command-line flags the way Go's flag package reads them (http-echo is a Go program), which
// also covers the GNU-style options of the other programs: "-name=value", "-name value",
// "--name=value" and "--name value". Every flag takes a value; positional arguments are errors.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace podscape::image {

class FlagParser
{
public:
    explicit FlagParser(std::vector<std::string> names);

    // False, with a message naming the flag, for an unknown flag, a missing value or a
    // positional argument.
    bool parse(const std::vector<std::string> &args, std::string &error);

    std::optional<std::string> value(const std::string &name) const;
    // The flag as an integer in [min, max]; `fallback` when absent. False with a message when
    // it is present but not such a number.
    bool number(const std::string &name, int min, int max, int fallback, int &out, std::string &error) const;

    // `text` as a whole decimal integer in [min, max].
    static bool parseNumber(const std::string &text, int min, int max, int &out);

private:
    std::vector<std::string> m_names;
    std::map<std::string, std::string> m_values;
};

} // namespace podscape::image
