// HDF5 shards of predicted structures, columnar for training loaders (layout: docs/formats.md).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace exafold::io {

/// 2 added the templates each structure was predicted with; version 1 shards (none) still read.
inline constexpr int kShardLayoutVersion = 2;
inline constexpr int kAtom37 = 37;

/// One predicted structure, borrowed from the caller for the duration of ShardWriter::append.
struct ShardStructure {
  std::string id;
  std::string sequence;                                 // one-letter codes, N characters
  std::span<const uint8_t> aatype;                      // [N], AlphaFold2 restype indices (0-20)
  std::span<const int32_t> residue_index;               // [N]
  std::span<const float> atom_positions;                // [N, 37, 3], Angstrom, atom37 order
  std::span<const uint8_t> atom_mask;                   // [N, 37], 1 where the atom exists
  std::span<const float> plddt;                         // [N], 0-100
  float ptm = std::numeric_limits<float>::quiet_NaN();  // NaN for models without the PAE head
  std::span<const float> pae;                           // [N, N] or empty
  std::string model;                                    // parameter set, e.g. model_1_ptm
  uint64_t seed = 0;
  double runtime_seconds = 0;
  double flops = 0;
  /// The templates the kept prediction used (AlphaFold2's template_domain_names,
  /// "<pdb id>_<chain>"), best first, and their template_sum_probs; empty without templates.
  std::span<const std::string> templates;
  std::span<const float> template_sum_probs;
};

enum class PaeStorage {
  none,     // no pae datasets: the smallest shards
  float16,  // IEEE half, round to nearest even: 0.0156 A resolution at 32 A, ample for PAE
  float32,
};

/// "none", "float16" or "float32": the pae_dtype attribute's spelling.
const char* pae_storage_name(PaeStorage p);

struct ShardWriterOptions {
  PaeStorage pae = PaeStorage::float16;
  /// Rows per HDF5 chunk along the residue axis (per structure axis: chunk_residues / 64, at
  /// least 16; PAE: chunk_residues * 64 entries). HDF5 stores whole chunks, so without
  /// compression every dataset costs at least one chunk: docs/formats.md, "Size".
  int64_t chunk_residues = 8192;
  /// deflate level 1-9 of every dataset (after the shuffle filter), 0 for none. Compressed, the
  /// unwritten part of a shard's last chunks costs almost nothing, so small shards stay small.
  int deflate_level = 1;
};

/// Writes `<path>.tmp`, and on finish() fsyncs it, renames it to `path` and fsyncs the directory,
/// so a shard under its final name is always complete. Not thread-safe (serial HDF5): one
/// writer thread owns it.
class ShardWriter {
 public:
  /// @throws InvalidArgument unless path ends in ".h5"; IoError when the file cannot be created.
  explicit ShardWriter(std::string path, ShardWriterOptions options = {});
  /// An unfinished shard is removed: it never appears under its final name.
  ~ShardWriter();
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  /// Appends one structure and returns its row (the journal's offset).
  /// @throws InvalidArgument when the arrays disagree with the sequence length.
  int64_t append(const ShardStructure& s);
  int64_t size() const;
  /// Writes the attributes, makes the shard durable and gives it its final name.
  void finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A whole shard in memory. Structure i owns residues [residue_offsets[i], residue_offsets[i+1])
/// of the per-residue columns and PAE entries [pae_offsets[i], pae_offsets[i+1]).
struct Shard {
  std::string exafold_version;
  int layout_version = 0;
  std::string created;  // ISO 8601, UTC
  std::vector<std::string> ids, sequences, models;
  std::vector<int64_t> residue_offsets;
  std::vector<uint8_t> aatype;
  std::vector<int32_t> residue_index;
  std::vector<float> atom_positions;  // [total_residues, 37, 3]
  std::vector<uint8_t> atom_mask;     // [total_residues, 37]
  std::vector<float> plddt, mean_plddt, ptm;
  PaeStorage pae_storage = PaeStorage::none;
  std::vector<int64_t> pae_offsets;  // empty when pae_storage is none
  std::vector<float> pae;            // widened to float32 on read
  std::vector<uint64_t> seeds;
  std::vector<double> runtime_seconds, flops;
  /// Structure i used templates [template_offsets[i], template_offsets[i+1]) (all 0 in a
  /// version 1 shard).
  std::vector<int64_t> template_offsets;
  std::vector<std::string> template_names;
  std::vector<float> template_sum_probs;

  int64_t size() const { return int64_t(ids.size()); }
  /// id -> row.
  std::unordered_map<std::string, int64_t> index() const;
};

/// @throws IoError when the file cannot be read; InvalidArgument when it is not a valid shard
/// of a known layout version (naming the dataset at fault).
Shard read_shard(const std::string& path);

/// IEEE binary16 conversion used for PAE, round to nearest even (exposed for tests).
uint16_t float_to_half(float f);
float half_to_float(uint16_t h);

}  // namespace exafold::io
