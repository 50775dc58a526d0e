// Tables of the template featuriser (generated: cpp/tools/gen_template_tables.py).
#pragma once

#include <cstddef>
#include <cstdint>

namespace exafold::features {

/// atom37 indices of the four atoms of chi angle k of each residue type (AlphaFold2's
/// get_chi_atom_indices: 0 where the residue has no chi k, UNK last).
extern const int8_t kChiAtomIndices[21][4][4];

struct ResidueLetter {
  const char* name;  ///< chemical component id
  char letter;       ///< one-letter code
};

/// Biopython 1.79's SCOPData.protein_letters_3to1 (the one-letter entries), sorted by name.
extern const ResidueLetter kScopResidueLetters[];
extern const size_t kNumScopResidueLetters;

}  // namespace exafold::features
