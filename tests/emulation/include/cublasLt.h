// A host stand-in for the part of cuBLASLt that exafold's GEMM (cpp/src/cuda/gemm.cu) calls,
// for the CPU emulation of CUDA. cuBLASLt has no CPU build; standing in for its API (rather than
// an #if in gemm.cu) keeps gemm.cu compiled unchanged, so everything it decides is tested: the
// row-major-as-transposed-column-major operand swap, the epilogue and bias type for each
// precision, the bfloat16 rounding of bias and output, the scratch path, the alignments told to
// the heuristic and the per-thread handle and workspace.
//
// It implements cuBLASLt's documented semantics: column-major layouts (optionally transposed,
// strided-batched), D = epilogue(alpha * op(A) op(B) + beta * C (+ bias per row of D)), float32
// accumulation, TF32 inputs rounded to 10 mantissa bits (to nearest, ties away, as cvt.rna.tf32
// does), bfloat16 outputs rounded to nearest even. It accepts only what cuBLASLt documents:
// float32 scale and compute (or FAST_TF32 for float32 data) with float32 -> float32, bfloat16 ->
// bfloat16 or bfloat16 -> float32 operands, a bias of D's type, and the DEFAULT, RELU, BIAS and
// RELU_BIAS epilogues; anything else is CUBLAS_STATUS_NOT_SUPPORTED here, so code that needs more
// fails in the emulation before it can fail on a GPU. Attribute sizes are checked as cuBLASLt
// checks them, and a matmul whose pointers are less aligned than the heuristic was told fails
// with CUBLAS_STATUS_INVALID_VALUE, where a GPU kernel would read misaligned memory.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cuda_bf16.h"
#include "cuda_runtime.h"
#include "library_types.h"

enum cublasStatus_t {
  CUBLAS_STATUS_SUCCESS = 0,
  CUBLAS_STATUS_NOT_INITIALIZED = 1,
  CUBLAS_STATUS_ALLOC_FAILED = 3,
  CUBLAS_STATUS_INVALID_VALUE = 7,
  CUBLAS_STATUS_ARCH_MISMATCH = 8,
  CUBLAS_STATUS_MAPPING_ERROR = 11,
  CUBLAS_STATUS_EXECUTION_FAILED = 13,
  CUBLAS_STATUS_INTERNAL_ERROR = 14,
  CUBLAS_STATUS_NOT_SUPPORTED = 15,
  CUBLAS_STATUS_LICENSE_ERROR = 16,
};

enum cublasOperation_t { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 };

enum cublasComputeType_t {
  CUBLAS_COMPUTE_16F = 64,
  CUBLAS_COMPUTE_16F_PEDANTIC = 65,
  CUBLAS_COMPUTE_32F = 68,
  CUBLAS_COMPUTE_32F_PEDANTIC = 69,
  CUBLAS_COMPUTE_64F = 70,
  CUBLAS_COMPUTE_64F_PEDANTIC = 71,
  CUBLAS_COMPUTE_32I = 72,
  CUBLAS_COMPUTE_32I_PEDANTIC = 73,
  CUBLAS_COMPUTE_32F_FAST_16F = 74,
  CUBLAS_COMPUTE_32F_FAST_16BF = 75,
  CUBLAS_COMPUTE_32F_FAST_TF32 = 77,
};

enum cublasLtOrder_t { CUBLASLT_ORDER_COL = 0, CUBLASLT_ORDER_ROW = 1 };

enum cublasLtMatrixLayoutAttribute_t {
  CUBLASLT_MATRIX_LAYOUT_TYPE = 0,
  CUBLASLT_MATRIX_LAYOUT_ORDER = 1,
  CUBLASLT_MATRIX_LAYOUT_ROWS = 2,
  CUBLASLT_MATRIX_LAYOUT_COLS = 3,
  CUBLASLT_MATRIX_LAYOUT_LD = 4,
  CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT = 5,
  CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET = 6,
};

