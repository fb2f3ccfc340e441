// Private: reading options structs from nlohmann::json, strictly. An unknown
// key or a value of the wrong type is a std::invalid_argument naming it.
#pragma once

#include <reactsock/error.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace reactsock::detail {

class JsonOptions {
public:
    JsonOptions(const nlohmann::json& json, std::string owner) : json_(json), owner_(std::move(owner)) {
        if (!json_.is_object() && !json_.is_null()) {
            throw std::invalid_argument(owner_ + " options must be a JSON object");
        }
    }

    // Reads `key` into `field` if present (bool, integers, double, string,
    // std::optional of those). Returns whether the key was present.
    template <class T>
    bool read(const char* key, T& field) {
        seen_.insert(key);
        if (!json_.is_object()) return false;
        const auto it = json_.find(key);
        if (it == json_.end()) return false;
        assign(key, *it, field);
        return true;
    }

    // The raw value of `key` (for options with several accepted shapes).
    const nlohmann::json* raw(const char* key) {
        seen_.insert(key);
        if (!json_.is_object()) return nullptr;
        const auto it = json_.find(key);
        return it == json_.end() ? nullptr : &*it;
    }

    // Throws for any key that no read()/raw() asked for.
    void finish() const {
        if (!json_.is_object()) return;
        for (const auto& item : json_.items()) {
            if (seen_.count(item.key()) == 0) {
                throw std::invalid_argument("Unknown " + owner_ + " option \"" + escape_for_message(item.key()) + "\"");
            }
        }
    }

    [[noreturn]] void wrong_type(const char* key, const char* expected) const {
        throw std::invalid_argument(owner_ + " option \"" + key + "\" must be " + expected);
    }

private:
    template <class T>
    void assign(const char* key, const nlohmann::json& value, T& field) {
        if constexpr (std::is_same_v<T, bool>) {
            if (!value.is_boolean()) wrong_type(key, "true or false");
            field = value.get<bool>();
        } else if constexpr (std::is_integral_v<T>) {
            if (!value.is_number_integer()) wrong_type(key, "an integer");
            if constexpr (std::is_unsigned_v<T>) {
                if (value.is_number_unsigned()) {
                    const auto v = value.get<std::uint64_t>();
                    if (v > std::numeric_limits<T>::max()) wrong_type(key, "a smaller integer");
                    field = static_cast<T>(v);
                } else {
                    const auto v = value.get<std::int64_t>();
                    if (v < 0) wrong_type(key, "a non-negative integer");
                    field = static_cast<T>(v);
                }
            } else {
                const auto v = value.get<std::int64_t>();
                if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
                    wrong_type(key, "an integer in range");
                }
                field = static_cast<T>(v);
            }
        } else if constexpr (std::is_floating_point_v<T>) {
            if (!value.is_number()) wrong_type(key, "a number");
            field = value.get<T>();
            if (!std::isfinite(field)) wrong_type(key, "a finite number");
        } else if constexpr (std::is_same_v<T, std::string>) {
            if (!value.is_string()) wrong_type(key, "a string");
            field = value.get<std::string>();
        } else {
            // std::optional<U>
            typename T::value_type inner{};
            assign(key, value, inner);
            field = std::move(inner);
        }
    }

    const nlohmann::json& json_;
    std::string owner_;
    std::set<std::string> seen_;
};

}  // namespace reactsock::detail
