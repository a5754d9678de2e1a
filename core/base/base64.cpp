#include "base64.h"

#include <openssl/evp.h>

namespace podscape::core {

std::string base64Encode(std::string_view data)
{
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                                  reinterpret_cast<const unsigned char *>(data.data()), static_cast<int>(data.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

std::optional<std::string> base64Decode(std::string_view text)
{
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::string out;
    out.reserve(text.size() / 4 * 3);
    int quantum[4];
    int have = 0;
    bool ended = false; // padding seen: nothing but line breaks may follow
    for (char c : text) {
        if (c == '\r' || c == '\n')
            continue;
        if (ended)
            return std::nullopt;
        if (c == '=') {
            // Only in the last one or two places of a quantum.
            if (have < 2)
                return std::nullopt;
            quantum[have++] = -2;
            if (have == 4) {
                if (quantum[2] == -2 && quantum[3] != -2)
                    return std::nullopt;
                out.push_back(static_cast<char>(quantum[0] << 2 | quantum[1] >> 4));
                if (quantum[2] >= 0)
                    out.push_back(static_cast<char>((quantum[1] & 0xf) << 4 | quantum[2] >> 2));
                have = 0;
                ended = true;
            }
            continue;
        }
        const int v = value(c);
        if (v < 0 || (have > 0 && quantum[have - 1] == -2))
            return std::nullopt;
        quantum[have++] = v;
        if (have == 4) {
            out.push_back(static_cast<char>(quantum[0] << 2 | quantum[1] >> 4));
            out.push_back(static_cast<char>((quantum[1] & 0xf) << 4 | quantum[2] >> 2));
            out.push_back(static_cast<char>((quantum[2] & 0x3) << 6 | quantum[3]));
            have = 0;
        }
    }
    if (have != 0)
        return std::nullopt;
    return out;
}

} // namespace podscape::core
