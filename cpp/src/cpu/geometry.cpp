// Structure-module geometry of the cpu backend: frames, quaternion updates, invariant point
// attention and atoms from torsion angles (supplement Algorithms 20-25).
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu_backend.h"
#include "exafold/core/thread_pool.h"
#include "gemm.h"
#include "strided.h"
#include "workspace_slots.h"

namespace exafold::cpu {

namespace {

/// x -> rot x + trans, rot row-major: AlphaFold2's r3.Rigids.
template <class T>
struct Rigid {
  T rot[3][3];
  T trans[3];

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
  void apply(const T p[3], T out[3]) const {
    for (int r = 0; r < 3; ++r)
      out[r] = rot[r][0] * p[0] + rot[r][1] * p[1] + rot[r][2] * p[2] + trans[r];
  }
  /// rot^T (p - trans).
  void invert_apply(const T p[3], T out[3]) const {
    const T d[3] = {p[0] - trans[0], p[1] - trans[1], p[2] - trans[2]};
    for (int c = 0; c < 3; ++c) out[c] = rot[0][c] * d[0] + rot[1][c] * d[1] + rot[2][c] * d[2];
  }
};

template <class T>
Rigid<T> load_rigid(const T* rot, const T* trans) {
  Rigid<T> r;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) r.rot[i][j] = rot[i * 3 + j];
    r.trans[i] = trans[i];
  }
  return r;
}

template <class T>
void store_rigid(const Rigid<T>& r, T* rot, T* trans) {
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) rot[i * 3 + j] = r.rot[i][j];
    trans[i] = r.trans[i];
  }
}

/// quat_affine.quat_to_rot of q = (w, x, y, z).
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

/// Hamilton product a b of quaternions (w, x, y, z).
template <class T>
void quat_multiply(const T a[4], const T b[4], T out[4]) {
  out[0] = a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3];
  out[1] = a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2];
  out[2] = a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1];
  out[3] = a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0];
}

template <class T>
const T* ptr(const Tensor& t, int64_t off) {
  return reinterpret_cast<const T*>(static_cast<const char*>(t.data_ptr()) + off);
}

int64_t index_value(const Tensor& t, int64_t i) {
  const char* p = static_cast<const char*>(t.data_ptr()) + i * t.strides()[0];
  return t.dtype() == DType::int64 ? *reinterpret_cast<const int64_t*>(p)
                                   : *reinterpret_cast<const int32_t*>(p);
}

}  // namespace

void CpuBackend::quat_to_rot(const Tensor& out, const Tensor& quat) {
  if (dry_) return;
  with_float(out.dtype(), [&]<class T>() {
    T* o = static_cast<T*>(out.data_ptr());
    for (int64_t i = 0; i < quat.size(0); ++i) {
      T q[4];
      for (int k = 0; k < 4; ++k)
        q[k] = *ptr<T>(quat, i * quat.strides()[0] + k * quat.strides()[1]);
      T rot[3][3];
      cpu::quat_to_rot(q, rot);
      for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c) o[i * 9 + r * 3 + c] = rot[r][c];
    }
  });
}

void CpuBackend::rigid_apply(const Tensor& out, const ops::Frames& frames, const Tensor& points,
                             bool inverse) {
  if (dry_) return;
  const int64_t n = points.size(0), np = points.size(1);
  with_float(out.dtype(), [&]<class T>() {
    const T* rot = static_cast<const T*>(frames.rot.data_ptr());
    const T* trans = static_cast<const T*>(frames.trans.data_ptr());
    T* o = static_cast<T*>(out.data_ptr());
    thread_pool().parallel_for(n, 16, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const Rigid<T> f = load_rigid(rot + i * 9, trans + i * 3);
        for (int64_t p = 0; p < np; ++p) {
          T local[3];
          for (int x = 0; x < 3; ++x)
            local[x] = *ptr<T>(points, i * points.strides()[0] + p * points.strides()[1] +
                                           x * points.strides()[2]);
          if (inverse)
            f.invert_apply(local, o + (i * np + p) * 3);
          else
            f.apply(local, o + (i * np + p) * 3);
        }
      }
    });
  });
}

