// The host BLAS (OpenBLAS): identification, the check of its kernel against the CPU, and the
// single-threaded policy of Note [Threads and BLAS] (core/thread_pool.h).
#pragma once

#include <string>
#include <string_view>

#include "exafold/core/cpu_info.h"

namespace exafold {

/// Puts OpenBLAS in single-threaded mode once; every BLAS entry point calls this first.
void blas_init();

struct BlasInfo {
  std::string vendor;   ///< "OpenBLAS"
  std::string version;  ///< "0.3.34.481.3"
  std::string library;  ///< the shared object loaded in this process
  std::string config;   ///< OpenBLAS's build string
  std::string core;     ///< the kernel set chosen for this CPU, e.g. "SkylakeX"
  int threads = 0;
};

BlasInfo blas_info();

/// The vector instruction set of the CPUs an OpenBLAS x86-64 kernel set was written for
/// ("Prescott": SSE, "Haswell": AVX2, "SkylakeX": AVX-512; any case); unknown for a name not in
/// exafold's table (another architecture, or a core newer than the table).
VectorIsa blas_core_isa(std::string_view core);

/// Empty when `core` suits a CPU offering `cpu`; otherwise why not (the kernel set was made for
/// a narrower vector instruction set, or exafold does not know it), and what to do. Nothing is
/// judged off x86-64 (cpu unknown).
std::string blas_kernel_warning(std::string_view core, VectorIsa cpu);

}  // namespace exafold
