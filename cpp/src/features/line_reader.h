// LineReader: buffered, bounded-memory line access to a file or an in-memory text, with the
// file name and line number every parse error needs.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace exafold::features {

class LineReader {
 public:
  /// Streams the file at `path` through a fixed buffer; IoError when it cannot be opened.
  explicit LineReader(const std::string& path);
  /// Reads `text`, which must outlive the reader; `name` stands for the file in messages.
  LineReader(std::string_view text, std::string name);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  /// The next line without its "\n" or "\r\n"; valid until the next call. False at the end.
  bool next(std::string_view& line);
  /// 1-based number of the line last returned (0 before the first).
  int64_t line_number() const { return line_number_; }
  const std::string& name() const { return name_; }
  /// After next() returned false: whether the input ended with a line terminator.
  bool ended_with_newline() const { return ended_with_newline_; }

  /// Throws ParseError for the line last returned.
  [[noreturn]] void fail(const std::string& reason) const;
  [[noreturn]] void fail_at(int64_t line, const std::string& reason) const;

 private:
  bool fill();

  std::string name_;
  std::FILE* file_ = nullptr;
  std::vector<char> buf_;
  size_t begin_ = 0;  // unread data is buf_[begin_, end_) (file) or text_[begin_, end_) (memory)
  size_t end_ = 0;
  std::string_view text_;
  bool eof_ = false;
  bool ended_with_newline_ = true;
  int64_t line_number_ = 0;
};

}  // namespace exafold::features
