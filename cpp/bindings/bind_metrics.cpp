// Structure quality metrics: lDDT-Cα.
#include <algorithm>
#include <vector>

#include "common.h"
#include "exafold/core/error.h"
#include "exafold/metrics/lddt.h"
#include "numpy_vector.h"

namespace exafold::py {
namespace {

using pyb::arg;

template <class T>
using carray = pyb::array_t<T, pyb::array::c_style | pyb::array::forcecast>;

carray<double> coordinates(const pyb::handle& h, const char* name) {
  auto a = carray<double>::ensure(h);
  check(a && a.ndim() == 2 && a.shape(1) == 3, name, " must be an [n, 3] array of coordinates");
  return a;
}

// A missing mask means every residue is present.
carray<uint8_t> mask_or_ones(const pyb::object& mask, pyb::ssize_t n, const char* name) {
  if (mask.is_none()) {
    carray<uint8_t> ones(n);
    std::fill_n(ones.mutable_data(), n, uint8_t(1));
    return ones;
  }
  auto a = carray<uint8_t>::ensure(mask);
  check(a && a.ndim() == 1 && a.shape(0) == n, name, " must be a 1-D array of ", n, " entries");
  return a;
}

}  // namespace

void bind_metrics(pyb::module_& m) {
  m.def(
      "lddt_ca",
      [](const pyb::object& model, const pyb::object& reference, const pyb::object& model_mask,
         const pyb::object& reference_mask, double inclusion_radius,
         std::vector<double> thresholds) {
        const auto ref = coordinates(reference, "reference");
        const auto mod = coordinates(model, "model");
        const pyb::ssize_t n = ref.shape(0);
        check(mod.shape(0) == n, "model has ", mod.shape(0), " residues, reference ", n);
        const auto ref_mask = mask_or_ones(reference_mask, n, "reference_mask");
        const auto mod_mask = mask_or_ones(model_mask, n, "model_mask");
        metrics::LddtResult r;
        {
          pyb::gil_scoped_release nogil;
          r = metrics::lddt_ca({mod.data(), size_t(3 * n)}, {mod_mask.data(), size_t(n)},
                               {ref.data(), size_t(3 * n)}, {ref_mask.data(), size_t(n)},
                               {inclusion_radius, std::move(thresholds)});
        }
        pyb::dict d;
        d["global"] = r.global;
        d["mean_per_residue"] = r.mean_per_residue;
        d["total_pairs"] = r.total_pairs;
        d["per_residue"] = to_numpy(std::move(r.per_residue));
        d["pairs"] = to_numpy(std::move(r.pairs));
        return d;
      },
      arg("model"), arg("reference"), arg("model_mask") = pyb::none(),
      arg("reference_mask") = pyb::none(), pyb::kw_only(), arg("inclusion_radius") = 15.0,
      arg("thresholds") = std::vector<double>{0.5, 1.0, 2.0, 4.0},
      R"doc(lDDT-Cα of a model against a reference (Mariani et al. 2013), in float64.

model, reference: [n, 3] Cα coordinates (Å) on the same residue indices; no superposition.
model_mask, reference_mask: [n], nonzero where the Cα exists (default: all). Residue i is scored
over the other reference residues j with reference distance < inclusion_radius; a pair is
preserved at threshold t when |d_model - d_ref| < t, and a pair whose model Cα is missing is not.

Returns a dict: global (over all pairs, 0-1), mean_per_residue, total_pairs (ordered pairs),
per_residue ([n] float64, NaN where a residue has no pair or is absent from the reference) and
pairs ([n] int64, the pairs each residue was scored over). NaN scores when nothing is scored.)doc");
}

}  // namespace exafold::py
