// src/options.hpp — private: the one reader of options structs from
// nlohmann::json, below every layer (socket, TLS, DNS and stream options all
// use it). The rules, the same for every struct:
//  * the JSON is an object (or null: all defaults);
//  * an unknown key is std::invalid_argument `Unknown <owner> option "<key>"`;
//  * a value of the wrong type or out of range is std::invalid_argument
//    `<owner> option "<key>" must be <expected>`;
//  * nothing is converted silently: 1 is not true, "1" is not 1, 1.5 is not an
//    integer; null is a value of the wrong type unless Rules::null_unsets says so.
#pragma once

#include <reactsock/error.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace reactsock::detail {

class JsonOptions {
public:
    JsonOptions(const nlohmann::json& json, std::string owner) : json_(json), owner_(std::move(owner)) {
        if (!json_.is_object() && !json_.is_null()) {
            throw std::invalid_argument(owner_ + " options must be a JSON object");
        }
    }

    // How read() treats one key beyond its field's type.
    struct Rules {
        // What the error says the value must be; by default named after the
        // field's type ("an integer", "a string", ...), also for range errors.
        const char* expected = nullptr;
        // std::optional fields: JSON null resets the field to std::nullopt.
        bool null_unsets = false;
        // std::vector<std::string> fields: a lone string reads as a list of one.
        bool string_is_list = false;
    };

    // Reads `key` into `field` if present (bool, integers, floating point,
    // std::string, std::vector<std::string>, std::optional of those).
    // Returns whether the key was present.
    template <class T>
    bool read(const char* key, T& field, Rules rules = {}) {
        seen_.insert(key);
        if (!json_.is_object()) return false;
        const auto it = json_.find(key);
        if (it == json_.end()) return false;
        assign(key, *it, field, rules);
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
    void assign(const char* key, const nlohmann::json& value, T& field, const Rules& rules) {
        // The error text: the caller's, else the one for this type.
        const auto fail = [&](const char* by_type) {
            wrong_type(key, rules.expected ? rules.expected : by_type);
        };
        if constexpr (std::is_same_v<T, bool>) {
            if (!value.is_boolean()) fail("true or false");
            field = value.get<bool>();
        } else if constexpr (std::is_integral_v<T>) {
            if (!value.is_number_integer()) fail("an integer");
            if constexpr (std::is_unsigned_v<T>) {
                if (value.is_number_unsigned()) {
                    const auto v = value.get<std::uint64_t>();
                    if (v > std::numeric_limits<T>::max()) fail("a smaller integer");
                    field = static_cast<T>(v);
                } else {
                    const auto v = value.get<std::int64_t>();
                    if (v < 0) fail("a non-negative integer");
                    field = static_cast<T>(v);
                }
            } else {
                const auto v = value.get<std::int64_t>();
                if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
                    fail("an integer in range");
                }
                field = static_cast<T>(v);
            }
        } else if constexpr (std::is_floating_point_v<T>) {
            if (!value.is_number()) fail("a number");
            field = value.get<T>();
            if (!std::isfinite(field)) fail("a finite number");
        } else if constexpr (std::is_same_v<T, std::string>) {
            if (!value.is_string()) fail("a string");
            field = value.get<std::string>();
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            if (rules.string_is_list && value.is_string()) {
                field = {value.get<std::string>()};
                return;
            }
            const char* by_type = rules.string_is_list ? "a string or an array of strings" : "an array of strings";
            if (!value.is_array()) fail(by_type);
            std::vector<std::string> items;
            for (const auto& item : value) {
                if (!item.is_string()) fail(by_type);
                items.push_back(item.get<std::string>());
            }
            field = std::move(items);
        } else {
            static_assert(IsOptional<T>::value, "JsonOptions::read: unsupported field type");
            if (rules.null_unsets && value.is_null()) {
                field.reset();
                return;
            }
            typename T::value_type inner{};
            assign(key, value, inner, rules);
            field = std::move(inner);
        }
    }

    template <class T>
    struct IsOptional : std::false_type {};
    template <class U>
    struct IsOptional<std::optional<U>> : std::true_type {};

    const nlohmann::json& json_;
    std::string owner_;
    std::set<std::string> seen_;
};

}  // namespace reactsock::detail
