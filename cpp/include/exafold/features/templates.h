// The template featuriser: template search hits + template structures -> AlphaFold2's template
// features (alphafold/data/templates.py, HhsearchHitFeaturizer and HmmsearchHitFeaturizer).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "exafold/features/feature_dict.h"
#include "exafold/features/obsolete_pdbs.h"
#include "exafold/features/template_hits.h"
#include "exafold/features/template_source.h"
#include "exafold/features/template_structure.h"

namespace exafold::features {

/// Which hits are dropped before their structure is read (_assess_hhsearch_hit).
enum class HitFilters {
  /// DeepMind's AlphaFold2, in its order: released after max_template_date (by a release-dates
  /// file, which exafold does not take, so in effect by the mmCIF's date later), aligned
  /// columns <= 10% of the query, the hit's residues a subsequence of the query covering more
  /// than 95% of it, fewer than 10 residues.
  alphafold,
  /// alphafold-colabfold: the date only (the fork disables the other three).
  colabfold,
};

struct TemplateFeaturizerOptions {
  /// "YYYY-MM-DD": hits whose entry was released later are skipped. None: no date limit.
  std::optional<std::string> max_template_date;
  /// Templates featurised at most (AlphaFold2's MAX_TEMPLATE_HITS; the model takes the first 4).
  int64_t max_hits = 20;
  HitFilters filters = HitFilters::alphafold;
  ResidueLetters residue_letters = ResidueLetters::biopython_1_79;
  /// The kalign program that realigns a hit whose sequence differs from its mmCIF SEQRES.
  std::string kalign_binary = "kalign";
  /// Obsolete entries (obsolete.dat): removed ones are skipped, replaced ones read from their
  /// replacement.
  ObsoletePdbs obsolete;

  /// @throws InvalidArgument for a malformed date or max_hits < 0.
  void validate() const;
};

/// What became of one hit, in the order the featuriser took them (best sum_probs first).
struct TemplateHitReport {
  enum class Status {
    used,       ///< gave template number `template_index`
    duplicate,  ///< (hmmsearch) same template_sequence as an earlier template
    filtered,   ///< dropped by a filter or the date; AlphaFold2 records nothing
    warning,    ///< dropped for missing or unusable structure data (AlphaFold2's warnings)
    error,      ///< dropped for a failed match or realignment (AlphaFold2's errors)
  };
  int64_t index = 0;  ///< the hit's index (TemplateHit::index)
  std::string name;   ///< "<pdb id>_<chain>" as read from the hit
  Status status = Status::used;
  /// Why, for every status but `used`; for a used hit that was realigned, AlphaFold2's
  /// realignment warning.
  std::string reason;
  /// The hit's sequence was not in the SEQRES and kalign realigned it (then `reason` is
  /// AlphaFold2's realignment warning, which it lists among the warnings).
  bool realigned = false;
  int64_t template_index = -1;
};

const char* to_string(TemplateHitReport::Status s);

/// AlphaFold2's raw template features. T templates, N query residues:
///   template_aatype [T,N,22] f32 one-hot in HHblits order (gap = 21),
///   template_all_atom_positions [T,N,37,3] f32, template_all_atom_masks [T,N,37] f32,
///   template_sum_probs [T,1] f32;
/// template_domain_names and template_sequence (bytes features in AlphaFold2) as strings.
/// With no usable hit: T = 0 for HHsearch hits (AlphaFold2 gives empty arrays), one all-zero
/// template with empty names for hmmsearch hits (as AlphaFold2 does), and `message` says so.
struct TemplateFeatures {
  FeatureDict arrays;
  std::vector<std::string> domain_names;
  std::vector<std::string> sequences;
  std::vector<TemplateHitReport> hits;
  /// Empty, or why the item has no template.
  std::string message;

  int64_t num_templates() const { return int64_t(domain_names.size()); }
  /// AlphaFold2's TemplateSearchResult.warnings and .errors: the reasons of the hits with that
  /// status (and the realignment warnings of used hits), in processing order.
  std::vector<std::string> warnings() const;
  std::vector<std::string> errors() const;
};

/// Features for `query` from its hits, as AlphaFold2's featuriser for the hits' format builds
/// them: hits sorted by sum_probs (HHsearch; hmmsearch keeps file order), taken in turn until
/// options.max_hits templates are made (hmmsearch: distinct template sequences). Per hit: the
/// PDB id and chain from its name; obsolete entries; the filters; the structure from `source`;
/// the date; the chain whose SEQRES holds the hit's sequence (that chain, then any chain, then
/// with X as a wildcard), else a kalign realignment to the hit's chain (kept at >= 90%
/// identity); the chain's atoms mapped onto the query.
/// Deviations from AlphaFold2, which aborts the whole item in these cases: a hit whose mmCIF is
/// missing from `source`, or has no release date while a date limit is set, is skipped with a
/// warning; a hit name without a PDB id and chain, a hit with no aligned residue, or whose
/// query segment is not in `query`, is skipped with an error.
/// @throws InvalidArgument when `query` is not upper-case letters or the options are invalid.
TemplateFeatures featurize_templates(std::string_view query, std::span<const TemplateHit> hits,
                                     TemplateHitFormat format, const TemplateSource& source,
                                     const TemplateFeaturizerOptions& options = {});

}  // namespace exafold::features
