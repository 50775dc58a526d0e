// Tensor = storage + byte offset + shape + byte strides + dtype + device. Views only, no math.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>

#include "exafold/core/dtype.h"
#include "exafold/core/error.h"
#include "exafold/core/shape.h"
#include "exafold/memory/device.h"
#include "exafold/memory/storage.h"

namespace exafold {

class Tensor {
 public:
  /// An undefined tensor (defined() is false).
  Tensor() = default;
  Tensor(std::shared_ptr<Storage> storage, int64_t offset, Shape shape, Strides strides,
         DType dtype, Device device);

  /// Uninitialised contiguous memory. With no kind: host memory (unified inside a
  /// MigratableMemory scope when a GPU exists) for host devices, device memory for a GPU.
  static Tensor empty(const Shape& shape, DType dtype, Device device = Device::cpu(),
                      std::optional<MemoryKind> kind = std::nullopt);
  /// Memory owned elsewhere, kept alive through `owner`; every element must lie in
  /// [data, data + nbytes), checked here.
  static Tensor borrow(void* data, size_t nbytes, const Shape& shape, const Strides& strides,
                       DType dtype, Device device, MemoryKind kind, std::shared_ptr<void> owner);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Strides& strides() const { return strides_; }
  int rank() const { return shape_.size(); }
  /// Size of dimension d; negative d counts from the end.
  int64_t size(int d) const { return shape_[norm_dim(d)]; }
  int64_t numel() const { return shape_.product(); }
  DType dtype() const { return dtype_; }
  size_t itemsize() const { return dtype_size(dtype_); }
  size_t nbytes() const { return size_t(numel()) * itemsize(); }
  /// Where this tensor is used; a migrate() that elides the copy changes it, not the storage.
  Device device() const { return device_; }
  MemoryKind memory_kind() const { return storage_->kind(); }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  int64_t offset() const { return offset_; }
  void* data_ptr() const { return static_cast<char*>(storage_->data()) + offset_; }
  template <class T>
  T* data() const {
    check(dtype_v<T> == dtype_, "tensor holds ", dtype_name(dtype_), ", not ",
          dtype_name(dtype_v<T>));
    return static_cast<T*>(data_ptr());
  }
  bool is_contiguous() const;

  /// Elements start, start+step, ... < stop of dimension dim (Python slice semantics for
  /// non-negative step; negative start/stop count from the end and are clamped).
  Tensor slice(int dim, int64_t start, int64_t stop, int64_t step = 1) const;
  /// Removes dimension dim, keeping index i.
  Tensor select(int dim, int64_t i) const;
  Tensor permute(std::span<const int> order) const;
  Tensor permute(std::initializer_list<int> order) const {
    return permute(std::span<const int>(order.begin(), order.size()));
  }
  Tensor transpose(int a, int b) const;
  /// A view with a new shape; one dimension may be -1. Contiguous tensors only (no hidden copy).
  Tensor reshape(const Shape& shape) const;
  Tensor unsqueeze(int dim) const;
  /// A stride-0 view repeating size-1 dimensions (numpy broadcasting rules, new dims in front).
  Tensor broadcast_to(const Shape& shape) const;
  /// This tensor when contiguous, else a contiguous copy on the same device.
  Tensor contiguous() const;
  /// A contiguous copy on the same device.
  Tensor clone() const;
  /// Same memory, seen as used from another device (migrate() uses it when no copy is needed).
  Tensor with_device(Device device) const;

 private:
  int norm_dim(int d) const;
  std::shared_ptr<Storage> storage_;
  int64_t offset_ = 0;
  Shape shape_;
  Strides strides_;
  DType dtype_ = DType::float32;
  Device device_;
};

/// Copies src into dst element by element (same shape and dtype, any strides, any devices).
void copy_into(const Tensor& dst, const Tensor& src);

/// `t` as seen from `device`: the same memory when `device` reaches it at full speed
/// (memory/migrate.h), with a prefetch hint for managed memory on a GPU; otherwise a contiguous
/// copy allocated on `device`. Counted in migrate_stats().
Tensor migrate(const Tensor& t, Device device);

/// Note [Staging]: `t` placed ahead of use where `device` will read it at full speed, in
/// memory the host still addresses (so that a data pipeline keeps it as a host array):
/// - on a GPU with concurrent managed access, managed memory prefetched to the device;
///   returns once the pages are there, so a prediction that then reads it waits for no upload;
/// - on any other GPU, pinned host memory, which its copy engines read without a staging copy;
/// - `t` itself when `device` already reads it at full speed (the same memory on the cpu, or
///   pageable memory on a GPU that uses the host's page tables), or when `device` is not a GPU
///   (the test devices copy at their migrate()).
/// The prefetch pipeline stages a prediction's features on its own threads, so that their
/// upload overlaps the prediction before (python/exafold/runner/worker.py). Counted in
/// migrate_stats().
Tensor stage(const Tensor& t, Device device);

}  // namespace exafold
