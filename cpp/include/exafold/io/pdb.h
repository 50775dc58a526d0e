// Writing PDB files (ProteinStructure -> PDB text), in AlphaFold2's layout.
#pragma once

#include <ostream>
#include <string>
#include <vector>

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
  /// Free text written first, as REMARK 250 records (the remark for how a model was made),
  /// each line wrapped to the 80 columns: the model, its weights and scores.
  std::vector<std::string> remarks;

  /// ATOM records only.
  static PdbWriteOptions minimal() { return {false, 1, false, false, {}}; }
};

/// Writes 80-column records: the remarks, then ATOM per present atom (serial from 1, pLDDT as
/// B-factor, element from the atom name's first letter, occupancy 1.00), then TER, ENDMDL and END
/// per the options.
/// @throws InvalidArgument for input the fixed columns cannot hold (a coordinate that %8.3f
/// writes wider than 8 columns, that is outside [-999.9995, 9999.9995), a residue number outside
/// [-999, 9999], more than 99,999 atoms) or a remark that is not printable ASCII.
void write_pdb(const ProteinStructure& structure, std::ostream& os,
               const PdbWriteOptions& options = {});
std::string make_pdb_string(const ProteinStructure& structure, const PdbWriteOptions& options = {});

}  // namespace exafold::io
