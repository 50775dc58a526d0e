// Memory of the emulated devices: host memory, registered by kind so that the runtime can
// answer pointer queries and refuse what CUDA refuses (freeing with the wrong call, prefetching
// memory that is not managed, more device memory than the device has). Every allocation is
// exactly the size asked for, so AddressSanitizer reports an access past its end, and starts
// filled with all ones (a NaN in every floating-point width), as a read of memory nobody wrote
// must not look like zeros.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "driver_types.h"
#include "emulation/device_info.h"
#include "emulation/errors.h"
#include "emulation/streams.h"

namespace exafold::emulation {

enum class MemoryKind : uint8_t { device, pinned, managed, registered };

struct Allocation {
  size_t bytes = 0;
  MemoryKind kind = MemoryKind::device;
  int device = 0;
};

struct MemoryRegistry {
  std::mutex mu;
  std::map<uintptr_t, Allocation> blocks;                                  // by start address
  std::vector<size_t> used = std::vector<size_t>(size_t(device_count()));  // device + managed
};

inline MemoryRegistry& memory() {
  static auto* m = new MemoryRegistry;  // never destroyed: memory is freed at any time
  return *m;
}

constexpr std::align_val_t kAlignment{256};  // cudaMalloc's guarantee

inline bool counts_against_device(MemoryKind k) {
  return k == MemoryKind::device || k == MemoryKind::managed;
}

inline cudaError_t allocate(void** p, size_t bytes, MemoryKind kind) {
  if (!p) return record(cudaErrorInvalidValue);
  *p = nullptr;
  if (bytes == 0) return cudaSuccess;
  if (device_count() == 0) return record(cudaErrorNoDevice);
  MemoryRegistry& m = memory();
  const int device = t_device;
  std::lock_guard lk(m.mu);
  if (counts_against_device(kind) && m.used[size_t(device)] + bytes > device_memory_bytes())
    return record(cudaErrorMemoryAllocation);
  void* q = ::operator new(bytes, kAlignment, std::nothrow);
  if (!q) return record(cudaErrorMemoryAllocation);
  std::memset(q, 0xff, bytes);
  m.blocks[reinterpret_cast<uintptr_t>(q)] = {bytes, kind, device};
  if (counts_against_device(kind)) m.used[size_t(device)] += bytes;
  *p = q;
  return cudaSuccess;
}

/// Frees an allocation of one of the kinds `allowed` (cudaFree and cudaFreeHost each take
/// only their own).
inline cudaError_t release(void* p, std::initializer_list<MemoryKind> allowed) {
  if (!p) return cudaSuccess;
  MemoryRegistry& m = memory();
  std::lock_guard lk(m.mu);
  const auto it = m.blocks.find(reinterpret_cast<uintptr_t>(p));
  if (it == m.blocks.end() ||
      std::find(allowed.begin(), allowed.end(), it->second.kind) == allowed.end())
    return record(cudaErrorInvalidValue);
  if (counts_against_device(it->second.kind)) m.used[size_t(it->second.device)] -= it->second.bytes;
  m.blocks.erase(it);
  ::operator delete(p, kAlignment);
  return cudaSuccess;
}

/// The allocation holding all of [p, p + n), if any.
inline bool find_allocation(const void* p, size_t n, Allocation& out) {
  MemoryRegistry& m = memory();
  std::lock_guard lk(m.mu);
  const auto a = reinterpret_cast<uintptr_t>(p);
  auto it = m.blocks.upper_bound(a);
  if (it == m.blocks.begin()) return false;
  --it;
  if (a + n > it->first + it->second.bytes) return false;
  out = it->second;
  return true;
}

inline bool valid_copy_kind(cudaMemcpyKind kind) {
  return kind >= cudaMemcpyHostToHost && kind <= cudaMemcpyDefault;
}

}  // namespace exafold::emulation

