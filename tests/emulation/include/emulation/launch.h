// Kernel launches: what EXAFOLD_LAUNCH (cpp/src/cuda/kernel.cuh) expands to when kernels are
// compiled as C++. A launch checks its configuration as CUDA does (cudaErrorInvalidConfiguration,
// cudaErrorInvalidValue for too much dynamic shared memory), copies the arguments (converted to
// the kernel's parameter types, as <<<>>> does), and runs every block before it returns, or
// records itself when its stream captures a graph. A block that fails makes the launch fail:
// the report goes to stderr and into cudaGetErrorString, and cudaErrorLaunchFailure stays sticky.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <type_traits>
#include <utility>

#include "driver_types.h"
#include "emulation/block.h"
#include "emulation/device_info.h"
#include "emulation/errors.h"
#include "emulation/grid.h"
#include "emulation/schedule.h"
#include "emulation/streams.h"

namespace exafold::emulation {

struct FunctionAttributes {
  std::mutex mu;
  std::map<const void*, size_t> max_dynamic_shared;
};

inline FunctionAttributes& function_attributes() {
  static auto* f = new FunctionAttributes;
  return *f;
}

inline size_t max_dynamic_shared(const void* kernel) {
  FunctionAttributes& f = function_attributes();
  std::lock_guard lk(f.mu);
  const auto it = f.max_dynamic_shared.find(kernel);
  return it == f.max_dynamic_shared.end() ? kSharedPerBlock : it->second;
}

inline std::atomic<uint64_t>& launches() {
  static std::atomic<uint64_t> n{0};
  return n;
}

inline cudaError_t check_configuration(const void* kernel, dim3 grid, dim3 block, size_t shared) {
  const uint64_t threads = uint64_t(block.x) * block.y * block.z;
  if (threads == 0 || threads > unsigned(kMaxThreadsPerBlock) ||
      block.x > unsigned(kMaxBlockDim[0]) || block.y > unsigned(kMaxBlockDim[1]) ||
      block.z > unsigned(kMaxBlockDim[2]))
    return cudaErrorInvalidConfiguration;
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > unsigned(kMaxGridDim[0]) ||
      grid.y > unsigned(kMaxGridDim[1]) || grid.z > unsigned(kMaxGridDim[2]))
    return cudaErrorInvalidConfiguration;
  if (shared > max_dynamic_shared(kernel)) return cudaErrorInvalidValue;
  return cudaSuccess;
}

/// Runs all of a launch's blocks now (the work a stream runs or a graph replays).
inline cudaError_t run_launch(KernelRun k) {
  if (cudaError_t e = sticky_error().load(); e != cudaSuccess) return e;
  k.schedule = schedule();
  k.sequence = launches().fetch_add(1);
  const std::string report = Pool::get().run(k);
  if (report.empty()) return cudaSuccess;
  std::fprintf(stderr, "exafold CUDA emulation: launch failed: %s\n", report.c_str());
  set_launch_failure(report);
  return cudaErrorLaunchFailure;
}

template <class... Params>
struct BoundKernel {
  void (*kernel)(Params...);
  std::tuple<std::decay_t<Params>...> args;
  static void run(const void* self) {
    const auto& b = *static_cast<const BoundKernel*>(self);
    std::apply(b.kernel, b.args);
  }
};

/// kernel<<<grid, block, shared_bytes, stream>>>(args...), written
/// Launch(kernel, grid, block, shared_bytes, stream, name)(args...).
template <class... Params>
class Launch {
 public:
  Launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream,
         const char* name, Site site = Site::here())
      : kernel_(kernel),
        grid_(grid),
        block_(block),
        shared_(shared_bytes),
        stream_(stream),
        name_(name),
        site_(site) {}

  template <class... Args>
  void operator()(Args&&... args) const {
    static_assert(sizeof...(Args) == sizeof...(Params),
                  "a kernel launch passes one argument per kernel parameter");
    const void* function = reinterpret_cast<const void*>(kernel_);
    if (cudaError_t e = check_configuration(function, grid_, block_, shared_); e != cudaSuccess) {
      record(e);
      return;
    }
    auto bound = std::make_shared<const BoundKernel<Params...>>(BoundKernel<Params...>{
        kernel_, std::tuple<std::decay_t<Params>...>(std::forward<Args>(args)...)});
    KernelRun k;
    k.run_thread = &BoundKernel<Params...>::run;
    k.kernel_and_args = bound.get();
    k.name = name_;
    k.site = site_;
    k.grid = grid_;
    k.block = block_;
    k.shared_bytes = shared_;
    enqueue(stream_, [k, bound] { return run_launch(k); });
  }

 private:
  void (*kernel_)(Params...);
  dim3 grid_, block_;
  size_t shared_;
  cudaStream_t stream_;
  const char* name_;
  Site site_;
};

/// The block's dynamic shared memory (EXAFOLD_DYNAMIC_SHARED).
template <class T>
T* dynamic_shared() {
  if (!t_block) die("dynamic shared memory used outside a kernel");
  return static_cast<T*>(t_block->dynamic_shared());
}

}  // namespace exafold::emulation

inline cudaError_t cudaFuncSetAttribute(const void* kernel, cudaFuncAttribute attr, int value) {
  namespace e = exafold::emulation;
  if (!kernel) return e::record(cudaErrorInvalidDeviceFunction);
  if (attr == cudaFuncAttributePreferredSharedMemoryCarveout)
    return value >= -1 && value <= 100 ? cudaSuccess : e::record(cudaErrorInvalidValue);
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 ||
      size_t(value) > e::kSharedPerBlockOptin)
    return e::record(cudaErrorInvalidValue);
  std::lock_guard lk(e::function_attributes().mu);
  e::function_attributes().max_dynamic_shared[kernel] = size_t(value);
  return cudaSuccess;
}

template <class... Params>
cudaError_t cudaFuncSetAttribute(void (*kernel)(Params...), cudaFuncAttribute attr, int value) {
  return cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel), attr, value);
}
