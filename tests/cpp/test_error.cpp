#include <gtest/gtest.h>

#include "exafold/core/error.h"
#include "exafold/memory/device.h"

namespace exafold {
namespace {

TEST(Error, FailJoinsPartsAndPicksTheType) {
  try {
    fail("bad residue '", 'J', "' at line ", 12);
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "bad residue 'J' at line 12");
  }
  EXPECT_THROW(fail<IoError>("x"), IoError);
  EXPECT_THROW(fail<OutOfMemory>("x"), OutOfMemory);
  EXPECT_THROW(check(false, "y"), InvalidArgument);
  EXPECT_NO_THROW(check(true, "unused"));
  EXPECT_THROW(EXAFOLD_ASSERT(1 == 2), InternalError);
}

TEST(Device, ParseAndPrint) {
  EXPECT_EQ(Device::parse("cpu"), Device::cpu());
  EXPECT_EQ(Device::parse("cuda"), Device::cuda(0));
  EXPECT_EQ(Device::parse("cuda:3"), Device::cuda(3));
  EXPECT_EQ(Device::parse("cuda:3").str(), "cuda:3");
  EXPECT_THROW(Device::parse("tpu:0"), InvalidArgument);
  EXPECT_THROW(Device::parse("cuda:x"), InvalidArgument);
  EXPECT_THROW(Device::parse("cuda:-1"), InvalidArgument);
  EXPECT_THROW(Device::parse("cpu:1"), InvalidArgument);
  EXPECT_EQ(memory_kind_from_name("unified"), MemoryKind::unified);
  EXPECT_THROW(memory_kind_from_name("shared"), InvalidArgument);
}

}  // namespace
}  // namespace exafold
