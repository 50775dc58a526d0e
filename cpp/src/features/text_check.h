// Checks and quoting for text read from input files.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace exafold::features {

/// Offset of the first byte that breaks UTF-8 (or is a control character other than tab), or
/// npos when `s` is clean text.
size_t find_bad_text_byte(std::string_view s);

/// How a byte reads in an error message: 'A' for printable ASCII, "byte 0xff" otherwise.
std::string quote_byte(char c);

/// `s` for an error message: at most 60 bytes, with "..." when cut.
std::string quote_text(std::string_view s);

/// `s` without leading and trailing ASCII whitespace.
std::string_view strip(std::string_view s);

/// A ParseError reason for a header or name that is not clean text, or "" when it is.
std::string bad_text_reason(std::string_view s, std::string_view what);

}  // namespace exafold::features
