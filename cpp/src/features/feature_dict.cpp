#include "exafold/features/feature_dict.h"

#include <algorithm>

namespace exafold::features {

void FeatureDict::set(std::string name, Tensor value) {
  auto it =
      std::find_if(items_.begin(), items_.end(), [&](const Item& i) { return i.first == name; });
  if (it != items_.end()) {
    it->second = std::move(value);
  } else {
    items_.emplace_back(std::move(name), std::move(value));
  }
}

const Tensor& FeatureDict::at(std::string_view name) const {
  for (const auto& [n, t] : items_)
    if (n == name) return t;
  fail("feature '", name, "' is missing");
}

bool FeatureDict::contains(std::string_view name) const {
  return std::any_of(items_.begin(), items_.end(), [&](const Item& i) { return i.first == name; });
}

}  // namespace exafold::features
