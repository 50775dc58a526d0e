#include "exafold/ops/system_info.h"

#include "exafold/core/thread_pool.h"
#include "exafold/core/version.h"
#include "exafold/memory/allocator.h"
#include "exafold/memory/gpu_backend.h"
#include "exafold/ops/blas.h"

namespace exafold {

SystemInfo system_info() {
  SystemInfo s;
  s.version = kVersion;
  s.build_type = EXAFOLD_BUILD_TYPE;
  s.compiler = EXAFOLD_COMPILER;
#ifdef EXAFOLD_SANITIZED
  s.sanitized = true;
#endif
  GpuBackend* gpu = gpu_backend();
  s.cuda_built = gpu != nullptr;
  if (gpu) s.cuda_version = gpu->version();
  s.num_threads = thread_pool().num_threads();
  s.blas_vendor = blas_vendor();
  s.blas_config = blas_config();
  s.blas_threads = blas_num_threads();
  std::vector<Device> devices{Device::cpu()};
  for (int i = 0; i < gpu_count(); ++i) {
    s.gpus.push_back({i, gpu->caps(i), gpu->free_memory(i)});
    devices.push_back(Device::cuda(i));
  }
  for (Device d : devices) {
    std::vector<std::string> kinds;
    for (auto k : {MemoryKind::host, MemoryKind::pinned, MemoryKind::device, MemoryKind::unified})
      if (has_allocator(d, k)) kinds.emplace_back(memory_kind_name(k));
    s.memory_kinds.emplace_back(d.str(), std::move(kinds));
  }
  return s;
}

}  // namespace exafold
