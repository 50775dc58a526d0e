// The strict device's memory (DeviceType::strict): host pages the host may touch only while an
// op of the strict backend runs. Each allocation is its own mapping, PROT_NONE at rest; an op
// opens the storages of its tensors, and what it allocates meanwhile, and closes them when it
// leaves. A host access from anywhere else faults, which is how the tests prove that model code
// never reads or writes backend memory behind the ops' back.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "exafold/memory/allocator.h"

namespace exafold {

/// The allocator of strict memory (no caching: page-granular mappings keep each allocation
/// apart, so that a neighbour's pages never stay open by accident).
std::unique_ptr<Allocator> make_strict_allocator();

/// One strict op's access window, on this thread. Construction takes the strict device's lock
/// (ops on it run one at a time) and opens the given allocations (their base pointers);
/// allocations made on this thread while it lives are opened too; destruction closes all.
class StrictAccess {
 public:
  explicit StrictAccess(std::span<void* const> allocations);
  ~StrictAccess();
  StrictAccess(const StrictAccess&) = delete;
  StrictAccess& operator=(const StrictAccess&) = delete;
};

/// Copies n bytes from or to strict memory (the other side host memory), opening it briefly.
void strict_copy(void* dst, const void* src, size_t n);

}  // namespace exafold
