// Reading numpy .npz archives (the official AlphaFold2 parameter files are uncompressed npz),
// with every byte checked: the zip structure, each member's sizes, and each member's CRC-32.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exafold/core/dtype.h"
#include "exafold/core/shape.h"
#include "exafold/tensor/tensor.h"

namespace exafold {

struct NpyEntry {
  std::string name;  ///< the array's key (member name without ".npy")
  DType dtype = DType::float32;
  Shape shape;
  uint64_t data_offset = 0;    ///< of the array bytes in the archive (stored members)
  uint64_t member_offset = 0;  ///< of the member's first byte (its .npy header) in the archive
  uint64_t stored_size = 0;    ///< bytes in the archive (compressed size when deflated)
  uint64_t member_size = 0;    ///< the .npy member's size: header plus array bytes
  uint64_t header_bytes = 0;   ///< the .npy header's size
  uint32_t crc32 = 0;          ///< the member's CRC-32 as the archive's directory records it
  bool deflated = false;
};

/// How much of a member read() checks. Every loader checks the CRC-32; `sizes` exists so that
/// bench/weights_bench.cpp can measure what the CRC costs.
enum class NpzCheck { crc32, sizes };

/// An open .npz: the directory and every array's header are read and checked at open (each
/// member inside the archive, its size what its header's shape and dtype need, no name twice);
/// arrays are read on demand, straight into their destination, so a 93M-parameter file is never
/// held twice, and each read verifies the member's CRC-32.
///
/// Errors name the archive and the member: InvalidArgument for content that is not a valid npz
/// (another kind of file, a truncated or damaged archive), IoError when the file cannot be read.
class NpzFile {
 public:
  explicit NpzFile(std::string path);
  /// An archive in memory (`name` stands for the file in messages); `bytes` must outlive it.
  static NpzFile from_memory(std::string_view bytes, std::string name);

  const std::string& path() const { return path_; }
  const std::vector<NpyEntry>& entries() const { return entries_; }
  /// nullptr when absent.
  const NpyEntry* find(std::string_view name) const;
  /// The array as a new contiguous host tensor of `as` (float32 -> float64 widening allowed;
  /// other conversions are refused), after checking its bytes against the member's CRC-32.
  Tensor read(const NpyEntry& e, DType as, NpzCheck check = NpzCheck::crc32) const;
  Tensor read(const NpyEntry& e) const { return read(e, e.dtype); }

  class Source;  ///< where the bytes come from (a file or memory)

 private:
  NpzFile(std::shared_ptr<const Source> source, std::string path);
  std::shared_ptr<const Source> source_;
  std::string path_;
  std::vector<NpyEntry> entries_;
};

/// Writes arrays to an uncompressed .npz that numpy.load reads (used for outputs and fixtures).
void save_npz(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& arrays);

}  // namespace exafold
