// hmmsearch Stockholm -> TemplateHit, as AlphaFold2 >= 2.3 reads pdb_hits.sto:
// parsers.convert_stockholm_to_a3m(remove_first_row_gaps=False), then
// parsers.parse_hmmsearch_a3m(skip_first=False).
#include <functional>
#include <string_view>
#include <unordered_map>

#include "exafold/features/template_hits.h"
#include "features/line_reader.h"
#include "features/numbers.h"
#include "features/text_check.h"

namespace exafold::features {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_word(char c) { return is_upper(c) || is_lower(c) || is_digit(c) || c == '_'; }

struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Row {
  std::string name;
  std::string residues;  // the row with '.' dropped, as convert_stockholm_to_a3m writes it
  int64_t columns = 0;   // alignment columns, '.' included
  int64_t line = 0;
  int64_t last_line = 0;
  std::string description;  // the '#=GS <name> DE' value
  int64_t description_line = 0;
};

struct Description {
  std::string name, value;
  int64_t line = 0;
};

// The hit's "pdb id", "chain" and alignment start, matched as parse_hmmsearch_a3m's regular
// expression r'^>?([a-z0-9]+)_(\w+)/([0-9]+)-([0-9]+).*protein length:([0-9]+) *(.*)$' does.
struct HitName {
  std::string_view pdb_id, chain;
  int64_t start = 0;
};

std::string match_hit_name(std::string_view s, HitName& h) {
  size_t i = 0;
  if (i < s.size() && s[i] == '>') ++i;
  size_t b = i;
  while (i < s.size() && (is_lower(s[i]) || is_digit(s[i]))) ++i;
  if (i == b || i == s.size() || s[i] != '_')
    return "expected '<pdb id>_<chain>/<start>-<end>' (a lower-case PDB id)";
  h.pdb_id = s.substr(b, i - b);
  b = ++i;
  while (i < s.size() && is_word(s[i])) ++i;
  if (i == b || i == s.size() || s[i] != '/') return "expected '<pdb id>_<chain>/<start>-<end>'";
  h.chain = s.substr(b, i - b);
  b = ++i;
  while (i < s.size() && is_digit(s[i])) ++i;
  auto start = parse_integer(s.substr(b, i - b));
  if (i == b || !start || i == s.size() || s[i] != '-')
    return "expected '/<start>-<end>' after the chain";
  b = ++i;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i == b) return "expected '/<start>-<end>' after the chain";
  // '.*protein length:([0-9]+)': the last such occurrence, by the greedy '.*'.
  constexpr std::string_view kLength = "protein length:";
  for (size_t at = s.rfind(kLength); at != std::string_view::npos && at >= i;
       at = at == 0 ? std::string_view::npos : s.rfind(kLength, at - 1)) {
    size_t d = at + kLength.size();
    if (d < s.size() && is_digit(s[d])) {
      h.start = *start;
      return {};
    }
  }
  return "expected 'mol:protein length:<n>' in the description";
}

// _get_indices: -1 at '-', lower-case residues are skipped but counted.
std::vector<int32_t> residue_indices(std::string_view seq, int64_t start) {
  std::vector<int32_t> out;
  out.reserve(seq.size());
  auto counter = int32_t(start);
  for (char c : seq) {
    if (c == '-') {
      out.push_back(-1);
    } else if (is_lower(c)) {
      ++counter;
    } else {
      out.push_back(counter++);
    }
  }
  return out;
}

class HmmsearchParser {
 public:
  HmmsearchParser(LineReader& in, std::string_view query) : in_(in), query_(query) {}

  std::vector<TemplateHit> run() {
    if (!read_header()) return {};  // hmmsearch leaves the file empty when nothing hits
    bool terminated = false;
    std::string_view raw;
    while (in_.next(raw)) {
      std::string_view line = strip(raw);
      if (line.empty()) continue;
      if (terminated) in_.fail("text after the '//' that ends the alignment: " + quote_text(line));
      if (auto why = bad_text_reason(line, "line"); !why.empty()) in_.fail(why);
      if (line == "//") {
        terminated = true;
      } else if (raw.starts_with("#=GS")) {
        gs_line(raw);
      } else if (raw[0] == '#') {
        continue;
      } else {
        sequence_line(line);
      }
    }
    if (!terminated) in_.fail("truncated file: no '//' line ends the alignment");
    return finish();
  }

 private:
  bool read_header() {
    std::string_view raw;
    while (in_.next(raw)) {
      std::string_view line = strip(raw);
      if (line.empty()) continue;
      if (!line.starts_with("# STOCKHOLM"))
        in_.fail("not a Stockholm file: expected '# STOCKHOLM 1.0', found " + quote_text(line) +
                 (find_bad_text_byte(line) != std::string_view::npos ? " (binary data?)" : ""));
      return true;
    }
    return false;
  }

