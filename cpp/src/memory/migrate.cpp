#include "exafold/memory/migrate.h"

#include <atomic>

#include "exafold/memory/gpu_backend.h"

namespace exafold {
namespace {

std::atomic<uint64_t> g_copies{0}, g_elided{0}, g_bytes{0}, g_prefetches{0}, g_staged{0},
    g_bytes_staged{0};
thread_local int t_scope_depth = 0;

}  // namespace

bool accessible(MemoryKind kind, Device home, Device target) {
  if (home == target) return true;
  // The test devices reach only their own memory.
  for (DeviceType t : {home.type, target.type})
    if (t == DeviceType::test_host || t == DeviceType::strict || t == DeviceType::meta)
      return false;
  if (target.is_cpu()) return home.is_cpu() && kind != MemoryKind::device;
  // target is a GPU
  GpuBackend* gpu = gpu_backend();
  if (!gpu || target.index >= gpu->device_count()) return false;
  const DeviceCaps caps = gpu->caps(target.index);
  switch (kind) {
    case MemoryKind::unified:
      return caps.concurrent_managed_access || caps.integrated;
    case MemoryKind::host:
      return caps.pageable_uses_host_page_tables ||
             (caps.integrated && caps.pageable_memory_access);
    case MemoryKind::pinned:
      return caps.integrated;
    case MemoryKind::device:
      return false;  // another GPU's memory: peer access is not full speed
  }
  return false;
}

MigrateStats migrate_stats() {
  return {g_copies.load(),     g_elided.load(), g_bytes.load(),
          g_prefetches.load(), g_staged.load(), g_bytes_staged.load()};
}

void reset_migrate_stats() {
  g_copies = 0;
  g_elided = 0;
  g_bytes = 0;
  g_prefetches = 0;
  g_staged = 0;
  g_bytes_staged = 0;
}

void record_migrate_copy(size_t bytes) {
  ++g_copies;
  g_bytes += bytes;
}

void record_migrate_elided(bool prefetched) {
  ++g_elided;
  if (prefetched) ++g_prefetches;
}

void record_staged(size_t bytes) {
  ++g_staged;
  g_bytes_staged += bytes;
}

MigratableMemory::MigratableMemory() { ++t_scope_depth; }
MigratableMemory::~MigratableMemory() { --t_scope_depth; }
bool MigratableMemory::active() { return t_scope_depth > 0; }

MemoryKind default_host_kind() {
  return (t_scope_depth > 0 && gpu_count() > 0) ? MemoryKind::unified : MemoryKind::host;
}

}  // namespace exafold