void CpuBackend::backbone_update(const Tensor& quat, const Tensor& trans, const Tensor& update) {
  if (dry_) return;
  with_float(quat.dtype(), [&]<class T>() {
    T* q = static_cast<T*>(quat.data_ptr());
    T* t = static_cast<T*>(trans.data_ptr());
    const T* u = static_cast<const T*>(update.data_ptr());
    for (int64_t i = 0; i < quat.size(0); ++i) {
      T* qi = q + i * 4;
      T* ti = t + i * 3;
      const T* ui = u + i * 6;
      // The supplement's (1, b, c, d) applied to q is q + q (0, b, c, d); normalising afterwards
      // keeps the rotation proper whatever the update's size.
      const T vec[4] = {0, ui[0], ui[1], ui[2]};
      T dq[4];
      quat_multiply(qi, vec, dq);
      T rot[3][3];
      cpu::quat_to_rot(qi, rot);
      T nq[4];
      T norm2 = 0;
      for (int k = 0; k < 4; ++k) {
        nq[k] = qi[k] + dq[k];
        norm2 += nq[k] * nq[k];
      }
      const T norm = std::sqrt(norm2);
      for (int k = 0; k < 4; ++k) qi[k] = nq[k] / norm;
      for (int r = 0; r < 3; ++r)
        ti[r] = ti[r] + rot[r][0] * ui[3] + rot[r][1] * ui[4] + rot[r][2] * ui[5];
    }
  });
}

void CpuBackend::invariant_point_attention(const ops::IpaOutputs& out, const ops::IpaInputs& in) {
  const int64_t n = in.q_scalar.size(0), heads = in.q_scalar.size(1);
  const int64_t cq = in.q_scalar.size(2), cv = in.v_scalar.size(2);
  const int64_t pq = in.q_points.size(2), pv = in.v_points.size(2), cz = in.pair.size(2);
  // Per task: one query's weights [H, N], its scaled scalar query and its value accumulators.
  WorkspaceSlots slots(out.scalar, std::min<int64_t>(tasks(), n), heads * n + cq + cv + 3 * pv);
  if (dry_ || n == 0) return;
  with_float(out.scalar.dtype(), [&]<class T>() {
    auto row = [](const Tensor& t, int64_t i, int64_t h) {
      return ptr<T>(t, i * t.strides()[0] + h * t.strides()[1]);
    };
    auto point = [](const Tensor& t, int64_t i, int64_t h, int64_t p) {
      return ptr<T>(t, i * t.strides()[0] + h * t.strides()[1] + p * t.strides()[2]);
    };
    const T w_scalar = T(in.scalar_weight);
    std::vector<T> w_point(static_cast<size_t>(heads)), mask(static_cast<size_t>(n));
    for (int64_t h = 0; h < heads; ++h)
      w_point[size_t(h)] = *ptr<T>(in.point_weights, h * in.point_weights.strides()[0]);
    for (int64_t i = 0; i < n; ++i) mask[size_t(i)] = *ptr<T>(in.mask, i * in.mask.strides()[0]);
    T* o_scalar = static_cast<T*>(out.scalar.data_ptr());
    T* o_points = static_cast<T*>(out.points.data_ptr());
    T* o_pair = static_cast<T*>(out.pair.data_ptr());
    const int64_t bias_i = in.bias.strides()[0], bias_j = in.bias.strides()[1];
    const int64_t bias_h = in.bias.strides()[2];
    const int64_t item = sizeof(T);
    slots.parallel_for<T>(n, [&](int64_t i, T* ws) {
      T* a = ws;  // [H, N]
      T* qs = a + heads * n;
      T* vs = qs + cq;
      T* vp = vs + cv;
      for (int64_t h = 0; h < heads; ++h) {
        const T* q = row(in.q_scalar, i, h);
        for (int64_t c = 0; c < cq; ++c) qs[c] = w_scalar * q[c];
        T* wrow = a + h * n;
        T max_logit = -INFINITY;
        for (int64_t j = 0; j < n; ++j) {
          const T* kj = row(in.k_scalar, j, h);
          T scalar = 0;
          for (int64_t c = 0; c < cq; ++c) scalar += qs[c] * kj[c];
          T dist2 = 0;
          for (int64_t p = 0; p < pq; ++p) {
            const T* qp = point(in.q_points, i, h, p);
            const T* kp = point(in.k_points, j, h, p);
            for (int x = 0; x < 3; ++x) dist2 += (qp[x] - kp[x]) * (qp[x] - kp[x]);
          }
          const T b = *ptr<T>(in.bias, i * bias_i + j * bias_j + h * bias_h);
          T logit = scalar + T(-0.5) * w_point[size_t(h)] * dist2 + b;
          logit -= T(1e5) * (T(1) - mask[size_t(i)] * mask[size_t(j)]);
          wrow[j] = logit;
          max_logit = std::max(max_logit, logit);
        }
        T sum = 0;
        for (int64_t j = 0; j < n; ++j) sum += (wrow[j] = std::exp(wrow[j] - max_logit));
        for (int64_t j = 0; j < n; ++j) wrow[j] /= sum;

        // Scalar values, then value points in the global frame.
        std::fill_n(vs, cv, T(0));
        std::fill_n(vp, 3 * pv, T(0));
        for (int64_t j = 0; j < n; ++j) {
          const T w = wrow[j];
          const T* vj = row(in.v_scalar, j, h);
          for (int64_t c = 0; c < cv; ++c) vs[c] += w * vj[c];
          for (int64_t p = 0; p < pv; ++p) {
            const T* pj = point(in.v_points, j, h, p);
            for (int x = 0; x < 3; ++x) vp[p * 3 + x] += w * pj[x];
          }
        }
        std::copy_n(vs, cv, o_scalar + (i * heads + h) * cv);
        std::copy_n(vp, 3 * pv, o_points + (i * heads + h) * pv * 3);
      }
      // Attention over the pair: [H, N] @ pair[i] [N, c_z] -> [H, c_z].
      gemm_serial<T>(
          false, false, heads, cz, n, T(1), a, n, ptr<T>(in.pair, i * in.pair.strides()[0]),
          std::max<int64_t>(in.pair.strides()[1] / item, cz), T(0), o_pair + i * heads * cz, cz);
    });
  });
}

