// ParseError: bad content in an input file, located by file name and line.
#pragma once

#include <cstdint>
#include <string>

#include "exafold/core/error.h"

namespace exafold::features {

/// Malformed input text (-> ValueError). what() reads "file.a3m:123: reason", the form compilers
/// use, so editors and terminals can jump to the spot. A file that cannot be opened or read at
/// all is an IoError instead.
class ParseError : public InvalidArgument {
 public:
  ParseError(std::string file, int64_t line, std::string reason)
      : InvalidArgument(file + ":" + std::to_string(line) + ": " + reason),
        file_(std::move(file)),
        line_(line),
        reason_(std::move(reason)) {}

  const std::string& file() const { return file_; }
  /// 1-based line number.
  int64_t line() const { return line_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string file_;
  int64_t line_;
  std::string reason_;
};

}  // namespace exafold::features
