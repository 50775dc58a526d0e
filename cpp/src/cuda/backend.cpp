// The CUDA implementation of GpuBackend: device probing, allocators, copies and prefetch.
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "cuda/allocators.h"
#include "cuda/check.h"
#include "exafold/memory/gpu_backend.h"

namespace exafold {
namespace {

// Pageable memory is staged through two pinned buffers so the CPU copy of one chunk overlaps
// the DMA of the other.
constexpr size_t kStagingBytes = 8 << 20;  // 8 MiB per staging buffer

class CudaBackend final : public GpuBackend {
 public:
  CudaBackend() {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // no driver or no device: a CPU-only machine
      n = 0;
    }
    for (int i = 0; i < n; ++i) caps_.push_back(probe(i));
    for (int i = 0; i < n; ++i) per_device_.push_back(std::make_unique<PerDevice>());
  }

  std::string version() const override {
    int rt = 0, drv = 0;
    cudaRuntimeGetVersion(&rt);
    cudaDriverGetVersion(&drv);
    auto v = [](int x) { return std::to_string(x / 1000) + "." + std::to_string(x % 1000 / 10); };
    return "CUDA runtime " + v(rt) + (drv ? ", driver " + v(drv) : ", no driver");
  }

  int device_count() const override { return int(caps_.size()); }

  DeviceCaps caps(int index) const override {
    check(index >= 0 && index < device_count(), "no CUDA device ", index);
    return caps_[size_t(index)];
  }

  size_t free_memory(int index) const override {
    int prev = 0;
    EXAFOLD_CUDA_CHECK(cudaGetDevice(&prev));
    EXAFOLD_CUDA_CHECK(cudaSetDevice(index));
    size_t free = 0, total = 0;
    EXAFOLD_CUDA_CHECK(cudaMemGetInfo(&free, &total));
    cudaSetDevice(prev);
    return free;
  }

  std::unique_ptr<RawAllocator> make_raw_allocator(Device device, MemoryKind kind) override {
    return cuda::make_raw_allocator(device, kind);
  }

