#include "exafold/sched/flat_json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "exafold/core/error.h"

namespace exafold::sched {
namespace {

void append_escaped(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

class Parser {
 public:
  explicit Parser(std::string_view t) : t_(t) {}

  void skip_ws() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r'))
      ++i_;
  }
  bool eat(char c) {
    skip_ws();
    if (i_ < t_.size() && t_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) error(cat("expected '", c, "'"));
  }
  bool at_end() {
    skip_ws();
    return i_ == t_.size();
  }
  [[noreturn]] void error(const std::string& what) const {
    fail(what, " at offset ", i_, " of JSON text \"", t_.substr(0, 200), "\"");
  }

  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (i_ >= t_.size()) error("unterminated string");
      char c = t_[i_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= t_.size()) error("unterminated escape");
      char e = t_[i_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          unsigned code = 0;
          auto r =
              std::from_chars(t_.data() + i_, t_.data() + std::min(i_ + 4, t_.size()), code, 16);
          if (r.ptr != t_.data() + i_ + 4) error("bad \\u escape");
          i_ += 4;
          // The writer only escapes control characters; other code points pass through as UTF-8.
          if (code < 0x80) {
            out += char(code);
          } else if (code < 0x800) {
            out += char(0xC0 | (code >> 6));
            out += char(0x80 | (code & 0x3F));
          } else {
            out += char(0xE0 | (code >> 12));
            out += char(0x80 | ((code >> 6) & 0x3F));
            out += char(0x80 | (code & 0x3F));
          }
          break;
        }
        default:
          error(cat("bad escape \\", e));
      }
    }
  }

  std::string literal() {
    skip_ws();
    size_t start = i_;
    while (i_ < t_.size() && t_[i_] != ',' && t_[i_] != '}' && t_[i_] != ' ' && t_[i_] != '\n')
      ++i_;
    if (start == i_) error("expected a value");
    return std::string(t_.substr(start, i_ - start));
  }

  char peek() {
    skip_ws();
    return i_ < t_.size() ? t_[i_] : '\0';
  }

 private:
  std::string_view t_;
  size_t i_ = 0;
};

}  // namespace

void JsonWriter::key(std::string_view k) {
  body_ += body_.empty() ? "{" : ",";
  append_escaped(body_, k);
  body_ += ':';
}

JsonWriter& JsonWriter::add(std::string_view k, std::string_view value) {
  key(k);
  append_escaped(body_, value);
  return *this;
}

JsonWriter& JsonWriter::add(std::string_view k, int64_t value) {
  key(k);
  body_ += std::to_string(value);
  return *this;
}

JsonWriter& JsonWriter::add(std::string_view k, uint64_t value) {
  key(k);
  body_ += std::to_string(value);
  return *this;
}

JsonWriter& JsonWriter::add(std::string_view k, double value) {
  key(k);
  if (!std::isfinite(value)) {
    body_ += "null";
    return *this;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  body_ += buf;
  return *this;
}

JsonWriter& JsonWriter::add(std::string_view k, bool value) {
  key(k);
  body_ += value ? "true" : "false";
  return *this;
}

JsonObject JsonObject::parse(std::string_view text) {
  Parser p(text);
  JsonObject obj;
  p.expect('{');
  if (!p.eat('}')) {
    do {
      std::string k = p.string();
      p.expect(':');
      Field f;
      char c = p.peek();
      if (c == '"') {
        f = {Kind::string, p.string()};
      } else if (c == '{' || c == '[') {
        p.error("nested values are not part of the flat journal format");
      } else {
        std::string lit = p.literal();
        if (lit == "true" || lit == "false") {
          f = {Kind::boolean, lit};
        } else if (lit == "null") {
          f = {Kind::null, lit};
        } else {
          double d;
          auto r = std::from_chars(lit.data(), lit.data() + lit.size(), d);
          if (r.ec != std::errc() || r.ptr != lit.data() + lit.size())
            p.error(cat("bad literal '", lit, "'"));
          f = {Kind::number, lit};
        }
      }
      if (!obj.fields_.emplace(k, std::move(f)).second) p.error(cat("duplicate key \"", k, "\""));
    } while (p.eat(','));
    p.expect('}');
  }
  if (!p.at_end()) p.error("trailing characters after the object");
  return obj;
}

const JsonObject::Field& JsonObject::get(std::string_view key, Kind kind) const {
  auto it = fields_.find(key);
  check(it != fields_.end(), "JSON object has no field \"", key, "\"");
  check(it->second.kind == kind || (kind == Kind::number && it->second.kind == Kind::null),
        "JSON field \"", key, "\" has the wrong type (value ", it->second.text, ")");
  return it->second;
}

const std::string& JsonObject::string(std::string_view key) const {
  return get(key, Kind::string).text;
}

namespace {
template <class T>
T parse_integer(std::string_view key, const std::string& text) {
  T v{};
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  check(r.ec == std::errc() && r.ptr == text.data() + text.size(), "JSON field \"", key,
        "\" is not an integer in range: ", text);
  return v;
}
}  // namespace

int64_t JsonObject::int64(std::string_view key) const {
  const Field& f = get(key, Kind::number);
  check(f.kind == Kind::number, "JSON field \"", key, "\" is null, expected an integer");
  return parse_integer<int64_t>(key, f.text);
}

uint64_t JsonObject::uint64(std::string_view key) const {
  auto it = fields_.find(key);
  if (it != fields_.end() && it->second.kind == Kind::string)
    return parse_integer<uint64_t>(key, it->second.text);
  const Field& f = get(key, Kind::number);
  check(f.kind == Kind::number, "JSON field \"", key, "\" is null, expected an integer");
  return parse_integer<uint64_t>(key, f.text);
}

double JsonObject::number(std::string_view key) const {
  const Field& f = get(key, Kind::number);
  if (f.kind == Kind::null) return std::numeric_limits<double>::quiet_NaN();
  double d = 0;
  std::from_chars(f.text.data(), f.text.data() + f.text.size(), d);
  return d;
}

}  // namespace exafold::sched
