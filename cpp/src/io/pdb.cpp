#include "exafold/io/pdb.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "exafold/core/error.h"

namespace exafold::io {
namespace {

// Every record is padded to exactly 80 columns, as the PDB format specifies.
void record(std::ostream& os, const char* text) {
  char line[82];
  std::snprintf(line, sizeof line, "%-80.80s\n", text);
  os << line;
}

void check_coordinate(float x, size_t residue) {
  // %8.3f rounds to three decimals, so it writes -999.999 to 9999.999 for every value that rounds
  // into that range; a wider value would shift every later column.
  const double v = double(x);
  check(std::isfinite(x) && v > -999.9995 && v < 9999.9995, "coordinate ", x, " of residue ",
        residue, " does not fit the PDB format's 8 columns");
}

// REMARK 250 records, each text cut into pieces that fit columns 12-80.
void remarks(std::ostream& os, const std::vector<std::string>& texts) {
  constexpr size_t kWidth = 69;
  for (const std::string& text : texts) {
    for (char c : text)
      check(c >= 0x20 && c < 0x7f, "PDB remarks are printable ASCII, got byte ",
            int(static_cast<unsigned char>(c)), " in \"", text, "\"");
    size_t b = 0;
    do {
      size_t e = std::min(text.size(), b + kWidth);
      if (e < text.size()) {
        const size_t space = text.rfind(' ', e);
        if (space != std::string::npos && space > b) e = space;
      }
      record(os, ("REMARK 250 " + text.substr(b, e - b)).c_str());
      b = e;
      while (b < text.size() && text[b] == ' ') ++b;
    } while (b < text.size());
  }
}

}  // namespace

void write_pdb(const ProteinStructure& st, std::ostream& os, const PdbWriteOptions& opt) {
  st.validate();
  char buf[96];
  remarks(os, opt.remarks);
  if (opt.model_record) {
    std::snprintf(buf, sizeof buf, "MODEL     %4d", opt.model_number);
    record(os, buf);
  }
  int serial = 0;
  for (size_t i = 0; i < st.size(); ++i) {
    const int resi = st.residue_index[i];
    check(resi >= -999 && resi <= 9999, "residue number ", resi,
          " does not fit the PDB format's 4 columns");
    const std::string res(kRestypes3[st.aatype[i]]);
    for (size_t a = 0; a < kAtom37Names.size(); ++a) {
      if (!st.atom_mask[i * 37 + a]) continue;
      check(++serial <= 99999, "more than 99,999 atoms do not fit the PDB format");
      const float* p = &st.atom_positions[(i * 37 + a) * 3];
      for (int k = 0; k < 3; ++k) check_coordinate(p[k], i);
      const std::string name(kAtom37Names[a]);
      // Atom names shorter than four characters start in column 14 (element right-aligned).
      const std::string padded = name.size() == 4 ? name : " " + name;
      std::snprintf(buf, sizeof buf,
                    "ATOM  %5d %-4s %3s %c%4d    %8.3f%8.3f%8.3f%6.2f%6.2f          %2c", serial,
                    padded.c_str(), res.c_str(), st.chain_id, resi, double(p[0]), double(p[1]),
                    double(p[2]), 1.0, double(st.plddt[i]), name[0]);
      record(os, buf);
    }
  }
  if (opt.ter_record) {
    const size_t last = st.size() - 1;
    std::snprintf(buf, sizeof buf, "TER   %5d      %3s %c%4d", serial + 1,
                  std::string(kRestypes3[st.aatype[last]]).c_str(), st.chain_id,
                  st.residue_index[last]);
    record(os, buf);
  }
  if (opt.model_record) record(os, "ENDMDL");
  if (opt.end_record) record(os, "END");
  check<IoError>(bool(os), "writing PDB text failed");
}

std::string make_pdb_string(const ProteinStructure& structure, const PdbWriteOptions& options) {
  std::ostringstream os;
  write_pdb(structure, os, options);
  return os.str();
}

}  // namespace exafold::io
