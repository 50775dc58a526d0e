// Reading numpy .npz archives (the official AlphaFold2 parameter files are uncompressed npz).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "exafold/core/dtype.h"
#include "exafold/core/shape.h"
#include "exafold/tensor/tensor.h"

namespace exafold {

struct NpyEntry {
  std::string name;  ///< the array's key (member name without ".npy")
  DType dtype = DType::float32;
  Shape shape;
  uint64_t data_offset = 0;   ///< of the array bytes in the archive (stored members)
  uint64_t stored_size = 0;   ///< bytes in the archive (compressed size when deflated)
  uint64_t local_header = 0;  ///< offset of the member's local header
  bool deflated = false;
};

/// An open .npz: the directory and every array's header are read at open; arrays are read on
/// demand, straight into their destination, so a 93M-parameter file is never held twice.
class NpzFile {
 public:
  explicit NpzFile(std::string path);
  const std::string& path() const { return path_; }
  const std::vector<NpyEntry>& entries() const { return entries_; }
  /// nullptr when absent.
  const NpyEntry* find(std::string_view name) const;
  /// The array as a new contiguous host tensor of `as` (float32 -> float64 widening allowed;
  /// other conversions are refused).
  Tensor read(const NpyEntry& e, DType as) const;
  Tensor read(const NpyEntry& e) const { return read(e, e.dtype); }

 private:
  std::string path_;
  std::vector<NpyEntry> entries_;
};

/// Writes arrays to an uncompressed .npz that numpy.load reads (used for outputs and fixtures).
void save_npz(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& arrays);

}  // namespace exafold
