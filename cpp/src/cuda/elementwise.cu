// Element-wise kernels: one thread per output element in a grid-stride loop, each element
// addressed through its views' strides (broadcasts are stride 0). Every thread reads and writes
// only its own elements, so an output may be its input's very view (in place). The branches on
// the kind and the dtypes are uniform across the grid.
#include <cuda_bf16.h>

#include <algorithm>

#include "cuda/check.h"
#include "cuda/elementwise.cuh"
#include "cuda/kernel.cuh"
#include "cuda/strided.cuh"

namespace exafold::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = int64_t(1) << 16;

unsigned blocks_for(int64_t n) {
  return unsigned(std::min((n + kThreads - 1) / kThreads, kMaxBlocks));
}

__device__ __forceinline__ float sigmoid(float x) { return 1.f / (1.f + expf(-x)); }

__device__ float apply(const PointwiseArgs& p, float a, float b, float c) {
  switch (p.kind) {
    case Pointwise::relu:
      return a > 0.f ? a : 0.f;
    case Pointwise::sigmoid:
      return sigmoid(a);
    case Pointwise::softplus:
      return fmaxf(a, 0.f) + log1pf(expf(-fabsf(a)));
    case Pointwise::sqrt:
      return sqrtf(a);
    case Pointwise::positive:
      return a > 0.f ? 1.f : 0.f;
    case Pointwise::add:
      return a + b;
    case Pointwise::sub:
      return a - b;
    case Pointwise::mul:
      return a * b;
    case Pointwise::div:
      return a / b;
    case Pointwise::sigmoid_gate:
      return c * a * sigmoid(b);
  }
  return a;
}

__global__ void pointwise_kernel(const PointwiseArgs p, int64_t n) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < n; e += stride) {
    const float a = p.a.data ? load_f(p.a, offset_of(p.a, e)) : 0.f;
    const float b = p.b.data ? load_f(p.b, offset_of(p.b, e)) : p.s;
    const float c = p.c.data ? load_f(p.c, offset_of(p.c, e)) : 1.f;
    const int64_t o = offset_of(p.out, e);
    float r = apply(p, a, b, c);
    if (p.accumulate) r += load_f(p.out, o);
    store_f(p.out, o, r);
  }
}

__global__ void fill_kernel(const View out, double value, int64_t n) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < n; e += stride)
    store_any(out, offset_of(out, e), value);
}

__global__ void copy_kernel(const View dst, const View src, int64_t n) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < n; e += stride)
    store_any(dst, offset_of(dst, e), load_any(src, offset_of(src, e)));
}

__global__ void linear_epilogue_kernel(const View out, const float* product, int activation,
                                       const View multiply, bool accumulate, int64_t n) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < n; e += stride) {
    float r = product[e];
    if (activation == 1) r = r > 0.f ? r : 0.f;
    if (activation == 2) r = sigmoid(r);
    if (multiply.data) r *= load_f(multiply, offset_of(multiply, e));
    const int64_t o = offset_of(out, e);
    if (accumulate) r += load_f(out, o);
    store_f(out, o, r);
  }
}

}  // namespace

uint64_t launches() { return launch_counter().load(std::memory_order_relaxed); }
uint64_t captured_kernels() { return captured_counter().load(std::memory_order_relaxed); }

void pointwise(const PointwiseArgs& p, cudaStream_t stream) {
  const int64_t n = p.out.numel();
  if (n == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n), kThreads, 0, stream, pointwise_kernel)(p, n);
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
}

void fill(const View& out, double value, cudaStream_t stream) {
  const int64_t n = out.numel();
  if (n == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n), kThreads, 0, stream, fill_kernel)(out, value, n);
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
}

void copy(const View& dst, const View& src, cudaStream_t stream) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n), kThreads, 0, stream, copy_kernel)(dst, src, n);
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
}

void linear_epilogue(const View& out, const View& product, int activation, const View& multiply,
                     bool accumulate, cudaStream_t stream) {
  const int64_t n = out.numel();
  if (n == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n), kThreads, 0, stream, linear_epilogue_kernel)
  (out, static_cast<const float*>(product.data), activation, multiply, accumulate, n);
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
}

}  // namespace exafold::cuda
