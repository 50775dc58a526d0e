// The seam between the device-agnostic memory layer and a GPU runtime. Only cpp/src/cuda/
// implements it (CUDA headers stay there); a build without CUDA provides no backend.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "exafold/memory/allocator.h"
#include "exafold/memory/device.h"

namespace exafold {

class GpuBackend {
 public:
  virtual ~GpuBackend() = default;
  /// "CUDA 13.0 (runtime), driver 13.0": for info().
  virtual std::string version() const = 0;
  /// Devices visible to this process; 0 when the runtime finds no GPU or no driver.
  virtual int device_count() const = 0;
  virtual DeviceCaps caps(int index) const = 0;
  virtual size_t free_memory(int index) const = 0;
  /// Raw allocator for device (cuda:N) memory, pinned host memory or managed memory.
  virtual std::unique_ptr<RawAllocator> make_raw_allocator(Device device, MemoryKind kind) = 0;
  /// Copies n bytes between any two of host, pinned, device and managed memory, through pinned
  /// staging on a stream when one side is pageable host memory; returns when the copy is done.
  virtual void copy(void* dst, Device dst_device, MemoryKind dst_kind, const void* src,
                    Device src_device, MemoryKind src_kind, size_t n) = 0;
  /// Asks the driver to move managed memory to `device` ahead of use (a hint, never a copy).
  virtual void prefetch(const void* p, size_t n, Device device) = 0;
  /// Returns once the pages of every prefetch issued so far for `device` are there.
  virtual void finish_prefetches(Device device) = 0;
};

/// The GPU backend compiled into this build, or nullptr when built without CUDA.
GpuBackend* gpu_backend();
/// Number of usable GPUs (0 without a backend).
int gpu_count();

}  // namespace exafold
