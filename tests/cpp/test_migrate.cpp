#include <gtest/gtest.h>

#include <numeric>

#include "exafold/memory/allocator.h"
#include "exafold/memory/gpu_backend.h"
#include "exafold/memory/migrate.h"
#include "exafold/tensor/tensor.h"

namespace exafold {
namespace {

const Device kTest{DeviceType::test_host, 0};

TEST(Migrate, SameDeviceIsElided) {
  reset_migrate_stats();
  Tensor t = Tensor::empty({64, 64}, DType::float32);
  Tensor m = migrate(t, Device::cpu());
  EXPECT_EQ(m.data_ptr(), t.data_ptr());
  MigrateStats s = migrate_stats();
  EXPECT_EQ(s.elided, 1u);
  EXPECT_EQ(s.copies, 0u);
  EXPECT_EQ(s.bytes_moved, 0u);
}

TEST(Migrate, ToAnotherDeviceCopiesAndCounts) {
  enable_test_device();
  reset_migrate_stats();
  Tensor t = Tensor::empty({3, 5}, DType::float32);
  std::iota(t.data<float>(), t.data<float>() + 15, 0.f);
  Tensor view = t.transpose(0, 1);  // non-contiguous: migrate hands over a contiguous copy
  Tensor m = migrate(view, kTest);
  EXPECT_EQ(m.device(), kTest);
  EXPECT_EQ(m.storage()->device(), kTest);
  EXPECT_TRUE(m.is_contiguous());
  EXPECT_NE(m.data_ptr(), t.data_ptr());
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(m.data<float>()[i * 3 + j], float(j * 5 + i));
  Tensor back = migrate(m, Device::cpu());
  EXPECT_EQ(back.device(), Device::cpu());
  MigrateStats s = migrate_stats();
  EXPECT_EQ(s.copies, 2u);
  EXPECT_EQ(s.elided, 0u);
  EXPECT_EQ(s.bytes_moved, 2u * 15 * 4);
  EXPECT_GT(get_allocator(kTest, MemoryKind::host).stats().allocations, 0u);
}

TEST(Migrate, AccessibilityRules) {
  EXPECT_TRUE(accessible(MemoryKind::host, Device::cpu(), Device::cpu()));
  EXPECT_TRUE(accessible(MemoryKind::pinned, Device::cpu(), Device::cpu()));
  EXPECT_TRUE(accessible(MemoryKind::unified, Device::cpu(), Device::cpu()));
  EXPECT_FALSE(accessible(MemoryKind::device, Device::cuda(0), Device::cpu()));
  EXPECT_FALSE(accessible(MemoryKind::host, Device::cpu(), kTest));
  EXPECT_FALSE(accessible(MemoryKind::host, kTest, Device::cpu()));
  if (gpu_count() == 0) {  // no GPU reads anything here
    EXPECT_FALSE(accessible(MemoryKind::unified, Device::cpu(), Device::cuda(0)));
    EXPECT_FALSE(accessible(MemoryKind::host, Device::cpu(), Device::cuda(0)));
  }
}

TEST(Migrate, ScopeRoutesHostAllocationsToUnifiedOnlyWithAGpu) {
  EXPECT_FALSE(MigratableMemory::active());
  {
    MigratableMemory scope;
    EXPECT_TRUE(MigratableMemory::active());
    Tensor t = Tensor::empty({16}, DType::float32);
    EXPECT_EQ(t.memory_kind(), gpu_count() > 0 ? MemoryKind::unified : MemoryKind::host);
    Tensor explicit_host = Tensor::empty({16}, DType::float32, Device::cpu(), MemoryKind::host);
    EXPECT_EQ(explicit_host.memory_kind(), MemoryKind::host);
  }
  EXPECT_FALSE(MigratableMemory::active());
  EXPECT_EQ(Tensor::empty({16}, DType::float32).memory_kind(), MemoryKind::host);
}

TEST(Stage, KeepsWhatTheDeviceReadsAtFullSpeedAndWhatIsNoGpus) {
  enable_test_device();
  reset_migrate_stats();
  Tensor t = Tensor::empty({8, 4}, DType::float32);
  for (Device d : {Device::cpu(), kTest, Device{DeviceType::strict, 0}}) {
    const Tensor s = stage(t, d);
    EXPECT_EQ(s.storage(), t.storage()) << d.str();
    EXPECT_EQ(s.device(), Device::cpu()) << d.str() << ": staging leaves the tensor on the host";
  }
  EXPECT_EQ(migrate_stats().staged, 0u);
}

// Note [Staging]: on a GPU with concurrent managed access (the emulated one has it, as H100 and
// H200 do) a host tensor is copied into managed memory homed on the cpu; a prediction's
// migrate() then elides the copy, so the upload is done by the time the prediction runs.
TEST(Stage, CopiesHostMemoryIntoManagedMemoryThatTheGpuThenReadsWithoutACopy) {
  if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  ASSERT_TRUE(accessible(MemoryKind::unified, Device::cpu(), Device::cuda(0)))
      << "the device under test lacks concurrent managed access";
  reset_migrate_stats();
  Tensor t = Tensor::empty({3, 5}, DType::int32);
  std::iota(t.data<int32_t>(), t.data<int32_t>() + 15, -7);
  const Tensor view = t.transpose(0, 1);  // a strided view is staged contiguous
  const Tensor s = stage(view, Device::cuda(0));
  EXPECT_EQ(s.memory_kind(), MemoryKind::unified);
  EXPECT_EQ(s.device(), Device::cpu());
  EXPECT_TRUE(s.is_contiguous());
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(s.data<int32_t>()[i * 3 + j], j * 5 + i - 7);
  MigrateStats after = migrate_stats();
  EXPECT_EQ(after.staged, 1u);
  EXPECT_EQ(after.bytes_staged, 15u * 4);
  const Tensor on_gpu = migrate(s, Device::cuda(0));
  EXPECT_EQ(on_gpu.data_ptr(), s.data_ptr());
  EXPECT_EQ(on_gpu.device(), Device::cuda(0));
  EXPECT_EQ(migrate_stats().copies, 0u);
  EXPECT_EQ(migrate_stats().prefetches, 1u);
  // Staging what is staged already moves nothing again.
  EXPECT_EQ(stage(s, Device::cuda(0)).storage(), s.storage());
  EXPECT_EQ(migrate_stats().staged, 1u);
}

TEST(Migrate, UnavailableMemoryIsAClearError) {
  if (gpu_count() > 0) GTEST_SKIP() << "a GPU is present";
  try {
    get_allocator(Device::cuda(0), MemoryKind::device);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("no device memory on cuda:0"), std::string::npos);
  }
  EXPECT_THROW(get_allocator(Device::cpu(), MemoryKind::pinned), InvalidArgument);
  EXPECT_THROW(Tensor::empty({4}, DType::float32, Device::cuda(0)), InvalidArgument);
}

}  // namespace
}  // namespace exafold
