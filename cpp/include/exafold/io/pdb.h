// Writing PDB files (ProteinStructure -> PDB text), in AlphaFold2's layout.
#pragma once

#include <ostream>
#include <string>

#include "exafold/io/protein.h"

namespace exafold::io {

struct PdbWriteOptions {
  /// MODEL/ENDMDL around the atoms (AlphaFold2 writes them).
  bool model_record = true;
  /// The model number on the MODEL record.
  int model_number = 1;
  /// TER after the chain's last atom.
  bool ter_record = true;
  /// END as the last record.
  bool end_record = true;

  /// ATOM records only.
  static PdbWriteOptions minimal() { return {false, 1, false, false}; }
};

/// Writes 80-column records: ATOM per present atom (serial from 1, pLDDT as B-factor, element
/// from the atom name's first letter, occupancy 1.00), then TER, ENDMDL and END per the options.
/// @throws InvalidArgument for input the fixed columns cannot hold (a coordinate outside
/// [-999.999, 9999.999], a residue number outside [-999, 9999], more than 99,999 atoms).
void write_pdb(const ProteinStructure& structure, std::ostream& os,
               const PdbWriteOptions& options = {});
std::string make_pdb_string(const ProteinStructure& structure, const PdbWriteOptions& options = {});

}  // namespace exafold::io
