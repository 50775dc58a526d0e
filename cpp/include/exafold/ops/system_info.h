// What this build and machine offer: for `exafold info` and bug reports.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "exafold/memory/device.h"

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
  std::string blas_vendor;
  std::string blas_config;
  int blas_threads = 0;
  std::vector<GpuInfo> gpus;
  /// Per device: the memory kinds that can be allocated there.
  std::vector<std::pair<std::string, std::vector<std::string>>> memory_kinds;
};

SystemInfo system_info();

}  // namespace exafold
