// Copies of exafold's kernels (cpp/src/cuda/layer_norm.cu, attention.cu) with one-line bugs
// that can be switched in, for the tests that show the CPU emulation catching each. The copies
// keep the originals' structure line for line where it matters (tiles, barriers, reductions,
// grid-stride loops); they take float32 (the tensor-core copy rounds it to bfloat16 on load)
// and leave out the pair bias and gate, which no injected bug touches.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace exafold::emulation_test {

enum class LayerNormBug {
  none,
  no_first_reduction_barrier,     // block_sum reads the partial sums before all are written
  no_trailing_reduction_barrier,  // block_sum's next call overwrites them while still read
  halved_warp_reduction,          // warp_sum starts at offset 8: each lane sums 16 lanes
};

enum class AttentionBug {
  none,
  no_barrier_before_tile_load,  // a tile is overwritten while slower threads still read it
  no_barrier_after_tile_load,   // a tile is read before every thread has loaded its share
  no_sum_rescale,               // the online softmax forgets `sum *= correction`
  unguarded_key_load,           // the `j < n` load guard removed: reads past k and v, unused
};

/// LayerNorm of x [rows, c] (scale 1, offset 0) with one warp per row, over `blocks` blocks of
/// four warps striding over the rows.
cudaError_t layer_norm_warp_rows(LayerNormBug bug, const float* x, int64_t rows, int c,
                                 unsigned blocks, float* y);

/// LayerNorm with a block of `threads` (a multiple of 32) per row, over `blocks` blocks.
cudaError_t layer_norm_block_rows(LayerNormBug bug, const float* x, int64_t rows, int c,
                                  unsigned threads, unsigned blocks, float* y);

/// Attention out = softmax(scale q k^T + key_bias) v for q, k, v, out [batch, n, heads, 32]
/// and key_bias [batch, n_k], with `threads` query rows per block over `blocks` blocks (0: one
/// per work item).
struct AttentionShape {
  int64_t batch, n_q, n_k, heads;
};
constexpr int kCopyHeadDim = 32;
cudaError_t attention(AttentionBug bug, const float* q, const float* k, const float* v,
                      const float* key_bias, float* out, AttentionShape s, float scale, int threads,
                      unsigned blocks);

enum class MmaAttentionBug {
  none,
  no_output_rescale,            // the output accumulator is not rescaled by exp(old - new max)
  no_syncwarp_after_logits,     // lanes read logits other lanes' store_matrix_sync still writes
  rescale_by_hardware_mapping,  // rescales accumulator elements by their row on sm_80 hardware
};

/// The tensor-core attention (two warps of 16 query rows a block) on the same operands, q, k
/// and v rounded to bfloat16 as it loads them.
cudaError_t attention_mma(MmaAttentionBug bug, const float* q, const float* k, const float* v,
                          const float* key_bias, float* out, AttentionShape s, float scale);

}  // namespace exafold::emulation_test