  // '#=GS <name> <feature> [value]': line.split(maxsplit=3); only DE is read.
  void gs_line(std::string_view raw) {
    std::string_view f[3];
    size_t i = 0;
    for (auto& field : f) {
      while (i < raw.size() && is_blank(raw[i])) ++i;
      size_t b = i;
      while (i < raw.size() && !is_blank(raw[i])) ++i;
      field = raw.substr(b, i - b);
    }
    if (f[2].empty()) in_.fail("#=GS line needs a sequence name and a feature: " + quote_text(raw));
    if (f[2] != "DE") return;
    while (i < raw.size() && is_blank(raw[i])) ++i;
    std::string_view value = strip(raw.substr(i));
    auto [it, fresh] = description_index_.try_emplace(std::string(f[1]), descriptions_.size());
    if (!fresh)
      in_.fail("a second #=GS DE line for " + quote_text(f[1]) + " (the first is line " +
               std::to_string(descriptions_[it->second].line) + ")");
    descriptions_.push_back({std::string(f[1]), std::string(value), in_.line_number()});
  }

  void sequence_line(std::string_view line) {
    size_t name_end = 0;
    while (name_end < line.size() && !is_blank(line[name_end])) ++name_end;
    if (name_end == line.size())
      in_.fail("expected '<name> <aligned sequence>', found only " + quote_text(line));
    std::string_view name = line.substr(0, name_end);
    size_t b = name_end;
    while (is_blank(line[b])) ++b;
    std::string_view seq = line.substr(b);
    auto it = index_.find(name);
    if (it == index_.end()) {
      it = index_.emplace(std::string(name), rows_.size()).first;
      rows_.push_back({std::string(name), {}, 0, in_.line_number(), 0, {}, 0});
    }
    Row& row = rows_[it->second];
    for (size_t k = 0; k < seq.size(); ++k) {
      char c = seq[k];
      if (is_upper(c) || is_lower(c) || c == '-') {
        row.residues.push_back(c);
      } else if (c != '.') {
        if (is_blank(c))
          in_.fail("expected '<name> <aligned sequence>', found more fields: " + quote_text(line));
        in_.fail("unexpected " + quote_byte(c) + " at column " + std::to_string(b + k + 1) +
                 " in the sequence of " + quote_text(name));
      }
    }
    row.columns += int64_t(seq.size());
    row.last_line = in_.line_number();
  }

  std::vector<TemplateHit> finish() {
    for (Description& d : descriptions_) {
      auto it = index_.find(d.name);
      if (it == index_.end())
        in_.fail_at(d.line,
                    "#=GS DE line for " + quote_text(d.name) + ", which has no aligned sequence");
      rows_[it->second].description = std::move(d.value);
      rows_[it->second].description_line = d.line;
    }
    std::vector<TemplateHit> hits;
    std::vector<int32_t> indices_query(query_.size());
    for (size_t i = 0; i < indices_query.size(); ++i) indices_query[i] = int32_t(i);
    for (size_t r = 0; r < rows_.size(); ++r) {
      const Row& row = rows_[r];
      if (row.columns != rows_[0].columns)
        in_.fail_at(row.last_line, "row " + quote_text(row.name) + " has " +
                                       std::to_string(row.columns) + " alignment columns, " +
                                       quote_text(rows_[0].name) + " has " +
                                       std::to_string(rows_[0].columns));
      // The a3m header '>{name} {description}', stripped, as parse_fasta gives it.
      std::string desc = row.name;
      if (!row.description.empty()) desc += " " + row.description;
      if (desc.find("mol:protein") == std::string::npos) continue;
      HitName h;
      if (auto why = match_hit_name(desc, h); !why.empty())
        in_.fail_at(row.description_line > 0 ? row.description_line : row.line,
                    "hit " + quote_text(row.name) + ": " + why);
      int64_t match_columns = 0, aligned_cols = 0;
      for (char c : row.residues) {
        match_columns += is_upper(c) || c == '-';
        aligned_cols += is_upper(c);
      }
      if (match_columns != int64_t(query_.size()))
        in_.fail_at(row.line, "hit " + quote_text(row.name) + " has " +
                                  std::to_string(match_columns) + " match columns, the query has " +
                                  std::to_string(query_.size()) +
                                  " residues: these are not this query's hits");
      TemplateHit hit;
      hit.index = int64_t(r) + 1;
      hit.name = std::string(h.pdb_id) + "_" + std::string(h.chain);
      hit.aligned_cols = aligned_cols;
      hit.query = std::string(query_);
      hit.hit_sequence = row.residues;
      for (char& c : hit.hit_sequence)
        if (is_lower(c)) c = char(c - ('a' - 'A'));
      hit.indices_query = indices_query;
      hit.indices_hit = residue_indices(row.residues, h.start - 1);
      hit.line = row.line;
      hits.push_back(std::move(hit));
    }
    return hits;
  }

  LineReader& in_;
  std::string_view query_;
  std::vector<Row> rows_;
  std::unordered_map<std::string, size_t, NameHash, std::equal_to<>> index_;
  std::vector<Description> descriptions_;
  std::unordered_map<std::string, size_t> description_index_;
};

}  // namespace

std::vector<TemplateHit> read_hmmsearch_sto(const std::string& path, std::string_view query) {
  LineReader in(path);
  return HmmsearchParser(in, query).run();
}

std::vector<TemplateHit> parse_hmmsearch_sto(std::string_view text, std::string_view query,
                                             const std::string& name) {
  LineReader in(text, name);
  return HmmsearchParser(in, query).run();
}

}  // namespace exafold::features