  void copy(void* dst, Device dst_device, MemoryKind dst_kind, const void* src, Device src_device,
            MemoryKind src_kind, size_t n) override {
    const int gpu = dst_device.is_cuda() ? dst_device.index : src_device.index;
    PerDevice& d = device_state(gpu);
    std::lock_guard lk(d.mu);
    EXAFOLD_CUDA_CHECK(cudaSetDevice(gpu));
    after_callers_work(d);
    const bool dst_pageable = dst_kind == MemoryKind::host;
    const bool src_pageable = src_kind == MemoryKind::host;
    if (!dst_pageable && !src_pageable) {
      EXAFOLD_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDefault, d.stream));
      EXAFOLD_CUDA_CHECK(cudaStreamSynchronize(d.stream));
      return;
    }
    check(!(dst_pageable && src_pageable), "host-to-host copies do not go through CUDA");
    char* out = static_cast<char*>(dst);
    const char* in = static_cast<const char*>(src);
    if (src_pageable) {  // host -> GPU: fill a staging buffer while the other one uploads
      for (size_t off = 0, k = 0; off < n; off += kStagingBytes, k ^= 1) {
        const size_t m = std::min(kStagingBytes, n - off);
        EXAFOLD_CUDA_CHECK(cudaEventSynchronize(d.done[k]));
        std::memcpy(d.staging[k], in + off, m);
        EXAFOLD_CUDA_CHECK(
            cudaMemcpyAsync(out + off, d.staging[k], m, cudaMemcpyDefault, d.stream));
        EXAFOLD_CUDA_CHECK(cudaEventRecord(d.done[k], d.stream));
      }
      EXAFOLD_CUDA_CHECK(cudaStreamSynchronize(d.stream));
    } else {  // GPU -> host: download a chunk ahead while the previous one is copied out
      const size_t chunks = (n + kStagingBytes - 1) / kStagingBytes;
      auto issue = [&](size_t c) {
        const size_t off = c * kStagingBytes, m = std::min(kStagingBytes, n - off), k = c & 1;
        EXAFOLD_CUDA_CHECK(cudaMemcpyAsync(d.staging[k], in + off, m, cudaMemcpyDefault, d.stream));
        EXAFOLD_CUDA_CHECK(cudaEventRecord(d.done[k], d.stream));
      };
      if (chunks > 0) issue(0);
      for (size_t c = 0; c < chunks; ++c) {
        if (c + 1 < chunks) issue(c + 1);
        const size_t off = c * kStagingBytes, m = std::min(kStagingBytes, n - off), k = c & 1;
        EXAFOLD_CUDA_CHECK(cudaEventSynchronize(d.done[k]));
        std::memcpy(out + off, d.staging[k], m);
      }
    }
  }

  void prefetch(const void* p, size_t n, Device device) override {
    PerDevice& d = device_state(device.index);
    cudaMemLocation loc{};
    loc.type = cudaMemLocationTypeDevice;
    loc.id = device.index;
    EXAFOLD_CUDA_CHECK(cudaMemPrefetchAsync(p, n, loc, 0, d.stream));
  }

  void finish_prefetches(Device device) override {
    EXAFOLD_CUDA_CHECK(cudaStreamSynchronize(device_state(device.index).stream));
  }

 private:
  struct PerDevice {
    std::mutex mu;
    bool ready = false;
    cudaStream_t stream = nullptr;
    void* staging[2] = {nullptr, nullptr};
    cudaEvent_t done[2] = {nullptr, nullptr};
    cudaEvent_t callers_work = nullptr;
  };

  // Copies run on the device's own stream, which orders nothing against the kernels the calling
  // thread queued on its stream (cudaStreamPerThread, docs/gpu.md): without this wait a
  // download could read a kernel's output before the kernel has written it.
  static void after_callers_work(PerDevice& d) {
    EXAFOLD_CUDA_CHECK(cudaEventRecord(d.callers_work, cudaStreamPerThread));
    EXAFOLD_CUDA_CHECK(cudaStreamWaitEvent(d.stream, d.callers_work, 0));
  }

  static DeviceCaps probe(int i) {
    cudaDeviceProp p{};
    EXAFOLD_CUDA_CHECK(cudaGetDeviceProperties(&p, i));
    auto attr = [i](cudaDeviceAttr a) {
      int v = 0;
      EXAFOLD_CUDA_CHECK(cudaDeviceGetAttribute(&v, a, i));
      return v != 0;
    };
    DeviceCaps c;
    c.name = p.name;
    c.compute_major = p.major;
    c.compute_minor = p.minor;
    c.total_memory = p.totalGlobalMem;
    c.integrated = attr(cudaDevAttrIntegrated);
    c.managed_memory = attr(cudaDevAttrManagedMemory);
    c.concurrent_managed_access = attr(cudaDevAttrConcurrentManagedAccess);
    c.pageable_memory_access = attr(cudaDevAttrPageableMemoryAccess);
    c.pageable_uses_host_page_tables = attr(cudaDevAttrPageableMemoryAccessUsesHostPageTables);
    return c;
  }

  PerDevice& device_state(int gpu) {
    check(gpu >= 0 && gpu < device_count(), "no CUDA device ", gpu);
    PerDevice& d = *per_device_[size_t(gpu)];
    std::lock_guard lk(d.mu);
    if (!d.ready) {
      EXAFOLD_CUDA_CHECK(cudaSetDevice(gpu));
      EXAFOLD_CUDA_CHECK(cudaStreamCreateWithFlags(&d.stream, cudaStreamNonBlocking));
      for (int k = 0; k < 2; ++k) {
        EXAFOLD_CUDA_CHECK(cudaHostAlloc(&d.staging[k], kStagingBytes, cudaHostAllocPortable));
        EXAFOLD_CUDA_CHECK(cudaEventCreateWithFlags(&d.done[k], cudaEventDisableTiming));
        EXAFOLD_CUDA_CHECK(cudaEventRecord(d.done[k], d.stream));
      }
      EXAFOLD_CUDA_CHECK(cudaEventCreateWithFlags(&d.callers_work, cudaEventDisableTiming));
      d.ready = true;
    }
    return d;
  }

  std::vector<DeviceCaps> caps_;
  std::vector<std::unique_ptr<PerDevice>> per_device_;
};

}  // namespace

GpuBackend* gpu_backend() {
  // Never destroyed: CUDA may already be torn down when static destructors run.
  static auto* backend = new CudaBackend();
  return backend;
}

}  // namespace exafold
