// Row-major GEMMs through cuBLASLt.
//
// cuBLASLt is column-major. A row-major [r, c] matrix is the same memory as a column-major
// [c, r] one, so row-major C = A @ B is computed as column-major C^T [n, m] = B^T [n, k] @ A^T
// [k, m]: cuBLASLt's first operand is our b, its second our a, nothing is transposed, and every
// leading dimension is the row length. This is chosen over CUBLASLT_ORDER_ROW layouts because the
// epilogue adds its bias along the rows of the column-major D, which here are our n output
// columns, exactly what bias [n] means.
//
// Each cuBLASLt call uses a type combination the cuBLAS documentation lists for cublasLtMatmul:
// float32 or bfloat16 inputs with a float32 output, or bfloat16 inputs with a bfloat16 output,
// all accumulating in float32. cublasLt.h gives the bias the output's type, so with a bfloat16
// output the float32 bias is first rounded to bfloat16. float32 inputs with a bfloat16 output
// multiply into a float32 scratch matrix that is then rounded once.
#include <cublasLt.h>
#include <cuda_bf16.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "cuda/check.h"
#include "cuda/element_io.cuh"
#include "cuda/gemm.h"
#include "cuda/kernel.cuh"
#include "cuda_common/cublaslt_workspace.h"

namespace exafold::cuda {
namespace {

[[noreturn]] void cublas_fail(cublasStatus_t status, const char* stmt, const char* file, int line) {
  std::string msg = cat(stmt, " failed: ", cublasLtGetStatusName(status), " (",
                        cublasLtGetStatusString(status), ") at ", file, ":", line);
  if (status == CUBLAS_STATUS_ALLOC_FAILED) throw OutOfMemory(msg);
  throw Error(msg);
}

#define EXAFOLD_CUBLAS_CHECK(stmt)                                              \
  do {                                                                          \
    cublasStatus_t exafold_status_ = (stmt);                                    \
    if (exafold_status_ != CUBLAS_STATUS_SUCCESS)                               \
      ::exafold::cuda::cublas_fail(exafold_status_, #stmt, __FILE__, __LINE__); \
  } while (0)

constexpr size_t kWorkspaceBytes = kCublasLtWorkspaceBytes;

// A thread's cuBLASLt handle and workspace on one device. The workspace is only safe to reuse
// in stream order, so every GEMM through one context must be queued on one stream.
struct LtContext {
  cublasLtHandle_t handle = nullptr;
  void* workspace = nullptr;
  cudaStream_t stream = nullptr;

  LtContext() = default;
  LtContext(const LtContext&) = delete;
  LtContext& operator=(const LtContext&) = delete;
  // Errors are ignored: at process exit CUDA may already be unloaded, and nothing can be done
  // about a failed release anyway.
  ~LtContext() {
    if (workspace) cudaFree(workspace);
    if (handle) cublasLtDestroy(handle);
  }
};

LtContext& context(cudaStream_t stream) {
  thread_local std::vector<std::unique_ptr<LtContext>> contexts;  // by device ordinal
  int device = 0;
  EXAFOLD_CUDA_CHECK(cudaGetDevice(&device));
  if (contexts.size() <= size_t(device)) contexts.resize(size_t(device) + 1);
  std::unique_ptr<LtContext>& ctx = contexts[size_t(device)];
  if (!ctx) {
    auto fresh = std::make_unique<LtContext>();
    EXAFOLD_CUBLAS_CHECK(cublasLtCreate(&fresh->handle));
    EXAFOLD_CUDA_CHECK(cudaMalloc(&fresh->workspace, kWorkspaceBytes));
    fresh->stream = stream;
    ctx = std::move(fresh);
  }
  check<InternalError>(ctx->stream == stream,
                       "cuda::gemm: one thread's GEMMs on one device share a cuBLASLt "
                       "workspace and must be queued on one stream");
  return *ctx;
}

// Owners of cuBLASLt descriptors, so that a failing call in the middle leaks none.
struct MatmulDesc {
  cublasLtMatmulDesc_t d = nullptr;
  MatmulDesc(cublasComputeType_t compute, cudaDataType_t scale) {
    EXAFOLD_CUBLAS_CHECK(cublasLtMatmulDescCreate(&d, compute, scale));
  }
  ~MatmulDesc() { cublasLtMatmulDescDestroy(d); }
  MatmulDesc(const MatmulDesc&) = delete;
  MatmulDesc& operator=(const MatmulDesc&) = delete;
  template <class T>
  void set(cublasLtMatmulDescAttributes_t attr, const T& value) {
    EXAFOLD_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(d, attr, &value, sizeof(value)));
  }
};

struct Layout {
  cublasLtMatrixLayout_t d = nullptr;
  // Column-major rows x cols with leading dimension ld.
  Layout(cudaDataType_t type, int64_t rows, int64_t cols, int64_t ld) {
    EXAFOLD_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&d, type, uint64_t(rows), uint64_t(cols), ld));
  }
  ~Layout() { cublasLtMatrixLayoutDestroy(d); }
  Layout(const Layout&) = delete;
  Layout& operator=(const Layout&) = delete;
};