enum cublasLtMatmulDescAttributes_t {
  CUBLASLT_MATMUL_DESC_COMPUTE_TYPE = 0,
  CUBLASLT_MATMUL_DESC_SCALE_TYPE = 1,
  CUBLASLT_MATMUL_DESC_POINTER_MODE = 2,
  CUBLASLT_MATMUL_DESC_TRANSA = 3,
  CUBLASLT_MATMUL_DESC_TRANSB = 4,
  CUBLASLT_MATMUL_DESC_EPILOGUE = 7,
  CUBLASLT_MATMUL_DESC_BIAS_POINTER = 8,
  CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE = 26,
};

enum cublasLtEpilogue_t {
  CUBLASLT_EPILOGUE_DEFAULT = 1,
  CUBLASLT_EPILOGUE_RELU = 2,
  CUBLASLT_EPILOGUE_BIAS = 4,
  CUBLASLT_EPILOGUE_RELU_BIAS = 6,
};

enum cublasLtPointerMode_t { CUBLASLT_POINTER_MODE_HOST = 0 };

enum cublasLtMatmulPreferenceAttributes_t {
  CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1,
  CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES = 5,
  CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES = 6,
  CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES = 7,
  CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES = 8,
};

struct cublasLtContext {
  int device = 0;
};
typedef cublasLtContext* cublasLtHandle_t;

struct cublasLtMatrixLayoutOpaque_t {
  cudaDataType_t type = CUDA_R_32F;
  int32_t order = CUBLASLT_ORDER_COL;
  uint64_t rows = 0, cols = 0;
  int64_t ld = 0;
  int32_t batch = 1;
  int64_t batch_stride = 0;
};
typedef cublasLtMatrixLayoutOpaque_t* cublasLtMatrixLayout_t;

struct cublasLtMatmulDescOpaque_t {
  int32_t compute = CUBLAS_COMPUTE_32F;
  int32_t scale = CUDA_R_32F;
  int32_t pointer_mode = CUBLASLT_POINTER_MODE_HOST;
  int32_t transa = CUBLAS_OP_N, transb = CUBLAS_OP_N;
  uint32_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  const void* bias = nullptr;
  int32_t bias_type = -1;  // D's type
};
typedef cublasLtMatmulDescOpaque_t* cublasLtMatmulDesc_t;

struct cublasLtMatmulPreferenceOpaque_t {
  uint64_t max_workspace = 0;
  uint32_t alignment[4] = {256, 256, 256, 256};  // A, B, C, D
};
typedef cublasLtMatmulPreferenceOpaque_t* cublasLtMatmulPreference_t;

typedef struct {
  uint64_t data[8];
} cublasLtMatmulAlgo_t;

struct cublasLtMatmulHeuristicResult_t {
  cublasLtMatmulAlgo_t algo;
  size_t workspaceSize;
  cublasStatus_t state;
  float wavesCount;
  int reserved[4];
};

