#include "exafold/io/pdb.h"

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
  // %8.3f holds -999.999 to 9999.999; wider values would shift every later column.
  check(std::isfinite(x) && x >= -999.999f && x <= 9999.999f, "coordinate ", x, " of residue ",
        residue, " does not fit the PDB format's 8 columns");
}

}  // namespace

void write_pdb(const ProteinStructure& st, std::ostream& os, const PdbWriteOptions& opt) {
  st.validate();
  char buf[96];
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
