#include "gemm.h"

#include "cpu/openblas.h"
#include "exafold/core/thread_pool.h"
#include "exafold/ops/blas.h"

namespace exafold::cpu {
namespace {

// Below this much work a product runs on one thread: splitting costs more than it saves.
constexpr int64_t kSerialFlops = 1 << 18;
constexpr int64_t kRowBlock = 64;  // rows: a multiple of every OpenBLAS M unroll

}  // namespace

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  blas_init();
  if (m == 0 || n == 0) return;
  ThreadPool& pool = thread_pool();
  if (m * n * k < kSerialFlops || pool.num_threads() == 1 || pool.in_worker()) {
    openblas::gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // Splits fall on multiples of kRowBlock so every part runs OpenBLAS's full-width micro-tiles.
  const int64_t blocks = (m + kRowBlock - 1) / kRowBlock;
  pool.parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    const int64_t r0 = b0 * kRowBlock, r1 = std::min(m, b1 * kRowBlock);
    const T* a0 = trans_a ? a + r0 : a + r0 * lda;
    openblas::gemm(trans_a, trans_b, r1 - r0, n, k, alpha, a0, lda, b, ldb, beta, c + r0 * ldc,
                   ldc);
  });
}

template <class T>
void gemm_serial(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                 int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  blas_init();
  if (m == 0 || n == 0) return;
  openblas::gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <class T>
void gemm_batched(int64_t batch, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                  T alpha, const T* a, int64_t lda, int64_t stride_a, const T* b, int64_t ldb,
                  int64_t stride_b, T beta, T* c, int64_t ldc, int64_t stride_c) {
  blas_init();
  thread_pool().parallel_for(batch, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      openblas::gemm(trans_a, trans_b, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b, ldb,
                     beta, c + i * stride_c, ldc);
  });
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t);
template void gemm_serial<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*,
                                 int64_t, const float*, int64_t, float, float*, int64_t);
template void gemm_serial<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                  int64_t, const double*, int64_t, double, double*, int64_t);
template void gemm_batched<float>(int64_t, bool, bool, int64_t, int64_t, int64_t, float,
                                  const float*, int64_t, int64_t, const float*, int64_t, int64_t,
                                  float, float*, int64_t, int64_t);
template void gemm_batched<double>(int64_t, bool, bool, int64_t, int64_t, int64_t, double,
                                   const double*, int64_t, int64_t, const double*, int64_t, int64_t,
                                   double, double*, int64_t, int64_t);

}  // namespace exafold::cpu
