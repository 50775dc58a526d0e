// AlphaFold2 supplement Algorithm 32: the recycling embedder.
#include "exafold/model/recycling_embedder.h"

#include <cstring>

#include "exafold/core/thread_pool.h"
#include "exafold/ops/linear.h"
#include "model/trunk_common.h"

namespace exafold::model {

using namespace detail;

namespace {

// Recycled distances are binned between these pseudo-beta distances (Angstrom).
constexpr double kMinBin = 3.25;
constexpr double kMaxBin = 20.75;
// The upper edge of the last bin (squared Angstrom): it catches everything beyond kMaxBin.
constexpr double kLastUpper = 1e8;
// atom37 indices (residue_constants.atom_order) and the glycine restype.
constexpr int kAtomCA = 1;
constexpr int kAtomCB = 3;
constexpr int64_t kGlycine = 7;

/// Index of the set bin of squared distance d2, or -1 when none is.
template <class T>
int64_t distogram_bin(T d2, const std::vector<T>& lower, const std::vector<T>& upper) {
  for (size_t b = 0; b < lower.size(); ++b)
    if (d2 > lower[b] && d2 < upper[b]) return int64_t(b);
  return -1;
}

template <class T>
std::vector<int64_t> distogram_bins(const Tensor& aatype, const Tensor& prev_pos, int64_t bins) {
  const int64_t n = aatype.rank() == 1 ? aatype.size(0) : -1;
  check(n >= 0, "aatype has shape ", aatype.shape().str(), ", expected [N]");
  const std::vector<int64_t> aa = int_feature(aatype, "aatype", {n});
  const Tensor pos_t = float_feature<T>(prev_pos, "prev_pos", {n, 37, 3});
  const T* pos = pos_t.data<T>();
  std::vector<T> lower(static_cast<size_t>(bins)), upper(static_cast<size_t>(bins));
  for (int64_t b = 0; b < bins; ++b) {
    const T edge = T(kMinBin + (kMaxBin - kMinBin) * double(b) / double(bins - 1));
    lower[size_t(b)] = edge * edge;
  }
  for (int64_t b = 0; b < bins; ++b)
    upper[size_t(b)] = b + 1 < bins ? lower[size_t(b + 1)] : T(kLastUpper);
  // [N, 3] pseudo-beta positions
  std::vector<T> beta(static_cast<size_t>(n * 3));
  for (int64_t i = 0; i < n; ++i) {
    const int atom = aa[size_t(i)] == kGlycine ? kAtomCA : kAtomCB;
    for (int x = 0; x < 3; ++x) beta[size_t(i * 3 + x)] = pos[(i * 37 + atom) * 3 + x];
  }
  std::vector<int64_t> out(static_cast<size_t>(n * n));
  thread_pool().parallel_for(n, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t j = 0; j < n; ++j) {
        T d2 = 0;
        for (int x = 0; x < 3; ++x) {
          const T d = beta[size_t(i * 3 + x)] - beta[size_t(j * 3 + x)];
          d2 += d * d;
        }
        out[size_t(i * n + j)] = distogram_bin(d2, lower, upper);
      }
  });
  return out;
}

}  // namespace

Recycled Recycled::zeros(int64_t n, int64_t c_m, int64_t c_z, DType dtype) {
  Recycled r{Tensor::empty({n, c_m}, dtype), Tensor::empty({n, n, c_z}, dtype),
             Tensor::empty({n, 37, 3}, dtype)};
  for (const Tensor* t : {&r.prev_msa_first_row, &r.prev_pair, &r.prev_pos})
    std::memset(t->data_ptr(), 0, t->nbytes());
  return r;
}

template <class T>
Tensor recycled_distogram(const Tensor& aatype, const Tensor& prev_pos, int64_t bins) {
  const std::vector<int64_t> bin = distogram_bins<T>(aatype, prev_pos, bins);
  const int64_t n = aatype.size(0);
  Tensor out = Tensor::empty({n, n, bins}, dtype_v<T>);
  T* o = out.data<T>();
  std::fill_n(o, out.numel(), T(0));
  for (int64_t ij = 0; ij < n * n; ++ij)
    if (bin[size_t(ij)] >= 0) o[ij * bins + bin[size_t(ij)]] = T(1);
  return out;
}

template <class T>
void recycling_embedder(const ParamScope& p, const Tensor& aatype, const Recycled& prev,
                        Tensor& msa, Tensor& pair) {
  const LinearParams<T> pos_linear = linear_params<T>(p / "prev_pos_linear");
  const LayerNormParams<T> msa_norm = layer_norm_params<T>(p / "prev_msa_first_row_norm");
  const LayerNormParams<T> pair_norm = layer_norm_params<T>(p / "prev_pair_norm");
  check(msa.rank() == 3 && msa.is_contiguous() && pair.is_contiguous(), "recycling_embedder: msa ",
        msa.shape().str(),
        " and pair must be contiguous [S, N, c_m]"
        " and [N, N, c_z]");
  const int64_t n = msa.size(1), c_m = msa_norm.c, c_z = pair_norm.c;
  check_input<T>(msa, "msa", {msa.size(0), n, c_m});
  check_input<T>(pair, "pair", {n, n, c_z});
  const std::vector<int64_t> bin = distogram_bins<T>(aatype, prev.prev_pos, pos_linear.in);
  const Tensor first = float_feature<T>(prev.prev_msa_first_row, "prev_msa_first_row", {n, c_m});
  const Tensor prev_pair = float_feature<T>(prev.prev_pair, "prev_pair", {n, n, c_z});

  T* z = pair.data<T>();
  // pair += dgram @ W + b; the one-hot product is row `bin` of W, exactly
  thread_pool().parallel_for(n * n, 64, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = bin[size_t(r)];
      for (int64_t k = 0; k < c_z; ++k)
        z[r * c_z + k] += (b >= 0 ? pos_linear.weights[b * c_z + k] : T(0)) + pos_linear.bias[k];
    }
  });
  // msa[0] += LayerNorm(prev_msa_first_row)
  Tensor first_norm = Tensor::empty({n, c_m}, dtype_v<T>);
  ops::layer_norm<T>(first.data<T>(), n, c_m, msa_norm.scale, msa_norm.offset,
                     first_norm.data<T>());
  add_into<T>(msa.data<T>(), first_norm.data<T>(), n * c_m);
  // pair += LayerNorm(prev_pair), a row block at a time
  const int64_t rows = std::min<int64_t>(n, 64);
  Tensor pn = Tensor::empty({rows, n, c_z}, dtype_v<T>);
  for (int64_t i0 = 0; i0 < n; i0 += rows) {
    const int64_t nr = std::min(rows, n - i0);
    ops::layer_norm<T>(prev_pair.data<T>() + i0 * n * c_z, nr * n, c_z, pair_norm.scale,
                       pair_norm.offset, pn.data<T>());
    add_into<T>(z + i0 * n * c_z, pn.data<T>(), nr * n * c_z);
  }
}

template Tensor recycled_distogram<float>(const Tensor&, const Tensor&, int64_t);
template Tensor recycled_distogram<double>(const Tensor&, const Tensor&, int64_t);
template void recycling_embedder<float>(const ParamScope&, const Tensor&, const Recycled&, Tensor&,
                                        Tensor&);
template void recycling_embedder<double>(const ParamScope&, const Tensor&, const Recycled&, Tensor&,
                                         Tensor&);

}  // namespace exafold::model
