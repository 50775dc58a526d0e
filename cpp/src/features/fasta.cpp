#include "exafold/features/fasta.h"

#include <array>

#include "features/line_reader.h"
#include "features/text_check.h"

namespace exafold::features {

namespace {

constexpr std::array<bool, 256> make_sequence_chars() {
  std::array<bool, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = t[c + ('a' - 'A')] = true;
  t['-'] = t['.'] = t['*'] = true;
  return t;
}
constexpr auto kSequenceChar = make_sequence_chars();

std::vector<FastaRecord> parse(LineReader& in) {
  std::vector<FastaRecord> records;
  auto close_record = [&] {
    if (records.empty()) return;
    // One rule for every caller: residues in upper case, a terminal stop '*' dropped.
    std::string& seq = records.back().sequence;
    for (char& c : seq)
      if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
    if (!seq.empty() && seq.back() == '*') seq.pop_back();
    if (seq.empty())
      in.fail_at(records.back().line, "record " + quote_text(records.back().description) +
                                          " has no sequence" +
                                          (records.size() == 1 ? "" : " (truncated file?)"));
  };
  std::string_view raw;
  while (in.next(raw)) {
    std::string_view line = strip(raw);
    if (line.empty()) continue;
    if (line[0] == '>') {
      close_record();
      std::string_view desc = line.substr(1);
      if (auto why = bad_text_reason(desc, "header"); !why.empty()) in.fail(why);
      records.push_back({std::string(desc), {}, in.line_number()});
      continue;
    }
    if (records.empty())
      in.fail("expected a '>' header line, found " + quote_text(line) +
              (find_bad_text_byte(line) != std::string_view::npos ? " (binary data?)" : ""));
    for (size_t i = 0; i < line.size(); ++i)
      if (!kSequenceChar[uint8_t(line[i])])
        in.fail("unexpected " + quote_byte(line[i]) + " at column " +
                std::to_string(line.data() - raw.data() + i + 1) + " in the sequence of " +
                quote_text(records.back().description));
    records.back().sequence.append(line);
  }
  if (records.empty())
    in.fail_at(in.line_number() > 0 ? in.line_number() : 1, "empty file: no FASTA record");
  close_record();
  return records;
}

}  // namespace

std::vector<FastaRecord> read_fasta(const std::string& path) {
  LineReader in(path);
  return parse(in);
}

std::vector<FastaRecord> parse_fasta(std::string_view text, const std::string& name) {
  LineReader in(text, name);
  return parse(in);
}

}  // namespace exafold::features
