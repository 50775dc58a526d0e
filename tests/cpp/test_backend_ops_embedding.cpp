// The per-op table's embeddings and gathers (exafold/ops/embedding.h): one-hot and scalar
// embedding terms, relative-position and distogram bins (points exactly on bin edges), gathers
// and the pseudo-beta atom.
#include <cmath>

#include "backend_ops_reference.h"
#include "exafold/ops/embedding.h"

namespace exafold::op_table {
namespace {

using backend::Op;

/// One embedding term as the test builds it: an integer index with its row offset (and, when
/// `scaled`, a per-element scale of its row), or a scalar value with its row.
struct Term {
  In x;
  bool one_hot;
  int64_t row;
  bool scaled = false;
  In scale = {};
};

/// out[r, :] = (sum of the terms) + bias, or out + that. The sum of T terms and the bias is
/// off by (T + 1) u times their magnitudes, each scalar term's product by one more; the
/// accumulation rounds once more.
Want embed_ref(const Want& initial, const In& w, const In* bias, const std::vector<Term>& terms,
               bool accumulate) {
  Want out = initial;
  const int64_t c = w.size(1), rows = c == 0 ? 0 : int64_t(out.v.size()) / c;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < c; ++k) {
      double s = 0, mag = 0;
      for (const Term& t : terms) {
        const double x = ref::flat(t.x, r);
        double v = 0;
        if (t.one_hot)
          v = x < 0 ? 0.0 : (t.scaled ? ref::flat(t.scale, r) : 1.0) * w(t.row + int64_t(x), k);
        else
          v = x * w(t.row, k);
        s += v;
        mag += std::abs(v);
      }
      if (bias) s += (*bias)(k), mag += std::abs((*bias)(k));
      const double bound = double(terms.size() + 2) * mag;
      const size_t at = size_t(r * c + k);
      if (accumulate)
        out.set(at, out.v[at] + s, bound + std::abs(out.v[at] + s));
      else
        out.set(at, s, bound);
    }
  return out;
}

std::vector<ops::EmbedTerm> device_terms(const std::vector<Term>& terms) {
  std::vector<ops::EmbedTerm> d;
  for (const Term& t : terms)
    d.push_back(t.one_hot ? ops::EmbedTerm::one_hot(t.x.d, t.row, t.scaled ? t.scale.d : Tensor())
                          : ops::EmbedTerm::scalar(t.x.d, t.row));
  return d;
}

OP_CASE(embed, embed) {
  // Weights [30, 6]: a one-hot over rows 0..9 with index -1 (no row) among its indices, a
  // second one-hot at offset 10 through an int64 transposed view, two scalar terms (one a
  // transposed view), and the bias.
  const int64_t n = 4, c = 6;
  for (bool bias : {true, false}) {
    if (bias ? !e.require(Op::embed, {e.act, e.act, e.param})
             : !e.require(Op::embed, {e.act, e.act}))
      continue;
    const In w = e.normal({30, c}), b = e.normal({c}, 1, e.param);
    std::vector<Term> terms = {
        {e.ints({n, n}, -1, 9), true, 0},
        {e.ints({n, n}, -1, 4, DType::int64).map([](const Tensor& t) { return t.transpose(0, 1); }),
         true, 10},
        {e.normal({n, n}), false, 20},
        {e.normal({n, n}).map([](const Tensor& t) { return t.transpose(0, 1); }), false, 21}};
    const std::string tag = bias ? " + bias" : "";
    const Tensor out = Tensor::empty({n, n, c}, e.act, e.device);
    ops::embed_into(out, w.d, bias ? b.d : Tensor(), device_terms(terms), false);
    e.expect("[4, 4, 6] of four terms" + tag, out,
             embed_ref(Want({n, n, c}), w, bias ? &b : nullptr, terms, false));
    // Added into a transposed view of the output (the pair's transpose).
    const In acc = e.normal({n, n, c});
    ops::embed_into(acc.d.transpose(0, 1), w.d, bias ? b.d : Tensor(), device_terms(terms), true);
    // The reference in the view's order, then scattered back to the storage's.
    Want initial({n, n, c});
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t k = 0; k < c; ++k) initial.v[initial.at(i, j, k)] = acc(j, i, k);
    const Want view = embed_ref(initial, w, bias ? &b : nullptr, terms, true);
    Want stored({n, n, c});
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t k = 0; k < c; ++k)
          stored.set(stored.at(j, i, k), view.v[view.at(i, j, k)], view.e[view.at(i, j, k)]);
    e.expect("added into [4, 4, 6]^(0 1)" + tag, acc.d, stored);
    // No terms at all (the bias alone), and no rows.
    const Tensor only = Tensor::empty({3, c}, e.act, e.device);
    ops::embed_into(only, w.d, bias ? b.d : Tensor(), {}, false);
    e.expect("no terms" + tag, only, embed_ref(Want({3, c}), w, bias ? &b : nullptr, {}, false));
    const Tensor none = Tensor::empty({0, c}, e.act, e.device);
    std::vector<Term> empty_terms = {{e.ints({0}, 0, 3), true, 0}};
    ops::embed_into(none, w.d, bias ? b.d : Tensor(), device_terms(empty_terms), false);
    e.expect("[0, 6]" + tag, none, Want({0, c}));
    // One-hot terms times a per-element scale (the template pair features times their backbone
    // mask): a 0/1 mask through a broadcast view, and real values through a transposed view.
    std::vector<Term> scaled = {
        {e.ints({n, n}, -1, 9), true, 0, true, e.mask({n}, 0.5).map([](const Tensor& t) {
           return t.unsqueeze(0).broadcast_to({4, 4});
         })},
        {e.ints({n, n}, 0, 4), true, 10, true,
         e.normal({n, n}).map([](const Tensor& t) { return t.transpose(0, 1); })},
        {e.normal({n, n}), false, 20}};
    const Tensor masked = Tensor::empty({n, n, c}, e.act, e.device);
    ops::embed_into(masked, w.d, bias ? b.d : Tensor(), device_terms(scaled), false);
    e.expect("scaled one-hots" + tag, masked,
             embed_ref(Want({n, n, c}), w, bias ? &b : nullptr, scaled, false));
    const In short_scale = e.normal({n});
    e.expect_error("a scale of another shape" + tag,
                   [&] {
                     ops::embed_into(masked, w.d, Tensor(),
                                     {ops::EmbedTerm::one_hot(scaled[0].x.d, 0, short_scale.d)},
                                     false);
                   },
                   {"embed: term scale has shape [4], expected [4, 4]"});
    const DType other = e.act == DType::float64 ? DType::float32 : DType::float64;
    const Tensor other_scale = ops::cast(scaled[0].scale.d, other);
    e.expect_error("a scale of another dtype" + tag,
                   [&] {
                     ops::embed_into(masked, w.d, Tensor(),
                                     {ops::EmbedTerm::one_hot(scaled[0].x.d, 0, other_scale)},
                                     false);
                   },
                   {"embed: a term's scale must be"});
  }
}

