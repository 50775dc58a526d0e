// Reading template structures (mmCIF file -> TemplateEntry), as AlphaFold2's mmcif_parsing and
// its template featuriser's _get_atom_positions see them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exafold::features {

/// How SEQRES residue names become one-letter codes. The choice decides which chain and offset
/// a hit's sequence is found at, so it must match the AlphaFold2 being reproduced.
enum class ResidueLetters {
  /// Biopython 1.79's SCOPData.protein_letters_3to1 (1,248 one-letter names, modified residues
  /// by their parent: MSE -> M), which DeepMind's AlphaFold2 pins.
  biopython_1_79,
  /// Biopython >= 1.80's PDBData.protein_letters_3to1: the 20 standard residues only, every
  /// other name (MSE included) -> X; alphafold-colabfold with a current Biopython.
  standard_only,
};

/// One protein chain of an entry: its SEQRES and the atoms of each SEQRES residue.
struct TemplateChain {
  /// Author chain id (auth_asym_id), the key AlphaFold2 finds a hit's chain by.
  std::string id;
  /// The chemical component id of each SEQRES residue (_entity_poly_seq.mon_id), in order.
  std::vector<std::string> residues;
  /// [residues, 37, 3] Angstrom and [residues, 37] 0/1, atom37 order: _get_atom_positions's
  /// result (first model; the highest-occupancy alternate location, the first on ties; MSE's
  /// SE as SD; arginine NH1/NH2 swapped where NH2 is the one nearer CD). Zero for missing
  /// residues and atoms. Empty when atom_error is set.
  std::vector<float> positions;
  std::vector<float> mask;
  /// Why the atoms cannot be had, as _get_atom_positions fails: "no such chain"-type failures
  /// (MultipleChainsError) are errors, a SEQRES residue absent from the model or consecutive
  /// C-alpha atoms more than 150 A apart (NoAtomDataInTemplateError) are warnings.
  std::string atom_error;
  bool atom_error_is_warning = false;

  int64_t size() const { return int64_t(residues.size()); }
  /// The SEQRES as one-letter codes (chain_to_seqres): unknown names are 'X'.
  std::string sequence(ResidueLetters letters) const;
};

/// A PDB entry as AlphaFold2's template featuriser uses it.
struct TemplateEntry {
  /// The entry's id as the featuriser names it (the hit's lower-case PDB code).
  std::string id;
  /// "YYYY-MM-DD": the earliest _pdbx_audit_revision_history.revision_date; none when absent.
  std::optional<std::string> release_date;
  /// Protein chains in chain_to_seqres order (entity order, then _struct_asym order; a chain
  /// listed twice keeps its first place and its last SEQRES).
  std::vector<TemplateChain> chains;
  /// Why AlphaFold2 would read no chains from the file (its ParsingResult has no mmcif_object):
  /// a syntax error (file:line: reason), data mmcif_parsing or Biopython rejects, or no protein
  /// chain. Empty when the entry was read.
  std::string error;

  const TemplateChain* chain(std::string_view id) const;
};

/// Reads a template mmCIF file, gzip-compressed when its name ends in ".gz" (as PDB mirrors keep
/// them). A file that cannot be opened raises; one whose content AlphaFold2
/// could not use gives an entry with `error` set, since the featuriser skips such a hit with a
/// warning rather than failing the item.
/// Rules (alphafold/data/mmcif_parsing.py + Biopython's MMCIFParser, first model only): protein
/// chains are the entities with a residue whose _chem_comp.type contains "peptide"; SEQRES is
/// _entity_poly_seq; SEQRES position = label_seq_id - the entity's first num; residues are found
/// by (HETATM flag, auth_seq_id, insertion code) in the author chain of the first model.
/// @throws IoError when the file cannot be read.
TemplateEntry read_template_mmcif(const std::string& path, std::string id);
/// As read_template_mmcif, from text in memory; `name` stands for the file in messages.
TemplateEntry parse_template_mmcif(std::string_view text, std::string id,
                                   const std::string& name = "<text>");

}  // namespace exafold::features
