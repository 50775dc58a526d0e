#include "exafold/features/stockholm.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "features/line_reader.h"
#include "features/query_check.h"
#include "features/text_check.h"

namespace exafold::features {

namespace {

enum : uint8_t { kBad, kLetter, kGap };

constexpr std::array<uint8_t, 256> make_kinds() {
  std::array<uint8_t, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = t[c + ('a' - 'A')] = kLetter;
  t['-'] = t['.'] = kGap;
  return t;
}
constexpr auto kKind = make_kinds();

// Lets the name index be searched with a string_view (no allocation per line).
struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

char to_upper(char c) { return (c >= 'a' && c <= 'z') ? char(c - ('a' - 'A')) : c; }

// Note [Streaming Stockholm]: a multi-block file gives each row in pieces, and which columns are
// insert columns is known only from the query's pieces. Every piece of a kept row is reduced to
// query columns as soon as the query's matching piece has been read (jackhmmer puts the query
// first in each block, so at once); a piece that runs ahead of the query waits in `ahead`.
// Memory is thus the kept rows in their final form, plus the query's column map.
struct RowState {
  MsaRow row;
  int64_t columns = 0;  // alignment columns consumed into row
  int32_t pending = 0;  // letters in insert columns since the last query column
  std::string ahead;    // text past the query's known columns
  int64_t last_line = 0;
};

class StockholmParser {
 public:
  StockholmParser(LineReader& in, const MsaReadOptions& options) : in_(in), options_(options) {}

  Msa run() {
    read_header();
    bool terminated = false;
    std::string_view raw;
    while (in_.next(raw)) {
      std::string_view line = strip(raw);
      if (line.empty()) continue;
      if (terminated) in_.fail("text after the '//' that ends the alignment: " + quote_text(line));
      if (line == "//") {
        terminated = true;
      } else if (line[0] == '#') {
        markup_line(line);
      } else {
        sequence_line(line, size_t(line.data() - raw.data()));
      }
    }
    if (!terminated) in_.fail("truncated file: no '//' line ends the alignment");
    return finish();
  }

 private:
  void read_header() {
    std::string_view raw;
    while (in_.next(raw)) {
      std::string_view line = strip(raw);
      if (line.empty()) continue;
      if (line.substr(0, 11) != "# STOCKHOLM")
        in_.fail("not a Stockholm file: expected '# STOCKHOLM 1.0', found " + quote_text(line) +
                 (find_bad_text_byte(line) != std::string_view::npos ? " (binary data?)" : ""));
      return;
    }
    in_.fail_at(in_.line_number() > 0 ? in_.line_number() : 1, "empty file: no Stockholm header");
  }

  // '#=GF', '#=GS', '#=GC', '#=GR' and comments carry nothing AlphaFold2 uses; they are only
  // checked to be text, so binary garbage is reported where it is.
  void markup_line(std::string_view line) {
    if (auto why = bad_text_reason(line, "markup line"); !why.empty()) in_.fail(why);
    if (line.starts_with("#=GS") || line.starts_with("#=GR")) {
      size_t fields = 0;
      for (size_t i = 0; i < line.size();) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        if (i == line.size()) break;
        ++fields;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
      }
      if (fields < 3)
        in_.fail(std::string(line.substr(0, 4)) +
                 " line needs a sequence name and a feature: " + quote_text(line));
    }
  }