void CpuBackend::point_norm(const Tensor& out, const Tensor& x, double eps) {
  if (dry_) return;
  const int64_t c = x.size(-1), rows = out.numel();
  with_float(out.dtype(), [&]<class T>() {
    const int64_t step = x.strides()[x.rank() - 1];
    T* o = static_cast<T*>(out.data_ptr());
    for (int64_t r = 0; r < rows; ++r) {
      const char* xr =
          static_cast<const char*>(x.data_ptr()) + row_offset(x.shape(), x.strides(), r);
      T s = T(eps);
      for (int64_t k = 0; k < c; ++k) {
        const T v = *reinterpret_cast<const T*>(xr + k * step);
        s += v * v;
      }
      o[r] = std::sqrt(s);
    }
  });
}

void CpuBackend::l2_normalize(const Tensor& out, const Tensor& x, double min_norm_sq) {
  if (dry_) return;
  const int64_t c = x.size(-1);
  const int64_t rows = c == 0 ? 0 : x.numel() / c;
  with_float(out.dtype(), [&]<class T>() {
    const int64_t step = x.strides()[x.rank() - 1];
    T* o = static_cast<T*>(out.data_ptr());
    for (int64_t r = 0; r < rows; ++r) {
      const char* xr =
          static_cast<const char*>(x.data_ptr()) + row_offset(x.shape(), x.strides(), r);
      auto v = [&](int64_t k) { return *reinterpret_cast<const T*>(xr + k * step); };
      T s = 0;
      for (int64_t k = 0; k < c; ++k) s += v(k) * v(k);
      const T norm = std::sqrt(std::max(s, T(min_norm_sq)));
      for (int64_t k = 0; k < c; ++k) o[r * c + k] = v(k) / norm;
    }
  });
}

void CpuBackend::pairwise_distance(const Tensor& out, const Tensor& points) {
  if (dry_) return;
  const int64_t n = points.size(0);
  with_float(out.dtype(), [&]<class T>() {
    auto coord = [&](int64_t i, int x) {
      return *ptr<T>(points, i * points.strides()[0] + x * points.strides()[1]);
    };
    T* o = static_cast<T*>(out.data_ptr());
    thread_pool().parallel_for(n, 16, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = 0; j < n; ++j) {
          T d2 = 0;
          for (int x = 0; x < 3; ++x) {
            const T d = coord(i, x) - coord(j, x);
            d2 += d * d;
          }
          o[i * n + j] = std::sqrt(d2);
        }
    });
  });
}