inline cudaError_t cudaMalloc(void** p, size_t bytes) {
  namespace e = exafold::emulation;
  if (cudaError_t err = e::synchronous_call(e::CaptureRule::unsafe); err != cudaSuccess) return err;
  return e::allocate(p, bytes, e::MemoryKind::device);
}

inline cudaError_t cudaFree(void* p) {
  namespace e = exafold::emulation;
  if (cudaError_t err = e::synchronous_call(); err != cudaSuccess) return err;
  return e::release(p, {e::MemoryKind::device, e::MemoryKind::managed});
}

inline cudaError_t cudaMallocHost(void** p, size_t bytes) {
  namespace e = exafold::emulation;
  if (cudaError_t err = e::synchronous_call(e::CaptureRule::unsafe); err != cudaSuccess) return err;
  return e::allocate(p, bytes, e::MemoryKind::pinned);
}

inline cudaError_t cudaHostAlloc(void** p, size_t bytes, unsigned int flags) {
  constexpr unsigned known =
      cudaHostAllocPortable | cudaHostAllocMapped | cudaHostAllocWriteCombined;
  if ((flags & ~known) != 0) return exafold::emulation::record(cudaErrorInvalidValue);
  return cudaMallocHost(p, bytes);
}

inline cudaError_t cudaFreeHost(void* p) {
  namespace e = exafold::emulation;
  if (cudaError_t err = e::synchronous_call(); err != cudaSuccess) return err;
  return e::release(p, {e::MemoryKind::pinned});
}

inline cudaError_t cudaMallocManaged(void** p, size_t bytes,
                                     unsigned int flags = cudaMemAttachGlobal) {
  namespace e = exafold::emulation;
  if (flags != cudaMemAttachGlobal && flags != cudaMemAttachHost)
    return e::record(cudaErrorInvalidValue);
  if (cudaError_t err = e::synchronous_call(e::CaptureRule::unsafe); err != cudaSuccess) return err;
  return e::allocate(p, bytes, e::MemoryKind::managed);
}

inline cudaError_t cudaHostRegister(void* p, size_t bytes, unsigned int flags) {
  namespace e = exafold::emulation;
  constexpr unsigned known =
      cudaHostRegisterPortable | cudaHostRegisterMapped | cudaHostRegisterReadOnly;
  if (!p || bytes == 0 || (flags & ~known) != 0) return e::record(cudaErrorInvalidValue);
  if (cudaError_t err = e::synchronous_call(); err != cudaSuccess) return err;
  e::Allocation existing;
  if (e::find_allocation(p, 1, existing)) return e::record(cudaErrorInvalidValue);
  std::lock_guard lk(e::memory().mu);
  e::memory().blocks[reinterpret_cast<uintptr_t>(p)] = {bytes, e::MemoryKind::registered,
                                                        e::t_device};
  return cudaSuccess;
}

inline cudaError_t cudaHostUnregister(void* p) {
  namespace e = exafold::emulation;
  if (cudaError_t err = e::synchronous_call(); err != cudaSuccess) return err;
  std::lock_guard lk(e::memory().mu);
  const auto it = e::memory().blocks.find(reinterpret_cast<uintptr_t>(p));
  if (it == e::memory().blocks.end() || it->second.kind != e::MemoryKind::registered)
    return e::record(cudaErrorInvalidValue);
  e::memory().blocks.erase(it);
  return cudaSuccess;
}

/// Stream-ordered allocation. During a capture the memory belongs to the graph: it is allocated
/// once, used at the same address by every launch, and freed with the graph.
inline cudaError_t cudaMallocAsync(void** p, size_t bytes, cudaStream_t stream) {
  namespace e = exafold::emulation;
  if (cudaError_t err = e::sticky(); err != cudaSuccess) return err;
  if (!e::resolve(stream)) return e::record(cudaErrorInvalidResourceHandle);
  if (cudaError_t err = e::allocate(p, bytes, e::MemoryKind::device); err != cudaSuccess)
    return err;
  if (e::Capture* c = e::capture_of(stream); c && *p) {
    c->allocations.insert(*p);
    c->body->release.push_back([q = *p] { e::release(q, {e::MemoryKind::device}); });
  }
  return cudaSuccess;
}

