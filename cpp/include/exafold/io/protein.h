// A predicted protein chain as the writers take it, and AlphaFold2's residue and atom37 names.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace exafold::io {

/// AlphaFold2's atom37 order (residue_constants.atom_types).
inline constexpr std::array<std::string_view, 37> kAtom37Names = {
    "N",   "CA",  "C",   "CB",  "O",   "CG", "CG1", "CG2", "OG",  "OG1", "SG", "CD",  "CD1",
    "CD2", "ND1", "ND2", "OD1", "OD2", "SD", "CE",  "CE1", "CE2", "CE3", "NE", "NE1", "NE2",
    "OE1", "OE2", "CH2", "NH1", "NH2", "OH", "CZ",  "CZ2", "CZ3", "NZ",  "OXT"};

/// AlphaFold2's restype order (residue_constants.restypes plus X); index = aatype.
inline constexpr std::string_view kRestypes1 = "ARNDCQEGHILKMFPSTWYVX";
inline constexpr std::array<std::string_view, 21> kRestypes3 = {
    "ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU",
    "LYS", "MET", "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL", "UNK"};

/// One chain, borrowed from the caller. The writers emit atom a of residue i when
/// atom_mask[i*37 + a] is nonzero, in atom37 order, with pLDDT as the B-factor.
struct ProteinStructure {
  std::span<const uint8_t> aatype;         // [N], 0-20
  std::span<const int32_t> residue_index;  // [N], author numbering (PDB resSeq)
  std::span<const float> atom_positions;   // [N, 37, 3], Angstrom
  std::span<const uint8_t> atom_mask;      // [N, 37]
  std::span<const float> plddt;            // [N], 0-100
  char chain_id = 'A';

  size_t size() const { return aatype.size(); }
  /// @throws InvalidArgument naming the array whose length disagrees, or a bad aatype/chain id.
  void validate() const;
};

}  // namespace exafold::io
