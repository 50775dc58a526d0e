// Peak allocator memory of one AlphaFold2 prediction, predicted from the sizes alone, and the
// largest chunk size that keeps a prediction inside a memory budget (issue 3).
#pragma once

#include <cstdint>

#include "exafold/core/dtype.h"
#include "exafold/memory/device.h"
#include "exafold/model/config.h"

namespace exafold::model {

/// The sizes a prediction's memory depends on besides the model config.
struct MemoryWorkload {
  int64_t residues = 0;    ///< N
  int64_t clusters = 0;    ///< MSA cluster rows S
  int64_t extra_rows = 0;  ///< extra-MSA rows E
  int iterations = 2;      ///< recycling passes; from the second on the previous outputs are live
  int threads = 0;         ///< the thread pool's size; 0 = the shared pool's
  int64_t templates = 0;   ///< T, for presets with templates (others ignore them)
};

/// Peak bytes the caching allocator of `backend`'s device holds during run_model above what
/// was live before it (parameters, their fused projections and the features are not counted:
/// they are live before and after), chunk_size <= 0 meaning unchunked. It is measured, not
/// estimated: the prediction is replayed on the meta device (memory/device.h), where every op
/// allocates what it would and the backend its workspaces, through a caching allocator of the
/// same policy, and nothing is computed. The real allocator's cache may then hand a request
/// over 1 MiB a free block up to 1 MiB larger than the replay's, so a measured peak can exceed
/// this by up to 1 MiB per live large block, depending on what its cache held before.
int64_t predict_peak_bytes(const ModelConfig& config, const MemoryWorkload& w, int64_t chunk_size,
                           DType dtype, DeviceType backend = DeviceType::cpu);

/// The largest chunk size whose predicted peak fits in budget_bytes: 0 (unchunked) when that
/// fits, else the largest fitting chunk in 1..N. Throws OutOfMemory naming the smallest possible
/// peak when even chunk 1 does not fit.
int64_t choose_chunk(const ModelConfig& config, const MemoryWorkload& w, int64_t budget_bytes,
                     DType dtype, DeviceType backend = DeviceType::cpu);

}  // namespace exafold::model
