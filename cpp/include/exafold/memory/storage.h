// A block of memory that knows its device and kind: allocated here, or borrowed from an owner.
#pragma once

#include <cstddef>
#include <memory>

#include "exafold/memory/allocator.h"
#include "exafold/memory/device.h"

namespace exafold {

class Storage {
 public:
  /// nbytes of `kind` memory homed on `device`, from that pair's caching allocator.
  static std::shared_ptr<Storage> allocate(size_t nbytes, Device device, MemoryKind kind);
  /// Memory owned elsewhere (a numpy array, a mapped file); `owner` is held until the storage dies.
  static std::shared_ptr<Storage> borrow(void* data, size_t nbytes, Device device, MemoryKind kind,
                                         std::shared_ptr<void> owner);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  MemoryKind kind() const { return kind_; }
  /// True when the memory came from an exafold allocator (false when borrowed).
  bool owned() const { return allocator_ != nullptr; }

 private:
  Storage() = default;
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  MemoryKind kind_ = MemoryKind::host;
  Allocator* allocator_ = nullptr;
  std::shared_ptr<void> owner_;
};

}  // namespace exafold