struct Preference {
  cublasLtMatmulPreference_t d = nullptr;
  Preference() { EXAFOLD_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&d)); }
  ~Preference() { cublasLtMatmulPreferenceDestroy(d); }
  Preference(const Preference&) = delete;
  Preference& operator=(const Preference&) = delete;
  template <class T>
  void set(cublasLtMatmulPreferenceAttributes_t attr, const T& value) {
    EXAFOLD_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(d, attr, &value, sizeof(value)));
  }
};

// The largest power of two up to 256 dividing the address. The heuristic cannot see the A, B, C
// and D pointers and assumes 256-byte alignment unless told, so views into larger buffers must
// say what they have.
uint32_t alignment(const void* p) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  uint32_t a = 256;
  while (a > 1 && address % a != 0) a /= 2;
  return a;
}

cudaDataType_t cuda_type(DType t) { return t == DType::bfloat16 ? CUDA_R_16BF : CUDA_R_32F; }

// Device scratch memory in stream order: freed on the stream after the work queued so far, so
// it never needs a synchronization and is never reused while that work still reads it.
class StreamScratch {
 public:
  StreamScratch(size_t bytes, cudaStream_t stream) : stream_(stream) {
    EXAFOLD_CUDA_CHECK(cudaMallocAsync(&p_, bytes, stream));
  }
  // A destructor cannot throw; a failed free costs only the memory.
  ~StreamScratch() { cudaFreeAsync(p_, stream_); }
  StreamScratch(const StreamScratch&) = delete;
  StreamScratch& operator=(const StreamScratch&) = delete;
  void* get() const { return p_; }

 private:
  void* p_ = nullptr;
  cudaStream_t stream_;
};

__global__ void round_to_bf16(const float* in, __nv_bfloat16* out, int64_t n) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    store(out + i, load(in + i));
}

void launch_round_to_bf16(const float* in, __nv_bfloat16* out, int64_t n, cudaStream_t stream) {
  constexpr int kThreads = 256;
  const int64_t blocks = std::min((n + kThreads - 1) / kThreads, int64_t(1) << 20);
  EXAFOLD_LAUNCH(unsigned(blocks), kThreads, 0, stream, round_to_bf16)(in, out, n);
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
}

// One operand as a column-major cuBLASLt layout: rows x cols with leading dimension ld, batched.
// ld is raised to rows where the other dimension is 1 (its stride is then never used).
struct Operand {
  int64_t rows, cols, ld;
  bool transposed;
};

// Row-major [r, c] with element strides (row, col), one of them 1, as cuBLASLt's column-major
// operand of the product C^T = B^T A^T: unit column stride is column-major [c, r] untransposed,
// unit row stride is column-major [r, c] transposed.
Operand as_operand(int64_t r, int64_t c, int64_t row, int64_t col) {
  if (col == 1 || c == 1) return {c, r, std::max({row, c, int64_t(1)}), false};
  return {r, c, std::max({col, r, int64_t(1)}), true};
}

struct BatchedLayout {
  Layout layout;
  BatchedLayout(cudaDataType_t type, const Operand& o, int64_t batch, int64_t batch_stride)
      : layout(type, o.rows, o.cols, o.ld) {
    if (batch > 1) {
      const auto count = int32_t(batch);
      EXAFOLD_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(
          layout.d, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count)));
      EXAFOLD_CUBLAS_CHECK(
          cublasLtMatrixLayoutSetAttribute(layout.d, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                           &batch_stride, sizeof(batch_stride)));
    }
  }
};