  void sequence_line(std::string_view line, size_t offset) {
    auto is_blank = [](char c) { return c == ' ' || c == '\t'; };
    size_t name_end = 0;
    while (name_end < line.size() && !is_blank(line[name_end])) ++name_end;
    if (name_end == line.size())
      in_.fail("expected '<name> <aligned sequence>', found only " + quote_text(line));
    std::string_view name = line.substr(0, name_end);
    size_t seq_begin = name_end;
    while (is_blank(line[seq_begin])) ++seq_begin;  // the line is stripped: a field follows
    std::string_view seq = line.substr(seq_begin);
    if (auto why = bad_text_reason(name, "sequence name"); !why.empty()) in_.fail(why);
    for (size_t i = 0; i < seq.size(); ++i) {
      if (kKind[uint8_t(seq[i])] != kBad) continue;
      if (is_blank(seq[i]))
        in_.fail("expected '<name> <aligned sequence>', found more fields: " + quote_text(line));
      in_.fail("unexpected " + quote_byte(seq[i]) + " at column " +
               std::to_string(offset + seq_begin + i + 1) + " in the sequence of " +
               quote_text(name));
    }

    auto it = index_.find(name);
    size_t r;
    if (it == index_.end()) {
      if (options_.max_rows > 0 && int64_t(rows_.size()) >= options_.max_rows) return;
      r = rows_.size();
      index_.emplace(std::string(name), r);
      rows_.push_back({});
      rows_.back().row.description = std::string(name);
      rows_.back().row.line = in_.line_number();
    } else {
      r = it->second;
    }
    rows_[r].last_line = in_.line_number();
    if (r == 0) {
      for (char c : seq) query_is_column_.push_back(kKind[uint8_t(c)] == kLetter ? 1 : 0);
      consume(rows_[0], seq);
      for (size_t w : waiting_) consume(rows_[w], {});
      std::erase_if(waiting_, [&](size_t w) { return rows_[w].ahead.empty(); });
    } else {
      bool was_waiting = !rows_[r].ahead.empty();
      consume(rows_[r], seq);
      if (!was_waiting && !rows_[r].ahead.empty()) waiting_.push_back(r);
    }
  }

  // Reduces `ahead` + `seq` to query columns as far as the query's columns are known.
  void consume(RowState& s, std::string_view seq) {
    if (!s.ahead.empty()) {
      s.ahead.append(seq);
      std::string text = std::move(s.ahead);
      s.ahead.clear();
      consume_known(s, text);
    } else {
      consume_known(s, seq);
    }
  }

  void consume_known(RowState& s, std::string_view seq) {
    auto known = int64_t(query_is_column_.size()) - s.columns;
    size_t n = known < 0 ? 0 : std::min(seq.size(), size_t(known));
    const uint8_t* is_column = query_is_column_.data() + s.columns;
    for (size_t i = 0; i < n; ++i) {
      char c = seq[i];
      if (is_column[i]) {
        if (s.row.residues.size() == INT32_MAX) in_.fail("row longer than 2^31 columns");
        if (s.pending > 0) {
          s.row.deletions.push_back({int32_t(s.row.residues.size()), s.pending});
          s.pending = 0;
        }
        s.row.residues.push_back(kKind[uint8_t(c)] == kGap ? '-' : to_upper(c));
      } else if (kKind[uint8_t(c)] == kLetter) {
        if (s.pending == INT32_MAX) in_.fail("insertion of more than 2^31 residues");
        ++s.pending;
      }
    }
    s.columns += int64_t(n);
    if (n < seq.size()) s.ahead.assign(seq.substr(n));
  }

  Msa finish() {
    if (rows_.empty()) in_.fail("no sequences in the alignment");
    const auto width = int64_t(query_is_column_.size());
    const std::string query_name = rows_[0].row.description;
    Msa msa(in_.name());
    for (size_t r = 0; r < rows_.size(); ++r) {
      RowState& s = rows_[r];
      int64_t columns = s.columns + int64_t(s.ahead.size());
      if (columns != width)
        in_.fail_at(s.last_line, "row " + quote_text(s.row.description) + " has " +
                                     std::to_string(columns) + " alignment columns, the query " +
                                     quote_text(query_name) + " has " + std::to_string(width));
      if (r == 0) {
        if (s.row.residues.empty())
          in_.fail_at(s.row.line,
                      "the query row " + quote_text(s.row.description) + " has no residues");
        check_query_row(in_, s.row, options_.query);
      }
      msa.add_row(std::move(s.row));
      s = RowState{};  // release as we go: the rows are never held twice
    }
    return msa;
  }

  LineReader& in_;
  const MsaReadOptions& options_;
  std::vector<RowState> rows_;
  std::unordered_map<std::string, size_t, NameHash, std::equal_to<>> index_;
  std::vector<uint8_t> query_is_column_;  // 1 where the query has a letter
  std::vector<size_t> waiting_;
};

}  // namespace

Msa read_stockholm(const std::string& path, const MsaReadOptions& options) {
  LineReader in(path);
  return StockholmParser(in, options).run();
}

Msa parse_stockholm(std::string_view text, const std::string& name, const MsaReadOptions& options) {
  LineReader in(text, name);
  return StockholmParser(in, options).run();
}

}  // namespace exafold::features
