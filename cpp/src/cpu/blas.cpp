#include "exafold/ops/blas.h"

#include <cblas.h>

#include <mutex>

namespace exafold {

void blas_init() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

std::string blas_vendor() { return "OpenBLAS"; }

std::string blas_config() { return openblas_get_config(); }

int blas_num_threads() {
  blas_init();
  return openblas_get_num_threads();
}

}  // namespace exafold
