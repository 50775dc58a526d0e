#include "strict_backend.h"

#include <memory>
#include <vector>

#include "exafold/memory/strict.h"

namespace exafold::strict {
namespace {

thread_local std::unique_ptr<StrictAccess> t_access;

}  // namespace

void StrictBackend::enter(std::span<const Tensor* const> tensors) {
  std::vector<void*> allocations;
  for (const Tensor* t : tensors)
    if (t->storage()->device().type == DeviceType::strict)
      allocations.push_back(t->storage()->data());
  t_access = std::make_unique<StrictAccess>(allocations);
}

void StrictBackend::leave() { t_access.reset(); }

StrictBackend& strict_backend() {
  static StrictBackend b;
  return b;
}

}  // namespace exafold::strict
