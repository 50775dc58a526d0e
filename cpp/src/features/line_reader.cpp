#include "features/line_reader.h"

#include <cerrno>
#include <cstring>

#include "exafold/core/error.h"
#include "exafold/features/parse_error.h"

namespace exafold::features {

namespace {
constexpr size_t kInitialBuffer = size_t(1) << 20;  // 1 MiB; grows only for longer lines
constexpr size_t kMaxLine = size_t(1) << 30;        // 1 GiB: beyond this a "line" is garbage
}  // namespace

LineReader::LineReader(const std::string& path) : name_(path) {
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) exafold::fail<IoError>("cannot open ", path, ": ", std::strerror(errno));
  buf_.resize(kInitialBuffer);
}

LineReader::LineReader(std::string_view text, std::string name)
    : name_(std::move(name)), end_(text.size()), text_(text), eof_(true) {}

LineReader::~LineReader() {
  if (file_) std::fclose(file_);
}

// Moves the unread tail to the front of the buffer (growing it when a line fills it) and reads
// more. False when nothing more could be read.
bool LineReader::fill() {
  if (eof_) return false;
  size_t pending = end_ - begin_;
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, pending);
    begin_ = 0;
    end_ = pending;
  }
  if (end_ == buf_.size()) {
    if (buf_.size() >= kMaxLine)
      fail_at(line_number_ + 1, "line longer than " + std::to_string(kMaxLine >> 20) + " MiB");
    buf_.resize(buf_.size() * 2);
  }
  size_t got = std::fread(buf_.data() + end_, 1, buf_.size() - end_, file_);
  if (got == 0) {
    if (std::ferror(file_))
      exafold::fail<IoError>("cannot read ", name_, ": ", std::strerror(errno));
    eof_ = true;
    return false;
  }
  end_ += got;
  return true;
}

bool LineReader::next(std::string_view& line) {
  const char* base = file_ ? buf_.data() : text_.data();
  size_t scanned = begin_;
  for (;;) {
    const void* nl = std::memchr(base + scanned, '\n', end_ - scanned);
    if (nl) {
      size_t pos = size_t(static_cast<const char*>(nl) - base);
      size_t len = pos - begin_;
      if (len > 0 && base[pos - 1] == '\r') --len;
      line = std::string_view(base + begin_, len);
      begin_ = pos + 1;
      ++line_number_;
      return true;
    }
    scanned = end_;
    size_t old_begin = begin_;
    if (!fill()) break;
    base = buf_.data();
    scanned -= old_begin;  // fill() moved the unread data to the front
  }
  if (begin_ == end_) return false;
  // A last line without a terminator.
  size_t len = end_ - begin_;
  if (base[end_ - 1] == '\r') --len;
  line = std::string_view(base + begin_, len);
  begin_ = end_;
  ++line_number_;
  ended_with_newline_ = false;
  return true;
}

void LineReader::fail(const std::string& reason) const { fail_at(line_number_, reason); }

void LineReader::fail_at(int64_t line, const std::string& reason) const {
  throw ParseError(name_, line, reason);
}

}  // namespace exafold::features
