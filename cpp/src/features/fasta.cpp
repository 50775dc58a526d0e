#include "exafold/features/fasta.h"

#include <array>

#include "features/line_reader.h"
#include "features/text_check.h"

namespace exafold::features {

namespace {

constexpr std::array<bool, 256> make_sequence_chars() {
  std::array<bool, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = t[c + ('a' - 'A')] = true;
  // ':' is ColabFold's chain separator: it passes here so that the residue rule
  // (residue_policy.h) can say the sequence is a multimer, which is not supported.
  t['-'] = t['.'] = t['*'] = t[':'] = true;
  return t;
}
constexpr auto kSequenceChar = make_sequence_chars();

// Reads every record. Strict, the first bad record throws (read_fasta); otherwise it is kept
// with its problem and the reading goes on (scan_fasta).
std::vector<FastaEntry> scan(LineReader& in, bool strict) {
  std::vector<FastaEntry> entries;
  auto reject = [&](FastaEntry& e, int64_t line, const std::string& why) {
    if (strict) in.fail_at(line, why);
    if (e.problem.empty()) e.problem = why, e.problem_line = line;
  };
  auto close_record = [&] {
    if (entries.empty()) return;
    FastaEntry& e = entries.back();
    // One rule for every caller: residues in upper case, a terminal stop '*' dropped.
    std::string& seq = e.record.sequence;
    for (char& c : seq)
      if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
    if (!seq.empty() && seq.back() == '*') seq.pop_back();
    if (seq.empty() && e.problem.empty())
      reject(e, e.record.line,
             "record " + quote_text(e.record.description) + " has no sequence" +
                 (entries.size() == 1 ? "" : " (truncated file?)"));
  };
  std::string_view raw;
  while (in.next(raw)) {
    std::string_view line = strip(raw);
    if (line.empty()) continue;
    if (line[0] == '>') {
      close_record();
      std::string_view desc = line.substr(1);
      entries.push_back({{std::string(desc), {}, in.line_number()}, {}, 0});
      if (auto why = bad_text_reason(desc, "header"); !why.empty()) {
        entries.back().record.description.clear();
        reject(entries.back(), in.line_number(), why);
      }
      continue;
    }
    if (entries.empty())
      in.fail("expected a '>' header line, found " + quote_text(line) +
              (find_bad_text_byte(line) != std::string_view::npos ? " (binary data?)" : ""));
    FastaEntry& e = entries.back();
    if (!e.problem.empty()) continue;  // the rest of a rejected record
    for (size_t i = 0; i < line.size() && e.problem.empty(); ++i) {
      const char c = line[i];
      if (kSequenceChar[uint8_t(c)])
        e.record.sequence += c;
      else if (c != ' ' && c != '\t')  // blanks inside a line (residues in blocks) are skipped
        reject(e, in.line_number(),
               "unexpected " + quote_byte(c) + " at column " +
                   std::to_string(line.data() - raw.data() + i + 1) + " in the sequence of " +
                   quote_text(e.record.description));
    }
  }
  if (entries.empty())
    in.fail_at(in.line_number() > 0 ? in.line_number() : 1, "empty file: no FASTA record");
  close_record();
  return entries;
}

std::vector<FastaRecord> records_of(std::vector<FastaEntry>&& entries) {
  std::vector<FastaRecord> out;
  out.reserve(entries.size());
  for (FastaEntry& e : entries) out.push_back(std::move(e.record));
  return out;
}

}  // namespace

std::string FastaRecord::id() const { return std::string(first_word(description)); }

std::vector<FastaRecord> read_fasta(const std::string& path) {
  LineReader in(path);
  return records_of(scan(in, true));
}

std::vector<FastaRecord> parse_fasta(std::string_view text, const std::string& name) {
  LineReader in(text, name);
  return records_of(scan(in, true));
}

std::vector<FastaEntry> scan_fasta(const std::string& path) {
  LineReader in(path);
  return scan(in, false);
}

std::vector<FastaEntry> scan_fasta_text(std::string_view text, const std::string& name) {
  LineReader in(text, name);
  return scan(in, false);
}

}  // namespace exafold::features
