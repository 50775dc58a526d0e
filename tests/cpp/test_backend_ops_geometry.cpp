// The per-op table's structure-module geometry (exafold/ops/geometry.h, supplement Algorithms
// 20-25): quaternions and frames, the backbone update, invariant point attention, norms and
// distances, and atoms from torsion angles.
#include <cmath>

#include "backend_ops_reference.h"
#include "exafold/ops/geometry.h"

namespace exafold::op_table {
namespace {

using backend::Op;

/// n random unit quaternions (w, x, y, z), normalised in float64.
std::vector<double> unit_quaternions(Env& e, int64_t n) {
  const In g = e.normal({n, 4}, 1, DType::float64);
  std::vector<double> q(static_cast<size_t>(n * 4));
  for (int64_t i = 0; i < n; ++i) {
    double norm = 0;
    for (int k = 0; k < 4; ++k) norm += g(i, k) * g(i, k);
    for (int k = 0; k < 4; ++k) q[size_t(i * 4 + k)] = g(i, k) / std::sqrt(norm);
  }
  return q;
}

/// n random frames: rotations [n, 3, 3] of unit quaternions and translations ~ scale N(0, 1).
struct Frames {
  In rot, trans;
  ops::Frames device() const { return {rot.d, trans.d}; }
};
Frames random_frames(Env& e, const Shape& lead, double scale) {
  const int64_t n = lead.product();
  const std::vector<double> q = unit_quaternions(e, n);
  std::vector<double> r(static_cast<size_t>(n * 9));
  for (int64_t i = 0; i < n; ++i) {
    double rot[3][3], mag[3][3];
    ref::quat_to_rot(&q[size_t(i * 4)], rot, mag);
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) r[size_t(i * 9 + a * 3 + b)] = rot[a][b];
  }
  Shape rs = lead, ts = lead;
  rs.push_back(3);
  rs.push_back(3);
  ts.push_back(3);
  return {e.values(rs, r, e.act), e.normal(ts, scale)};
}

/// Frame i of [n, 3, 3] / [n, 3] inputs (flattened leading dimensions) as a ref::Frame.
ref::Frame frame_of(const In& rot, const In& trans, int64_t i) {
  ref::Frame f = ref::Frame::identity();
  for (int a = 0; a < 3; ++a) {
    for (int b = 0; b < 3; ++b) {
      f.m[a][b] = ref::flat(rot, i * 9 + a * 3 + b);
      f.mag[a][b] = std::abs(f.m[a][b]);
    }
    f.m[a][3] = ref::flat(trans, i * 3 + a);
    f.mag[a][3] = std::abs(f.m[a][3]);
  }
  return f;
}

OP_CASE(quat_to_rot, quat_to_rot) {
  if (!e.require(Op::quat_to_rot, {e.act, e.act})) return;
  // Random unit quaternions through a strided view (columns 1:5 of [6, 7]), the identity, none.
  std::vector<double> q = unit_quaternions(e, 6);
  std::vector<double> wide(42, 9.0);
  for (int64_t i = 0; i < 6; ++i)
    for (int k = 0; k < 4; ++k) wide[size_t(i * 7 + 1 + k)] = q[size_t(i * 4 + k)];
  wide[1] = 1, wide[2] = wide[3] = wide[4] = 0;
  const In quat =
      e.values({6, 7}, wide, e.act).map([](const Tensor& t) { return t.slice(1, 1, 5); });
  Want w({6, 3, 3});
  for (int64_t i = 0; i < 6; ++i) {
    const double qi[4] = {quat(i, 0), quat(i, 1), quat(i, 2), quat(i, 3)};
    double rot[3][3], mag[3][3];
    ref::quat_to_rot(qi, rot, mag);
    // Each entry sums up to four products q_i q_j (doubled exactly): five roundings.
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) w.set(w.at(i, a, b), rot[a][b], 5 * mag[a][b]);
  }
  e.expect("columns 1:5 of [6, 7] (row 0 the identity)", ops::quat_to_rot(quat.d), w);
  e.expect("N = 0", ops::quat_to_rot(e.normal({0, 4}).d), Want({0, 3, 3}));
}