// Row-major d[b] [m, n] = a[b] [m, k] @ b[b] [k, n] (+ bias [n], of d's type) (relu), one
// cuBLASLt call whose type combination cuBLASLt supports.
void lt_matmul(const Matrix& a, const Matrix& b, cudaDataType_t ab_type, int64_t batch, int64_t m,
               int64_t n, int64_t k, const void* bias, bool relu, void* d, int64_t d_row,
               int64_t d_batch, cudaDataType_t d_type, cublasComputeType_t compute,
               cudaStream_t stream) {
  LtContext& ctx = context(stream);

  const Operand first = as_operand(k, n, b.row, b.col);   // our b
  const Operand second = as_operand(m, k, a.row, a.col);  // our a
  MatmulDesc desc(compute, CUDA_R_32F);
  desc.set(CUBLASLT_MATMUL_DESC_TRANSA, first.transposed ? CUBLAS_OP_T : CUBLAS_OP_N);
  desc.set(CUBLASLT_MATMUL_DESC_TRANSB, second.transposed ? CUBLAS_OP_T : CUBLAS_OP_N);
  const cublasLtEpilogue_t epilogue =
      bias ? (relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS)
           : (relu ? CUBLASLT_EPILOGUE_RELU : CUBLASLT_EPILOGUE_DEFAULT);
  desc.set(CUBLASLT_MATMUL_DESC_EPILOGUE, epilogue);
  if (bias) {
    desc.set(CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias);
    desc.set(CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, d_type);
  }

  // Column-major operands of C^T = B^T A^T (see the top of this file).
  const BatchedLayout first_l(ab_type, first, batch, b.batch);
  const BatchedLayout second_l(ab_type, second, batch, a.batch);
  const BatchedLayout out_l(d_type, {n, m, std::max(d_row, n), false}, batch, d_batch);
  const cublasLtMatrixLayout_t out = out_l.layout.d;  // also cuBLASLt's C (beta = 0: never read)

  Preference pref;
  pref.set(CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, uint64_t(kWorkspaceBytes));
  pref.set(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, alignment(b.data));
  pref.set(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, alignment(a.data));
  pref.set(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, alignment(d));
  pref.set(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, alignment(d));

  cublasLtMatmulHeuristicResult_t heuristic{};
  int found = 0;
  EXAFOLD_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(ctx.handle, desc.d, first_l.layout.d,
                                                      second_l.layout.d, out, out, pref.d, 1,
                                                      &heuristic, &found));
  check<Error>(found > 0, "cuBLASLt has no algorithm for [", m, ", ", k, "] x [", k, ", ", n,
               "] with this precision and epilogue");

  const float alpha = 1.f, beta = 0.f;
  count_launch(stream);  // at least one kernel; split-K algorithms may add a reduction
  EXAFOLD_CUBLAS_CHECK(cublasLtMatmul(ctx.handle, desc.d, &alpha, b.data, first_l.layout.d, a.data,
                                      second_l.layout.d, &beta, d, out, d, out, &heuristic.algo,
                                      ctx.workspace, kWorkspaceBytes, stream));
}

// The contiguous row-major [r, c] matrix at p.
Matrix packed(const void* p, int64_t c) { return {p, c, 1, 0}; }

void matmul(const void* a, const void* b, cudaDataType_t ab_type, int64_t m, int64_t n, int64_t k,
            const void* bias, bool relu, void* d, cudaDataType_t d_type,
            cublasComputeType_t compute, cudaStream_t stream) {
  lt_matmul(packed(a, k), packed(b, n), ab_type, 1, m, n, k, bias, relu, d, n, 0, d_type, compute,
            stream);
}

}  // namespace

void gemm(const void* a, const void* b, DType ab_dtype, int64_t m, int64_t n, int64_t k,
          const float* bias, bool relu, void* c, DType c_dtype, bool tf32, cudaStream_t stream) {
  if (m == 0) return;
  const bool ab16 = ab_dtype == DType::bfloat16, c16 = c_dtype == DType::bfloat16;
  const cublasComputeType_t compute =
      !ab16 && tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  if (!c16) {
    matmul(a, b, cuda_type(ab_dtype), m, n, k, bias, relu, c, CUDA_R_32F, compute, stream);
  } else if (ab16) {
    if (!bias) {
      matmul(a, b, CUDA_R_16BF, m, n, k, nullptr, relu, c, CUDA_R_16BF, compute, stream);
      return;
    }
    StreamScratch bias16(size_t(n) * sizeof(__nv_bfloat16), stream);
    auto* rounded = static_cast<__nv_bfloat16*>(bias16.get());
    launch_round_to_bf16(bias, rounded, n, stream);
    matmul(a, b, CUDA_R_16BF, m, n, k, rounded, relu, c, CUDA_R_16BF, compute, stream);
  } else {
    StreamScratch wide(size_t(m) * size_t(n) * sizeof(float), stream);
    auto* product = static_cast<float*>(wide.get());
    matmul(a, b, CUDA_R_32F, m, n, k, bias, relu, product, CUDA_R_32F, compute, stream);
    launch_round_to_bf16(product, static_cast<__nv_bfloat16*>(c), m * n, stream);
  }
}

void batched_gemm(const Matrix& a, const Matrix& b, DType ab_dtype, int64_t batch, int64_t m,
                  int64_t n, int64_t k, const float* bias, bool relu, float* out, int64_t out_row,
                  int64_t out_batch, bool tf32, cudaStream_t stream) {
  if (batch == 0 || m == 0 || n == 0) return;
  const bool ab16 = ab_dtype == DType::bfloat16;
  const cublasComputeType_t compute =
      !ab16 && tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  lt_matmul(a, b, cuda_type(ab_dtype), batch, m, n, k, bias, relu, out, out_row, out_batch,
            CUDA_R_32F, compute, stream);
}

}  // namespace exafold::cuda
