// What this build and machine offer: for `exafold info` and bug reports.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "exafold/memory/device.h"
#include "exafold/ops/blas.h"

namespace exafold {

struct GpuInfo {
  int index = 0;
  DeviceCaps caps;
  size_t free_memory = 0;
};

struct SystemInfo {
  std::string version;
  std::string build_type;
  std::string compiler;
  bool sanitized = false;
  bool cuda_built = false;
  std::string cuda_version;  ///< runtime and driver, when built with CUDA
  int num_threads = 0;       ///< exafold's pool (EXAFOLD_NUM_THREADS)
  std::string cpu;           ///< cpu_description(): model, family and model numbers, vector ISA
  std::string cpu_isa;       ///< "AVX-512", "AVX2", "AVX", "SSE" or "unknown"
  BlasInfo blas;
  /// blas_kernel_warning() for this CPU: empty unless OpenBLAS's kernel is below the CPU's.
  std::string blas_warning;
  std::vector<GpuInfo> gpus;
  /// Per device: the memory kinds that can be allocated there.
  std::vector<std::pair<std::string, std::vector<std::string>>> memory_kinds;
};

SystemInfo system_info();

/// One line naming the machine of `s` for benchmark records: CPU, cores, memory, BLAS kernel, GPUs.
/// "Intel(R) Xeon(R) Processor (GenuineIntel family 6 model 207, AVX-512), 2 cores, 24 GiB;
/// OpenBLAS 0.3.34.481.3 SkylakeX; no GPU".
std::string machine_summary(const SystemInfo& s);

}  // namespace exafold
