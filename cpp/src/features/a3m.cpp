#include "exafold/features/a3m.h"

#include <array>
#include <cstdint>

#include "features/line_reader.h"
#include "features/query_check.h"
#include "features/text_check.h"

namespace exafold::features {

namespace {

enum : uint8_t { kBad, kColumn, kInsertion, kSkip };

constexpr std::array<uint8_t, 256> make_kinds() {
  std::array<uint8_t, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c) {
    t[c] = kColumn;
    t[c + ('a' - 'A')] = kInsertion;
  }
  t['-'] = kColumn;
  t['.'] = kSkip;
  return t;
}
constexpr auto kKind = make_kinds();

class A3mParser {
 public:
  A3mParser(LineReader& in, const MsaReadOptions& options)
      : in_(in), options_(options), msa_(in.name()) {}

  Msa run() {
    std::string_view raw;
    while (in_.next(raw)) {
      std::string_view line = strip(raw);
      if (line.empty()) continue;
      if (line[0] == '>') {
        finish_row();
        if (options_.max_rows > 0 && msa_.num_rows() >= options_.max_rows) break;
        start_row(line.substr(1));
      } else if (!in_row_) {
        if (msa_.num_rows() == 0 && line[0] == '#') continue;  // comments before the query
        in_.fail("expected a '>' header line, found " + quote_text(line) +
                 (find_bad_text_byte(line) != std::string_view::npos ? " (binary data?)" : ""));
      } else {
        add_sequence_line(line, size_t(line.data() - raw.data()));
      }
    }
    finish_row();
    if (msa_.num_rows() == 0)
      in_.fail_at(in_.line_number() > 0 ? in_.line_number() : 1,
                  "empty file: no A3M record (the query must come first)");
    return std::move(msa_);
  }

 private:
  void start_row(std::string_view desc) {
    if (auto why = bad_text_reason(desc, "header"); !why.empty()) in_.fail(why);
    row_ = MsaRow{std::string(desc), {}, {}, in_.line_number()};
    if (msa_.num_rows() > 0) row_.residues.reserve(size_t(msa_.width()));
    pending_ = 0;
    has_text_ = false;
    in_row_ = true;
  }

  void add_sequence_line(std::string_view line, size_t offset) {
    has_text_ = true;
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      switch (kKind[uint8_t(c)]) {
        case kColumn:
          if (row_.residues.size() == INT32_MAX) in_.fail("row longer than 2^31 columns");
          if (pending_ > 0) {
            row_.deletions.push_back({int32_t(row_.residues.size()), pending_});
            pending_ = 0;
          }
          row_.residues.push_back(c);
          break;
        case kInsertion:
          if (pending_ == INT32_MAX) in_.fail("insertion of more than 2^31 residues");
          ++pending_;
          break;
        case kSkip:
          break;
        default:
          in_.fail("unexpected " + quote_byte(c) + " at column " + std::to_string(offset + i + 1) +
                   " in the sequence of " + quote_text(row_.description));
      }
    }
  }

  void finish_row() {
    if (!in_row_) return;
    in_row_ = false;
    if (!has_text_)
      in_.fail_at(row_.line, "record " + quote_text(row_.description) + " has no sequence" +
                                 (msa_.num_rows() > 0 ? " (truncated file?)" : ""));
    if (msa_.num_rows() == 0) {
      if (row_.residues.empty())
        in_.fail_at(row_.line, "the query row " + quote_text(row_.description) +
                                   " has no query columns (only insertions)");
      check_query_row(in_, row_, options_.query);
    } else if (int64_t(row_.residues.size()) != msa_.width()) {
      in_.fail_at(row_.line, "row " + quote_text(row_.description) + " has " +
                                 std::to_string(row_.residues.size()) +
                                 " query columns (upper-case letters and '-'), the query has " +
                                 std::to_string(msa_.width()));
    }
    msa_.add_row(std::move(row_));
  }

  LineReader& in_;
  const MsaReadOptions& options_;
  Msa msa_;
  MsaRow row_;
  int32_t pending_ = 0;
  bool in_row_ = false;
  bool has_text_ = false;
};

}  // namespace

Msa read_a3m(const std::string& path, const MsaReadOptions& options) {
  LineReader in(path);
  return A3mParser(in, options).run();
}

Msa parse_a3m(std::string_view text, const std::string& name, const MsaReadOptions& options) {
  LineReader in(text, name);
  return A3mParser(in, options).run();
}

}  // namespace exafold::features
