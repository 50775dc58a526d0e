// The host BLAS (OpenBLAS): identification and the single-threaded policy of Note [Threads and
// BLAS] (core/thread_pool.h).
#pragma once

#include <string>

namespace exafold {

/// Puts OpenBLAS in single-threaded mode once; every BLAS entry point calls this first.
void blas_init();
std::string blas_vendor();
/// OpenBLAS's build string: version, kernel (e.g. Haswell), threading model.
std::string blas_config();
int blas_num_threads();

}  // namespace exafold
