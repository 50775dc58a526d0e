#include "cuda/allocators.h"

#include "cuda/check.h"
#include "exafold/memory/format.h"

namespace exafold::cuda {
namespace {

class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    EXAFOLD_CUDA_CHECK(cudaGetDevice(&prev_));
    EXAFOLD_CUDA_CHECK(cudaSetDevice(device));
  }
  ~DeviceGuard() { cudaSetDevice(prev_); }

 private:
  int prev_ = 0;
};

/// Whether this thread's stream captures a graph.
bool capturing() {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  EXAFOLD_CUDA_CHECK(cudaStreamIsCapturing(cudaStreamPerThread, &status));
  return status != cudaStreamCaptureStatusNone;
}

size_t device_free(int device) {
  DeviceGuard g(device);
  size_t free = 0, total = 0;
  EXAFOLD_CUDA_CHECK(cudaMemGetInfo(&free, &total));
  return free;
}

class CudaRawAllocator final : public RawAllocator {
 public:
  CudaRawAllocator(int device, MemoryKind kind) : device_(device), kind_(kind) {}

  void* allocate(size_t bytes) override {
    DeviceGuard g(device_);
    void* p = nullptr;
    switch (kind_) {
      case MemoryKind::device:
        if (capturing()) {
          // A graph's private pool growing during its capture (Note [Private pools]): as in
          // PyTorch, cudaMalloc in relaxed interaction mode, which a capture allows; the graph
          // keeps the memory, and no replay allocates again.
          cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
          EXAFOLD_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
          const cudaError_t err = cudaMalloc(&p, bytes);
          EXAFOLD_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
          EXAFOLD_CUDA_CHECK(err);
        } else {
          EXAFOLD_CUDA_CHECK(cudaMalloc(&p, bytes));
        }
        break;
      case MemoryKind::pinned:
        EXAFOLD_CUDA_CHECK(cudaHostAlloc(&p, bytes, cudaHostAllocPortable));
        break;
      case MemoryKind::unified: {
        // Oversubscribed managed memory can hang a discrete GPU under load: never ask for more
        // than the device has free.
        size_t free = device_free(device_);
        check<OutOfMemory>(bytes <= free, "managed allocation of ", format_bytes(bytes),
                           " exceeds the ", format_bytes(free), " free on cuda:", device_);
        EXAFOLD_CUDA_CHECK(cudaMallocManaged(&p, bytes, cudaMemAttachGlobal));
        break;
      }
      case MemoryKind::host:
        fail<InternalError>("pageable host memory does not come from CUDA");
    }
    return p;
  }

  void deallocate(void* p, size_t) override {
    DeviceGuard g(device_);
    if (kind_ == MemoryKind::pinned)
      cudaFreeHost(p);
    else
      cudaFree(p);
  }

  size_t available() const override {
    return kind_ == MemoryKind::pinned ? SIZE_MAX : device_free(device_);
  }

 private:
  int device_;
  MemoryKind kind_;
};

}  // namespace

std::unique_ptr<RawAllocator> make_raw_allocator(Device device, MemoryKind kind) {
  return std::make_unique<CudaRawAllocator>(device.index, kind);
}

}  // namespace exafold::cuda
