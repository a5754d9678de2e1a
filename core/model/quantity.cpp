#include "quantity.h"

#include "names.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <optional>

namespace podscape::core::model {

namespace {

// Unsigned arithmetic only: clang's UBSan turns a signed 128-bit multiply into a call to
// __muloti4, which libgcc does not provide, so every product is taken on magnitudes.
__extension__ typedef unsigned __int128 U128;
using I128 = detail::QuantityNanos;

constexpr U128 pow10(int n)
{
    U128 r = 1;
    while (n-- > 0)
        r *= 10;
    return r;
}

constexpr U128 kNanosPerUnit = pow10(9);
// Decimal magnitudes stop below 10^27 units; sums of two still fit an __int128 comfortably.
constexpr U128 kMaxNanos = pow10(36) - 1;
// Kubernetes silently caps binary-suffixed input at 2^63-1 units.
constexpr U128 kBinaryCapNanos = U128(std::numeric_limits<int64_t>::max()) * kNanosPerUnit;

constexpr std::string_view kHint =
    "a quantity is a decimal number with an optional sign and fraction (1, -2, 0.5, 1.5), "
    "optionally followed by a suffix: n, u, m, k, M, G, T, P, E (powers of 1000), "
    "Ki, Mi, Gi, Ti, Pi, Ei (powers of 1024) or an exponent such as e3 or E-6";

U128 magnitude(I128 v) { return v < 0 ? -static_cast<U128>(v) : static_cast<U128>(v); }
I128 withSign(bool negative, U128 mag) { return negative ? -static_cast<I128>(mag) : static_cast<I128>(mag); }

bool isDigit(char c) { return c >= '0' && c <= '9'; }

std::string toDecimal(U128 v)
{
    std::array<char, 48> buf{};
    size_t i = buf.size();
    do {
        buf[--i] = char('0' + int(v % 10));
        v /= 10;
    } while (v != 0);
    return std::string(buf.data() + i, buf.size() - i);
}

Error parseError(std::string_view text, const std::string &problem)
{
    return Error(Reason::BadRequest,
                 "invalid quantity " + quoteForMessage(text) + ": " + problem + "; " + std::string(kHint));
}

std::string describeChar(char c)
{
    if (c >= 0x20 && c < 0x7f)
        return std::string("'") + c + "'";
    static const char hex[] = "0123456789abcdef";
    const auto u = static_cast<unsigned char>(c);
    return std::string("byte 0x") + hex[u >> 4] + hex[u & 15];
}

struct Suffix {
    std::string_view text;
    int exponent; // power of 10 for decimal suffixes, of 2 for binary ones
    Quantity::Format format;
};

constexpr std::array kSuffixes{
    Suffix{"", 0, Quantity::Format::DecimalSI},    Suffix{"n", -9, Quantity::Format::DecimalSI},
    Suffix{"u", -6, Quantity::Format::DecimalSI},  Suffix{"m", -3, Quantity::Format::DecimalSI},
    Suffix{"k", 3, Quantity::Format::DecimalSI},   Suffix{"M", 6, Quantity::Format::DecimalSI},
    Suffix{"G", 9, Quantity::Format::DecimalSI},   Suffix{"T", 12, Quantity::Format::DecimalSI},
    Suffix{"P", 15, Quantity::Format::DecimalSI},  Suffix{"E", 18, Quantity::Format::DecimalSI},
    Suffix{"Ki", 10, Quantity::Format::BinarySI},  Suffix{"Mi", 20, Quantity::Format::BinarySI},
    Suffix{"Gi", 30, Quantity::Format::BinarySI},  Suffix{"Ti", 40, Quantity::Format::BinarySI},
    Suffix{"Pi", 50, Quantity::Format::BinarySI},  Suffix{"Ei", 60, Quantity::Format::BinarySI},
};

// The exponent after e/E, read as Go's strconv.ParseInt(s, 10, 64) does (Kubernetes uses it).
std::optional<int64_t> parseExponent(std::string_view s, bool &outOfRange)
{
    outOfRange = false;
    bool negative = false;
    size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-'))
        negative = s[i++] == '-';
    if (i == s.size())
        return std::nullopt;
    uint64_t v = 0;
    const uint64_t limit = negative ? uint64_t(1) << 63 : (uint64_t(1) << 63) - 1;
    for (; i < s.size(); ++i) {
        if (!isDigit(s[i]))
            return std::nullopt;
        const auto d = uint64_t(s[i] - '0');
        if (v > (limit - d) / 10) {
            outOfRange = true;
            return std::nullopt;
        }
        v = v * 10 + d;
    }
    if (!negative)
        return static_cast<int64_t>(v);
    return v == (uint64_t(1) << 63) ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(v);
}

// digits * 10^power10 * 2^shift, rounded up to a whole number; nullopt above `limit`.
// `digits` has no leading or trailing zeros, so a fractional result is never exact.
std::optional<U128> scaleDigits(std::string_view digits, int64_t power10, unsigned shift, U128 limit)
{
    if (digits.empty())
        return U128(0);
    const U128 factor = U128(1) << shift;
    if (power10 >= 0) {
        // At least 10^38: beyond any limit, and keeps the accumulation below within 128 bits.
        if (int64_t(digits.size()) - 1 + power10 >= 38)
            return std::nullopt;
        U128 v = 0;
        for (char c : digits)
            v = v * 10 + U128(c - '0');
        for (int64_t i = 0; i < power10; ++i) {
            if (v > limit / 10)
                return std::nullopt;
            v *= 10;
        }
        if (v > limit / factor)
            return std::nullopt;
        return v * factor;
    }

    // Split into the whole part and the fraction that is shifted out by 10^-q.
    const uint64_t q = uint64_t(-(power10 + 1)) + 1;
    std::string_view whole;
    std::string_view fraction = digits; // q digits, the missing ones being leading zeros
    if (q < digits.size()) {
        whole = digits.substr(0, digits.size() - q);
        fraction = digits.substr(digits.size() - q);
    }
    if (whole.size() > 38)
        return std::nullopt;
    U128 v = 0;
    for (char c : whole)
        v = v * 10 + U128(c - '0');
    if (v > limit / factor)
        return std::nullopt;
    v *= factor;

    // floor(fraction * 2^shift / 10^q), by long multiplication of the decimal digits.
    U128 carry = 0;
    bool inexact = false;
    if (shift == 0) {
        inexact = fraction.find_first_not_of('0') != std::string_view::npos;
    } else {
        for (size_t i = fraction.size(); i-- > 0;) {
            const U128 t = U128(fraction[i] - '0') * factor + carry;
            inexact = inexact || t % 10 != 0;
            carry = t / 10;
        }
        for (uint64_t k = fraction.size(); k < q && carry != 0; ++k) {
            inexact = inexact || carry % 10 != 0;
            carry /= 10;
        }
    }
    v += carry + (inexact ? 1 : 0);
    if (v > limit)
        return std::nullopt;
    return v;
}

int64_t roundAwayFromZero(I128 nanos, U128 unit)
{
    const U128 mag = magnitude(nanos);
    const U128 q = mag / unit + (mag % unit != 0 ? 1 : 0);
    constexpr U128 kMax = U128(std::numeric_limits<int64_t>::max());
    if (nanos >= 0)
        return q > kMax ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(q);
    if (q > kMax)
        return std::numeric_limits<int64_t>::min();
    return -static_cast<int64_t>(q);
}

} // namespace

Result<Quantity> Quantity::parse(std::string_view s)
{
    if (s.empty())
        return parseError(s, "it is empty");

    // The same scan as Kubernetes' parseQuantityString: sign, digits, fraction, suffix.
    size_t pos = 0;
    bool negative = false;
    if (s[0] == '+' || s[0] == '-')
        negative = s[pos++] == '-';
    const size_t intBegin = pos;
    while (pos < s.size() && isDigit(s[pos]))
        ++pos;
    const std::string_view intDigits = s.substr(intBegin, pos - intBegin);
    std::string_view fracDigits;
    bool hasPoint = false;
    if (pos < s.size() && s[pos] == '.') {
        hasPoint = true;
        const size_t fracBegin = ++pos;
        while (pos < s.size() && isDigit(s[pos]))
            ++pos;
        fracDigits = s.substr(fracBegin, pos - fracBegin);
    }
    // Kubernetes' scanner lets "Mi", "-" or "." through as zero, against its own grammar;
    // such text is a typo far more often than a way to write 0, so it is refused here.
    if (intDigits.empty() && fracDigits.empty()) {
        if (hasPoint || pos == s.size())
            return parseError(s, "there are no digits");
        return parseError(s, "expected a digit at position " + std::to_string(pos) + ", found " +
                                 describeChar(s[pos]));
    }

    const size_t suffixBegin = pos;
    constexpr std::string_view kSuffixChars = "eEinumkKMGTP";
    while (pos < s.size() && kSuffixChars.find(s[pos]) != std::string_view::npos)
        ++pos;
    if (pos < s.size() && (s[pos] == '+' || s[pos] == '-'))
        ++pos;
    while (pos < s.size() && isDigit(s[pos]))
        ++pos;
    if (pos != s.size())
        return parseError(s, "unexpected " + describeChar(s[pos]) + " at position " + std::to_string(pos));
    const std::string_view suffix = s.substr(suffixBegin);

    Format format = Format::DecimalSI;
    int64_t exponent = 0;
    unsigned shift = 0;
    bool known = false;
    for (const auto &sfx : kSuffixes) {
        if (sfx.text == suffix) {
            format = sfx.format;
            if (format == Format::BinarySI)
                shift = unsigned(sfx.exponent);
            else
                exponent = sfx.exponent;
            known = true;
            break;
        }
    }
    if (!known) {
        bool outOfRange = false;
        std::optional<int64_t> e;
        if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E'))
            e = parseExponent(suffix.substr(1), outOfRange);
        if (!e) {
            if (outOfRange)
                return parseError(s, "the exponent " + quoteForMessage(suffix) + " is out of range");
            return parseError(s, "unknown suffix " + quoteForMessage(suffix));
        }
        format = Format::DecimalExponent;
        exponent = *e;
    }

    // Significant digits without leading or trailing zeros; the zeros go into the exponent.
    // Exponents this far out only decide between "too large" and "rounds to 1n".
    constexpr int64_t kExponentClamp = int64_t(1) << 40;
    exponent = std::max(-kExponentClamp, std::min(exponent, kExponentClamp));
    std::string digits;
    digits.reserve(intDigits.size() + fracDigits.size());
    digits.append(intDigits).append(fracDigits);
    int64_t power10 = exponent - int64_t(fracDigits.size()) + 9;
    const size_t first = digits.find_first_not_of('0');
    if (first == std::string::npos) {
        digits.clear();
    } else {
        const size_t last = digits.find_last_not_of('0');
        power10 += int64_t(digits.size() - 1 - last);
        digits = digits.substr(first, last - first + 1);
    }

    const bool binary = format == Format::BinarySI;
    std::optional<U128> nanos = scaleDigits(digits, power10, shift, binary ? kBinaryCapNanos : kMaxNanos);
    if (!nanos) {
        if (!binary)
            return parseError(s, "it is too large (the magnitude must be below 1e27)");
        nanos = kBinaryCapNanos;
    }
    // A binary amount below one unit prints as decimal, as Kubernetes decides at parse time.
    if (binary && *nanos != 0 && *nanos < kNanosPerUnit)
        format = Format::DecimalSI;
    return Quantity(withSign(negative, *nanos), format);
}

Quantity Quantity::fromInt(int64_t value, Format format)
{
    const U128 mag = value < 0 ? -static_cast<U128>(static_cast<I128>(value)) : static_cast<U128>(value);
    return Quantity(withSign(value < 0, mag * kNanosPerUnit), format);
}

Quantity Quantity::fromMilli(int64_t milliValue, Format format)
{
    const U128 mag =
        milliValue < 0 ? -static_cast<U128>(static_cast<I128>(milliValue)) : static_cast<U128>(milliValue);
    return Quantity(withSign(milliValue < 0, mag * pow10(6)), format);
}

std::string Quantity::toString() const
{
    if (m_nanos == 0)
        return "0";
    const bool negative = m_nanos < 0;
    const U128 mag = magnitude(m_nanos);
    std::string out = negative ? "-" : "";

    if (m_format == Format::BinarySI && mag >= 1024 * kNanosPerUnit && mag % kNanosPerUnit == 0) {
        static constexpr std::array<std::string_view, 7> kBinary{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
        U128 units = mag / kNanosPerUnit;
        size_t k = 0;
        // Past Ei Kubernetes has no suffix and would drop the power; we stay at Ei.
        while (units % 1024 == 0 && k + 1 < kBinary.size()) {
            units /= 1024;
            ++k;
        }
        return out + toDecimal(units) + std::string(kBinary[k]);
    }

    // Decimal: move every factor of ten into the exponent, then lower it to a multiple of 3.
    U128 mantissa = mag;
    int exponent = -9;
    while (mantissa % 10 == 0) {
        mantissa /= 10;
        ++exponent;
    }
    while (((exponent % 3) + 3) % 3 != 0) {
        mantissa *= 10;
        --exponent;
    }
    out += toDecimal(mantissa);
    if (m_format == Format::DecimalExponent || exponent > 18) {
        // Beyond "E" DecimalSI has no suffix; Kubernetes falls back to the exponent form.
        if (exponent != 0)
            out += "e" + std::to_string(exponent);
        return out;
    }
    static constexpr std::array<std::string_view, 10> kDecimal{"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
    out += kDecimal[size_t((exponent + 9) / 3)];
    return out;
}

int64_t Quantity::value() const { return roundAwayFromZero(m_nanos, kNanosPerUnit); }

int64_t Quantity::milliValue() const { return roundAwayFromZero(m_nanos, pow10(6)); }

int Quantity::compare(const Quantity &other) const
{
    return m_nanos < other.m_nanos ? -1 : (m_nanos > other.m_nanos ? 1 : 0);
}

Quantity::Nanos Quantity::clamp(Nanos nanos)
{
    const auto limit = static_cast<I128>(kMaxNanos);
    return nanos > limit ? limit : (nanos < -limit ? -limit : nanos);
}

Quantity &Quantity::add(const Quantity &other)
{
    if (m_nanos == 0)
        m_format = other.m_format;
    m_nanos = clamp(m_nanos + other.m_nanos);
    return *this;
}

Quantity &Quantity::sub(const Quantity &other)
{
    if (m_nanos == 0)
        m_format = other.m_format;
    m_nanos = clamp(m_nanos - other.m_nanos);
    return *this;
}

Quantity &Quantity::neg()
{
    m_nanos = -m_nanos;
    return *this;
}

} // namespace podscape::core::model