OP_CASE(rigid_apply, rigid_apply) {
  if (!e.require(Op::rigid_apply, {e.act, e.act, e.act, e.act})) return;
  // Frames [5] on points [5, 4, 3] given as a transposed [4, 5, 3], both directions; no points;
  // no residues.
  for (auto [n, p] : {std::pair<int64_t, int64_t>{5, 4}, {5, 0}, {0, 3}}) {
    const Frames f = random_frames(e, {n}, 10);
    const In pts = e.normal({p, n, 3}, 10).map([](const Tensor& t) { return t.transpose(0, 1); });
    for (bool inverse : {false, true}) {
      Want w({n, p, 3});
      for (int64_t i = 0; i < n; ++i) {
        const ref::Frame fr = frame_of(f.rot, f.trans, i);
        for (int64_t k = 0; k < p; ++k) {
          const double x[3] = {pts(i, k, 0), pts(i, k, 1), pts(i, k, 2)};
          double out[3], mag[3];
          if (!inverse) {
            // R p + t: three products and three sums.
            fr.apply(x, out, mag);
            for (int a = 0; a < 3; ++a) w.set(w.at(i, k, a), out[a], 4 * mag[a]);
          } else {
            // R^T (p - t): the difference rounds, then three products and two sums.
            for (int a = 0; a < 3; ++a) {
              out[a] = mag[a] = 0;
              for (int r = 0; r < 3; ++r) {
                out[a] += fr.m[r][a] * (x[r] - fr.m[r][3]);
                mag[a] += std::abs(fr.m[r][a]) * (std::abs(x[r]) + std::abs(fr.m[r][3]));
              }
              w.set(w.at(i, k, a), out[a], 5 * mag[a]);
            }
          }
        }
      }
      e.expect(std::string(inverse ? "inverse, " : "") + "[" + std::to_string(n) + "] on [" +
                   std::to_string(p) + ", " + std::to_string(n) + ", 3]^(0 1)",
               ops::rigid_apply(f.device(), pts.d, inverse), w);
    }
  }
}

OP_CASE(backbone_update, backbone_update) {
  if (!e.require(Op::backbone_update, {e.act, e.act, e.act})) return;
  // Algorithm 23 lines 2-4 in place, with updates of the size the trained network makes, and
  // the identity frame with a zero update; and no residues.
  for (int64_t n : {6, 0}) {
    const In quat = e.values({n, 4}, unit_quaternions(e, n), e.act);
    const In trans = e.normal({n, 3}, 5);
    std::vector<double> uv(static_cast<size_t>(n * 6));
    const In u0 = e.normal({n, 6}, 0.3, DType::float64);
    for (int64_t i = 0; i < n * 6; ++i) uv[size_t(i)] = i < 6 ? 0.0 : ref::flat(u0, i);
    const In update = e.values({n, 6}, uv, e.act);
    Want wq({n, 4}), wt({n, 3});
    for (int64_t i = 0; i < n; ++i) {
      const double q[4] = {quat(i, 0), quat(i, 1), quat(i, 2), quat(i, 3)};
      const double vec[4] = {0, update(i, 0), update(i, 1), update(i, 2)};
      double dq[4], dq_mag[4], nq[4], en[4], norm2 = 0;
      ref::quat_multiply(q, vec, dq, dq_mag);
      for (int k = 0; k < 4; ++k) {
        nq[k] = q[k] + dq[k];
        en[k] = 4 * dq_mag[k] + std::abs(q[k]) + std::abs(nq[k]);  // 4-term sum, then + q
        norm2 += nq[k] * nq[k];
      }
      const double norm = std::sqrt(norm2);
      double e_norm2 = 4 * norm2;  // four squares summed
      for (int k = 0; k < 4; ++k) e_norm2 += 2 * std::abs(nq[k]) * en[k];
      const double rel_norm = 0.5 * e_norm2 / norm2 + 1;  // sqrt halves it, and rounds
      for (int k = 0; k < 4; ++k) {
        const double v = nq[k] / norm;
        wq.set(wq.at(i, k), v, en[k] / norm + std::abs(v) * (rel_norm + 1));
      }
      // The translation moves by the rotation of the frame before the update.
      double rot[3][3], rmag[3][3];
      ref::quat_to_rot(q, rot, rmag);
      for (int r = 0; r < 3; ++r) {
        double t = trans(i, r), mag = std::abs(t), err = 0;
        for (int c = 0; c < 3; ++c) {
          t += rot[r][c] * update(i, 3 + c);
          mag += std::abs(rot[r][c] * update(i, 3 + c));
          err += 5 * rmag[r][c] * std::abs(update(i, 3 + c));  // the rotation's own rounding
        }
        wt.set(wt.at(i, r), t, err + 4 * mag);
      }
    }
    ops::backbone_update_(quat.d, trans.d, update.d);
    e.expect("quaternions, N = " + std::to_string(n), quat.d, wq);
    e.expect("translations, N = " + std::to_string(n), trans.d, wt);
  }
}

