// GPU memory: runs where a CUDA device is present, skips (saying why) everywhere else.
#include <gtest/gtest.h>

#include <numeric>

#include "exafold/memory/allocator.h"
#include "exafold/memory/gpu_backend.h"
#include "exafold/memory/migrate.h"
#include "exafold/tensor/tensor.h"

namespace exafold {
namespace {

class CudaMemory : public ::testing::Test {
 protected:
  void SetUp() override {
    if (gpu_count() == 0)
      GTEST_SKIP() << (gpu_backend() ? "no CUDA device present" : "built without CUDA");
  }
};

Tensor iota(int64_t n, MemoryKind kind = MemoryKind::host) {
  Tensor t = Tensor::empty({n}, DType::float32, Device::cpu(), kind);
  std::iota(t.data<float>(), t.data<float>() + n, 0.f);
  return t;
}

TEST_F(CudaMemory, RoundTripThroughDeviceMemory) {
  reset_migrate_stats();
  const int64_t n = (24 << 20) / 4 + 123;  // several staging chunks and a ragged tail
  Tensor h = iota(n);
  Tensor d = migrate(h, Device::cuda(0));
  EXPECT_EQ(d.memory_kind(), MemoryKind::device);
  Tensor back = migrate(d, Device::cpu());
  EXPECT_EQ(back.memory_kind(), MemoryKind::host);
  for (int64_t i = 0; i < n; i += 997) ASSERT_EQ(back.data<float>()[i], float(i));
  EXPECT_EQ(back.data<float>()[n - 1], float(n - 1));
  MigrateStats s = migrate_stats();
  EXPECT_EQ(s.copies, 2u);
  EXPECT_EQ(s.bytes_moved, uint64_t(2 * n * 4));
}

TEST_F(CudaMemory, PinnedCopiesDirectly) {
  Tensor p = iota(1 << 20, MemoryKind::pinned);
  Tensor d = migrate(p, Device::cuda(0));
  Tensor back = migrate(d, Device::cpu());
  EXPECT_EQ(back.data<float>()[(1 << 20) - 1], float((1 << 20) - 1));
}

TEST_F(CudaMemory, UnifiedMemoryMigratesWithoutACopyWhereTheGpuReadsIt) {
  reset_migrate_stats();
  Tensor u;
  {
    MigratableMemory scope;
    u = Tensor::empty({1 << 20}, DType::float32);
  }
  ASSERT_EQ(u.memory_kind(), MemoryKind::unified);
  Tensor m = migrate(u, Device::cuda(0));
  const bool reads = gpu_backend()->caps(0).concurrent_managed_access;
  EXPECT_EQ(m.data_ptr() == u.data_ptr(), reads);
  MigrateStats s = migrate_stats();
  EXPECT_EQ(s.elided, reads ? 1u : 0u);
  EXPECT_EQ(s.prefetches, reads ? 1u : 0u);
}

TEST_F(CudaMemory, ManagedRequestsBeyondFreeMemoryAreRefused) {
  const size_t free = gpu_backend()->free_memory(0);
  EXPECT_THROW(get_allocator(Device::cuda(0), MemoryKind::unified).allocate(free + (1ull << 30)),
               OutOfMemory);
}

TEST_F(CudaMemory, DeviceAllocatorCachesAndReportsOutOfMemory) {
  Allocator& a = get_allocator(Device::cuda(0), MemoryKind::device);
  void* p = a.allocate(1 << 20);
  a.deallocate(p);
  void* q = a.allocate(1 << 20);
  EXPECT_EQ(p, q);
  a.deallocate(q);
  a.set_limit(64 << 20);
  EXPECT_THROW(a.allocate(128 << 20), OutOfMemory);
  a.set_limit(0);
}

}  // namespace
}  // namespace exafold
