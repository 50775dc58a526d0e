// Rigid frames T = (R, t) and unit quaternions (supplement 1.8), shared by Alg 20-25.
#pragma once

#include <cmath>

namespace exafold::model {

/// x -> rot x + trans, rot row-major. The layout of AlphaFold2's r3.Rigids.
template <class T>
struct Rigid {
  T rot[3][3];
  T trans[3];

  static Rigid identity() { return {{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, {0, 0, 0}}; }

  /// The frame that applies `inner` first, then this one (r3.rigids_mul_rigids(this, inner)).
  Rigid compose(const Rigid& inner) const {
    Rigid out;
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 3; ++c)
        out.rot[r][c] =
            rot[r][0] * inner.rot[0][c] + rot[r][1] * inner.rot[1][c] + rot[r][2] * inner.rot[2][c];
      out.trans[r] = rot[r][0] * inner.trans[0] + rot[r][1] * inner.trans[1] +
                     rot[r][2] * inner.trans[2] + trans[r];
    }
    return out;
  }

  /// rot p + trans.
  void apply(const T p[3], T out[3]) const {
    for (int r = 0; r < 3; ++r)
      out[r] = rot[r][0] * p[0] + rot[r][1] * p[1] + rot[r][2] * p[2] + trans[r];
  }

  /// rot^T (p - trans): the inverse frame applied to p.
  void invert_apply(const T p[3], T out[3]) const {
    const T d[3] = {p[0] - trans[0], p[1] - trans[1], p[2] - trans[2]};
    for (int c = 0; c < 3; ++c) out[c] = rot[0][c] * d[0] + rot[1][c] * d[1] + rot[2][c] * d[2];
  }
};

/// Rotation matrix of the unit quaternion q = (w, x, y, z); quat_affine.quat_to_rot.
template <class T>
void quat_to_rot(const T q[4], T rot[3][3]) {
  const T w = q[0], x = q[1], y = q[2], z = q[3];
  rot[0][0] = w * w + x * x - y * y - z * z;
  rot[0][1] = 2 * (x * y - w * z);
  rot[0][2] = 2 * (x * z + w * y);
  rot[1][0] = 2 * (x * y + w * z);
  rot[1][1] = w * w - x * x + y * y - z * z;
  rot[1][2] = 2 * (y * z - w * x);
  rot[2][0] = 2 * (x * z - w * y);
  rot[2][1] = 2 * (y * z + w * x);
  rot[2][2] = w * w - x * x - y * y + z * z;
}

/// Hamilton product a b of quaternions (w, x, y, z); quat_affine.quat_multiply.
template <class T>
void quat_multiply(const T a[4], const T b[4], T out[4]) {
  out[0] = a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3];
  out[1] = a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2];
  out[2] = a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1];
  out[3] = a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0];
}

}  // namespace exafold::model