struct Ipa {
  In qs, ks, vs, qp, kp, vp, bias, pair, mask, weights;
  double scalar_weight;

  ops::IpaInputs device() const {
    ops::IpaInputs in;
    in.q_scalar = qs.d, in.k_scalar = ks.d, in.v_scalar = vs.d;
    in.q_points = qp.d, in.k_points = kp.d, in.v_points = vp.d;
    in.bias = bias.d, in.pair = pair.d, in.mask = mask.d, in.point_weights = weights.d;
    in.scalar_weight = scalar_weight;
    return in;
  }
};

/// Algorithm 22 lines 7-10 term by term. A logit's error: the scaled scalar product (c_q + 2
/// times its magnitude), the squared point distances (3 P + 5 times their weighted sum), one
/// rounding for the bias and one for the mask term, whose -1e5 makes |logit| large for masked
/// pairs: their logits lose u 1e5 and the weights of a masked query follow. Then the weights'
/// errors (ref::softmax) and the N-term weighted sums.
struct IpaWant {
  Want scalar, points, pair;
};
IpaWant ipa_ref(const Ipa& in) {
  const int64_t n = in.qs.size(0), h = in.qs.size(1), cq = in.qs.size(2), cv = in.vs.size(2);
  const int64_t pq = in.qp.size(2), pv = in.vp.size(2), cz = in.pair.size(2);
  IpaWant w{Want({n, h, cv}), Want({n, h, pv, 3}), Want({n, h, cz})};
  for (int64_t i = 0; i < n; ++i)
    for (int64_t hh = 0; hh < h; ++hh) {
      std::vector<double> l(static_cast<size_t>(n)), el(static_cast<size_t>(n));
      const double wp = in.weights(hh);
      for (int64_t j = 0; j < n; ++j) {
        double s = 0, smag = 0, d2 = 0;
        for (int64_t c = 0; c < cq; ++c) {
          s += in.scalar_weight * in.qs(i, hh, c) * in.ks(j, hh, c);
          smag += std::abs(in.scalar_weight * in.qs(i, hh, c) * in.ks(j, hh, c));
        }
        for (int64_t p = 0; p < pq; ++p)
          for (int x = 0; x < 3; ++x) {
            const double d = in.qp(i, hh, p, x) - in.kp(j, hh, p, x);
            d2 += d * d;
          }
        const double b = in.bias(i, j, hh);
        const double x = s - 0.5 * wp * d2 + b - 1e5 * (1 - in.mask(i) * in.mask(j));
        l[size_t(j)] = x;
        el[size_t(j)] = double(cq + 2) * smag + double(3 * pq + 5) * 0.5 * wp * d2 + std::abs(b) +
                        2 * std::abs(x);
      }
      const ref::Softmax sm = ref::softmax(l, el);
      auto weighted = [&](auto value) {
        double o = 0, err = 0, mag = 0;
        for (int64_t j = 0; j < n; ++j) {
          const double v = value(j), a = sm.w[size_t(j)];
          o += a * v;
          err += a * std::abs(v) * sm.rel[size_t(j)];
          mag += a * std::abs(v);
        }
        return std::pair{o, err + double(n + 1) * mag};
      };
      for (int64_t c = 0; c < cv; ++c) {
        const auto [o, err] = weighted([&](int64_t j) { return in.vs(j, hh, c); });
        w.scalar.set(w.scalar.at(i, hh, c), o, err);
      }
      for (int64_t p = 0; p < pv; ++p)
        for (int x = 0; x < 3; ++x) {
          const auto [o, err] = weighted([&](int64_t j) { return in.vp(j, hh, p, x); });
          w.points.set(w.points.at(i, hh, p, x), o, err);
        }
      for (int64_t c = 0; c < cz; ++c) {
        const auto [o, err] = weighted([&](int64_t j) { return in.pair(i, j, c); });
        w.pair.set(w.pair.at(i, hh, c), o, err);
      }
    }
  return w;
}