namespace exafold::emulation::lt {

// Marks an algorithm this stand-in's heuristic returned; data[0..3] are the pointer alignments
// it was chosen for.
constexpr uint64_t kAlgoTag = 0x65786166'6f6c644cull;

template <class T>
cublasStatus_t set(T& field, const void* buf, size_t bytes) {
  if (!buf || bytes != sizeof(T)) return CUBLAS_STATUS_INVALID_VALUE;
  std::memcpy(&field, buf, sizeof(T));
  return CUBLAS_STATUS_SUCCESS;
}

inline bool supported(const cublasLtMatmulDescOpaque_t& d, cudaDataType_t ab, cudaDataType_t cd) {
  if (d.scale != CUDA_R_32F || d.pointer_mode != CUBLASLT_POINTER_MODE_HOST) return false;
  if (d.transa == CUBLAS_OP_C || d.transb == CUBLAS_OP_C) return false;
  if (d.epilogue != CUBLASLT_EPILOGUE_DEFAULT && d.epilogue != CUBLASLT_EPILOGUE_RELU &&
      d.epilogue != CUBLASLT_EPILOGUE_BIAS && d.epilogue != CUBLASLT_EPILOGUE_RELU_BIAS)
    return false;
  if ((d.epilogue & CUBLASLT_EPILOGUE_BIAS) && d.bias_type != -1 && d.bias_type != cd) return false;
  if (d.compute == CUBLAS_COMPUTE_32F_FAST_TF32) return ab == CUDA_R_32F && cd == CUDA_R_32F;
  if (d.compute != CUBLAS_COMPUTE_32F && d.compute != CUBLAS_COMPUTE_32F_PEDANTIC) return false;
  return (ab == CUDA_R_32F && cd == CUDA_R_32F) || (ab == CUDA_R_16BF && cd == CUDA_R_16BF) ||
         (ab == CUDA_R_16BF && cd == CUDA_R_32F);
}

/// The shapes agree: op(A) [m, k], op(B) [k, n], C and D [m, n], leading dimensions and batches
/// consistent, column-major.
inline cublasStatus_t check_shapes(const cublasLtMatmulDescOpaque_t& d,
                                   const cublasLtMatrixLayoutOpaque_t& a,
                                   const cublasLtMatrixLayoutOpaque_t& b,
                                   const cublasLtMatrixLayoutOpaque_t& c,
                                   const cublasLtMatrixLayoutOpaque_t& out) {
  for (const auto* l : {&a, &b, &c, &out}) {
    if (l->order != CUBLASLT_ORDER_COL) return CUBLAS_STATUS_NOT_SUPPORTED;
    if (l->ld < int64_t(l->rows) || l->ld < 1 || l->batch < 1) return CUBLAS_STATUS_INVALID_VALUE;
    if (l->batch != out.batch) return CUBLAS_STATUS_INVALID_VALUE;
  }
  const uint64_t m = out.rows, n = out.cols;
  const uint64_t am = d.transa == CUBLAS_OP_N ? a.rows : a.cols;
  const uint64_t k = d.transa == CUBLAS_OP_N ? a.cols : a.rows;
  const uint64_t bk = d.transb == CUBLAS_OP_N ? b.rows : b.cols;
  const uint64_t bn = d.transb == CUBLAS_OP_N ? b.cols : b.rows;
  if (am != m || bk != k || bn != n || c.rows != m || c.cols != n || c.type != out.type ||
      a.type != b.type)
    return CUBLAS_STATUS_INVALID_VALUE;
  return supported(d, a.type, out.type) ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_SUPPORTED;
}

inline uint32_t alignment_of(const void* p) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  uint32_t a = 256;
  while (a > 1 && address % a != 0) a /= 2;
  return a;
}

inline float load(const void* base, cudaDataType_t type, int64_t i) {
  if (type == CUDA_R_16BF) return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[i]);
  return static_cast<const float*>(base)[i];
}

inline void store(void* base, cudaDataType_t type, int64_t i, float v) {
  if (type == CUDA_R_16BF)
    static_cast<__nv_bfloat16*>(base)[i] = __float2bfloat16_rn(v);
  else
    static_cast<float*>(base)[i] = v;
}

inline float to_tf32(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0x1000u) & 0xffffe000u;  // finite: round
  std::memcpy(&x, &u, 4);
  return x;
}

inline size_t element_bytes(cudaDataType_t t) { return t == CUDA_R_16BF ? 2 : 4; }

// acc [m] = a [m, k] (packed column-major) @ b [k]. Only the stand-in's own packed copies pass
// through here (the caller's operands were read, and checked, when they were copied), so
// AddressSanitizer need not check each of its m * k multiply-adds.
__attribute__((no_sanitize("address", "undefined"))) inline void accumulate_column(
    const float* a, const float* b, int64_t m, int64_t k, float* acc) {
  for (int64_t i = 0; i < m; ++i) acc[i] = 0.f;
  for (int64_t q = 0; q < k; ++q) {
    const float bq = b[q];
    const float* aq = a + q * m;
    for (int64_t i = 0; i < m; ++i) acc[i] += aq[i] * bq;
  }
}

