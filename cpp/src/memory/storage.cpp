#include "exafold/memory/storage.h"

namespace exafold {

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device, MemoryKind kind) {
  Allocator& a = get_allocator(device, kind);
  std::shared_ptr<Storage> s(new Storage);
  s->data_ = a.allocate(nbytes);
  s->nbytes_ = nbytes;
  s->device_ = device;
  s->kind_ = kind;
  s->allocator_ = &a;
  return s;
}

std::shared_ptr<Storage> Storage::borrow(void* data, size_t nbytes, Device device, MemoryKind kind,
                                         std::shared_ptr<void> owner) {
  std::shared_ptr<Storage> s(new Storage);
  s->data_ = data;
  s->nbytes_ = nbytes;
  s->device_ = device;
  s->kind_ = kind;
  s->owner_ = std::move(owner);
  return s;
}

Storage::~Storage() {
  if (allocator_) allocator_->deallocate(data_);
}

}  // namespace exafold