OP_CASE(invariant_point_attention, invariant_point_attention) {
  std::vector<DType> sig(13, e.act);
  if (!e.require(Op::invariant_point_attention, sig)) return;
  // AlphaFold2's weights (w_C = sqrt(1 / (3 c)), softplus'd point weights), points in
  // nanometres (~10 of them), residue 2 masked (its own row attends over logits near -1e5).
  // The bias is a slice of a wider projection; no residues; one residue.
  for (int64_t n : {6, 1, 0}) {
    const int64_t h = 2, cq = 4, cv = 3, pq = 3, pv = 2, cz = 5;
    Ipa in;
    in.qs = e.normal({n, h, cq});
    in.ks = e.normal({n, h, cq});
    in.vs = e.normal({n, h, cv});
    in.qp = e.normal({n, h, pq, 3}, 3);
    in.kp = e.normal({n, h, pq, 3}, 3);
    in.vp = e.normal({n, h, pv, 3}, 3);
    in.bias = e.normal({n, n, h + 3}).map([&](const Tensor& t) { return t.slice(2, 1, 1 + h); });
    in.pair = e.normal({n, n, cz});
    std::vector<double> m(static_cast<size_t>(n), 1.0);
    if (n > 2) m[2] = 0;
    in.mask = e.values({n}, m, e.act);
    in.weights = e.uniform({h}, 0.05, 0.3);
    in.scalar_weight = std::sqrt(1.0 / (3 * cq));
    const ops::IpaOutputs out = ops::invariant_point_attention(in.device());
    const IpaWant w = ipa_ref(in);
    const std::string tag = "N = " + std::to_string(n);
    e.expect(tag + " scalar", out.scalar, w.scalar);
    e.expect(tag + " points", out.points, w.points);
    e.expect(tag + " pair", out.pair, w.pair);
  }
}

OP_CASE(point_norm, point_norm) {
  if (!e.require(Op::point_norm, {e.act, e.act})) return;
  // IPA's sqrt(1e-8 + x^2 + y^2 + z^2) over points [N, H, P, 3] (a transposed view), a wider
  // last dimension, a zero point without eps (exactly 0), and no rows. The c-term sum of
  // squares is off by (c + 1) u of itself, sqrt halves that and rounds once.
  auto bound = [](const In& x, int64_t row, double eps, double* v) {
    double s = eps;
    for (double t : ref::row_of(x, row)) s += t * t;
    *v = std::sqrt(s);
    return s == 0 ? 0.0 : 0.5 * double(x.size(-1) + 1) * *v + *v;
  };
  for (auto [shape, eps, name] :
       {std::tuple<Shape, double, const char*>{Shape{2, 4, 3, 3}, 1e-8, "[4, 2, 3, 3]^(0 1)"},
        {Shape{3, 7}, 1e-8, "[3, 7]"},
        {Shape{0, 3}, 1e-8, "[0, 3]"}}) {
    const bool transposed = shape.size() == 4;
    const In x =
        transposed
            ? e.normal({4, 2, 3, 3}, 3).map([](const Tensor& t) { return t.transpose(0, 1); })
            : e.normal(shape, 3);
    Shape out = x.shape();
    out.erase(out.size() - 1);
    Want w(out);
    for (int64_t r = 0; r < out.product(); ++r) {
      double v;
      const double b = bound(x, r, eps, &v);
      w.set(size_t(r), v, b);
    }
    e.expect(name, ops::point_norm(x.d, eps), w);
  }
  const In zero = e.values({2, 3}, {0, 0, 0, 3, 4, 0}, e.act);
  Want wz({2});
  wz.set(1, 5, 0);
  e.expect_exact("(0, 0, 0) and (3, 4, 0), eps 0", ops::point_norm(zero.d, 0), wz);
}

