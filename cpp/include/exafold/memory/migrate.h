// Note [Migratable memory]: data pipelines allocate in memory every device can reach, and
// migrate(t, device) (tensor/tensor.h) copies only when the target cannot read the memory at full
// speed. This header holds the rules that decide it and the counters that show it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "exafold/memory/device.h"

namespace exafold {

/// True when `target` reads memory of `kind` homed on `home` at full speed without a copy: the
/// same device; host, pinned or unified memory from the cpu; unified memory on a GPU with
/// concurrent managed access; pageable memory on a GPU that uses the host's page tables (ATS);
/// pinned memory on an integrated GPU. The test device shares nothing, so its copies are real.
bool accessible(MemoryKind kind, Device home, Device target);

struct MigrateStats {
  uint64_t copies = 0;        ///< migrations that allocated on the target and copied
  uint64_t elided = 0;        ///< migrations that returned the same memory
  uint64_t bytes_moved = 0;   ///< bytes copied by those copies
  uint64_t prefetches = 0;    ///< managed-memory prefetch hints issued instead of copies
  uint64_t staged = 0;        ///< stage() calls that copied into managed or pinned memory
  uint64_t bytes_staged = 0;  ///< bytes those copied
};
MigrateStats migrate_stats();
void reset_migrate_stats();
/// Recording, used by migrate().
void record_migrate_copy(size_t bytes);
void record_migrate_elided(bool prefetched);
/// Recording, used by stage().
void record_staged(size_t bytes);

/// While alive on this thread, host allocations that name no kind come from the unified
/// allocator when a GPU exists (and stay pageable host memory when none does), so features
/// built inside migrate to the GPU for free.
class MigratableMemory {
 public:
  MigratableMemory();
  ~MigratableMemory();
  MigratableMemory(const MigratableMemory&) = delete;
  MigratableMemory& operator=(const MigratableMemory&) = delete;
  /// True inside at least one scope on this thread.
  static bool active();
};

/// The kind a host allocation gets when the caller names none (see MigratableMemory).
MemoryKind default_host_kind();

}  // namespace exafold
