#include "exafold/features/obsolete_pdbs.h"

#include "features/line_reader.h"
#include "features/text_check.h"

namespace exafold::features {

namespace {

std::string pdb_id(const LineReader& in, std::string_view line, size_t at) {
  std::string id(line.substr(at, 4));
  if (id.size() != 4)
    in.fail("expected a PDB id in columns " + std::to_string(at + 1) + "-" +
            std::to_string(at + 4) + ", found " + quote_text(line.substr(at)));
  for (char& c : id) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum)
      in.fail("expected a PDB id in columns " + std::to_string(at + 1) + "-" +
              std::to_string(at + 4) + ", found " + quote_text(line.substr(at, 4)));
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  }
  return id;
}

ObsoletePdbs parse(LineReader& in) {
  ObsoletePdbs out;
  std::string_view raw;
  while (in.next(raw)) {
    std::string_view line = strip(raw);
    if (!line.starts_with("OBSLTE")) continue;
    if (auto why = bad_text_reason(line, "line"); !why.empty()) in.fail(why);
    // _parse_obsolete's rule, on the stripped line: longer than 30 characters is a replacement,
    // exactly 24 a removal.
    if (line.size() > 30) {
      out[pdb_id(in, line, 20)] = pdb_id(in, line, 29);
    } else if (line.size() == 24) {
      out[pdb_id(in, line, 20)] = "";
    } else {
      in.fail(
          "expected 'OBSLTE    <date> <id>' or 'OBSLTE    <date> <id>     <replacement>', "
          "found " +
          quote_text(line));
    }
  }
  return out;
}

}  // namespace

ObsoletePdbs read_obsolete_pdbs(const std::string& path) {
  LineReader in(path);
  return parse(in);
}

ObsoletePdbs parse_obsolete_pdbs(std::string_view text, const std::string& name) {
  LineReader in(text, name);
  return parse(in);
}

}  // namespace exafold::features
