// The one place that names OpenBLAS. exafold links scipy-openblas32 (cpp/cmake/ExafoldBlas.cmake),
// whose symbols carry a scipy_ prefix and whose integers are 32-bit; everything else in exafold
// calls these wrappers, so a change of BLAS build is a change of this file.
#pragma once

#include <cblas.h>

#include <cstdint>
#include <limits>
#include <string>

#include "exafold/core/error.h"

namespace exafold::openblas {

/// A matrix dimension or leading dimension as the 32-bit BLAS takes it; larger fails rather
/// than wrapping around.
inline blasint dim(int64_t n) {
  check(n <= std::numeric_limits<blasint>::max(), "matrix dimension ", n,
        " exceeds the 32-bit BLAS's limit of ", std::numeric_limits<blasint>::max());
  return blasint(n);
}

/// Row-major C = alpha * op(A) * op(B) + beta * C.
inline void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  scipy_cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    dim(m), dim(n), dim(k), alpha, a, dim(lda), b, dim(ldb), beta, c, dim(ldc));
}

inline void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                 int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  scipy_cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    dim(m), dim(n), dim(k), alpha, a, dim(lda), b, dim(ldb), beta, c, dim(ldc));
}

inline void set_num_threads(int n) { scipy_openblas_set_num_threads(n); }
inline int num_threads() { return scipy_openblas_get_num_threads(); }

/// The build string: "OpenBLAS 0.3.34.481.3 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64".
inline std::string config() { return scipy_openblas_get_config(); }

/// The kernel set DYNAMIC_ARCH chose for this CPU at load time (or OPENBLAS_CORETYPE forced),
/// e.g. "SkylakeX".
inline std::string core_name() { return scipy_openblas_get_corename(); }

/// The address of a function inside the library: what dladdr() needs to name the loaded file.
inline const void* any_symbol() { return reinterpret_cast<const void*>(&scipy_cblas_sgemm); }

}  // namespace exafold::openblas
