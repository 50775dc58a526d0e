// The GPU kernels of the model's device path, behind one interface so that everything above
// compiles without CUDA: cpp/src/cuda/ implements it; a build without CUDA has none.
#pragma once

#include <cstdint>

#include "exafold/core/dtype.h"

namespace exafold::ops {

/// One gated multi-head attention after its projections (the core of supplement Algorithms 7,
/// 8, 13 and 14), in device memory, row-major and contiguous:
///   logits[b,h,i,j] = scale * q[b,i,h] . k[b,j,h] + key_bias[b,j] + pair_bias[h,i,j]
///   out[b,i,h] = softmax_j(logits) @ v[b,:,h] * sigmoid(gate[b,i,h])
/// q [batch, n_q, heads, key_dim], k [batch, n_k, heads, key_dim], v and out
/// [batch, n_k|n_q, heads, value_dim], gate [batch, n_q, heads, value_dim] (pre-sigmoid; null: no
/// gating), all of `dtype` (float32 or bfloat16). key_bias [batch, n_k] float32 (e.g. the mask
/// bias 1e9 * (mask - 1)) and pair_bias [heads, n_q, n_k] of `dtype`, shared by the batch, may be
/// null. Softmax and accumulation are float32; a row whose keys are all masked attends
/// uniformly, as the reference's clipped logits make it.
///
/// Two kernels implement it (docs/gpu.md "Fused attention"): a portable one (a thread per query
/// row, float32 throughout) and a tensor-core one (bfloat16 products, the probabilities rounded
/// to bfloat16 before they weight v). `automatic` takes attention_kernel_for(dtype); the others
/// force one, and the tensor-core kernel refuses float32.
enum class AttentionKernel { automatic, portable, tensor_cores };

/// The one rule: bfloat16 storage runs on tensor cores, float32 on the portable kernel (the
/// tensor cores' float32 inputs would be TF32, 10 mantissa bits, which float32 does not allow).
/// Both take heads of up to 64 channels and refuse wider ones.
constexpr AttentionKernel attention_kernel_for(DType dtype) {
  return dtype == DType::bfloat16 ? AttentionKernel::tensor_cores : AttentionKernel::portable;
}

struct GpuAttention {
  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
  const void* gate = nullptr;
  const float* key_bias = nullptr;
  const void* pair_bias = nullptr;
  void* out = nullptr;
  DType dtype = DType::float32;
  int64_t batch = 0, n_q = 0, n_k = 0, heads = 0, key_dim = 0, value_dim = 0;
  float scale = 1.0f;
  AttentionKernel kernel = AttentionKernel::automatic;
};

/// Kernels on the current CUDA device; all pointers are device (or managed) memory. Work is
/// queued on the calling thread's stream (cudaStreamPerThread); synchronize() waits for it.
class GpuKernels {
 public:
  virtual ~GpuKernels() = default;

  /// LayerNorm over the last axis of x [rows, c]: (x - mean) / sqrt(var + eps) * scale + offset,
  /// with float32 statistics. x and y are float32 or bfloat16 (they may differ, so a LayerNorm
  /// can hand the next projection bf16); scale and offset are float32 [c].
  virtual void layer_norm(const void* x, DType x_dtype, int64_t rows, int64_t c, const float* scale,
                          const float* offset, float eps, void* y, DType y_dtype) = 0;

  /// c [m, n] = a [m, k] @ b [k, n] (+ bias [n]) (then max(0, .) when relu), float32
  /// accumulation. a and b share ab_dtype (float32 or bfloat16); c is float32 or bfloat16; bias
  /// is float32 or null (with bfloat16 inputs and output it is rounded to bfloat16 first, as
  /// cuBLASLt's epilogue takes the bias in the output's type). tf32 lets float32 inputs use TF32
  /// tensor cores.
  virtual void gemm(const void* a, const void* b, DType ab_dtype, int64_t m, int64_t n, int64_t k,
                    const float* bias, bool relu, void* c, DType c_dtype, bool tf32) = 0;

  /// The fused attention above, flash-style: no [heads, n_q, n_k] logits tensor is stored.
  virtual void attention(const GpuAttention& a) = 0;

  /// Waits for this thread's queued kernels; raises the first asynchronous error.
  virtual void synchronize() = 0;

  /// Kernels this process has launched so far, each cuBLASLt call counted as one: the launch
  /// count per Evoformer block and per prediction (bench/gpu_launches_bench.cpp). Kernels
  /// recorded into a graph are counted by captured_kernels() instead, and run when it launches.
  virtual uint64_t launches() const = 0;

  /// CUDA graphs of this thread's stream; ops/graph.h is the interface the model uses.
  /// begin_capture records, from now on, what this thread queues instead of running it
  /// (thread-local capture mode: other threads' calls neither break it nor are refused).
  virtual void begin_capture() = 0;
  /// Ends the recording and instantiates it, returning the graph to launch. Throws, naming the
  /// cause, when a call during the capture broke it (a host synchronisation).
  virtual void* end_capture() = 0;
  /// Ends a capture whose work failed, discarding what it recorded.
  virtual void abort_capture() noexcept = 0;
  /// True while this thread's stream captures.
  virtual bool capturing() const = 0;
  virtual void launch_graph(void* graph) = 0;
  virtual void destroy_graph(void* graph) noexcept = 0;
  /// Graphs launched so far, and the kernels recorded into graphs.
  virtual uint64_t graph_launches() const = 0;
  virtual uint64_t captured_kernels() const = 0;
};

/// The kernels compiled into this build, or nullptr when it was built without CUDA.
GpuKernels* gpu_kernels();

}  // namespace exafold::ops
