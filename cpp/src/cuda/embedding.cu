// Embeddings and gathers: one thread per output element in grid-stride loops. The bins are
// integers that must match the cpu backend's exactly, so their arithmetic is written with
// explicit roundings (__fmul_rn, __fadd_rn), which nvcc never contracts into an FMA.
#include <cuda_bf16.h>

#include <algorithm>

#include "cuda/check.h"
#include "cuda/embedding.cuh"
#include "cuda/kernel.cuh"
#include "cuda/strided.cuh"

namespace exafold::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = int64_t(1) << 16;
// atom37 indices (residue_constants.atom_order) and the glycine restype.
constexpr int64_t kAtomCA = 1;
constexpr int64_t kAtomCB = 3;
constexpr int64_t kGlycine = 7;

unsigned blocks_for(int64_t n) {
  return unsigned(std::min((n + kThreads - 1) / kThreads, kMaxBlocks));
}

#define EXAFOLD_GRID_STRIDE(e, n)                                           \
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < (n); \
       e += int64_t(gridDim.x) * blockDim.x)

__device__ __forceinline__ int64_t load_index(const View& t, int64_t off) {
  return t.dtype == DType::int64 ? static_cast<const int64_t*>(t.data)[off]
                                 : int64_t(static_cast<const int32_t*>(t.data)[off]);
}

__device__ __forceinline__ float load_w(const void* p, DType d, int64_t i) {
  return d == DType::bfloat16 ? __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i])
                              : static_cast<const float*>(p)[i];
}

// The terms are summed in order, then the bias, as the cpu backend does.
__global__ void embed_kernel(const EmbedArgs a, int64_t rows, int64_t c) {
  View lead = a.out;
  lead.rank = a.out.rank - 1;
  EXAFOLD_GRID_STRIDE(e, rows * c) {
    const int64_t r = e / c, k = e % c;
    float sum = 0.f;
    for (int t = 0; t < a.n_terms; ++t) {
      const EmbedTermView& term = a.terms[t];
      View tv = term.t;
      if (term.one_hot) {
        const int64_t i = load_index(tv, offset_of(tv, r));
        if (i >= 0) {
          const float w = load_w(a.w, a.out.dtype, (term.row + i) * c + k);
          const View sv = term.scale;
          sum += sv.data ? load_f(sv, offset_of(sv, r)) * w : w;
        }
      } else {
        sum += load_f(tv, offset_of(tv, r)) * load_w(a.w, a.out.dtype, term.row * c + k);
      }
    }
    if (a.bias) sum += a.bias[k];
    const int64_t o = offset_of(lead, r) + k;
    if (a.accumulate) sum += load_f(a.out, o);
    store_f(a.out, o, sum);
  }
}

__global__ void relative_position_bins_kernel(int32_t* out, const View ri, int64_t n, int64_t r) {
  EXAFOLD_GRID_STRIDE(e, n * n) {
    const int64_t i = e / n, j = e % n;
    const int64_t d = load_index(ri, i * ri.stride[0]) - load_index(ri, j * ri.stride[0]) + r;
    out[e] = int32_t(d < 0 ? 0 : d > 2 * r ? 2 * r : d);
  }
}

__global__ void distogram_bins_kernel(int32_t* out, const View points, int64_t n, double min,
                                      double max, int64_t bins) {
  const float* p = static_cast<const float*>(points.data);
  const int64_t s0 = points.stride[0], s1 = points.stride[1];
  EXAFOLD_GRID_STRIDE(e, n * n) {
    const int64_t i = e / n, j = e % n;
    float d2 = 0.f;
    for (int x = 0; x < 3; ++x) {
      const float d = p[i * s0 + x * s1] - p[j * s0 + x * s1];
      d2 = __fadd_rn(d2, __fmul_rn(d, d));
    }
    int32_t bin = -1;
    for (int64_t b = 0; b < bins; ++b) {
      const float edge = float(min + (max - min) * double(b) / double(bins - 1));
      const float lower = __fmul_rn(edge, edge);
      float upper = 1e8f;
      if (b + 1 < bins) {
        const float next = float(min + (max - min) * double(b + 1) / double(bins - 1));
        upper = __fmul_rn(next, next);
      }
      if (d2 > lower && d2 < upper) {
        bin = int32_t(b);
        break;
      }
    }
    out[e] = bin;
  }
}

