// Reading template search results (HHsearch .hhr, hmmsearch Stockholm) into AlphaFold2's
// TemplateHit records (alphafold/data/parsers.py).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exafold::features {

/// One hit of a template search, field for field AlphaFold2's parsers.TemplateHit.
struct TemplateHit {
  /// HHsearch: the number after "No"; hmmsearch: the hit's 1-based position in the file.
  int64_t index = 0;
  /// HHsearch: the whole '>' line after '>' (id, chain and description); hmmsearch:
  /// "<pdb id>_<chain>".
  std::string name;
  int64_t aligned_cols = 0;
  /// HHsearch's Sum_probs; hmmsearch has none.
  std::optional<double> sum_probs;
  /// HHsearch: the query's aligned segment, '-' at gaps; hmmsearch: the whole query.
  std::string query;
  /// The hit's aligned residues, upper case, '-' at gaps. hmmsearch rows keep their insertions
  /// (upper-cased), as AlphaFold2's parse_hmmsearch_a3m does.
  std::string hit_sequence;
  /// Per aligned column, the 0-based query (hit) residue index, -1 at a gap.
  std::vector<int32_t> indices_query;
  std::vector<int32_t> indices_hit;
  /// Line where the hit starts in its file, for messages about it.
  int64_t line = 0;
};

enum class TemplateHitFormat {
  hhr,            ///< HHsearch result (pdb70_hits.hhr, pdb_hits.hhr)
  hmmsearch_sto,  ///< hmmsearch -A alignment (pdb_hits.sto, hmm_output.sto)
};

/// Every hit of an HHsearch result file, in file order, as parsers.parse_hhr reads them: the
/// header and summary table are skipped, then each "No N" block gives one hit from its '>'
/// line, its summary line (Probab=... Sum_probs=... Template_Neff=...) and its 'Q' and 'T'
/// alignment lines (column 18 on; the ss_dssp, ss_pred and Consensus lines are not residues).
/// Streaming: one block is held at a time.
/// @throws IoError when the file cannot be read; ParseError (file and line) for a file that is
/// not an HHsearch result, a block without its '>' or summary line, a malformed number, an
/// alignment line that does not parse, a block whose residue count disagrees with its start and
/// end, or a 'T' line before any 'Q' line.
std::vector<TemplateHit> read_hhr(const std::string& path);
/// As read_hhr, from text in memory; `name` stands for the file in messages.
std::vector<TemplateHit> parse_hhr(std::string_view text, const std::string& name = "<text>");

/// Every protein hit of an hmmsearch Stockholm alignment against pdb_seqres, as AlphaFold2 >= 2.3
/// reads it (convert_stockholm_to_a3m without removing query gaps, then parse_hmmsearch_a3m):
/// a row "<pdb id>_<chain>/<start>-<end>" whose '#=GS ... DE' description carries
/// "mol:protein length:<n>"; rows of other molecules are skipped but still count in `index`.
/// '.' is dropped, lower-case letters are insertions. An empty file has no hits. Streaming: only
/// the rows (reduced to the fields above) are held.
/// @throws IoError when the file cannot be read; ParseError (file and line) for a non-Stockholm
/// or truncated file, a malformed line, a character that is not a letter, '-' or '.', rows of
/// different lengths, a description that names no row or repeats, a protein row whose name or
/// description does not parse, or a row whose match columns are not one per query residue
/// (the hits of another query).
std::vector<TemplateHit> read_hmmsearch_sto(const std::string& path, std::string_view query);
/// As read_hmmsearch_sto, from text in memory; `name` stands for the file in messages.
std::vector<TemplateHit> parse_hmmsearch_sto(std::string_view text, std::string_view query,
                                             const std::string& name = "<text>");

/// A template search result file and how to read it.
struct TemplateHitsFile {
  std::string path;
  TemplateHitFormat format = TemplateHitFormat::hhr;
};

/// The format of a hits file, from its name: ".hhr" is HHsearch, ".sto" hmmsearch.
/// @throws InvalidArgument for any other suffix.
TemplateHitFormat template_hit_format(std::string_view path);

/// The template search result beside an item's alignments, under the names AlphaFold2 and
/// OpenFold write: pdb70_hits.hhr (AlphaFold2 < 2.3, OpenFold), pdb_hits.hhr or pdb_hits.sto
/// (AlphaFold2 >= 2.3) and hmm_output.sto (OpenFold). None when the directory has none.
/// @throws InvalidArgument when it has more than one (which to use is the caller's choice).
std::optional<TemplateHitsFile> find_template_hits(const std::string& alignment_dir);

/// Reads a hits file in its format; `query` is the item's sequence (hmmsearch hits carry it).
std::vector<TemplateHit> read_template_hits(const TemplateHitsFile& file, std::string_view query);

}  // namespace exafold::features
