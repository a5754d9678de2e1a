#pragma once
// Reading fields of objects that may not have the expected shape, without throwing: the
// scheduler reads what others wrote, and a malformed field must read as absent, not stop it.

#include <nlohmann/json.hpp>

#include <string>

namespace podscape::core::scheduler {

// object[key] if object is an object and the field a string; "" otherwise.
inline std::string stringField(const nlohmann::json &object, const char *key)
{
    if (!object.is_object())
        return {};
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

} // namespace podscape::core::scheduler
