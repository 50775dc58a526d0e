// Flat JSON objects (string, number, bool and null values; no nesting), one per journal line.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace exafold::sched {

/// Builds one object in insertion order. Doubles are written with 17 significant digits so they
/// read back bit-identical; non-finite doubles are written as null (JSON has no NaN).
class JsonWriter {
 public:
  JsonWriter& add(std::string_view key, std::string_view value);
  JsonWriter& add(std::string_view key, const char* value) {
    return add(key, std::string_view(value));
  }
  JsonWriter& add(std::string_view key, int64_t value);
  JsonWriter& add(std::string_view key, uint64_t value);
  JsonWriter& add(std::string_view key, int value) { return add(key, int64_t(value)); }
  JsonWriter& add(std::string_view key, double value);
  JsonWriter& add(std::string_view key, bool value);
  /// The object text, without a trailing newline.
  std::string str() const { return body_.empty() ? "{}" : body_ + "}"; }

 private:
  void key(std::string_view k);
  std::string body_;
};

/// A parsed flat object. Numbers keep their text so 64-bit integers survive exactly.
class JsonObject {
 public:
  /// @throws InvalidArgument naming the offset of the first error; nested values are rejected.
  static JsonObject parse(std::string_view text);

  bool has(std::string_view key) const { return fields_.count(std::string(key)) != 0; }
  /// Each accessor throws InvalidArgument when the key is missing or holds another type.
  const std::string& string(std::string_view key) const;
  int64_t int64(std::string_view key) const;
  /// A number, or a string of decimal digits: how 64-bit values such as seeds are written, since
  /// JSON readers that hold numbers as doubles would round them above 2^53.
  uint64_t uint64(std::string_view key) const;
  /// null reads as NaN (the writer's spelling of a non-finite double).
  double number(std::string_view key) const;

 private:
  enum class Kind { string, number, boolean, null };
  struct Field {
    Kind kind;
    std::string text;  // unescaped string, or the number/literal as written
  };
  const Field& get(std::string_view key, Kind kind) const;
  std::map<std::string, Field, std::less<>> fields_;
};

}  // namespace exafold::sched
