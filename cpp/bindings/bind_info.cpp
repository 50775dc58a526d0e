// exafold.info(): the build and the machine as a dict.
#include "common.h"
#include "exafold/ops/system_info.h"

namespace exafold::py {

void bind_info(pyb::module_& m) {
  m.def(
      "info",
      [] {
        SystemInfo s = system_info();
        pyb::dict d;
        d["version"] = s.version;
        d["build_type"] = s.build_type;
        d["compiler"] = s.compiler;
        d["sanitized"] = s.sanitized;
        d["cuda_built"] = s.cuda_built;
        d["cuda_version"] = s.cuda_version;
        d["num_threads"] = s.num_threads;
        d["cpu"] = s.cpu;
        d["cpu_isa"] = s.cpu_isa;
        d["blas_vendor"] = s.blas.vendor;
        d["blas_version"] = s.blas.version;
        d["blas_library"] = s.blas.library;
        d["blas_core"] = s.blas.core;
        d["blas_config"] = s.blas.config;
        d["blas_threads"] = s.blas.threads;
        d["blas_warning"] = s.blas_warning;
        d["machine"] = machine_summary(s);
        pyb::list gpus;
        for (const auto& g : s.gpus) {
          pyb::dict x;
          x["device"] = "cuda:" + std::to_string(g.index);
          x["name"] = g.caps.name;
          x["compute_capability"] =
              std::to_string(g.caps.compute_major) + "." + std::to_string(g.caps.compute_minor);
          x["total_memory"] = g.caps.total_memory;
          x["free_memory"] = g.free_memory;
          x["integrated"] = g.caps.integrated;
          x["managed_memory"] = g.caps.managed_memory;
          x["concurrent_managed_access"] = g.caps.concurrent_managed_access;
          x["pageable_memory_access"] = g.caps.pageable_memory_access;
          x["pageable_uses_host_page_tables"] = g.caps.pageable_uses_host_page_tables;
          gpus.append(x);
        }
        d["gpus"] = gpus;
        pyb::dict kinds;
        for (const auto& [dev, ks] : s.memory_kinds) kinds[pyb::str(dev)] = ks;
        d["memory_kinds"] = kinds;
        return d;
      },
      "The build and the machine: version, build type, compiler, sanitizers, CUDA, threads, the "
      "CPU, BLAS (library, version, kernel and a warning when the kernel is below the CPU), GPUs "
      "with their capabilities, the memory kinds each device has, and `machine`, the one-line "
      "summary benchmark records carry.");
}

}  // namespace exafold::py
