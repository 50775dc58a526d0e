// AlphaFold2 parameter files: every byte verified (the archive's structure, each array's size and
// CRC-32, io/npz.h) and every name and shape checked against the preset before a value is used.
// The one reader of weights files: Model.load, exafold predict and exafold distill (whose rank 0
// reads and broadcasts) all come here.
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "exafold/core/dtype.h"
#include "exafold/core/shape.h"
#include "exafold/io/npz.h"
#include "exafold/model/config.h"
#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::io {

/// The standard presets (model::preset_names(), no overrides) whose parameter layout is exactly
/// `arrays` (name -> shape), in preset_names() order.
std::vector<std::string> matching_presets(const std::map<std::string, Shape>& arrays);

/// An open parameter file. Opening checks the archive (npz.h); arrays are read on demand.
/// @throws IoError when the file cannot be read; InvalidArgument naming the file, and the member
/// where there is one, when it is not an npz archive, is truncated, or is damaged.
class WeightsFile {
 public:
  explicit WeightsFile(std::string path);
  const std::string& path() const { return npz_.path(); }
  /// Every array's name and shape, from the archive's headers.
  std::map<std::string, Shape> shapes() const;
  /// Throws InvalidArgument unless the file holds exactly config's parameters as float32 or
  /// float64 arrays, naming the file, the preset and every missing, misshapen, unexpected or
  /// mistyped parameter, and the presets whose layout the file has instead, if any.
  void check_layout(const model::ModelConfig& config) const;
  /// Every array as a host tensor of `dtype` (float32 arrays widen to float64), each member's
  /// CRC-32 verified as it is read.
  std::unordered_map<std::string, Tensor> read_all(DType dtype,
                                                   NpzCheck check = NpzCheck::crc32) const;

 private:
  NpzFile npz_;
};

/// The parameters of `config` from `path` as `dtype`: WeightsFile's checks, then
/// Params::from_arrays. The loader behind Model.load and exafold predict.
model::Params load_weights(const std::string& path, const model::ModelConfig& config, DType dtype);

}  // namespace exafold::io
