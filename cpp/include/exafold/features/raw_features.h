// Raw features: query + alignments -> AlphaFold2's data-pipeline features (make_sequence_features
// and make_msa_features of alphafold/data/pipeline.py).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "exafold/features/fasta.h"
#include "exafold/features/feature_dict.h"
#include "exafold/features/msa.h"

namespace exafold::features {

/// AlphaFold2's hit limit for an alignment, from the file names its data pipeline writes:
/// "uniref90_hits.*" keeps 10,000 rows and "mgnify_hits.*" 501 (DataPipeline's uniref_max_hits
/// and mgnify_max_hits, the query counted); BFD, UniRef30/UniClust and small-BFD files have no
/// limit (0).
int64_t af2_hit_limit(std::string_view path);

struct AlignmentFile {
  std::string path;
  /// Rows kept, the query included; -1 takes af2_hit_limit(path), 0 keeps all.
  int64_t max_rows = -1;
};

struct RawFeatureOptions {
  /// Keep only the first copy of identical aligned sequences across all alignments (DeepMind's
  /// AlphaFold2). The ColabFold fork (alphafold-colabfold) has this step commented out and keeps
  /// every row: false reproduces it.
  bool deduplicate = true;
};

struct RawFeatures {
  /// The FASTA description (feature domain_name) and the query (feature sequence).
  std::string domain_name;
  std::string sequence;
  /// With L residues and R alignment rows, all int32:
  /// aatype [L,21] one-hot (restypes + X), between_segment_residues [L] zeros,
  /// residue_index [L] 0..L-1, seq_length [L] all L, msa [R,L] HHblits ids 0..21,
  /// deletion_matrix_int [R,L], num_alignments [L] all R.
  FeatureDict arrays;
};

/// Merges the alignments in order (each starting with the query; the query is row 0 of the
/// result) and builds the raw features. No alignment gives the query alone as the MSA.
/// @throws InvalidArgument when the query has a character that is not an upper-case letter, or
/// an alignment's first row is not the query.
RawFeatures build_raw_features(const FastaRecord& query, std::span<const Msa> msas,
                               const RawFeatureOptions& options = {});
RawFeatures build_raw_features(const FastaRecord& query, std::span<const Msa* const> msas,
                               const RawFeatureOptions& options = {});

/// Reads the files (A3M or Stockholm, read_msa), applying their hit limits and checking that
/// each starts with the query, then builds as above.
RawFeatures build_raw_features(const FastaRecord& query, std::span<const AlignmentFile> files,
                               const RawFeatureOptions& options = {});

}  // namespace exafold::features
