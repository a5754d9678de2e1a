#pragma once
// Result<T>: a value or an Error, in the shape of std::expected (C++23) so it can be swapped
// for it later. Accessing the wrong alternative is a programmer error and asserts.

#include "error.h"

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace podscape::core {

// Wraps an Error so that `return fail(err);` reads well and cannot be confused with a value.
struct Unexpected {
    Error error;
};
inline Unexpected fail(Error e) { return {std::move(e)}; }
inline Unexpected fail(Reason r, std::string message) { return {Error(r, std::move(message))}; }

template<typename T>
class [[nodiscard]] Result
{
public:
    Result(const T &value) : m_v(std::in_place_index<0>, value) {}
    Result(T &&value) : m_v(std::in_place_index<0>, std::move(value)) {}
    template<typename U>
        requires(std::is_constructible_v<T, U &&> && !std::is_same_v<std::decay_t<U>, T>
                 && !std::is_same_v<std::decay_t<U>, Unexpected> && !std::is_same_v<std::decay_t<U>, Error>
                 && !std::is_same_v<std::decay_t<U>, Result>)
    Result(U &&value) : m_v(std::in_place_index<0>, T(std::forward<U>(value)))
    {}
    Result(Unexpected u) : m_v(std::in_place_index<1>, std::move(u.error)) {}
    Result(Error e) : m_v(std::in_place_index<1>, std::move(e)) {}

    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }

    T &value() & { assert(ok()); return std::get<0>(m_v); }
    const T &value() const & { assert(ok()); return std::get<0>(m_v); }
    T &&value() && { assert(ok()); return std::get<0>(std::move(m_v)); }
    T valueOr(T fallback) const { return ok() ? std::get<0>(m_v) : std::move(fallback); }

    const Error &error() const { assert(!ok()); return std::get<1>(m_v); }
    Error &&takeError() { assert(!ok()); return std::get<1>(std::move(m_v)); }

    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }

private:
    std::variant<T, Error> m_v;
};

template<>
class [[nodiscard]] Result<void>
{
public:
    Result() = default;
    Result(Unexpected u) : m_error(std::move(u.error)), m_ok(false) {}
    Result(Error e) : m_error(std::move(e)), m_ok(false) {}

    bool ok() const { return m_ok; }
    explicit operator bool() const { return m_ok; }
    const Error &error() const { assert(!m_ok); return m_error; }
    Error &&takeError() { assert(!m_ok); return std::move(m_error); }

private:
    Error m_error;
    bool m_ok = true;
};


} // namespace podscape::core