inline cudaError_t cudaFreeAsync(void* p, cudaStream_t stream) {
  namespace e = exafold::emulation;
  if (e::Capture* c = e::capture_of(stream); c && c->allocations.count(p)) return cudaSuccess;
  return e::enqueue(stream, [p] { return e::release(p, {e::MemoryKind::device}); });
}

inline cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
  namespace e = exafold::emulation;
  if (!free || !total) return e::record(cudaErrorInvalidValue);
  if (cudaError_t err = e::sticky(); err != cudaSuccess) return err;
  if (e::device_count() == 0) return e::record(cudaErrorNoDevice);
  std::lock_guard lk(e::memory().mu);
  *total = e::device_memory_bytes();
  const size_t used = e::memory().used[size_t(e::t_device)];
  *free = used < *total ? *total - used : 0;
  return cudaSuccess;
}

inline cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* attr, const void* p) {
  namespace e = exafold::emulation;
  if (!attr) return e::record(cudaErrorInvalidValue);
  e::Allocation a;
  *attr = {cudaMemoryTypeUnregistered, -1, nullptr, nullptr};
  if (!e::find_allocation(p, 1, a)) return cudaSuccess;
  void* q = const_cast<void*>(p);
  attr->device = a.device;
  switch (a.kind) {
    case e::MemoryKind::device:
      *attr = {cudaMemoryTypeDevice, a.device, q, nullptr};
      break;
    case e::MemoryKind::managed:
      *attr = {cudaMemoryTypeManaged, a.device, q, q};
      break;
    case e::MemoryKind::pinned:
    case e::MemoryKind::registered:
      *attr = {cudaMemoryTypeHost, a.device, q, q};
      break;
  }
  return cudaSuccess;
}

inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind kind) {
  namespace e = exafold::emulation;
  if (!e::valid_copy_kind(kind)) return e::record(cudaErrorInvalidMemcpyDirection);
  if (n > 0 && (!dst || !src)) return e::record(cudaErrorInvalidValue);
  if (cudaError_t err = e::synchronous_call(); err != cudaSuccess) return err;
  if (n > 0) std::memcpy(dst, src, n);
  return cudaSuccess;
}

inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind,
                                   cudaStream_t stream = nullptr) {
  namespace e = exafold::emulation;
  if (!e::valid_copy_kind(kind)) return e::record(cudaErrorInvalidMemcpyDirection);
  if (n > 0 && (!dst || !src)) return e::record(cudaErrorInvalidValue);
  return e::enqueue(stream, [=] {
    if (n > 0) std::memcpy(dst, src, n);
    return cudaSuccess;
  });
}

inline cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch,
                                     size_t width, size_t height, cudaMemcpyKind kind,
                                     cudaStream_t stream = nullptr) {
  namespace e = exafold::emulation;
  if (!e::valid_copy_kind(kind)) return e::record(cudaErrorInvalidMemcpyDirection);
  if (width > dpitch || width > spitch) return e::record(cudaErrorInvalidValue);
  if (width > 0 && height > 0 && (!dst || !src)) return e::record(cudaErrorInvalidValue);
  return e::enqueue(stream, [=] {
    for (size_t r = 0; r < height; ++r)
      std::memcpy(static_cast<char*>(dst) + r * dpitch, static_cast<const char*>(src) + r * spitch,
                  width);
    return cudaSuccess;
  });
}

inline cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch,
                                size_t width, size_t height, cudaMemcpyKind kind) {
  if (cudaError_t err = exafold::emulation::synchronous_call(); err != cudaSuccess) return err;
  return cudaMemcpy2DAsync(dst, dpitch, src, spitch, width, height, kind, nullptr);
}

