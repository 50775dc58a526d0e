#include "features/text_check.h"

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace exafold::features {

size_t find_bad_text_byte(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t n = s.size();
  for (size_t i = 0; i < n;) {
    // Eight printable ASCII bytes at a time (no byte >= 0x7f or < 0x20): the common case.
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      constexpr uint64_t k01 = 0x0101010101010101ull, k80 = 0x8080808080808080ull;
      uint64_t below_space = (w - 0x20 * k01) & ~w & k80;
      uint64_t is_del = ((w ^ (0x7f * k01)) - k01) & ~(w ^ (0x7f * k01)) & k80;
      if (((w & k80) | below_space | is_del) == 0) {
        i += 8;
        continue;
      }
    }
    uint8_t c = p[i];
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t') || c == 0x7f) return i;
      ++i;
      continue;
    }
    // Multi-byte sequence: the lead byte gives its length and the range of the second byte
    // (which excludes overlong forms, surrogates and code points above U+10FFFF).
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return i;
    }
    if (i + len > n) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k)
      if (p[i + k] < 0x80 || p[i + k] > 0xbf) return i;
    i += len;
  }
  return std::string_view::npos;
}

std::string quote_byte(char c) {
  auto u = uint8_t(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "byte 0x%02x", u);
  return buf;
}

std::string quote_text(std::string_view s) {
  constexpr size_t kMax = 60;
  std::string out = "'";
  size_t n = s.size() > kMax ? kMax : s.size();
  for (size_t i = 0; i < n; ++i) {
    auto u = uint8_t(s[i]);
    out += (u >= 0x20 && u < 0x7f) ? s[i] : '?';
  }
  out += s.size() > kMax ? "...'" : "'";
  return out;
}

std::string_view strip(std::string_view s) {
  constexpr std::string_view ws = " \t\r\n\v\f";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string bad_text_reason(std::string_view s, std::string_view what) {
  size_t bad = find_bad_text_byte(s);
  if (bad == std::string_view::npos) return {};
  auto u = uint8_t(s[bad]);
  std::string kind =
      (u < 0x20 || u == 0x7f) ? "a control character (binary data?)" : "not valid UTF-8";
  return std::string(what) + " is " + kind + ": " + quote_byte(s[bad]) + " at column " +
         std::to_string(bad + 1);
}

}  // namespace exafold::features
