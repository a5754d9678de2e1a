#pragma once
// Reading optional members of JSON objects without copies or exceptions: what every
// controller needs when it walks an object whose shape was validated but may lack fields.

#include <nlohmann/json.hpp>

namespace podscape::core::model {

// o[name] if `o` is an object that has it; a null value otherwise.
inline const nlohmann::json &member(const nlohmann::json &o, const char *name)
{
    static const nlohmann::json null;
    if (!o.is_object())
        return null;
    auto it = o.find(name);
    return it == o.end() ? null : *it;
}

} // namespace podscape::core::model
