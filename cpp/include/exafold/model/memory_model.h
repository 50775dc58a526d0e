// Peak allocator memory of one AlphaFold2 prediction, predicted from the sizes alone, and the
// largest chunk size that keeps a prediction inside a memory budget (issue 3).
#pragma once

#include <cstdint>

#include "exafold/core/dtype.h"
#include "exafold/memory/device.h"
#include "exafold/model/config.h"
#include "exafold/ops/backend_info.h"

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
/// this by up to 1 MiB per live large block, depending on what its cache held before. On cuda
/// the device also holds memory outside the allocator (DeviceMemory::outside).
int64_t predict_peak_bytes(const ModelConfig& config, const MemoryWorkload& w, int64_t chunk_size,
                           DType dtype, DeviceType backend = DeviceType::cpu);

/// Everything a prediction holds on its device at its peak, replayed as predict_peak_bytes
/// replays it.
struct DeviceMemory {
  int64_t parameters = 0;   ///< every block's placed parameters, fused projections, residue tables
  int64_t features = 0;     ///< every iteration's features on the device
  int64_t activations = 0;  ///< predict_peak_bytes: the peak above parameters and features
  /// The caching allocator's peak reserved bytes (whole segments) above those before the
  /// prediction, from an empty cache: what the device gives the activations.
  int64_t activations_reserved = 0;
  /// Device memory outside the caching allocator: one host thread's
  /// ops::per_thread_device_bytes (on cuda, the cuBLASLt workspace).
  int64_t outside = 0;
  int64_t total() const { return parameters + features + activations + outside; }
  /// total() with the activations' reserved peak: what the device gives when the allocator
  /// releases no cached segment on the way (it releases its wholly free ones before failing).
  int64_t total_reserved() const { return parameters + features + activations_reserved + outside; }
};

/// Which of a replay's peaks a fit is judged by: the bytes in use (what the memory needs at
/// least) or the bytes reserved in segments (what the caching allocator takes from the device
/// from an empty cache without releasing any).
enum class Peak { in_use, reserved };

DeviceMemory predict_device_memory(const ModelConfig& config, const MemoryWorkload& w,
                                   int64_t chunk_size, DType dtype,
                                   DeviceType backend = DeviceType::cpu);

/// The longest sequence (N, the other sizes as in w) whose predicted device memory at chunk 1,
/// the smallest, fits in capacity_bytes (total() or total_reserved(), by `peak`): a bisection
/// over N (the memory grows with N), 0 when not even N = 1 fits.
int64_t longest_fitting_sequence(const ModelConfig& config, const MemoryWorkload& w,
                                 int64_t capacity_bytes, DType dtype,
                                 DeviceType backend = DeviceType::cpu, Peak peak = Peak::in_use);

/// Bytes of pair-shaped operands (ops::count_pair_traffic) that the ops of one Evoformer block
/// read and write on the cuda backend, unchunked, at N = w.residues, which must equal no other
/// size of the model (a prime such as 101): replays with two blocks and with one, counted on
/// meta:cuda, differenced.
ops::OperandTraffic evoformer_block_pair_traffic(const ModelConfig& config, const MemoryWorkload& w,
                                                 DType dtype);

/// The largest chunk size whose predicted peak fits in budget_bytes: 0 (unchunked) when that
/// fits, else the largest fitting chunk in 1..N. Throws OutOfMemory naming the smallest possible
/// peak when even chunk 1 does not fit.
int64_t choose_chunk(const ModelConfig& config, const MemoryWorkload& w, int64_t budget_bytes,
                     DType dtype, DeviceType backend = DeviceType::cpu, Peak peak = Peak::in_use);

}  // namespace exafold::model
