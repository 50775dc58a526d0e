// HHsearch .hhr -> TemplateHit, as alphafold/data/parsers.py's parse_hhr and _parse_hhr_hit.
#include <array>
#include <string_view>

#include "exafold/features/template_hits.h"
#include "features/line_reader.h"
#include "features/numbers.h"
#include "features/text_check.h"

namespace exafold::features {

namespace {

constexpr size_t kAlignmentColumn = 17;  // 'Q <name padded to 15> ': residues start after it

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The fields of an alignment line after column 17, matched as AlphaFold2's regular expression
// r'[\t ]*([0-9]*) ([A-Z-]*)[\t ]*([0-9]*) \([0-9]*\)' does (re.match: text may follow).
struct AlignmentFields {
  std::string_view start, residues, end;
};

// Empty reason on success.
std::string match_alignment_fields(std::string_view s, AlignmentFields& f) {
  size_t i = 0;
  while (i < s.size() && is_blank(s[i])) ++i;
  size_t b = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  f.start = s.substr(b, i - b);
  if (f.start.empty()) return "expected the first residue number at column 18";
  if (i == s.size() || s[i] != ' ') return "expected a space after the first residue number";
  b = ++i;
  while (i < s.size() && ((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-')) ++i;
  f.residues = s.substr(b, i - b);
  size_t after_residues = i;
  while (i < s.size() && is_blank(s[i])) ++i;
  b = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  f.end = s.substr(b, i - b);
  // Without an end number the space before '(' may be the one the blanks took.
  bool open = i + 1 < s.size() && s[i] == ' ' && s[i + 1] == '(';
  if (!open && f.end.empty() && i > after_residues && s[i - 1] == ' ' && i < s.size() &&
      s[i] == '(') {
    open = true;
    --i;
  }
  if (!open) {
    if (i < s.size() && s[i] >= 'a' && s[i] <= 'z')
      return "unexpected lower-case residue " + quote_byte(s[i]);
    return "expected '<first> <residues> <last> (<length>)'";
  }
  i += 2;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i == s.size() || s[i] != ')') return "expected ')' after the sequence length";
  return {};
}

class HhrParser {
 public:
  explicit HhrParser(LineReader& in) : in_(in) {}

  std::vector<TemplateHit> run() {
    std::string_view line;
    bool header = false;
    while (in_.next(line)) {
      if (auto why = bad_text_reason(line, "line"); !why.empty()) in_.fail(why);
      if (!header) {
        if (strip(line).empty()) continue;
        if (!line.starts_with("Query"))
          in_.fail("not an HHsearch result: expected 'Query ...' first, found " + quote_text(line));
        header = true;
        continue;
      }
      if (line.starts_with("No ")) {
        finish_hit();
        start_hit(line);
      } else if (in_hit_) {
        hit_line(line);
      }
    }
    if (!header)
      in_.fail_at(in_.line_number() > 0 ? in_.line_number() : 1, "empty file: no HHsearch result");
    finish_hit();
    return std::move(hits_);
  }

 private:
  void start_hit(std::string_view line) {
    hit_ = TemplateHit{};
    hit_.line = in_.line_number();
    // int(detailed_lines[0].split()[-1])
    std::string_view s = strip(line);
    size_t last = s.find_last_of(" \t");
    auto index = parse_integer(s.substr(last + 1));
    if (!index) in_.fail("expected 'No <hit number>', found " + quote_text(line));
    hit_.index = *index;
    in_hit_ = true;
    block_line_ = 1;
    length_block_ = -1;
  }

  void hit_line(std::string_view line) {
    if (block_line_ == 1) {
      if (line.empty() || line[0] != '>')
        in_.fail("expected the hit's '>' line after 'No " + std::to_string(hit_.index) +
                 "', found " + quote_text(line));
      hit_.name = std::string(line.substr(1));
      block_line_ = 2;
    } else if (block_line_ == 2) {
      summary_line(line);
      block_line_ = 3;
    } else if (line.starts_with("Q ")) {
      if (!line.starts_with("Q ss_dssp") && !line.starts_with("Q ss_pred") &&
          !line.starts_with("Q Consensus"))
        query_line(line);
    } else if (line.starts_with("T ")) {
      if (!line.starts_with("T ss_dssp") && !line.starts_with("T ss_pred") &&
          !line.starts_with("T Consensus"))
        template_line(line);
    }
  }

  // 'Probab=(.*) E-value=(.*) Score=(.*) Aligned_cols=(.*) Identities=(.*)% Similarity=(.*)
  // Sum_probs=(.*) Template_Neff=(.*)', every field a number.
  void summary_line(std::string_view line) {
    static constexpr std::array<std::string_view, 8> kKeys = {
        "Probab=",     "E-value=",    "Score=",     "Aligned_cols=",
        "Identities=", "Similarity=", "Sum_probs=", "Template_Neff="};
    if (!line.starts_with(kKeys[0]))
      in_.fail(
          "expected the hit's summary line 'Probab=... Sum_probs=... Template_Neff=...', "
          "found " +
          quote_text(line));
    std::array<double, 8> values{};
    size_t pos = 0;
    for (size_t k = 0; k < kKeys.size(); ++k) {
      size_t at = line.find(kKeys[k], pos);
      if (at == std::string_view::npos || line.find(kKeys[k], at + 1) != std::string_view::npos)
        in_.fail("the summary line needs '" + std::string(kKeys[k]) +
                 "' once, in order: " + quote_text(line));
      size_t value_begin = at + kKeys[k].size();
      size_t value_end = line.size();
      if (k + 1 < kKeys.size()) {
        value_end = line.find(kKeys[k + 1], value_begin);
        if (value_end == std::string_view::npos)
          in_.fail("the summary line needs '" + std::string(kKeys[k + 1]) +
                   "' once, in order: " + quote_text(line));
      }
      std::string_view value = line.substr(value_begin, value_end - value_begin);
      while (!value.empty() && is_blank(value.back())) value.remove_suffix(1);
      if (kKeys[k] == "Identities=") {
        if (value.empty() || value.back() != '%')
          in_.fail("expected 'Identities=<n>%' in the summary line: " + quote_text(line));
        value.remove_suffix(1);
      }
      auto v = parse_decimal(value);
      if (!v) in_.fail("'" + std::string(kKeys[k]) + "' is not a number: " + quote_text(value));
      values[k] = *v;
      pos = value_end;
    }
    if (!(values[3] >= 0 && values[3] < 2147483648.0))
      in_.fail("'Aligned_cols=' out of range: " + quote_text(line));
    hit_.aligned_cols = int64_t(values[3]);  // int(float(...)) truncates
    hit_.sum_probs = values[6];
  }

  AlignmentFields fields(std::string_view line) {
    AlignmentFields f;
    std::string_view rest = line.size() > kAlignmentColumn ? line.substr(kAlignmentColumn) : "";
    if (auto why = match_alignment_fields(rest, f); !why.empty())
      in_.fail(why + " in the alignment line " + quote_text(line));
    return f;
  }

  int32_t residue_number(std::string_view digits, std::string_view line) {
    auto v = parse_integer(digits);
    if (!v || *v < 1 || *v > INT32_MAX)
      in_.fail("residue number out of range in " + quote_text(line));
    return int32_t(*v);
  }

  void query_line(std::string_view line) {
    AlignmentFields f = fields(line);
    if (f.end.empty()) in_.fail("expected the last residue number in " + quote_text(line));
    int64_t start = residue_number(f.start, line) - 1;
    int64_t end = residue_number(f.end, line);
    int64_t gaps = 0;
    for (char c : f.residues) gaps += c == '-';
    length_block_ = end - start + gaps;
    if (length_block_ != int64_t(f.residues.size()))
      in_.fail("the query segment has " + std::to_string(f.residues.size()) +
               " columns, residues " + std::to_string(start + 1) + "-" + std::to_string(end) +
               " with " + std::to_string(gaps) + " gaps need " + std::to_string(length_block_));
    append(f.residues, start, hit_.query, hit_.indices_query);
  }

  void template_line(std::string_view line) {
    if (length_block_ < 0) in_.fail("a 'T' line before the block's 'Q' line");
    AlignmentFields f = fields(line);
    int64_t start = residue_number(f.start, line) - 1;
    if (length_block_ != int64_t(f.residues.size()))
      in_.fail("the template segment has " + std::to_string(f.residues.size()) +
               " columns, its query segment " + std::to_string(length_block_));
    append(f.residues, start, hit_.hit_sequence, hit_.indices_hit);
  }

  // _update_hhr_residue_indices_list
  static void append(std::string_view residues, int64_t start, std::string& seq,
                     std::vector<int32_t>& indices) {
    seq.append(residues);
    auto counter = int32_t(start);
    for (char c : residues) indices.push_back(c == '-' ? -1 : counter++);
  }

  void finish_hit() {
    if (!in_hit_) return;
    if (block_line_ < 3)
      in_.fail_at(in_.line_number(), "hit " + std::to_string(hit_.index) + " (line " +
                                         std::to_string(hit_.line) +
                                         ") ends before its '>' and summary lines");
    hits_.push_back(std::move(hit_));
    in_hit_ = false;
  }

  LineReader& in_;
  std::vector<TemplateHit> hits_;
  TemplateHit hit_;
  bool in_hit_ = false;
  int block_line_ = 0;         // 1: the '>' line is next, 2: the summary line, 3: alignment
  int64_t length_block_ = -1;  // columns of the block's last 'Q' line, -1 before one
};

}  // namespace

std::vector<TemplateHit> read_hhr(const std::string& path) {
  LineReader in(path);
  return HhrParser(in).run();
}

std::vector<TemplateHit> parse_hhr(std::string_view text, const std::string& name) {
  LineReader in(text, name);
  return HhrParser(in).run();
}

}  // namespace exafold::features