// Element `i` of an array of `bytes`-wide elements, copied as raw bits.
__device__ __forceinline__ void copy_element(void* dst, const void* src, int64_t di, int64_t si,
                                             int bytes) {
  if (bytes == 8)
    static_cast<uint64_t*>(dst)[di] = static_cast<const uint64_t*>(src)[si];
  else if (bytes == 4)
    static_cast<uint32_t*>(dst)[di] = static_cast<const uint32_t*>(src)[si];
  else
    static_cast<uint16_t*>(dst)[di] = static_cast<const uint16_t*>(src)[si];
}

__global__ void gather_kernel(void* out, const void* x, const View index, int64_t n, int64_t a,
                              int64_t b, int64_t inner, int bytes) {
  EXAFOLD_GRID_STRIDE(e, n * b * inner) {
    const int64_t c = e % inner, nk = e / inner;
    const int64_t i = nk / b, k = nk % b;
    const int64_t src = load_index(index, i * index.stride[0] + k * index.stride[1]);
    copy_element(out, x, e, (i * a + src) * inner + c, bytes);
  }
}

__global__ void pseudo_beta_kernel(void* out, const void* x, const View aatype, int64_t n,
                                   int64_t inner, int bytes) {
  EXAFOLD_GRID_STRIDE(e, n * inner) {
    const int64_t i = e / inner, c = e % inner;
    const int64_t atom = load_index(aatype, i * aatype.stride[0]) == kGlycine ? kAtomCA : kAtomCB;
    copy_element(out, x, e, (i * 37 + atom) * inner + c, bytes);
  }
}

int item_bytes(DType d) {
  switch (d) {
    case DType::float64:
    case DType::int64:
      return 8;
    case DType::bfloat16:
      return 2;
    default:
      return 4;
  }
}

// Elements per entry of x [N, A, ...].
int64_t entry_size(const View& x) {
  int64_t n = 1;
  for (int d = 2; d < x.rank; ++d) n *= x.shape[d];
  return n;
}

}  // namespace

void embed(const EmbedArgs& a, cudaStream_t stream) {
  const int64_t c = a.out.shape[a.out.rank - 1];
  const int64_t rows = c == 0 ? 0 : a.out.numel() / c;
  if (rows == 0) return;
  EXAFOLD_LAUNCH(blocks_for(rows * c), kThreads, 0, stream, embed_kernel)(a, rows, c);
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
}

void relative_position_bins(const View& out, const View& residue_index, int64_t max_relative,
                            cudaStream_t stream) {
  const int64_t n = residue_index.shape[0];
  if (n == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n * n), kThreads, 0, stream, relative_position_bins_kernel)
  (static_cast<int32_t*>(out.data), residue_index, n, max_relative);
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
}

void distogram_bins(const View& out, const View& points, double min, double max, int64_t bins,
                    cudaStream_t stream) {
  const int64_t n = points.shape[0];
  if (n == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n * n), kThreads, 0, stream, distogram_bins_kernel)
  (static_cast<int32_t*>(out.data), points, n, min, max, bins);
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
}

void gather(const View& out, const View& x, const View& index, cudaStream_t stream) {
  const int64_t n = x.shape[0], b = index.shape[1], inner = entry_size(x);
  if (n * b * inner == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n * b * inner), kThreads, 0, stream, gather_kernel)
  (out.data, x.data, index, n, x.shape[1], b, inner, item_bytes(x.dtype));
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
}

void pseudo_beta(const View& out, const View& aatype, const View& x, cudaStream_t stream) {
  const int64_t n = x.shape[0], inner = entry_size(x);
  if (n * inner == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n * inner), kThreads, 0, stream, pseudo_beta_kernel)
  (out.data, x.data, aatype, n, inner, item_bytes(x.dtype));
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
}

}  // namespace exafold::cuda