struct Problem {
  cublasLtMatmulDescOpaque_t d;
  cublasLtMatrixLayoutOpaque_t a, b, c, out;
  float alpha, beta;
  const void *pa, *pb, *pc;
  void* pd;
};

// One batch entry at a time: op(A) and op(B) widened (and TF32-rounded) into packed float32
// column-major copies, then each column of D accumulated in float32 over k.
inline void compute(const Problem& p) {
  const int64_t m = int64_t(p.out.rows), n = int64_t(p.out.cols);
  const int64_t k = int64_t(p.d.transa == CUBLAS_OP_N ? p.a.cols : p.a.rows);
  const bool tf32 = p.d.compute == CUBLAS_COMPUTE_32F_FAST_TF32;
  const auto at = [](const void* base, int64_t offset, cudaDataType_t t) {
    return static_cast<const char*>(base) + offset * int64_t(element_bytes(t));
  };
  std::vector<float> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n)),
      acc(static_cast<size_t>(m));
  for (int32_t batch = 0; batch < p.out.batch; ++batch) {
    const char* pa = at(p.pa, batch * p.a.batch_stride, p.a.type);
    const char* pb = at(p.pb, batch * p.b.batch_stride, p.b.type);
    const char* pc = at(p.pc, batch * p.c.batch_stride, p.c.type);
    char* pd = const_cast<char*>(at(p.pd, batch * p.out.batch_stride, p.out.type));
    for (int64_t q = 0; q < k; ++q)
      for (int64_t i = 0; i < m; ++i) {
        const int64_t e = p.d.transa == CUBLAS_OP_N ? i + q * p.a.ld : q + i * p.a.ld;
        const float x = load(pa, p.a.type, e);
        a[size_t(i + q * m)] = tf32 ? to_tf32(x) : x;
      }
    for (int64_t j = 0; j < n; ++j)
      for (int64_t q = 0; q < k; ++q) {
        const int64_t e = p.d.transb == CUBLAS_OP_N ? q + j * p.b.ld : j + q * p.b.ld;
        const float x = load(pb, p.b.type, e);
        b[size_t(q + j * k)] = tf32 ? to_tf32(x) : x;
      }
    for (int64_t j = 0; j < n; ++j) {
      accumulate_column(a.data(), &b[size_t(j * k)], m, k, acc.data());
      for (int64_t i = 0; i < m; ++i) {
        float v = p.alpha * acc[size_t(i)];
        if (p.beta != 0.f) v += p.beta * load(pc, p.c.type, i + j * p.c.ld);
        if (p.d.epilogue & CUBLASLT_EPILOGUE_BIAS) v += load(p.d.bias, p.out.type, i);
        if ((p.d.epilogue & CUBLASLT_EPILOGUE_RELU) && v < 0.f) v = 0.f;
        store(pd, p.out.type, i + j * p.out.ld, v);
      }
    }
  }
}

}  // namespace exafold::emulation::lt

inline cublasStatus_t cublasLtCreate(cublasLtHandle_t* handle) {
  if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) return CUBLAS_STATUS_NOT_INITIALIZED;
  *handle = new cublasLtContext{device};
  return CUBLAS_STATUS_SUCCESS;
}

inline cublasStatus_t cublasLtDestroy(cublasLtHandle_t handle) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

inline size_t cublasLtGetVersion() { return 130000; }

inline const char* cublasLtGetStatusName(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS:
      return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR:
      return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR:
      return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR:
      return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

inline const char* cublasLtGetStatusString(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS:
      return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "the functionality requested is not supported";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "the GPU program failed to execute";
    default:
      return "an internal operation failed";
  }
}