OP_CASE(l2_normalize, l2_normalize) {
  if (!e.require(Op::l2_normalize, {e.act, e.act})) return;
  // The torsion angles [N, 7, 2] (Alg 20 line 13) through a transposed view, with one pair
  // below the floor 1e-12 (divided by 1e-6, not by its norm), and no rows. The norm is off by
  // half the sum's (c + 1) u plus its sqrt, the quotient by one more rounding; below the floor
  // only the floor's own rounding and sqrt remain.
  const double floor = 1e-12;
  std::vector<double> v(28);
  const In g = e.normal({14, 2}, 1, DType::float64);
  for (int64_t i = 0; i < 28; ++i) v[size_t(i)] = ref::flat(g, i);
  v[6] = 1e-7, v[7] = -2e-7;  // [1, 1] of the view: |x|^2 = 5e-14
  const In x = e.values({7, 2, 2}, v, e.act).map([](const Tensor& t) { return t.transpose(0, 1); });
  Want w({2, 7, 2});
  for (int64_t r = 0; r < 14; ++r) {
    const std::vector<double> row = ref::row_of(x, r);
    const double s = row[0] * row[0] + row[1] * row[1];
    const double norm = std::sqrt(std::max(s, floor));
    const double rel = s < floor ? 0.5 * 1 + 1 : 0.5 * (2 + 1) + 1;
    for (int k = 0; k < 2; ++k)
      w.set(size_t(r * 2 + k), row[size_t(k)] / norm, std::abs(row[size_t(k)] / norm) * (rel + 1));
  }
  e.expect("[7, 2, 2]^(0 1), one pair below the floor", ops::l2_normalize(x.d, floor), w);
  e.expect("[0, 7, 2]", ops::l2_normalize(e.normal({0, 7, 2}).d, floor), Want({0, 7, 2}));
}

OP_CASE(pairwise_distance, pairwise_distance) {
  if (!e.require(Op::pairwise_distance, {e.act, e.act})) return;
  // Each difference rounds, its square and the three-term sum add three more, sqrt halves the
  // sum's and rounds: 4 u of the distance. Through a strided view; one point; none.
  for (int64_t n : {9, 1, 0}) {
    const In p = e.normal({n, 5}, 10).map([](const Tensor& t) { return t.slice(1, 2, 5); });
    Want w({n, n});
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double d2 = 0;
        for (int k = 0; k < 3; ++k) d2 += (p(i, k) - p(j, k)) * (p(i, k) - p(j, k));
        w.set(w.at(i, j), std::sqrt(d2), 4 * std::sqrt(d2));
      }
    e.expect("columns 2:5 of [" + std::to_string(n) + ", 5]", ops::pairwise_distance(p.d), w);
  }
}

/// Random residue-type tables of the shapes of residue_constants': default frames [21, 8, 4, 4]
/// (rigid transforms, translations of a few angstrom), atom groups [21, 14] in 0..7, literature
/// positions [21, 14, 3] and atom masks [21, 14].
struct Tables {
  In default_frames, atom_group, positions, mask;
};
Tables random_tables(Env& e, DType index) {
  const Frames f = random_frames(e, {21, 8}, 2);
  std::vector<double> m(static_cast<size_t>(21 * 8 * 16), 0.0);
  for (int64_t g = 0; g < 21 * 8; ++g) {
    for (int a = 0; a < 3; ++a) {
      for (int b = 0; b < 3; ++b)
        m[size_t(g * 16 + a * 4 + b)] = ref::flat(f.rot, g * 9 + a * 3 + b);
      m[size_t(g * 16 + a * 4 + 3)] = ref::flat(f.trans, g * 3 + a);
    }
    m[size_t(g * 16 + 15)] = 1;
  }
  return {e.values({21, 8, 4, 4}, m, e.act), e.ints({21, 14}, 0, 7, index),
          e.normal({21, 14, 3}, 2), e.mask({21, 14}, 0.8)};
}

/// A default frame of the table as a ref::Frame.
ref::Frame default_frame(const In& table, int64_t aa, int64_t g) {
  ref::Frame f = ref::Frame::identity();
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 4; ++b) {
      f.m[a][b] = table(aa, g, a, b);
      f.mag[a][b] = std::abs(f.m[a][b]);
    }
  return f;
}

