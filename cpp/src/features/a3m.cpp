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
  /// Splitting, each alignment ends at a NUL byte (MMseqs2 databases, which colabfold_search
  /// writes, end each query's alignment with one); otherwise a NUL byte is an error that says
  /// what the file is.
  A3mParser(LineReader& in, const MsaReadOptions& options, bool split)
      : in_(in), options_(options), msa_(in.name()), split_(split) {}

  /// Parses the next alignment; false when no text is left (a NUL with nothing before it is an
  /// empty entry, skipped).
  bool next_alignment() {
    msa_ = Msa(in_.name());
    seen_text_ = skipping_ = false;
    std::string_view raw;
    while (!done_) {
      std::string held;
      if (!carry_.empty()) {
        held.swap(carry_);
        raw = held;
      } else if (!in_.next(raw)) {
        break;
      }
      size_t nul = raw.find('\0');
      if (nul != std::string_view::npos && !split_) {
        if (seen_text_ && separates_alignments(raw, nul))
          in_.fail("a NUL byte at column " + std::to_string(nul + 1) +
                   ": the file holds several alignments separated by NUL bytes (an MMseqs2 "
                   "database, as colabfold_search writes it); exafold predict --a3m reads those");
        nul = std::string_view::npos;  // binary data: the line's own checks say so
      }
      line(raw.substr(0, nul));
      if (nul == std::string_view::npos) continue;
      if (const size_t next = raw.find_first_not_of('\0', nul); next != std::string_view::npos)
        carry_.assign(raw.substr(next));
      if (seen_text_) break;
    }
    finish_row();
    if (!seen_text_) return false;
    if (msa_.num_rows() == 0)
      in_.fail_at(in_.line_number() > 0 ? in_.line_number() : 1,
                  std::string(split_ ? "an alignment" : "empty file") +
                      ": no A3M record (the query must come first)");
    return true;
  }

  Msa take() { return std::move(msa_); }

 private:
  // Whether the NUL at `nul` ends an alignment as MMseqs2 databases do: the next one (a '#' or
  // '>' line) or nothing follows it.
  static bool separates_alignments(std::string_view raw, size_t nul) {
    const size_t next = raw.find_first_not_of('\0', nul);
    return next == std::string_view::npos || raw[next] == '>' || raw[next] == '#';
  }

  void line(std::string_view raw) {
    std::string_view line = strip(raw);
    if (line.empty() || skipping_) return;
    seen_text_ = true;
    if (line[0] == '>') {
      finish_row();
      if (options_.max_rows > 0 && msa_.num_rows() >= options_.max_rows) {
        // Enough rows: a single alignment need not be read further; a split one is skipped to
        // its end.
        skipping_ = true;
        done_ = !split_;
        return;
      }
      start_row(line.substr(1));
    } else if (!in_row_) {
      if (msa_.num_rows() == 0 && line[0] == '#') return;  // comments before the query
      in_.fail("expected a '>' header line, found " + quote_text(line) +
               (find_bad_text_byte(line) != std::string_view::npos ? " (binary data?)" : ""));
    } else {
      add_sequence_line(line, size_t(line.data() - raw.data()));
    }
  }

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
  const bool split_;
  bool seen_text_ = false;  // a line other than blank ones in this alignment
  bool skipping_ = false;   // max_rows reached: the rest of this alignment is ignored
  bool done_ = false;       // nothing more to read
  std::string carry_;       // the text after a NUL byte: the next alignment's first line
};

Msa read_one(LineReader& in, const MsaReadOptions& options) {
  A3mParser p(in, options, false);
  if (!p.next_alignment())
    in.fail_at(in.line_number() > 0 ? in.line_number() : 1,
               "empty file: no A3M record (the query must come first)");
  return p.take();
}

}  // namespace

Msa read_a3m(const std::string& path, const MsaReadOptions& options) {
  LineReader in(path);
  return read_one(in, options);
}

Msa parse_a3m(std::string_view text, const std::string& name, const MsaReadOptions& options) {
  LineReader in(text, name);
  return read_one(in, options);
}

std::vector<Msa> read_a3m_queries(const std::string& path, const MsaReadOptions& options) {
  LineReader in(path);
  A3mParser p(in, options, true);
  std::vector<Msa> out;
  while (p.next_alignment()) out.push_back(p.take());
  if (out.empty())
    in.fail_at(in.line_number() > 0 ? in.line_number() : 1,
               "empty file: no A3M record (the query must come first)");
  return out;
}

}  // namespace exafold::features