inline cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t* layout,
                                                 cudaDataType_t type, uint64_t rows, uint64_t cols,
                                                 int64_t ld) {
  if (!layout) return CUBLAS_STATUS_INVALID_VALUE;
  *layout = new cublasLtMatrixLayoutOpaque_t;
  (*layout)->type = type;
  (*layout)->rows = rows;
  (*layout)->cols = cols;
  (*layout)->ld = ld;
  return CUBLAS_STATUS_SUCCESS;
}

inline cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t layout) {
  delete layout;
  return CUBLAS_STATUS_SUCCESS;
}

inline cublasStatus_t cublasLtMatrixLayoutSetAttribute(cublasLtMatrixLayout_t layout,
                                                       cublasLtMatrixLayoutAttribute_t attr,
                                                       const void* buf, size_t bytes) {
  namespace lt = exafold::emulation::lt;
  if (!layout) return CUBLAS_STATUS_INVALID_VALUE;
  switch (attr) {
    case CUBLASLT_MATRIX_LAYOUT_TYPE: {
      uint32_t t;
      const cublasStatus_t s = lt::set(t, buf, bytes);
      if (s == CUBLAS_STATUS_SUCCESS) layout->type = cudaDataType_t(t);
      return s;
    }
    case CUBLASLT_MATRIX_LAYOUT_ORDER:
      return lt::set(layout->order, buf, bytes);
    case CUBLASLT_MATRIX_LAYOUT_ROWS:
      return lt::set(layout->rows, buf, bytes);
    case CUBLASLT_MATRIX_LAYOUT_COLS:
      return lt::set(layout->cols, buf, bytes);
    case CUBLASLT_MATRIX_LAYOUT_LD:
      return lt::set(layout->ld, buf, bytes);
    case CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT:
      return lt::set(layout->batch, buf, bytes);
    case CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET:
      return lt::set(layout->batch_stride, buf, bytes);
  }
  return CUBLAS_STATUS_INVALID_VALUE;
}

inline cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t* desc,
                                               cublasComputeType_t compute, cudaDataType_t scale) {
  if (!desc) return CUBLAS_STATUS_INVALID_VALUE;
  *desc = new cublasLtMatmulDescOpaque_t;
  (*desc)->compute = compute;
  (*desc)->scale = scale;
  return CUBLAS_STATUS_SUCCESS;
}

inline cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t desc) {
  delete desc;
  return CUBLAS_STATUS_SUCCESS;
}

inline cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t desc,
                                                     cublasLtMatmulDescAttributes_t attr,
                                                     const void* buf, size_t bytes) {
  namespace lt = exafold::emulation::lt;
  if (!desc) return CUBLAS_STATUS_INVALID_VALUE;
  switch (attr) {
    case CUBLASLT_MATMUL_DESC_COMPUTE_TYPE:
      return lt::set(desc->compute, buf, bytes);
    case CUBLASLT_MATMUL_DESC_SCALE_TYPE:
      return lt::set(desc->scale, buf, bytes);
    case CUBLASLT_MATMUL_DESC_POINTER_MODE:
      return lt::set(desc->pointer_mode, buf, bytes);
    case CUBLASLT_MATMUL_DESC_TRANSA:
      return lt::set(desc->transa, buf, bytes);
    case CUBLASLT_MATMUL_DESC_TRANSB:
      return lt::set(desc->transb, buf, bytes);
    case CUBLASLT_MATMUL_DESC_EPILOGUE:
      return lt::set(desc->epilogue, buf, bytes);
    case CUBLASLT_MATMUL_DESC_BIAS_POINTER:
      return lt::set(desc->bias, buf, bytes);
    case CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE:
      return lt::set(desc->bias_type, buf, bytes);
  }
  return CUBLAS_STATUS_INVALID_VALUE;
}

inline cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t* pref) {
  if (!pref) return CUBLAS_STATUS_INVALID_VALUE;
  *pref = new cublasLtMatmulPreferenceOpaque_t;
  return CUBLAS_STATUS_SUCCESS;
}

inline cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t pref) {
  delete pref;
  return CUBLAS_STATUS_SUCCESS;
}

