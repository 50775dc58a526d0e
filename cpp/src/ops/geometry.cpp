// Structure-module geometry: argument checks and dispatch (exafold/ops/geometry.h).
#include "exafold/ops/geometry.h"

#include "dispatch.h"

namespace exafold::ops {

using backend::Op;
using detail::expect_shape;
using detail::run;

namespace {

constexpr std::string_view kIpa = "invariant_point_attention";

int64_t check_frames(std::string_view op, const Frames& f, std::string_view what) {
  check(f.rot.defined() && f.rot.rank() >= 3, op, ": ", what, " rotations are missing");
  Shape lead = f.rot.shape();
  lead.erase(lead.size() - 1);
  lead.erase(lead.size() - 1);
  Shape rot = lead, trans = lead;
  rot.push_back(3);
  rot.push_back(3);
  trans.push_back(3);
  expect_shape(op, f.rot, what, rot);
  expect_shape(op, f.trans, what, trans);
  check(f.rot.is_contiguous() && f.trans.is_contiguous(), op, ": ", what, " must be contiguous");
  return lead.product();
}

bool is_index(DType d) { return d == DType::int32 || d == DType::int64; }

void check_aatype(std::string_view op, const Tensor& aatype, int64_t n) {
  expect_shape(op, aatype, "aatype", {n});
  check(is_index(aatype.dtype()), op, ": aatype must be integer");
}

}  // namespace

Tensor quat_to_rot(const Tensor& quat) {
  detail::expect_rank("quat_to_rot", quat, "quaternions", 2);
  expect_shape("quat_to_rot", quat, "quaternions", {quat.size(0), 4});
  Tensor out = Tensor::empty({quat.size(0), 3, 3}, quat.dtype(), quat.device());
  run(Op::quat_to_rot, {&out, &quat}, [&](backend::Backend& b) { b.quat_to_rot(out, quat); });
  return out;
}

Tensor rigid_apply(const Frames& frames, const Tensor& points, bool inverse) {
  const int64_t n = check_frames("rigid_apply", frames, "frames");
  check(frames.rot.rank() == 3, "rigid_apply: frames must be [N, 3, 3] and [N, 3]");
  detail::expect_rank("rigid_apply", points, "points", 3);
  expect_shape("rigid_apply", points, "points", {n, points.size(1), 3});
  Tensor out = Tensor::empty(points.shape(), points.dtype(), points.device());
  run(Op::rigid_apply, {&out, &frames.rot, &frames.trans, &points},
      [&](backend::Backend& b) { b.rigid_apply(out, frames, points, inverse); });
  return out;
}

void backbone_update_(const Tensor& quat, const Tensor& trans, const Tensor& update) {
  detail::expect_rank("backbone_update", quat, "quaternions", 2);
  const int64_t n = quat.size(0);
  expect_shape("backbone_update", quat, "quaternions", {n, 4});
  expect_shape("backbone_update", trans, "translations", {n, 3});
  expect_shape("backbone_update", update, "update", {n, 6});
  check(quat.is_contiguous() && trans.is_contiguous() && update.is_contiguous(),
        "backbone_update: operands must be contiguous");
  run(Op::backbone_update, {&quat, &trans, &update},
      [&](backend::Backend& b) { b.backbone_update(quat, trans, update); });
}

IpaOutputs invariant_point_attention(const IpaInputs& in) {
  detail::expect_rank(kIpa, in.q_scalar, "q_scalar", 3);
  const int64_t n = in.q_scalar.size(0), h = in.q_scalar.size(1), cq = in.q_scalar.size(2);
  expect_shape(kIpa, in.k_scalar, "k_scalar", {n, h, cq});
  detail::expect_rank(kIpa, in.v_scalar, "v_scalar", 3);
  const int64_t cv = in.v_scalar.size(2);
  expect_shape(kIpa, in.v_scalar, "v_scalar", {n, h, cv});
  detail::expect_rank(kIpa, in.q_points, "q_points", 4);
  const int64_t pq = in.q_points.size(2);
  expect_shape(kIpa, in.q_points, "q_points", {n, h, pq, 3});
  expect_shape(kIpa, in.k_points, "k_points", {n, h, pq, 3});
  detail::expect_rank(kIpa, in.v_points, "v_points", 4);
  const int64_t pv = in.v_points.size(2);
  expect_shape(kIpa, in.v_points, "v_points", {n, h, pv, 3});
  expect_shape(kIpa, in.bias, "bias", {n, n, h});
  detail::expect_rank(kIpa, in.pair, "pair", 3);
  const int64_t cz = in.pair.size(2);
  expect_shape(kIpa, in.pair, "pair", {n, n, cz});
  expect_shape(kIpa, in.mask, "mask", {n});
  expect_shape(kIpa, in.point_weights, "point_weights", {h});
  for (const Tensor* t : {&in.q_scalar, &in.k_scalar, &in.v_scalar, &in.q_points, &in.k_points,
                          &in.v_points, &in.bias, &in.pair})
    detail::expect_unit_last(kIpa, *t, "every input");
  const DType dt = in.q_scalar.dtype();
  const Device dev = in.q_scalar.device();
  IpaOutputs out{Tensor::empty({n, h, cv}, dt, dev), Tensor::empty({n, h, pv, 3}, dt, dev),
                 Tensor::empty({n, h, cz}, dt, dev)};
  run(Op::invariant_point_attention,
      {&out.scalar, &out.points, &out.pair, &in.q_scalar, &in.k_scalar, &in.v_scalar, &in.q_points,
       &in.k_points, &in.v_points, &in.bias, &in.pair, &in.mask, &in.point_weights},
      [&](backend::Backend& b) { b.invariant_point_attention(out, in); });
  return out;
}

Tensor point_norm(const Tensor& x, double eps) {
  check(x.defined() && x.rank() >= 1, "point_norm: the input must have a last dimension");
  Shape s = x.shape();
  s.erase(s.size() - 1);
  Tensor out = Tensor::empty(s, x.dtype(), x.device());
  run(Op::point_norm, {&out, &x}, [&](backend::Backend& b) { b.point_norm(out, x, eps); });
  return out;
}

Tensor l2_normalize(const Tensor& x, double min_norm_sq) {
  check(x.defined() && x.rank() >= 1, "l2_normalize: the input must have a last dimension");
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  run(Op::l2_normalize, {&out, &x},
      [&](backend::Backend& b) { b.l2_normalize(out, x, min_norm_sq); });
  return out;
}

Tensor pairwise_distance(const Tensor& points) {
  detail::expect_rank("pairwise_distance", points, "points", 2);
  expect_shape("pairwise_distance", points, "points", {points.size(0), 3});
  const int64_t n = points.size(0);
  Tensor out = Tensor::empty({n, n}, points.dtype(), points.device());
  run(Op::pairwise_distance, {&out, &points},
      [&](backend::Backend& b) { b.pairwise_distance(out, points); });
  return out;
}

Frames torsion_angles_to_frames(const Tensor& aatype, const Frames& backbone, const Tensor& sin_cos,
                                const Tensor& default_frames) {
  constexpr std::string_view op = "torsion_angles_to_frames";
  const int64_t n = check_frames(op, backbone, "backbone frames");
  check(backbone.rot.rank() == 3, op, ": backbone frames must be [N, 3, 3] and [N, 3]");
  check_aatype(op, aatype, n);
  expect_shape(op, sin_cos, "angles", {n, 7, 2});
  expect_shape(op, default_frames, "default frames", {21, 8, 4, 4});
  check(default_frames.is_contiguous(), op, ": default frames must be contiguous");
  const DType dt = backbone.rot.dtype();
  const Device dev = backbone.rot.device();
  Frames out{Tensor::empty({n, 8, 3, 3}, dt, dev), Tensor::empty({n, 8, 3}, dt, dev)};
  run(Op::torsion_angles_to_frames,
      {&out.rot, &out.trans, &aatype, &backbone.rot, &backbone.trans, &sin_cos, &default_frames},
      [&](backend::Backend& b) {
        b.torsion_angles_to_frames(out, aatype, backbone, sin_cos, default_frames);
      });
  return out;
}

Tensor frames_to_atom14(const Tensor& aatype, const Frames& groups, const Tensor& atom_group,
                        const Tensor& atom_positions, const Tensor& atom_mask) {
  constexpr std::string_view op = "frames_to_atom14";
  check_frames(op, groups, "group frames");
  check(groups.rot.rank() == 4 && groups.rot.size(1) == 8, op,
        ": group frames must be [N, 8, 3, 3] and [N, 8, 3]");
  const int64_t n = groups.rot.size(0);
  check_aatype(op, aatype, n);
  expect_shape(op, atom_group, "atom groups", {21, 14});
  check(is_index(atom_group.dtype()), op, ": atom groups must be integer");
  expect_shape(op, atom_positions, "atom positions", {21, 14, 3});
  expect_shape(op, atom_mask, "atom mask", {21, 14});
  check(atom_group.is_contiguous() && atom_positions.is_contiguous() && atom_mask.is_contiguous(),
        op, ": atom groups, positions and mask must be contiguous");
  Tensor out = Tensor::empty({n, 14, 3}, groups.rot.dtype(), groups.rot.device());
  run(Op::frames_to_atom14,
      {&out, &aatype, &groups.rot, &groups.trans, &atom_group, &atom_positions, &atom_mask},
      [&](backend::Backend& b) {
        b.frames_to_atom14(out, aatype, groups, atom_group, atom_positions, atom_mask);
      });
  return out;
}

}  // namespace exafold::ops
