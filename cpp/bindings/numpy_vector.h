// Handing a std::vector to numpy without a copy: the array owns the vector through a capsule.
#pragma once

#include <vector>

#include "common.h"

namespace exafold::py {

template <class T>
pyb::array_t<T> to_numpy(std::vector<T>&& v, std::vector<pyb::ssize_t> shape = {}) {
  auto* owned = new std::vector<T>(std::move(v));
  pyb::capsule free(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  if (shape.empty()) shape = {pyb::ssize_t(owned->size())};
  return pyb::array_t<T>(shape, owned->data(), free);
}

}  // namespace exafold::py
