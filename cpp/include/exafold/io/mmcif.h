// Writing mmCIF files (ProteinStructure -> mmCIF text), with ModelCIF-style pLDDT metrics.
#pragma once

#include <ostream>
#include <string>

#include "exafold/io/protein.h"

namespace exafold::io {

struct MmcifWriteOptions {
  /// The data block name and _entry.id.
  std::string name = "exafold";
  /// _entity, _entity_poly and _entity_poly_seq: the full sequence, so readers know the
  /// polymer even where atoms are missing.
  bool entity_poly = true;
  /// _ma_qa_metric, _ma_qa_metric_global (mean pLDDT) and _ma_qa_metric_local (per residue),
  /// as AlphaFold DB files carry them.
  bool plddt_metrics = true;

  /// _atom_site only.
  static MmcifWriteOptions minimal() { return {"exafold", false, false}; }
};

/// Writes one data block with an _atom_site loop (label_seq_id = position from 1, auth_seq_id =
/// residue_index, B_iso_or_equiv = pLDDT) and the optional categories.
/// @throws InvalidArgument when the structure is inconsistent or the name is not a CIF word.
void write_mmcif(const ProteinStructure& structure, std::ostream& os,
                 const MmcifWriteOptions& options = {});
std::string make_mmcif_string(const ProteinStructure& structure,
                              const MmcifWriteOptions& options = {});

}  // namespace exafold::io
