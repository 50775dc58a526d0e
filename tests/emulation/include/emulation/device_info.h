// The emulated devices: what the runtime reports about them. They model the target, a discrete
// Hopper GPU (compute capability 9.0, 132 SMs, H100/H200 limits), so that host code takes the
// paths it takes there: device memory that needs copies, managed memory the device reads
// concurrently, no access to pageable host memory. Their memory is host memory;
// EXAFOLD_EMULATION_DEVICE_MEMORY (bytes, or with a K, M or G suffix) sets its size, by default
// the host's physical memory, and set_device_memory_bytes() changes it while the process runs.
// EXAFOLD_EMULATION_DEVICES sets how many there are (default 1).
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "driver_types.h"
#include "emulation/errors.h"

namespace exafold::emulation {

constexpr int kSmCount = 132;
constexpr int kMaxThreadsPerBlock = 1024;
constexpr int kMaxBlockDim[3] = {1024, 1024, 64};
constexpr int kMaxGridDim[3] = {2147483647, 65535, 65535};
constexpr size_t kSharedPerBlock = size_t(48) << 10;  // without cudaFuncSetAttribute
constexpr size_t kSharedPerBlockOptin = 232448;       // 227 KiB on sm_90
constexpr size_t kSharedPerSm = 233472;
constexpr int kRuntimeVersion = 13000;

inline size_t parse_bytes(const char* name, const char* s) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s, &end, 10);
  const bool digits = end != s;
  size_t scale = 1;
  switch (*end) {
    case 'K':
      scale = size_t(1) << 10;
      break;
    case 'M':
      scale = size_t(1) << 20;
      break;
    case 'G':
      scale = size_t(1) << 30;
      break;
  }
  if (scale != 1) ++end;
  if (!digits || *end != '\0' || v == 0) {
    std::fprintf(stderr, "exafold CUDA emulation: %s='%s' is not a positive size\n", name, s);
    std::abort();
  }
  return size_t(v) * scale;
}

namespace detail {
inline std::atomic<size_t>& device_memory() {
  static std::atomic<size_t> bytes{[] {
    if (const char* env = std::getenv("EXAFOLD_EMULATION_DEVICE_MEMORY"); env && *env)
      return parse_bytes("EXAFOLD_EMULATION_DEVICE_MEMORY", env);
    return size_t(sysconf(_SC_PHYS_PAGES)) * size_t(sysconf(_SC_PAGESIZE));
  }()};
  return bytes;
}
}  // namespace detail

/// Each device's memory: what cudaMemGetInfo reports as total, and the most that device and
/// managed allocations may hold at once (beyond it they fail with cudaErrorMemoryAllocation).
inline size_t device_memory_bytes() { return detail::device_memory().load(); }

/// Sets every device's memory from now on, as EXAFOLD_EMULATION_DEVICE_MEMORY does at start
/// (tests that need a small device: out-of-memory handling). Memory already allocated stays;
/// a size below it leaves no memory free (cudaMemGetInfo reports 0) until enough is freed.
inline void set_device_memory_bytes(size_t bytes) { detail::device_memory().store(bytes); }

inline int device_count() {
  static const int n = [] {
    const char* env = std::getenv("EXAFOLD_EMULATION_DEVICES");
    if (!env || !*env) return 1;
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (end == env || *end != '\0' || v < 0 || v > 64) {
      std::fprintf(stderr, "exafold CUDA emulation: EXAFOLD_EMULATION_DEVICES='%s' is not 0-64\n",
                   env);
      std::abort();
    }
    return int(v);
  }();
  return n;
}

inline thread_local int t_device = 0;

inline bool valid_device(int d) { return d >= 0 && d < device_count(); }

}  // namespace exafold::emulation

inline cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return exafold::emulation::record(cudaErrorInvalidValue);
  *count = exafold::emulation::device_count();
  return *count > 0 ? cudaSuccess : exafold::emulation::record(cudaErrorNoDevice);
}

inline cudaError_t cudaSetDevice(int device) {
  if (!exafold::emulation::valid_device(device))
    return exafold::emulation::record(cudaErrorInvalidDevice);
  exafold::emulation::t_device = device;
  return cudaSuccess;
}

inline cudaError_t cudaGetDevice(int* device) {
  if (!device) return exafold::emulation::record(cudaErrorInvalidValue);
  if (exafold::emulation::device_count() == 0) return exafold::emulation::record(cudaErrorNoDevice);
  *device = exafold::emulation::t_device;
  return cudaSuccess;
}

inline cudaError_t cudaRuntimeGetVersion(int* version) {
  if (!version) return exafold::emulation::record(cudaErrorInvalidValue);
  *version = exafold::emulation::kRuntimeVersion;
  return cudaSuccess;
}

/// 0: no driver takes part in the emulation.
inline cudaError_t cudaDriverGetVersion(int* version) {
  if (!version) return exafold::emulation::record(cudaErrorInvalidValue);
  *version = 0;
  return cudaSuccess;
}

inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  namespace e = exafold::emulation;
  if (!p) return e::record(cudaErrorInvalidValue);
  if (!e::valid_device(device)) return e::record(cudaErrorInvalidDevice);
  std::memset(p, 0, sizeof *p);
  std::snprintf(p->name, sizeof p->name, "exafold CPU emulation of an sm_90 GPU");
  p->totalGlobalMem = e::device_memory_bytes();
  p->sharedMemPerBlock = e::kSharedPerBlock;
  p->sharedMemPerBlockOptin = e::kSharedPerBlockOptin;
  p->sharedMemPerMultiprocessor = e::kSharedPerSm;
  p->regsPerBlock = 65536;
  p->regsPerMultiprocessor = 65536;
  p->warpSize = 32;
  p->maxThreadsPerBlock = e::kMaxThreadsPerBlock;
  for (int i = 0; i < 3; ++i) {
    p->maxThreadsDim[i] = e::kMaxBlockDim[i];
    p->maxGridSize[i] = e::kMaxGridDim[i];
  }
  p->totalConstMem = 65536;
  p->major = 9;
  p->minor = 0;
  p->multiProcessorCount = e::kSmCount;
  p->maxThreadsPerMultiProcessor = 2048;
  p->maxBlocksPerMultiProcessor = 32;
  p->l2CacheSize = 50 << 20;
  p->concurrentKernels = 1;
  p->asyncEngineCount = 2;
  p->unifiedAddressing = 1;
  p->canMapHostMemory = 1;
  p->managedMemory = 1;
  p->concurrentManagedAccess = 1;
  p->pageableMemoryAccess = 0;
  p->pageableMemoryAccessUsesHostPageTables = 0;
  p->integrated = 0;
  p->cooperativeLaunch = 1;
  p->memoryPoolsSupported = 1;
  p->hostRegisterSupported = 1;
  return cudaSuccess;
}

inline cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  namespace e = exafold::emulation;
  if (!value) return e::record(cudaErrorInvalidValue);
  cudaDeviceProp p;
  if (cudaError_t err = cudaGetDeviceProperties(&p, device); err != cudaSuccess) return err;
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock:
      *value = p.maxThreadsPerBlock;
      break;
    case cudaDevAttrMaxBlockDimX:
    case cudaDevAttrMaxBlockDimY:
    case cudaDevAttrMaxBlockDimZ:
      *value = p.maxThreadsDim[attr - cudaDevAttrMaxBlockDimX];
      break;
    case cudaDevAttrMaxGridDimX:
    case cudaDevAttrMaxGridDimY:
    case cudaDevAttrMaxGridDimZ:
      *value = p.maxGridSize[attr - cudaDevAttrMaxGridDimX];
      break;
    case cudaDevAttrMaxSharedMemoryPerBlock:
      *value = int(p.sharedMemPerBlock);
      break;
    case cudaDevAttrTotalConstantMemory:
      *value = int(p.totalConstMem);
      break;
    case cudaDevAttrWarpSize:
      *value = p.warpSize;
      break;
    case cudaDevAttrMaxRegistersPerBlock:
      *value = p.regsPerBlock;
      break;
    case cudaDevAttrMultiProcessorCount:
      *value = p.multiProcessorCount;
      break;
    case cudaDevAttrIntegrated:
      *value = p.integrated;
      break;
    case cudaDevAttrCanMapHostMemory:
      *value = p.canMapHostMemory;
      break;
    case cudaDevAttrConcurrentKernels:
      *value = p.concurrentKernels;
      break;
    case cudaDevAttrL2CacheSize:
      *value = p.l2CacheSize;
      break;
    case cudaDevAttrMaxThreadsPerMultiProcessor:
      *value = p.maxThreadsPerMultiProcessor;
      break;
    case cudaDevAttrAsyncEngineCount:
      *value = p.asyncEngineCount;
      break;
    case cudaDevAttrUnifiedAddressing:
      *value = p.unifiedAddressing;
      break;
    case cudaDevAttrComputeCapabilityMajor:
      *value = p.major;
      break;
    case cudaDevAttrComputeCapabilityMinor:
      *value = p.minor;
      break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor:
      *value = int(p.sharedMemPerMultiprocessor);
      break;
    case cudaDevAttrMaxRegistersPerMultiprocessor:
      *value = p.regsPerMultiprocessor;
      break;
    case cudaDevAttrManagedMemory:
      *value = p.managedMemory;
      break;
    case cudaDevAttrHostNativeAtomicSupported:
      *value = 0;
      break;
    case cudaDevAttrPageableMemoryAccess:
      *value = p.pageableMemoryAccess;
      break;
    case cudaDevAttrConcurrentManagedAccess:
      *value = p.concurrentManagedAccess;
      break;
    case cudaDevAttrCooperativeLaunch:
      *value = p.cooperativeLaunch;
      break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin:
      *value = int(p.sharedMemPerBlockOptin);
      break;
    case cudaDevAttrPageableMemoryAccessUsesHostPageTables:
      *value = p.pageableMemoryAccessUsesHostPageTables;
      break;
    case cudaDevAttrDirectManagedMemAccessFromHost:
      *value = 0;
      break;
    case cudaDevAttrMaxBlocksPerMultiprocessor:
      *value = p.maxBlocksPerMultiProcessor;
      break;
    case cudaDevAttrMemoryPoolsSupported:
      *value = p.memoryPoolsSupported;
      break;
    default:
      return e::record(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}
