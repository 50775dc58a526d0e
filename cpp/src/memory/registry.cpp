// One caching allocator per (device, kind), created on first use.
#include <atomic>
#include <map>
#include <mutex>
#include <utility>

#include "exafold/core/error.h"
#include "exafold/memory/allocator.h"
#include "exafold/memory/caching_allocator.h"
#include "exafold/memory/gpu_backend.h"
#include "exafold/memory/strict.h"

namespace exafold {
namespace {

std::mutex g_mu;
std::atomic<bool> g_test_device{false};

std::map<std::pair<int, int>, std::unique_ptr<Allocator>>& registry() {
  // Never destroyed: storages released during interpreter shutdown still find their allocator.
  static auto* r = new std::map<std::pair<int, int>, std::unique_ptr<Allocator>>;
  return *r;
}

int key_of(Device d) { return int(d.type) * 1024 + d.index; }

/// Why (device, kind) cannot exist here, or an empty string when it can.
std::string unavailable_reason(Device d, MemoryKind k) {
  GpuBackend* gpu = gpu_backend();
  const int ngpu = gpu ? gpu->device_count() : 0;
  switch (d.type) {
    case DeviceType::test_host:
      if (!g_test_device) return "the test device is not enabled";
      if (d.index != 0) return "only test_host:0 exists";
      return k == MemoryKind::host ? "" : "the test device has host memory only";
    case DeviceType::cpu:
      if (k == MemoryKind::host) return "";
      if (k == MemoryKind::device) return "cpu has no device memory (use host)";
      if (!gpu) return "this build has no CUDA backend";
      if (ngpu == 0) return "no CUDA device is present";
      return "";
    case DeviceType::strict:
    case DeviceType::meta:
      return k == MemoryKind::device ? "" : cat(d.str(), " has device memory only");
    case DeviceType::cuda:
      if (!gpu) return "this build has no CUDA backend";
      if (d.index >= ngpu) return cat("only ", ngpu, " CUDA device(s) are present");
      if (k == MemoryKind::host || k == MemoryKind::pinned)
        return "host memory belongs to cpu (allocate on cpu)";
      if (k == MemoryKind::unified && !gpu->caps(d.index).managed_memory)
        return "this GPU does not support managed memory";
      return "";
  }
  return "unknown device type";
}

}  // namespace

void enable_test_device() { g_test_device = true; }
bool test_device_enabled() { return g_test_device; }

bool has_allocator(Device device, MemoryKind kind) {
  return unavailable_reason(device, kind).empty();
}

Allocator& get_allocator(Device device, MemoryKind kind) {
  std::lock_guard lk(g_mu);
  auto& r = registry();
  auto key = std::make_pair(key_of(device), int(kind));
  if (auto it = r.find(key); it != r.end()) return *it->second;
  if (auto why = unavailable_reason(device, kind); !why.empty())
    fail("no ", memory_kind_name(kind), " memory on ", device.str(), ": ", why);
  std::unique_ptr<Allocator> made;
  if (device.type == DeviceType::strict) {
    made = make_strict_allocator();
  } else {
    std::unique_ptr<RawAllocator> raw;
    if (device.is_meta()) {
      raw = make_meta_raw_allocator();
    } else if (device.is_host() && kind == MemoryKind::host) {
      raw = make_host_raw_allocator();
    } else {
      // Pinned and unified memory are homed on cpu but come from the GPU runtime (device 0).
      Device gpu_device = device.is_cuda() ? device : Device::cuda(0);
      raw = gpu_backend()->make_raw_allocator(gpu_device, kind);
    }
    made = std::make_unique<CachingAllocator>(device, kind, std::move(raw));
  }
  auto& slot = r[key];
  slot = std::move(made);
  return *slot;
}

void empty_all_caches() {
  std::lock_guard lk(g_mu);
  for (auto& [key, a] : registry()) a->empty_cache();
}

int gpu_count() {
  GpuBackend* gpu = gpu_backend();
  return gpu ? gpu->device_count() : 0;
}

}  // namespace exafold
