// CUDA graphs over the GPU kernels' seam and the device's caching allocator.
#include "exafold/ops/graph.h"

#include <utility>

#include "exafold/core/error.h"
#include "exafold/memory/allocator.h"
#include "exafold/memory/caching_allocator.h"
#include "exafold/ops/gpu_kernels.h"

namespace exafold::ops {
namespace {

CachingAllocator& device_allocator(Device device) {
  auto* a = dynamic_cast<CachingAllocator*>(&get_allocator(device, MemoryKind::device));
  check(a != nullptr, "the device memory of ", device.str(), " has no private pools");
  return *a;
}

}  // namespace

Graph::Graph(Graph&& other) noexcept { *this = std::move(other); }

Graph& Graph::operator=(Graph&& other) noexcept {
  if (this != &other) {
    reset();
    device_ = other.device_;
    exec_ = std::exchange(other.exec_, nullptr);
    pool_ = std::exchange(other.pool_, 0);
  }
  return *this;
}

Graph::~Graph() { reset(); }

void Graph::reset() noexcept {
  if (exec_) gpu_kernels()->destroy_graph(std::exchange(exec_, nullptr));
  if (pool_ != 0) device_allocator(device_).release_pool(std::exchange(pool_, 0));
}

void Graph::launch() const {
  check(defined(), "launch of an empty graph");
  gpu_kernels()->launch_graph(exec_);
}

size_t Graph::pool_bytes() const {
  return pool_ != 0 ? device_allocator(device_).pool_reserved(pool_) : 0;
}

Graph capture(Device device, const std::function<void()>& work) {
  check(device.is_cuda(), "CUDA graphs capture work on a cuda device, not ", device.str());
  GpuKernels* kernels = gpu_kernels();
  check(kernels != nullptr, "this build has no CUDA backend, so no CUDA graphs");
  CachingAllocator& alloc = device_allocator(device);
  Graph g;
  g.device_ = device;
  g.pool_ = alloc.create_pool();
  kernels->begin_capture();
  alloc.use_pool(g.pool_);
  try {
    work();
  } catch (...) {
    kernels->abort_capture();
    alloc.use_pool(0);
    throw;
  }
  alloc.use_pool(0);
  g.exec_ = kernels->end_capture();
  return g;
}

uint64_t graph_launches() {
  const GpuKernels* k = gpu_kernels();
  return k ? k->graph_launches() : 0;
}

uint64_t captured_kernels() {
  const GpuKernels* k = gpu_kernels();
  return k ? k->captured_kernels() : 0;
}

}  // namespace exafold::ops
