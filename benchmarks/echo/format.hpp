// Numbers as bench_echo prints them; a value that is not finite is "–".
#pragma once

#include <string>

namespace bench::echo {

// `digits` decimals, thousands separators in integer parts of 5+ digits.
std::string fmt(double value, int digits = 0);

// Three significant digits, for values of any size.
std::string sig3(double value);

// "1.23×".
std::string ratio_text(double value);

}  // namespace bench::echo
