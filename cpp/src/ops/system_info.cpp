#include "exafold/ops/system_info.h"

#include <unistd.h>

#include <sstream>
#include <thread>

#include "exafold/core/cpu_info.h"
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
  const CpuInfo& cpu = cpu_info();
  s.cpu = cpu_description(cpu);
  s.cpu_isa = vector_isa_name(cpu.isa);
  s.blas = blas_info();
  s.blas_warning = blas_kernel_warning(s.blas.core, cpu.isa);
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

std::string machine_summary(const SystemInfo& s) {
  const double memory = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
  std::ostringstream os;
  os << s.cpu << ", " << std::thread::hardware_concurrency() << " cores, "
     << int64_t(memory / double(1 << 30) + 0.5) << " GiB; " << s.blas.vendor << " "
     << s.blas.version << " " << s.blas.core << "; ";
  if (s.gpus.empty()) os << "no GPU";
  for (size_t i = 0; i < s.gpus.size(); ++i) os << (i ? ", " : "") << s.gpus[i].caps.name;
  return os.str();
}

}  // namespace exafold
