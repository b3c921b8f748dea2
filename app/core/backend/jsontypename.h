#pragma once
// Names a JSON value's type the way the backend's error sentences say it ("a list", "an
// object", ...). Shared by the HTTP layer and the prediction service.
#include <nlohmann/json.hpp>

namespace loopdeck::backend {

inline const char *jsonTypeName(const nlohmann::json &j)
{
    using T = nlohmann::json::value_t;
    switch (j.type()) {
    case T::null: return "null";
    case T::object: return "an object";
    case T::array: return "a list";
    case T::string: return "a string";
    case T::boolean: return "a boolean";
    case T::binary: return "binary data";
    case T::discarded: return "nothing";
    default: return "a number";
    }
}

} // namespace loopdeck::backend
