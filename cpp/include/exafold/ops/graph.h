// CUDA graphs: device work recorded once and replayed, without a kernel launch per op
// (docs/gpu.md, "CUDA graphs").
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "exafold/memory/device.h"

namespace exafold::ops {

/// Recorded device work, instantiated (a CUDA graph), and the private pool of device memory
/// that its work allocated (Note [Private pools] in memory/caching_allocator.h): the addresses
/// the graph reads and writes stay its own while it lives. Move-only; destroying it destroys
/// the graph and hands its pool's memory to the device's shared pool.
class Graph {
 public:
  Graph() = default;
  Graph(Graph&& other) noexcept;
  Graph& operator=(Graph&& other) noexcept;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  ~Graph();

  bool defined() const { return exec_ != nullptr; }
  /// Queues the recorded work on this thread's stream, after the work queued before it.
  void launch() const;
  /// Bytes of device memory the graph's pool holds.
  size_t pool_bytes() const;

 private:
  friend Graph capture(Device device, const std::function<void()>& work);
  void reset() noexcept;
  Device device_;
  void* exec_ = nullptr;
  int pool_ = 0;
};

/// Records what `work` queues on `device` (a cuda device) into a graph, without running it:
/// its ops are recorded on this thread's stream, and the device memory they allocate comes
/// from the graph's private pool, tensors that outlive `work` included (they are the graph's
/// outputs, written by every launch). `work` must not wait for the device (no check_range
/// outside a RangesChecked scope, no copy to the host) nor copy from host memory it frees:
/// a capture cannot, and an error naming the cause ends it.
/// @throws InvalidArgument for a device that is not cuda or a build without CUDA.
Graph capture(Device device, const std::function<void()>& work);

/// Graphs launched by this process, and kernels recorded into graphs (not counted by
/// GpuKernels::launches()); 0 in a build without CUDA.
uint64_t graph_launches();
uint64_t captured_kernels();

}  // namespace exafold::ops
