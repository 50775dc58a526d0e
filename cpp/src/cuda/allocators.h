// Raw CUDA allocators for device, pinned and managed memory (under the caching allocator).
#pragma once

#include <memory>

#include "exafold/memory/allocator.h"

namespace exafold::cuda {

std::unique_ptr<RawAllocator> make_raw_allocator(Device device, MemoryKind kind);

}  // namespace exafold::cuda
