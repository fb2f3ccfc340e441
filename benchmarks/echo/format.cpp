#include "echo/format.hpp"

#include <cmath>
#include <cstdio>

namespace bench::echo {

std::string fmt(double value, int digits) {
    if (!std::isfinite(value))
        return "–";
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
    // Thousands separators for the integer part of large numbers.
    std::string text = buffer;
    const auto dot = text.find('.');
    std::string integer = text.substr(0, dot);
    const std::string rest = dot == std::string::npos ? "" : text.substr(dot);
    const bool negative = !integer.empty() && integer[0] == '-';
    if (negative)
        integer.erase(0, 1);
    std::string grouped;
    for (std::size_t i = 0; i < integer.size(); ++i) {
        const std::size_t left = integer.size() - i;
        if (i > 0 && left % 3 == 0 && integer.size() > 4)
            grouped += ',';
        grouped += integer[i];
    }
    return (negative ? "-" : "") + grouped + rest;
}

std::string sig3(double value) {
    if (!std::isfinite(value))
        return "–";
    const double magnitude = std::fabs(value);
    const int digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3;
    return fmt(value, digits);
}

std::string ratio_text(double value) {
    if (!std::isfinite(value))
        return "–";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2f×", value);
    return buffer;
}

}  // namespace bench::echo