inline cudaError_t cudaMemsetAsync(void* p, int value, size_t n, cudaStream_t stream = nullptr) {
  namespace e = exafold::emulation;
  if (n > 0 && !p) return e::record(cudaErrorInvalidValue);
  return e::enqueue(stream, [=] {
    if (n > 0) std::memset(p, value, n);
    return cudaSuccess;
  });
}

inline cudaError_t cudaMemset(void* p, int value, size_t n) {
  if (cudaError_t err = exafold::emulation::synchronous_call(); err != cudaSuccess) return err;
  return cudaMemsetAsync(p, value, n, nullptr);
}

/// Prefetch and advice are hints; they apply only to managed memory (this device does not
/// reach pageable memory), as on a discrete GPU without HMM.
inline cudaError_t cudaMemPrefetchAsync(const void* p, size_t n, cudaMemLocation location,
                                        unsigned int flags, cudaStream_t stream = nullptr) {
  namespace e = exafold::emulation;
  e::Allocation a;
  if (!e::find_allocation(p, n, a) || a.kind != e::MemoryKind::managed || flags != 0)
    return e::record(cudaErrorInvalidValue);
  if (location.type == cudaMemLocationTypeDevice && !e::valid_device(location.id))
    return e::record(cudaErrorInvalidDevice);
  return e::enqueue(stream, [] { return cudaSuccess; });
}

inline cudaError_t cudaMemAdvise(const void* p, size_t n, cudaMemoryAdvise advice,
                                 cudaMemLocation location) {
  namespace e = exafold::emulation;
  e::Allocation a;
  if (!e::find_allocation(p, n, a) || a.kind != e::MemoryKind::managed ||
      advice < cudaMemAdviseSetReadMostly || advice > cudaMemAdviseUnsetAccessedBy)
    return e::record(cudaErrorInvalidValue);
  if (location.type == cudaMemLocationTypeDevice && !e::valid_device(location.id))
    return e::record(cudaErrorInvalidDevice);
  return e::sticky();
}

template <class T>
cudaError_t cudaMalloc(T** p, size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(p), bytes);
}
template <class T>
cudaError_t cudaMallocHost(T** p, size_t bytes) {
  return cudaMallocHost(reinterpret_cast<void**>(p), bytes);
}
template <class T>
cudaError_t cudaHostAlloc(T** p, size_t bytes, unsigned int flags) {
  return cudaHostAlloc(reinterpret_cast<void**>(p), bytes, flags);
}
template <class T>
cudaError_t cudaMallocManaged(T** p, size_t bytes, unsigned int flags = cudaMemAttachGlobal) {
  return cudaMallocManaged(reinterpret_cast<void**>(p), bytes, flags);
}
template <class T>
cudaError_t cudaMallocAsync(T** p, size_t bytes, cudaStream_t stream) {
  return cudaMallocAsync(reinterpret_cast<void**>(p), bytes, stream);
}

/// __constant__ and __device__ variables are ordinary objects here.
template <class T>
cudaError_t cudaMemcpyToSymbol(const T& symbol, const void* src, size_t n, size_t offset = 0,
                               cudaMemcpyKind kind = cudaMemcpyHostToDevice) {
  if (offset + n > sizeof(T)) return exafold::emulation::record(cudaErrorInvalidValue);
  return cudaMemcpy(reinterpret_cast<char*>(const_cast<T*>(&symbol)) + offset, src, n, kind);
}
template <class T>
cudaError_t cudaMemcpyFromSymbol(void* dst, const T& symbol, size_t n, size_t offset = 0,
                                 cudaMemcpyKind kind = cudaMemcpyDeviceToHost) {
  if (offset + n > sizeof(T)) return exafold::emulation::record(cudaErrorInvalidValue);
  return cudaMemcpy(dst, reinterpret_cast<const char*>(&symbol) + offset, n, kind);
}
