#include "exafold/io/protein.h"

#include <cctype>

#include "exafold/core/error.h"

namespace exafold::io {

void ProteinStructure::validate() const {
  const size_t n = size();
  check(n > 0, "structure has no residues");
  auto expect = [&](size_t got, size_t want, const char* what) {
    check(got == want, "structure of ", n, " residues: ", what, " has ", got, " values, expected ",
          want);
  };
  expect(residue_index.size(), n, "residue_index");
  expect(atom_positions.size(), n * 37 * 3, "atom_positions");
  expect(atom_mask.size(), n * 37, "atom_mask");
  expect(plddt.size(), n, "plddt");
  for (size_t i = 0; i < n; ++i)
    check(aatype[i] <= 20, "aatype ", int(aatype[i]), " at residue ", i, " is out of range 0-20");
  check(std::isalnum(static_cast<unsigned char>(chain_id)),
        "chain id must be a letter or digit, got '", chain_id, "'");
}

}  // namespace exafold::io
