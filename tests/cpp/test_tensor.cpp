#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "exafold/tensor/tensor.h"

namespace exafold {
namespace {

// A [2,3,4] float32 tensor holding 0..23, the value equal to its row-major index.
Tensor iota234() {
  Tensor t = Tensor::empty({2, 3, 4}, DType::float32);
  std::iota(t.data<float>(), t.data<float>() + 24, 0.f);
  return t;
}

float at(const Tensor& t, std::initializer_list<int64_t> idx) {
  const char* p = static_cast<const char*>(t.data_ptr());
  int d = 0;
  for (int64_t i : idx) p += i * t.strides()[d++];
  return *reinterpret_cast<const float*>(p);
}

TEST(Tensor, EmptyIsContiguousWithByteStrides) {
  Tensor t = Tensor::empty({2, 3, 4}, DType::float64);
  EXPECT_EQ(t.strides(), (Strides{96, 32, 8}));
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.nbytes(), 192u);
  EXPECT_EQ(t.device(), Device::cpu());
  EXPECT_EQ(t.memory_kind(), MemoryKind::host);
  EXPECT_THROW(Tensor::empty({2, -1}, DType::float32), InvalidArgument);
  EXPECT_THROW(Tensor::empty({1, 1, 1, 1, 1, 1, 1, 1, 1}, DType::float32), InvalidArgument);
}

TEST(Tensor, SliceSelectPermuteTransposeIndexLikeNumpy) {
  Tensor t = iota234();
  Tensor s = t.slice(2, 1, 4, 2);  // t[:, :, 1:4:2]
  EXPECT_EQ(s.shape(), (Shape{2, 3, 2}));
  EXPECT_FALSE(s.is_contiguous());
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 2; ++k)
        EXPECT_EQ(at(s, {i, j, k}), float(i * 12 + j * 4 + 1 + 2 * k));
  Tensor neg = t.slice(1, -2, 100);  // t[:, -2:]
  EXPECT_EQ(neg.shape(), (Shape{2, 2, 4}));
  EXPECT_EQ(at(neg, {0, 0, 0}), 4.f);
  Tensor sel = t.select(1, -1);  // t[:, -1]
  EXPECT_EQ(sel.shape(), (Shape{2, 4}));
  EXPECT_EQ(at(sel, {1, 3}), 23.f);
  Tensor p = t.permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t k = 0; k < 3; ++k) EXPECT_EQ(at(p, {i, j, k}), at(t, {j, k, i}));
  Tensor tr = t.transpose(0, 2);
  EXPECT_EQ(at(tr, {3, 2, 1}), at(t, {1, 2, 3}));
  EXPECT_THROW(t.permute({0, 0, 1}), InvalidArgument);
  EXPECT_THROW(t.select(0, 2), InvalidArgument);
  EXPECT_THROW(t.slice(3, 0, 1), InvalidArgument);
}

TEST(Tensor, ReshapeNeedsContiguousAndInfersOneDim) {
  Tensor t = iota234();
  Tensor r = t.reshape({6, -1});
  EXPECT_EQ(r.shape(), (Shape{6, 4}));
  EXPECT_EQ(r.data_ptr(), t.data_ptr());
  EXPECT_EQ(at(r, {5, 3}), 23.f);
  EXPECT_THROW(t.reshape({5, -1}), InvalidArgument);
  EXPECT_THROW(t.reshape({-1, -1}), InvalidArgument);
  EXPECT_THROW(t.transpose(0, 1).reshape({24}), InvalidArgument);
  Tensor u = t.unsqueeze(1);
  EXPECT_EQ(u.shape(), (Shape{2, 1, 3, 4}));
  EXPECT_TRUE(u.is_contiguous());
}

TEST(Tensor, BroadcastUsesZeroStrides) {
  Tensor t = iota234().slice(0, 0, 1);  // [1,3,4]
  Tensor b = t.broadcast_to({5, 2, 3, 4});
  EXPECT_EQ(b.strides()[0], 0);
  EXPECT_EQ(b.strides()[1], 0);
  EXPECT_EQ(at(b, {4, 1, 2, 3}), 11.f);
  EXPECT_THROW(iota234().broadcast_to({2, 3, 5}), InvalidArgument);
  EXPECT_THROW(iota234().broadcast_to({3, 4}), InvalidArgument);
}

TEST(Tensor, ContiguousCopiesOnlyWhenNeeded) {
  Tensor t = iota234();
  EXPECT_EQ(t.contiguous().data_ptr(), t.data_ptr());
  Tensor p = t.permute({2, 0, 1});
  Tensor c = p.contiguous();
  EXPECT_NE(c.data_ptr(), t.data_ptr());
  EXPECT_TRUE(c.is_contiguous());
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t k = 0; k < 3; ++k) EXPECT_EQ(at(c, {i, j, k}), at(p, {i, j, k}));
  Tensor b = t.slice(0, 0, 1).broadcast_to({3, 1, 3, 4}).contiguous();
  EXPECT_EQ(at(b, {2, 0, 2, 3}), 11.f);
}

TEST(Tensor, BorrowChecksBounds) {
  std::vector<float> buf(12);
  auto owner = std::make_shared<int>(0);
  Tensor ok = Tensor::borrow(buf.data(), 48, {3, 4}, {16, 4}, DType::float32, Device::cpu(),
                             MemoryKind::host, owner);
  EXPECT_EQ(ok.data_ptr(), buf.data());
  EXPECT_FALSE(ok.storage()->owned());
  EXPECT_THROW(Tensor::borrow(buf.data(), 48, {4, 4}, {16, 4}, DType::float32, Device::cpu(),
                              MemoryKind::host, owner),
               InvalidArgument);
  EXPECT_EQ(owner.use_count(), 2);  // ok's storage holds the owner
}

TEST(Tensor, TypedAccessChecksDtype) {
  Tensor t = Tensor::empty({2}, DType::int32);
  EXPECT_NO_THROW(t.data<int32_t>());
  EXPECT_THROW(t.data<float>(), InvalidArgument);
}

}  // namespace
}  // namespace exafold
