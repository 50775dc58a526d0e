#include "exafold/features/atom_maps.h"

#include <cstring>

#include "exafold/model/residue_constants.h"

namespace exafold::features {

AtomMaps atom_maps(const Tensor& aatype) {
  using namespace model::rc;
  check(aatype.rank() == 1, "aatype must be [N], got ", aatype.shape().str());
  check(aatype.dtype() == DType::int32 || aatype.dtype() == DType::int64,
        "aatype must be int32 or int64, got ", dtype_name(aatype.dtype()));
  const int64_t n = aatype.size(0);
  Tensor a = aatype.contiguous();
  AtomMaps m;
  m.residx_atom37_to_atom14 = Tensor::empty({n, kAtom37}, DType::int32);
  m.atom37_atom_exists = Tensor::empty({n, kAtom37}, DType::float32);
  m.atom14_atom_exists = Tensor::empty({n, kAtom14}, DType::float32);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = a.dtype() == DType::int32 ? a.data<int32_t>()[i] : a.data<int64_t>()[i];
    check(t >= 0 && t < kNumRestypes, "residue type ", t, " at position ", i, " is outside 0..",
          kNumRestypes - 1);
    std::memcpy(m.residx_atom37_to_atom14.data<int32_t>() + i * kAtom37,
                restype_atom37_to_atom14[t], sizeof(int32_t) * kAtom37);
    std::memcpy(m.atom37_atom_exists.data<float>() + i * kAtom37, restype_atom37_mask[t],
                sizeof(float) * kAtom37);
    std::memcpy(m.atom14_atom_exists.data<float>() + i * kAtom14, restype_atom14_mask[t],
                sizeof(float) * kAtom14);
  }
  return m;
}

}  // namespace exafold::features