OP_CASE(relative_position_bins, relative_position_bins) {
  e.only_in(DType::float64);  // integers: once
  if (e.not_here()) return;
  for (DType it : {DType::int32, DType::int64}) {
    if (!e.require(Op::relative_position_bins, {DType::int32, it})) continue;
    // A chain break (a jump of 40) and a far residue: clipped at 0 and 2 r. Also through a
    // view (every other entry) and for no residues.
    const In ri = e.values({8}, {0, 1, 2, 3, 43, 44, 45, 200}, it);
    for (const auto& [x, name] :
         {std::pair{ri, "gap of 40"},
          std::pair{ri.map([](const Tensor& t) { return t.slice(0, 0, 8, 2); }), "::2"},
          std::pair{e.values({0}, std::vector<double>{}, it), "N = 0"}}) {
      const int64_t n = x.size(0);
      Want w({n, n});
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) w.v[w.at(i, j)] = std::clamp(x(i) - x(j) + 32, 0.0, 64.0);
      e.expect_exact(std::string(dtype_name(it)) + " " + name, ops::relative_position_bins(x.d, 32),
                     w);
    }
  }
}

/// The distogram contract with exact arithmetic: bin b where lower[b] < d^2 < upper[b].
Want distogram_ref(const In& p, double min, double max, int64_t bins) {
  const int64_t n = p.size(0);
  std::vector<double> lower(static_cast<size_t>(bins)), upper(static_cast<size_t>(bins));
  for (int64_t b = 0; b < bins; ++b) {
    const double edge = min + (max - min) * double(b) / double(bins - 1);
    lower[size_t(b)] = edge * edge;
  }
  for (int64_t b = 0; b < bins; ++b) upper[size_t(b)] = b + 1 < bins ? lower[size_t(b + 1)] : 1e8;
  Want w({n, n});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double d2 = 0;
      for (int k = 0; k < 3; ++k) d2 += (p(i, k) - p(j, k)) * (p(i, k) - p(j, k));
      double bin = -1;
      for (int64_t b = 0; b < bins; ++b)
        if (d2 > lower[size_t(b)] && d2 < upper[size_t(b)]) bin = double(b);
      w.v[w.at(i, j)] = bin;
    }
  return w;
}

