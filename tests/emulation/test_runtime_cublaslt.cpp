// The cuBLASLt stand-in against a float64 reference of cuBLASLt's documented semantics
// (column-major, op(A) op(B), alpha, beta, bias per row of D, ReLU, strided batches, TF32
// rounding), and the refusals that keep code honest about what cuBLASLt supports.
#include <cublasLt.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "emulation_test_util.h"

namespace exafold::emulation_test {
namespace {

struct Lt {
  cublasLtHandle_t handle = nullptr;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  Lt() {
    EXPECT_EQ(cublasLtCreate(&handle), CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(cublasLtMatmulPreferenceCreate(&pref), CUBLAS_STATUS_SUCCESS);
  }
  ~Lt() {
    cublasLtMatrixLayoutDestroy(a);
    cublasLtMatrixLayoutDestroy(b);
    cublasLtMatrixLayoutDestroy(c);
    cublasLtMatmulDescDestroy(desc);
    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtDestroy(handle);
  }
  template <class T>
  cublasStatus_t set(cublasLtMatmulDescAttributes_t attr, const T& v) {
    return cublasLtMatmulDescSetAttribute(desc, attr, &v, sizeof v);
  }
  cublasStatus_t heuristic(cublasLtMatmulHeuristicResult_t& r) {
    int found = 0;
    return cublasLtMatmulAlgoGetHeuristic(handle, desc, a, b, c, c, pref, 1, &r, &found);
  }
};

std::vector<float> uniform(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// Column-major D [m, n] per batch entry: relu(alpha op(A) op(B) + beta C + bias) in float64.
TEST_F(Emulation, CublasLtStandInComputesTransposedBatchedProductsWithEpilogues) {
  const int64_t m = 13, n = 7, k = 29, batches = 3;
  for (const auto& [ta, tb] :
       {std::pair{CUBLAS_OP_N, CUBLAS_OP_N}, std::pair{CUBLAS_OP_T, CUBLAS_OP_N},
        std::pair{CUBLAS_OP_N, CUBLAS_OP_T}, std::pair{CUBLAS_OP_T, CUBLAS_OP_T}}) {
    SCOPED_TRACE(int(ta) * 2 + int(tb));
    const int64_t ar = ta == CUBLAS_OP_N ? m : k, ac = ta == CUBLAS_OP_N ? k : m;
    const int64_t br = tb == CUBLAS_OP_N ? k : n, bc = tb == CUBLAS_OP_N ? n : k;
    const int64_t lda = ar + 3, ldb = br + 1, ldc = m + 2;
    const int64_t sa = lda * ac + 5, sb = ldb * bc, sc = ldc * n + 1;
    const std::vector<float> A = uniform(size_t(sa * batches), 1),
                             B = uniform(size_t(sb * batches), 2),
                             C0 = uniform(size_t(sc * batches), 3), bias = uniform(size_t(m), 4);
    std::vector<float> C = C0;
    Lt lt;
    ASSERT_EQ(cublasLtMatmulDescCreate(&lt.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F),
              CUBLAS_STATUS_SUCCESS);
    ASSERT_EQ(lt.set(CUBLASLT_MATMUL_DESC_TRANSA, ta), CUBLAS_STATUS_SUCCESS);
    ASSERT_EQ(lt.set(CUBLASLT_MATMUL_DESC_TRANSB, tb), CUBLAS_STATUS_SUCCESS);
    ASSERT_EQ(lt.set(CUBLASLT_MATMUL_DESC_EPILOGUE, CUBLASLT_EPILOGUE_RELU_BIAS),
              CUBLAS_STATUS_SUCCESS);
    const void* bias_ptr = bias.data();
    ASSERT_EQ(lt.set(CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias_ptr), CUBLAS_STATUS_SUCCESS);
    ASSERT_EQ(cublasLtMatrixLayoutCreate(&lt.a, CUDA_R_32F, uint64_t(ar), uint64_t(ac), lda),
              CUBLAS_STATUS_SUCCESS);
    ASSERT_EQ(cublasLtMatrixLayoutCreate(&lt.b, CUDA_R_32F, uint64_t(br), uint64_t(bc), ldb),
              CUBLAS_STATUS_SUCCESS);
    ASSERT_EQ(cublasLtMatrixLayoutCreate(&lt.c, CUDA_R_32F, uint64_t(m), uint64_t(n), ldc),
              CUBLAS_STATUS_SUCCESS);
    const int32_t count = int32_t(batches);
    for (const auto& [layout, stride] :
         {std::pair{lt.a, sa}, std::pair{lt.b, sb}, std::pair{lt.c, sc}}) {
      ASSERT_EQ(cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count,
                                                 sizeof count),
                CUBLAS_STATUS_SUCCESS);
      ASSERT_EQ(cublasLtMatrixLayoutSetAttribute(
                    layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride),
                CUBLAS_STATUS_SUCCESS);
    }
    // Batch entries start at odd offsets: tell the heuristic the pointers are 4-byte aligned.
    const uint32_t four = 4;
    for (int attr = CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES;
         attr <= CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES; ++attr)
      ASSERT_EQ(cublasLtMatmulPreferenceSetAttribute(
                    lt.pref, cublasLtMatmulPreferenceAttributes_t(attr), &four, sizeof four),
                CUBLAS_STATUS_SUCCESS);
    cublasLtMatmulHeuristicResult_t r{};
    ASSERT_EQ(lt.heuristic(r), CUBLAS_STATUS_SUCCESS);
    const float alpha = 0.75f, beta = -0.5f;
    ASSERT_EQ(cublasLtMatmul(lt.handle, lt.desc, &alpha, A.data(), lt.a, B.data(), lt.b, &beta,
                             C.data(), lt.c, C.data(), lt.c, &r.algo, nullptr, 0, nullptr),
              CUBLAS_STATUS_SUCCESS);
    double err = 0;
    for (int64_t t = 0; t < batches; ++t)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < m; ++i) {
          double x = 0;
          for (int64_t q = 0; q < k; ++q) {
            const double aiq = A[size_t(t * sa + (ta == CUBLAS_OP_N ? i + q * lda : q + i * lda))];
            const double bqj = B[size_t(t * sb + (tb == CUBLAS_OP_N ? q + j * ldb : j + q * ldb))];
            x += aiq * bqj;
          }
          const size_t e = size_t(t * sc + i + j * ldc);
          const double want = std::max(0.0, alpha * x + beta * double(C0[e]) + bias[size_t(i)]);
          err = std::max(err, std::abs(C[e] - want));
        }
    // float32 accumulation of 29 products of values in [-1, 1]: a few ulps of ~5.
    EXPECT_LT(err, 1e-5);
  }
}

// TF32 keeps 10 mantissa bits of each float32 input, rounding to nearest.
TEST_F(Emulation, CublasLtStandInRoundsTf32Inputs) {
  const float a = 1.f + 3.f / 4096.f;  // 1 + 3 * 2^-12: rounds up to 1 + 2^-10
  const float b = 1.f + 1.f / 4096.f;  // rounds down to 1
  Lt lt;
  ASSERT_EQ(cublasLtMatmulDescCreate(&lt.desc, CUBLAS_COMPUTE_32F_FAST_TF32, CUDA_R_32F),
            CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatrixLayoutCreate(&lt.a, CUDA_R_32F, 1, 1, 1), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatrixLayoutCreate(&lt.b, CUDA_R_32F, 1, 1, 1), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatrixLayoutCreate(&lt.c, CUDA_R_32F, 1, 1, 1), CUBLAS_STATUS_SUCCESS);
  cublasLtMatmulHeuristicResult_t r{};
  ASSERT_EQ(lt.heuristic(r), CUBLAS_STATUS_SUCCESS);
  const float one = 1.f, zero = 0.f;
  float d = 0;
  ASSERT_EQ(cublasLtMatmul(lt.handle, lt.desc, &one, &a, lt.a, &b, lt.b, &zero, &d, lt.c, &d, lt.c,
                           nullptr, nullptr, 0, nullptr),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(d, 1.f + 1.f / 1024.f);
}

TEST_F(Emulation, CublasLtStandInRefusesWhatCublasLtDoesNotDocument) {
  Lt lt;
  ASSERT_EQ(cublasLtMatmulDescCreate(&lt.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F),
            CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatrixLayoutCreate(&lt.a, CUDA_R_32F, 4, 4, 4), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatrixLayoutCreate(&lt.b, CUDA_R_32F, 4, 4, 4), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatrixLayoutCreate(&lt.c, CUDA_R_16BF, 4, 4, 4), CUBLAS_STATUS_SUCCESS);
  cublasLtMatmulHeuristicResult_t r{};
  EXPECT_EQ(lt.heuristic(r), CUBLAS_STATUS_NOT_SUPPORTED);  // float32 inputs, bfloat16 output

  cublasLtMatrixLayoutDestroy(lt.a);
  cublasLtMatrixLayoutDestroy(lt.b);
  ASSERT_EQ(cublasLtMatrixLayoutCreate(&lt.a, CUDA_R_16BF, 4, 4, 4), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatrixLayoutCreate(&lt.b, CUDA_R_16BF, 4, 4, 4), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(lt.heuristic(r), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(lt.set(CUBLASLT_MATMUL_DESC_EPILOGUE, CUBLASLT_EPILOGUE_BIAS), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(lt.set(CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, CUDA_R_32F), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(lt.heuristic(r), CUBLAS_STATUS_NOT_SUPPORTED);  // the bias must have D's type
  EXPECT_EQ(lt.set(CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, int64_t(CUDA_R_16BF)),
            CUBLAS_STATUS_INVALID_VALUE);

  // An algorithm chosen for 256-byte aligned pointers refuses a less aligned one.
  ASSERT_EQ(lt.set(CUBLASLT_MATMUL_DESC_EPILOGUE, CUBLASLT_EPILOGUE_DEFAULT),
            CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(lt.heuristic(r), CUBLAS_STATUS_SUCCESS);
  alignas(256) __nv_bfloat16 a[4 * 4 + 1], b[16], c[16];
  for (auto* p : {a, b, c})
    for (int i = 0; i < 16; ++i) p[i] = __float2bfloat16_rn(1.f);
  const float one = 1.f, zero = 0.f;
  EXPECT_EQ(cublasLtMatmul(lt.handle, lt.desc, &one, a + 1, lt.a, b, lt.b, &zero, c, lt.c, c, lt.c,
                           &r.algo, nullptr, 0, nullptr),
            CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_EQ(cublasLtMatmul(lt.handle, lt.desc, &one, a, lt.a, b, lt.b, &zero, c, lt.c, c, lt.c,
                           &r.algo, nullptr, 0, nullptr),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(__bfloat162float(c[5]), 4.f);
}

}  // namespace
}  // namespace exafold::emulation_test
