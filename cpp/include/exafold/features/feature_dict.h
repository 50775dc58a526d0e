// FeatureDict: named feature tensors in a fixed order, with AlphaFold2's names and dtypes.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exafold/tensor/tensor.h"

namespace exafold::features {

class FeatureDict {
 public:
  using Item = std::pair<std::string, Tensor>;

  /// Adds `name`, or replaces it in place.
  void set(std::string name, Tensor value);
  /// @throws InvalidArgument naming the feature when it is absent.
  const Tensor& at(std::string_view name) const;
  bool contains(std::string_view name) const;
  size_t size() const { return items_.size(); }
  std::vector<Item>::const_iterator begin() const { return items_.begin(); }
  std::vector<Item>::const_iterator end() const { return items_.end(); }

 private:
  std::vector<Item> items_;
};

}  // namespace exafold::features