inline cublasStatus_t cublasLtMatmulPreferenceSetAttribute(
    cublasLtMatmulPreference_t pref, cublasLtMatmulPreferenceAttributes_t attr, const void* buf,
    size_t bytes) {
  namespace lt = exafold::emulation::lt;
  if (!pref) return CUBLAS_STATUS_INVALID_VALUE;
  switch (attr) {
    case CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES:
      return lt::set(pref->max_workspace, buf, bytes);
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES:
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES:
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES:
    case CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES:
      return lt::set(pref->alignment[attr - CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES], buf,
                     bytes);
  }
  return CUBLAS_STATUS_INVALID_VALUE;
}

/// One algorithm, needing no workspace, for every supported problem; the alignments the
/// preference promises are kept in it and checked by cublasLtMatmul.
inline cublasStatus_t cublasLtMatmulAlgoGetHeuristic(
    cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, cublasLtMatrixLayout_t a,
    cublasLtMatrixLayout_t b, cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d,
    cublasLtMatmulPreference_t pref, int requested, cublasLtMatmulHeuristicResult_t results[],
    int* returned) {
  namespace lt = exafold::emulation::lt;
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!desc || !a || !b || !c || !d || !pref || requested <= 0 || !results || !returned)
    return CUBLAS_STATUS_INVALID_VALUE;
  *returned = 0;
  if (const cublasStatus_t s = lt::check_shapes(*desc, *a, *b, *c, *d); s != CUBLAS_STATUS_SUCCESS)
    return s == CUBLAS_STATUS_NOT_SUPPORTED ? s : CUBLAS_STATUS_INVALID_VALUE;
  cublasLtMatmulHeuristicResult_t r{};
  for (int i = 0; i < 4; ++i) r.algo.data[i] = pref->alignment[i];
  r.algo.data[4] = lt::kAlgoTag;
  r.workspaceSize = 0;
  r.state = CUBLAS_STATUS_SUCCESS;
  r.wavesCount = 1.f;
  results[0] = r;
  *returned = 1;
  return CUBLAS_STATUS_SUCCESS;
}

inline cublasStatus_t cublasLtMatmul(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc,
                                     const void* alpha, const void* A, cublasLtMatrixLayout_t a,
                                     const void* B, cublasLtMatrixLayout_t b, const void* beta,
                                     const void* C, cublasLtMatrixLayout_t c, void* D,
                                     cublasLtMatrixLayout_t d, const cublasLtMatmulAlgo_t* algo,
                                     void* workspace, size_t workspace_bytes, cudaStream_t stream) {
  namespace lt = exafold::emulation::lt;
  (void)workspace;
  (void)workspace_bytes;
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!desc || !alpha || !beta || !A || !a || !B || !b || !C || !c || !D || !d)
    return CUBLAS_STATUS_INVALID_VALUE;
  if (const cublasStatus_t s = lt::check_shapes(*desc, *a, *b, *c, *d); s != CUBLAS_STATUS_SUCCESS)
    return s;
  if ((desc->epilogue & CUBLASLT_EPILOGUE_BIAS) && !desc->bias) return CUBLAS_STATUS_INVALID_VALUE;
  if (algo) {
    if (algo->data[4] != lt::kAlgoTag) return CUBLAS_STATUS_INVALID_VALUE;
    const void* pointers[4] = {A, B, C, D};
    for (int i = 0; i < 4; ++i)
      if (lt::alignment_of(pointers[i]) < algo->data[i]) return CUBLAS_STATUS_INVALID_VALUE;
  }
  lt::Problem p{*desc, *a, *b, *c, *d, 0.f, 0.f, A, B, C, D};
  std::memcpy(&p.alpha, alpha, sizeof(float));
  std::memcpy(&p.beta, beta, sizeof(float));
  const cudaError_t e = exafold::emulation::enqueue(stream, [p] {
    lt::compute(p);
    return cudaSuccess;
  });
  return e == cudaSuccess ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_EXECUTION_FAILED;
}