void CpuBackend::torsion_angles_to_frames(const ops::Frames& out, const Tensor& aatype,
                                          const ops::Frames& backbone, const Tensor& sin_cos,
                                          const Tensor& default_frames) {
  if (dry_) return;
  constexpr int G = 8;
  const int64_t n = aatype.size(0);
  with_float(out.rot.dtype(), [&]<class T>() {
    const T* defaults = static_cast<const T*>(default_frames.data_ptr());
    const T* brot = static_cast<const T*>(backbone.rot.data_ptr());
    const T* btrans = static_cast<const T*>(backbone.trans.data_ptr());
    T* orot = static_cast<T*>(out.rot.data_ptr());
    T* otrans = static_cast<T*>(out.trans.data_ptr());
    auto angle = [&](int64_t i, int t, int k) {
      return *ptr<T>(
          sin_cos, i * sin_cos.strides()[0] + t * sin_cos.strides()[1] + k * sin_cos.strides()[2]);
    };
    for (int64_t i = 0; i < n; ++i) {
      const int64_t aa = index_value(aatype, i);
      EXAFOLD_ASSERT(aa >= 0 && aa < 21);
      // Group frames in the backbone frame; the backbone group itself gets no rotation.
      Rigid<T> to_backbone[G];
      for (int g = 0; g < G; ++g) {
        const T* m = defaults + (aa * G + g) * 16;
        Rigid<T> def;
        for (int r = 0; r < 3; ++r) {
          for (int c = 0; c < 3; ++c) def.rot[r][c] = m[r * 4 + c];
          def.trans[r] = m[r * 4 + 3];
        }
        const T s = g == 0 ? T(0) : angle(i, g - 1, 0);
        const T c = g == 0 ? T(1) : angle(i, g - 1, 1);
        // Alg 25 makeRotX: [[1, 0, 0], [0, c, -s], [0, s, c]], applied after the default frame.
        const Rigid<T> rot_x = {{{1, 0, 0}, {0, c, -s}, {0, s, c}}, {0, 0, 0}};
        to_backbone[g] = def.compose(rot_x);
      }
      // chi2..chi4 are given relative to the previous chi frame.
      for (int g = 5; g < G; ++g) to_backbone[g] = to_backbone[g - 1].compose(to_backbone[g]);
      const Rigid<T> bb = load_rigid(brot + i * 9, btrans + i * 3);
      for (int g = 0; g < G; ++g)
        store_rigid(bb.compose(to_backbone[g]), orot + (i * G + g) * 9, otrans + (i * G + g) * 3);
    }
  });
}

void CpuBackend::frames_to_atom14(const Tensor& out, const Tensor& aatype,
                                  const ops::Frames& groups, const Tensor& atom_group,
                                  const Tensor& atom_positions, const Tensor& atom_mask) {
  if (dry_) return;
  constexpr int G = 8, A = 14;
  const int64_t n = aatype.size(0);
  with_float(out.dtype(), [&]<class T>() {
    const T* grot = static_cast<const T*>(groups.rot.data_ptr());
    const T* gtrans = static_cast<const T*>(groups.trans.data_ptr());
    const T* lit = static_cast<const T*>(atom_positions.data_ptr());
    const T* mask = static_cast<const T*>(atom_mask.data_ptr());
    T* pos = static_cast<T*>(out.data_ptr());
    for (int64_t i = 0; i < n; ++i) {
      const int64_t aa = index_value(aatype, i);
      EXAFOLD_ASSERT(aa >= 0 && aa < 21);
      for (int a = 0; a < A; ++a) {
        const int64_t g = atom_group.dtype() == DType::int64
                              ? static_cast<const int64_t*>(atom_group.data_ptr())[aa * A + a]
                              : static_cast<const int32_t*>(atom_group.data_ptr())[aa * A + a];
        const T* local = lit + (aa * A + a) * 3;
        T* p = pos + (i * A + a) * 3;
        load_rigid(grot + (i * G + g) * 9, gtrans + (i * G + g) * 3).apply(local, p);
        const T m = mask[aa * A + a];
        for (int e = 0; e < 3; ++e) p[e] *= m;
      }
    }
  });
}

}  // namespace exafold::cpu