OP_CASE(torsion_angles_to_frames, torsion_angles_to_frames) {
  for (DType it : {DType::int32, DType::int64}) {
    if (!e.require(Op::torsion_angles_to_frames, {e.act, e.act, it, e.act, e.act, e.act, e.act}))
      continue;
    const std::string dt(dtype_name(it));
    // Alg 24 lines 1-10: each group's default frame after its rotation about x by its torsion
    // (the backbone group by none), chi2..chi4 chained onto the previous chi frame, all after the
    // backbone frame. An output entry is a product of at most nine 4x4 transforms, each product
    // rounding its 3-term dot products and the translation's sum: 4 u per product, of the
    // product of the absolute values (ref::Frame::mag).
    for (int64_t n : {5, 0}) {
      const Tables t = random_tables(e, it);
      const Frames bb = random_frames(e, {n}, 10);
      const In aatype =
          e.values({n}, n ? std::vector<double>{0, 7, 20, 12, 5} : std::vector<double>{}, it);
      std::vector<double> sc(static_cast<size_t>(n * 14));
      const In angles = e.uniform({n, 7}, -M_PI, M_PI, DType::float64);
      for (int64_t i = 0; i < n * 7; ++i) {
        sc[size_t(2 * i)] = std::sin(ref::flat(angles, i));
        sc[size_t(2 * i + 1)] = std::cos(ref::flat(angles, i));
      }
      const In sin_cos = e.values({n, 7, 2}, sc, e.act);
      Want wr({n, 8, 3, 3}), wt({n, 8, 3});
      for (int64_t i = 0; i < n; ++i) {
        const int64_t aa = int64_t(aatype(i));
        ref::Frame to_backbone[8];
        for (int g = 0; g < 8; ++g) {
          const double s = g == 0 ? 0.0 : sin_cos(i, g - 1, 0),
                       c = g == 0 ? 1.0 : sin_cos(i, g - 1, 1);
          ref::Frame rx = ref::Frame::identity();
          rx.m[1][1] = c, rx.m[1][2] = -s, rx.m[2][1] = s, rx.m[2][2] = c;
          rx.mag[1][1] = rx.mag[2][2] = std::abs(c);
          rx.mag[1][2] = rx.mag[2][1] = std::abs(s);
          to_backbone[g] = default_frame(t.default_frames, aa, g) * rx;
        }
        for (int g = 5; g < 8; ++g) to_backbone[g] = to_backbone[g - 1] * to_backbone[g];
        const ref::Frame b = frame_of(bb.rot, bb.trans, i);
        for (int g = 0; g < 8; ++g) {
          const ref::Frame f = b * to_backbone[g];
          for (int r = 0; r < 3; ++r) {
            for (int c = 0; c < 3; ++c) wr.set(wr.at(i, g, r, c), f.m[r][c], 4 * 8 * f.mag[r][c]);
            wt.set(wt.at(i, g, r), f.m[r][3], 4 * 8 * f.mag[r][3]);
          }
        }
      }
      const ops::Frames out =
          ops::torsion_angles_to_frames(aatype.d, bb.device(), sin_cos.d, t.default_frames.d);
      e.expect(dt + " rotations, N = " + std::to_string(n), out.rot, wr);
      e.expect(dt + " translations, N = " + std::to_string(n), out.trans, wt);
    }
  }
}

OP_CASE(frames_to_atom14, frames_to_atom14) {
  for (DType it : {DType::int32, DType::int64}) {
    if (!e.require(Op::frames_to_atom14, {e.act, it, e.act, e.act, it, e.act, e.act})) continue;
    const std::string dt(dtype_name(it));
    // Alg 24 line 11: each atom's group frame applied to its literature position (three
    // products, three sums: 4 u of the magnitude), times its mask.
    for (int64_t n : {4, 0}) {
      const Tables t = random_tables(e, it);
      const Frames groups = random_frames(e, {n, 8}, 10);
      const In aatype =
          e.values({n}, n ? std::vector<double>{7, 0, 20, 3} : std::vector<double>{}, it);
      Want w({n, 14, 3});
      for (int64_t i = 0; i < n; ++i) {
        const int64_t aa = int64_t(aatype(i));
        for (int64_t a = 0; a < 14; ++a) {
          const int64_t g = int64_t(t.atom_group(aa, a));
          const ref::Frame f = frame_of(groups.rot, groups.trans, i * 8 + g);
          const double lit[3] = {t.positions(aa, a, 0), t.positions(aa, a, 1),
                                 t.positions(aa, a, 2)};
          double p[3], mag[3];
          f.apply(lit, p, mag);
          const double m = t.mask(aa, a);
          for (int x = 0; x < 3; ++x) w.set(w.at(i, a, x), p[x] * m, 4 * mag[x] * m);
        }
      }
      e.expect(
          dt + " N = " + std::to_string(n),
          ops::frames_to_atom14(aatype.d, groups.device(), t.atom_group.d, t.positions.d, t.mask.d),
          w);
    }
  }
}

}  // namespace
}  // namespace exafold::op_table
