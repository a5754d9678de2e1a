#pragma once
// Quantity: Kubernetes' resource.Quantity ("500m" CPU, "1.5Gi" memory, "1e3"), parsed, rounded
// and printed as the API server does, so a value that passes through us reads the same in
// kubectl. Fixed point: never a float anywhere.
//
// The value is kept exactly in nano units (10^-9); finer input rounds away from zero to the
// next nano unit, as Kubernetes rounds ("0.9n" is "1n"). Binary-suffixed input is capped at
// 2^63-1 like Kubernetes ("9Ei" is 9223372036854775807). Kubernetes keeps arbitrarily large
// decimal quantities; we refuse magnitudes of 10^27 and more (quantities never come near).

#include "core/base/result.h"

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace podscape::core::model {

namespace detail {
__extension__ typedef __int128 QuantityNanos;
} // namespace detail

class Quantity
{
public:
    // The suffix family a quantity was written with; it is printed in the same family.
    enum class Format {
        DecimalSI,       // 12M, 500m, 1 (powers of 1000)
        BinarySI,        // 12Mi (powers of 1024)
        DecimalExponent, // 12e6
    };

    Quantity() = default; // zero, DecimalSI

    // Accepts what Kubernetes accepts: optional sign, digits with an optional fraction
    // ("1.5", ".5", "1."), then one of n u m k M G T P E / Ki Mi Gi Ti Pi Ei / e<int> E<int>.
    // Kubernetes' scanner also lets text without any digit through as zero ("Mi", "-", ".");
    // that is refused here. Errors are BadRequest and name the text and what is wrong.
    static Result<Quantity> parse(std::string_view text);
    static Quantity fromInt(int64_t value, Format format = Format::DecimalSI);
    static Quantity fromMilli(int64_t milliValue, Format format = Format::DecimalSI);

    // Canonical form, as Kubernetes' String(): "1.5" -> "1500m", "0.5Gi" -> "512Mi",
    // "1024Mi" -> "1Gi", "1.1Gi" -> "1181116006400m" (binary that is not whole goes decimal).
    // Unlike Kubernetes we never echo a parsed non-canonical spelling back ("1.500" is
    // "1500m", not "1.500": kubernetes/kubernetes#138165).
    std::string toString() const;

    Format format() const { return m_format; }
    bool isZero() const { return m_nanos == 0; }
    int sign() const { return m_nanos < 0 ? -1 : (m_nanos > 0 ? 1 : 0); }

    // Whole units / thousandths, rounded away from zero (1.5 -> 2, -1.5 -> -2) as Kubernetes'
    // Value()/MilliValue(). Kubernetes leaves overflow undefined; we saturate at int64 limits.
    int64_t value() const;
    int64_t milliValue() const;

    int compare(const Quantity &other) const;
    friend bool operator==(const Quantity &a, const Quantity &b) { return a.m_nanos == b.m_nanos; }
    friend std::strong_ordering operator<=>(const Quantity &a, const Quantity &b) { return a.compare(b) <=> 0; }

    // In place, as Kubernetes' Add/Sub: a zero quantity takes the other's format. Results
    // beyond the representable range saturate at it.
    Quantity &add(const Quantity &other);
    Quantity &sub(const Quantity &other);
    Quantity &neg();

private:
    using Nanos = detail::QuantityNanos;
    Quantity(Nanos nanos, Format format) : m_nanos(nanos), m_format(format) {}
    static Nanos clamp(Nanos nanos);

    Nanos m_nanos = 0;
    Format m_format = Format::DecimalSI;
};

} // namespace podscape::core::model
