// Writing mmCIF files (ProteinStructure -> mmCIF text) that ModelCIF readers accept: the model,
// its software and its pLDDT (per residue and mean) and pTM as ModelCIF quality metrics.
#pragma once

#include <limits>
#include <ostream>
#include <string>

#include "exafold/io/protein.h"

namespace exafold::io {

/// The ModelCIF dictionary version the files conform to (_audit_conform).
inline constexpr const char* kModelcifDictVersion = "1.4.9";

struct MmcifWriteOptions {
  /// The data block name and _entry.id.
  std::string name = "exafold";
  /// _entity, _entity_poly, _entity_poly_seq and _struct_asym: the full sequence, so readers
  /// know the polymer even where atoms are missing.
  bool entity_poly = true;
  /// The ModelCIF categories (needs entity_poly): _audit_conform, _struct, _software,
  /// _chem_comp, _atom_type, _ma_data, _ma_target_entity(_instance), _ma_model_list, and the
  /// quality metrics _ma_qa_metric, _ma_qa_metric_global (mean pLDDT; pTM when given) and
  /// _ma_qa_metric_local (pLDDT per residue), as AlphaFold DB files carry them.
  bool modelcif = true;
  /// _struct.title, e.g. "exafold prediction of Q1".
  std::string title;
  /// _ma_model_list.model_name, e.g. "model_1_ptm seed 0, rank 1".
  std::string model_name;
  /// _struct.pdbx_model_details: how the model was made (the weights; demo weights say so).
  std::string details;
  /// The software version in _software and _ma_model_list.model_group_name.
  std::string software_version;
  /// pTM as a global metric when finite.
  float ptm = std::numeric_limits<float>::quiet_NaN();

  /// _atom_site only.
  static MmcifWriteOptions minimal() {
    MmcifWriteOptions o;
    o.entity_poly = o.modelcif = false;
    return o;
  }
};

/// Writes one data block with an _atom_site loop (label_seq_id = position from 1, auth_seq_id =
/// residue_index, B_iso_or_equiv = pLDDT, pdbx_PDB_model_num = the _ma_model_list model) and the
/// optional categories. Free text is quoted as CIF requires.
/// @throws InvalidArgument when the structure is inconsistent, the name is not a CIF word, or
/// modelcif is asked for without entity_poly.
void write_mmcif(const ProteinStructure& structure, std::ostream& os,
                 const MmcifWriteOptions& options = {});
std::string make_mmcif_string(const ProteinStructure& structure,
                              const MmcifWriteOptions& options = {});

}  // namespace exafold::io
