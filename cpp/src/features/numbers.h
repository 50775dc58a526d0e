// Strict number parsing for text read from input files.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace exafold::features {

/// A decimal number ([+-]digits[.digits][e[+-]digits], or [+-].digits...) with surrounding
/// blanks allowed, correctly rounded to double as Python's float() does; none for anything
/// else (hexadecimal, inf, nan, an empty string).
std::optional<double> parse_decimal(std::string_view s);

/// [+-]digits with surrounding blanks allowed, as Python's int() reads them; none for anything
/// else or a value outside int64.
std::optional<int64_t> parse_integer(std::string_view s);

}  // namespace exafold::features
