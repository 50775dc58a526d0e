// Matrix products on the host through OpenBLAS, split across exafold's thread pool by output
// rows (Note [Threads and BLAS]): the per-element summation order never depends on the split.
#pragma once

#include <cstdint>

namespace exafold::cpu {

/// C[m,n] = alpha * op(A) @ op(B) + beta * C, all row-major; op(A) is [m,k], op(B) is [k,n].
/// T is float or double.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

/// gemm on the calling thread only: for callers that already split their work across the pool,
/// where a nested split would make the kernel choice (and so the rounding) depend on which
/// thread picked up a piece.
template <class T>
void gemm_serial(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                 int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

/// `batch` independent products with fixed strides between consecutive matrices (elements),
/// split across the pool by batch entry.
template <class T>
void gemm_batched(int64_t batch, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                  T alpha, const T* a, int64_t lda, int64_t stride_a, const T* b, int64_t ldb,
                  int64_t stride_b, T beta, T* c, int64_t ldc, int64_t stride_c);

}  // namespace exafold::cpu
