#pragma once
// Reading fixtures from tests/data.

#include <fstream>
#include <sstream>
#include <string>

namespace podscape::tests {

inline std::string readTestData(const std::string &relative)
{
    std::string path = PODSCAPE_TEST_DATA;
    path += '/';
    path += relative;
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace podscape::tests
