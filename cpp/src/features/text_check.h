// Checks and quoting for text read from input files.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace exafold::features {

/// Offset of the first byte that breaks UTF-8 or starts a control character (C0 other than tab,
/// DEL, or C1: U+0080-U+009F), or npos when `s` is clean text.
size_t find_bad_text_byte(std::string_view s);

/// How a byte reads in an error message: 'A' for printable ASCII, "byte 0xff" otherwise.
std::string quote_byte(char c);

/// `s` for an error message: at most 60 bytes, with "..." when cut.
std::string quote_text(std::string_view s);

/// `s` without leading and trailing whitespace: the characters Python's str.strip() removes
/// (ASCII whitespace and 0x1c-0x1f, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
/// U+202F, U+205F, U+3000), as AlphaFold2's parsers strip every line.
std::string_view strip(std::string_view s);

/// The first word of `s`: up to the first whitespace character strip() would remove (as
/// Python's str.split() splits), after leading whitespace.
std::string_view first_word(std::string_view s);

/// A ParseError reason for a header or name that is not clean text, or "" when it is.
std::string bad_text_reason(std::string_view s, std::string_view what);

}  // namespace exafold::features