OP_CASE(distogram_bins, distogram_bins) {
  if (!e.require(Op::distogram_bins, {DType::int32, e.act})) return;
  // Points on a grid of 0.25 with edges at multiples of 0.25 (the recycling distogram's 3.25,
  // 4.5, ..., 20.75; and 2, 3, .., 6): every squared distance and edge is exact in float32 too,
  // so the strict inequalities are tested exactly where they bite. The first points sit on
  // edges of the first grid: at 3.25 (on the lowest edge: below every bin), 4.5 (on the edge
  // between bins 0 and 1: in neither) and 30 (beyond the last edge: the last bin).
  const std::vector<double> fixed = {0, 0, 0, 0, 3.25, 0, 4.5, 0, 0, 30, 0, 0, 3, 4, 0};
  std::vector<double> pts = fixed;
  const In grid = e.ints({7, 3}, -24, 24, DType::float64);
  for (int64_t i = 0; i < 21; ++i) pts.push_back(0.25 * ref::flat(grid, i));
  const In p = e.values({12, 3}, pts, e.act);
  for (auto [min, max, bins] : {std::tuple<double, double, int64_t>{3.25, 20.75, 15}, {2, 6, 5}}) {
    const std::string tag = std::to_string(bins) + " bins";
    e.expect_exact(tag, ops::distogram_bins(p.d, min, max, bins), distogram_ref(p, min, max, bins));
  }
  // Points as a strided view (columns 1:4 of [6, 5]), and none.
  const In wide = e.values(
      {6, 5},
      [&] {
        std::vector<double> v(30);
        for (int64_t i = 0; i < 30; ++i) v[size_t(i)] = 0.5 * double((i * 7) % 17);
        return v;
      }(),
      e.act);
  const In view = wide.map([](const Tensor& t) { return t.slice(1, 1, 4); });
  e.expect_exact("columns 1:4 of [6, 5]", ops::distogram_bins(view.d, 2, 6, 5),
                 distogram_ref(view, 2, 6, 5));
  const In none = e.normal({0, 3});
  e.expect_exact("N = 0", ops::distogram_bins(none.d, 2, 6, 5), Want({0, 0}));
}

OP_CASE(gather, gather) {
  for (DType it : {DType::int32, DType::int64}) {
    if (!e.require(Op::gather, {e.act, e.act, it})) continue;
    const std::string dt(dtype_name(it));
    // atom37 from atom14 (more entries than the source has, repeats allowed), for positions
    // [N, A, 3] and for masks [N, A]; no residues.
    for (bool points : {true, false}) {
      const int64_t n = 3, a = 5, b = 8;
      const In x = points ? e.normal({n, a, 3}) : e.normal({n, a});
      const In index = e.ints({n, b}, 0, a - 1, it);
      const int64_t inner = points ? 3 : 1;
      Want w(points ? Shape{n, b, 3} : Shape{n, b});
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < b; ++k)
          for (int64_t c = 0; c < inner; ++c) {
            const int64_t src = int64_t(index(i, k));
            w.v[size_t((i * b + k) * inner + c)] = points ? x(i, src, c) : x(i, src);
          }
      e.expect_exact(dt + (points ? " [3, 5, 3] by [3, 8]" : " [3, 5] by [3, 8]"),
                     ops::gather(x.d, index.d), w);
    }
    e.expect_exact(dt + " N = 0", ops::gather(e.normal({0, 4, 3}).d, e.ints({0, 6}, 0, 3, it).d),
                   Want({0, 6, 3}));
    std::vector<double> iv = {0, 1, 2, 3, 4, 0, 1, 5};  // [1, 3] = 5 is outside 0..4
    const In bad = e.values({2, 4}, iv, it);
    e.expect_error(dt + " index out of range",
                   [&] {
                     ops::gather(e.normal({2, 5}).d, bad.d);
                   },
                   {"gather", "index[1, 3] = 5", "0..4"});
  }
}

OP_CASE(pseudo_beta, pseudo_beta) {
  // CB (atom37 index 3), and CA (index 1) for glycine (restype 7), for positions and masks.
  for (DType it : {DType::int32, DType::int64}) {
    if (!e.require(Op::pseudo_beta, {e.act, it, e.act})) continue;
    const std::string dt(dtype_name(it));
    const In aatype = e.values({5}, {7, 0, 7, 19, 20}, it);
    for (bool points : {true, false}) {
      const In x = points ? e.normal({5, 37, 3}) : e.mask({5, 37}, 0.5);
      const int64_t inner = points ? 3 : 1;
      Want w(points ? Shape{5, 3} : Shape{5});
      for (int64_t i = 0; i < 5; ++i) {
        const int64_t atom = aatype(i) == 7 ? 1 : 3;
        for (int64_t c = 0; c < inner; ++c)
          w.v[size_t(i * inner + c)] = points ? x(i, atom, c) : x(i, atom);
      }
      e.expect_exact(dt + (points ? " positions" : " masks"), ops::pseudo_beta(aatype.d, x.d), w);
    }
    e.expect_exact(
        dt + " N = 0",
        ops::pseudo_beta(e.values({0}, std::vector<double>{}, it).d, e.normal({0, 37, 3}).d),
        Want({0, 3}));
  }
}

}  // namespace
}  // namespace exafold::op_table
