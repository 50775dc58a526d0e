// Structure-module geometry: one thread per residue, point or pair, and invariant point
// attention with one block per (residue, head). The arithmetic follows the cpu backend's term
// by term (cpp/src/cpu/geometry.cpp), in float32.
#include <algorithm>
#include <climits>

#include "cuda/check.h"
#include "cuda/geometry.cuh"
#include "cuda/kernel.cuh"
#include "cuda/strided.cuh"
#include "exafold/core/error.h"

namespace exafold::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int64_t kMaxBlocks = int64_t(1) << 16;
// Invariant point attention keeps a query's N weights and a reduction buffer in shared memory:
// 48 KiB, the most a block gets without opting in, holds 12,160 residues.
constexpr int64_t kIpaMaxResidues = (48 << 10) / sizeof(float) - kThreads;

unsigned blocks_for(int64_t n) {
  return unsigned(std::min((n + kThreads - 1) / kThreads, kMaxBlocks));
}

#define EXAFOLD_GRID_STRIDE(e, n)                                           \
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < (n); \
       e += int64_t(gridDim.x) * blockDim.x)

/// x -> rot x + trans, rot row-major: AlphaFold2's r3.Rigids.
struct Rigid {
  float rot[3][3];
  float trans[3];

  /// The frame that applies `inner` first, then this one (r3.rigids_mul_rigids(this, inner)).
  __device__ Rigid compose(const Rigid& inner) const {
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
  __device__ void apply(const float p[3], float out[3]) const {
    for (int r = 0; r < 3; ++r)
      out[r] = rot[r][0] * p[0] + rot[r][1] * p[1] + rot[r][2] * p[2] + trans[r];
  }
  /// rot^T (p - trans).
  __device__ void invert_apply(const float p[3], float out[3]) const {
    const float d[3] = {p[0] - trans[0], p[1] - trans[1], p[2] - trans[2]};
    for (int c = 0; c < 3; ++c) out[c] = rot[0][c] * d[0] + rot[1][c] * d[1] + rot[2][c] * d[2];
  }
};

__device__ Rigid load_rigid(const float* rot, const float* trans) {
  Rigid r;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) r.rot[i][j] = rot[i * 3 + j];
    r.trans[i] = trans[i];
  }
  return r;
}

__device__ void store_rigid(const Rigid& r, float* rot, float* trans) {
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) rot[i * 3 + j] = r.rot[i][j];
    trans[i] = r.trans[i];
  }
}

/// quat_affine.quat_to_rot of q = (w, x, y, z).
__device__ void rot_of(const float q[4], float rot[3][3]) {
  const float w = q[0], x = q[1], y = q[2], z = q[3];
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
__device__ void quat_multiply(const float a[4], const float b[4], float out[4]) {
  out[0] = a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3];
  out[1] = a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2];
  out[2] = a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1];
  out[3] = a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0];
}

__device__ __forceinline__ int64_t load_index(const View& t, int64_t off) {
  return t.dtype == DType::int64 ? static_cast<const int64_t*>(t.data)[off]
                                 : int64_t(static_cast<const int32_t*>(t.data)[off]);
}

__device__ __forceinline__ const float* fp(const View& v) {
  return static_cast<const float*>(v.data);
}
__device__ __forceinline__ float* out_fp(const View& v) { return static_cast<float*>(v.data); }

__global__ void quat_to_rot_kernel(const View out, const View quat, int64_t n) {
  EXAFOLD_GRID_STRIDE(i, n) {
    float q[4];
    for (int k = 0; k < 4; ++k) q[k] = fp(quat)[i * quat.stride[0] + k * quat.stride[1]];
    float rot[3][3];
    rot_of(q, rot);
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) out_fp(out)[i * 9 + r * 3 + c] = rot[r][c];
  }
}

__global__ void rigid_apply_kernel(const View out, const View rot, const View trans,
                                   const View points, bool inverse, int64_t n, int64_t np) {
  EXAFOLD_GRID_STRIDE(e, n * np) {
    const int64_t i = e / np, p = e % np;
    const Rigid f = load_rigid(fp(rot) + i * 9, fp(trans) + i * 3);
    float local[3];
    for (int x = 0; x < 3; ++x)
      local[x] = fp(points)[i * points.stride[0] + p * points.stride[1] + x * points.stride[2]];
    if (inverse)
      f.invert_apply(local, out_fp(out) + e * 3);
    else
      f.apply(local, out_fp(out) + e * 3);
  }
}

__global__ void backbone_update_kernel(const View quat, const View trans, const View update,
                                       int64_t n) {
  EXAFOLD_GRID_STRIDE(i, n) {
    float* qi = out_fp(quat) + i * 4;
    float* ti = out_fp(trans) + i * 3;
    const float* ui = fp(update) + i * 6;
    // The supplement's (1, b, c, d) applied to q is q + q (0, b, c, d); normalising afterwards
    // keeps the rotation proper whatever the update's size.
    const float vec[4] = {0, ui[0], ui[1], ui[2]};
    float q[4] = {qi[0], qi[1], qi[2], qi[3]};
    float dq[4];
    quat_multiply(q, vec, dq);
    float rot[3][3];
    rot_of(q, rot);
    float nq[4];
    float norm2 = 0;
    for (int k = 0; k < 4; ++k) {
      nq[k] = q[k] + dq[k];
      norm2 += nq[k] * nq[k];
    }
    const float norm = sqrtf(norm2);
    for (int k = 0; k < 4; ++k) qi[k] = nq[k] / norm;
    for (int r = 0; r < 3; ++r)
      ti[r] = ti[r] + rot[r][0] * ui[3] + rot[r][1] * ui[4] + rot[r][2] * ui[5];
  }
}

// Every thread of the block calls these; every thread receives the result. `partial` holds
// blockDim.x floats; the trailing barrier lets the next call reuse it.
__device__ float block_reduce_max(float v, float* partial) {
  partial[threadIdx.x] = v;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w /= 2) {
    if (int(threadIdx.x) < w)
      partial[threadIdx.x] = fmaxf(partial[threadIdx.x], partial[threadIdx.x + w]);
    __syncthreads();
  }
  const float r = partial[0];
  __syncthreads();
  return r;
}
__device__ float block_reduce_sum(float v, float* partial) {
  partial[threadIdx.x] = v;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w /= 2) {
    if (int(threadIdx.x) < w) partial[threadIdx.x] += partial[threadIdx.x + w];
    __syncthreads();
  }
  const float r = partial[0];
  __syncthreads();
  return r;
}

// Block (i, h): the logits of query i against every key j in shared memory, their softmax, then
// one thread per output channel (scalar values, value points, pair channels) summing over j.
__global__ void __launch_bounds__(kThreads) ipa_kernel(const IpaViews a) {
  EXAFOLD_DYNAMIC_SHARED(float, shared);
  const int64_t n = a.q_scalar.shape[0], heads = a.q_scalar.shape[1];
  const int64_t cq = a.q_scalar.shape[2], cv = a.v_scalar.shape[2];
  const int64_t pq = a.q_points.shape[2], pv = a.v_points.shape[2], cz = a.pair.shape[2];
  float* const partial = shared;  // [blockDim.x]
  float* const w = shared + blockDim.x;
  for (int64_t ih = blockIdx.x; ih < n * heads; ih += gridDim.x) {
    const int64_t i = ih / heads, h = ih % heads;
    const float wp = fp(a.point_weights)[h * a.point_weights.stride[0]];
    const float mi = fp(a.mask)[i * a.mask.stride[0]];
    const float* qs = fp(a.q_scalar) + i * a.q_scalar.stride[0] + h * a.q_scalar.stride[1];
    float max_logit = -INFINITY;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      const float* kj = fp(a.k_scalar) + j * a.k_scalar.stride[0] + h * a.k_scalar.stride[1];
      float scalar = 0;
      for (int64_t c = 0; c < cq; ++c) scalar += (a.scalar_weight * qs[c]) * kj[c];
      float dist2 = 0;
      for (int64_t p = 0; p < pq; ++p) {
        const float* qp = fp(a.q_points) + i * a.q_points.stride[0] + h * a.q_points.stride[1] +
                          p * a.q_points.stride[2];
        const float* kp = fp(a.k_points) + j * a.k_points.stride[0] + h * a.k_points.stride[1] +
                          p * a.k_points.stride[2];
        for (int x = 0; x < 3; ++x) dist2 += (qp[x] - kp[x]) * (qp[x] - kp[x]);
      }
      const float b =
          fp(a.bias)[i * a.bias.stride[0] + j * a.bias.stride[1] + h * a.bias.stride[2]];
      float logit = scalar + -0.5f * wp * dist2 + b;
      logit -= 1e5f * (1.f - mi * fp(a.mask)[j * a.mask.stride[0]]);
      w[j] = logit;
      max_logit = fmaxf(max_logit, logit);
    }
    max_logit = block_reduce_max(max_logit, partial);
    float sum = 0;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) sum += (w[j] = expf(w[j] - max_logit));
    sum = block_reduce_sum(sum, partial);  // its barriers also publish every w[j]

    for (int64_t o = threadIdx.x; o < cv + 3 * pv + cz; o += blockDim.x) {
      float acc = 0;
      if (o < cv) {
        for (int64_t j = 0; j < n; ++j)
          acc += w[j] * fp(a.v_scalar)[j * a.v_scalar.stride[0] + h * a.v_scalar.stride[1] + o];
        out_fp(a.out_scalar)[(i * heads + h) * cv + o] = acc / sum;
      } else if (o < cv + 3 * pv) {
        const int64_t p = (o - cv) / 3, x = (o - cv) % 3;
        for (int64_t j = 0; j < n; ++j)
          acc += w[j] * fp(a.v_points)[j * a.v_points.stride[0] + h * a.v_points.stride[1] +
                                       p * a.v_points.stride[2] + x];
        out_fp(a.out_points)[(i * heads + h) * pv * 3 + p * 3 + x] = acc / sum;
      } else {
        const int64_t c = o - cv - 3 * pv;
        for (int64_t j = 0; j < n; ++j)
          acc += w[j] * fp(a.pair)[i * a.pair.stride[0] + j * a.pair.stride[1] + c];
        out_fp(a.out_pair)[(i * heads + h) * cz + c] = acc / sum;
      }
    }
    __syncthreads();  // nobody reads this query's weights any more
  }
}

__global__ void point_norm_kernel(const View out, const View x, const View rows, int64_t n_rows,
                                  float eps) {
  const int64_t c = x.shape[x.rank - 1], step = x.stride[x.rank - 1];
  EXAFOLD_GRID_STRIDE(r, n_rows) {
    const float* xr = fp(x) + offset_of(rows, r);
    float s = eps;
    for (int64_t k = 0; k < c; ++k) s += xr[k * step] * xr[k * step];
    out_fp(out)[r] = sqrtf(s);
  }
}

__global__ void l2_normalize_kernel(const View out, const View x, const View rows, int64_t n_rows,
                                    float min_norm_sq) {
  const int64_t c = x.shape[x.rank - 1], step = x.stride[x.rank - 1];
  EXAFOLD_GRID_STRIDE(r, n_rows) {
    const float* xr = fp(x) + offset_of(rows, r);
    float s = 0;
    for (int64_t k = 0; k < c; ++k) s += xr[k * step] * xr[k * step];
    const float norm = sqrtf(fmaxf(s, min_norm_sq));
    for (int64_t k = 0; k < c; ++k) out_fp(out)[r * c + k] = xr[k * step] / norm;
  }
}

__global__ void pairwise_distance_kernel(const View out, const View points, int64_t n) {
  EXAFOLD_GRID_STRIDE(e, n * n) {
    const int64_t i = e / n, j = e % n;
    float d2 = 0;
    for (int x = 0; x < 3; ++x) {
      const float d = fp(points)[i * points.stride[0] + x * points.stride[1]] -
                      fp(points)[j * points.stride[0] + x * points.stride[1]];
      d2 += d * d;
    }
    out_fp(out)[e] = sqrtf(d2);
  }
}

constexpr int kGroups = 8, kAtoms = 14, kRestypes = 21;

__global__ void torsion_angles_to_frames_kernel(const View out_rot, const View out_trans,
                                                const View aatype, const View rot, const View trans,
                                                const View sin_cos, const View defaults,
                                                int64_t n) {
  EXAFOLD_GRID_STRIDE(i, n) {
    const int64_t aa = load_index(aatype, i * aatype.stride[0]);
    if (aa < 0 || aa >= kRestypes) continue;  // checked on the host before the launch
    // Group frames in the backbone frame; the backbone group itself gets no rotation.
    Rigid to_backbone[kGroups];
    for (int g = 0; g < kGroups; ++g) {
      const float* m = fp(defaults) + (aa * kGroups + g) * 16;
      Rigid def;
      for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c) def.rot[r][c] = m[r * 4 + c];
        def.trans[r] = m[r * 4 + 3];
      }
      const int64_t base = i * sin_cos.stride[0] + (g - 1) * sin_cos.stride[1];
      const float s = g == 0 ? 0.f : fp(sin_cos)[base];
      const float c = g == 0 ? 1.f : fp(sin_cos)[base + sin_cos.stride[2]];
      // Alg 25 makeRotX: [[1, 0, 0], [0, c, -s], [0, s, c]], applied after the default frame.
      const Rigid rot_x = {{{1, 0, 0}, {0, c, -s}, {0, s, c}}, {0, 0, 0}};
      to_backbone[g] = def.compose(rot_x);
    }
    // chi2..chi4 are given relative to the previous chi frame.
    for (int g = 5; g < kGroups; ++g) to_backbone[g] = to_backbone[g - 1].compose(to_backbone[g]);
    const Rigid bb = load_rigid(fp(rot) + i * 9, fp(trans) + i * 3);
    for (int g = 0; g < kGroups; ++g)
      store_rigid(bb.compose(to_backbone[g]), out_fp(out_rot) + (i * kGroups + g) * 9,
                  out_fp(out_trans) + (i * kGroups + g) * 3);
  }
}

__global__ void frames_to_atom14_kernel(const View out, const View aatype, const View grot,
                                        const View gtrans, const View atom_group, const View lit,
                                        const View mask, int64_t n) {
  EXAFOLD_GRID_STRIDE(e, n * kAtoms) {
    const int64_t i = e / kAtoms, a = e % kAtoms;
    const int64_t aa = load_index(aatype, i * aatype.stride[0]);
    if (aa < 0 || aa >= kRestypes) continue;  // checked on the host before the launch
    const int64_t g = load_index(atom_group, aa * kAtoms + a);
    float* p = out_fp(out) + e * 3;
    load_rigid(fp(grot) + (i * kGroups + g) * 9, fp(gtrans) + (i * kGroups + g) * 3)
        .apply(fp(lit) + (aa * kAtoms + a) * 3, p);
    const float m = fp(mask)[aa * kAtoms + a];
    for (int x = 0; x < 3; ++x) p[x] *= m;
  }
}

View rows_of(const View& v) {
  View r = v;
  r.rank = v.rank - 1;
  return r;
}

void check_launch() { EXAFOLD_CUDA_CHECK(cudaGetLastError()); }

}  // namespace

void quat_to_rot(const View& out, const View& quat, cudaStream_t stream) {
  const int64_t n = quat.shape[0];
  if (n == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n), kThreads, 0, stream, quat_to_rot_kernel)(out, quat, n);
  check_launch();
}

void rigid_apply(const View& out, const View& rot, const View& trans, const View& points,
                 bool inverse, cudaStream_t stream) {
  const int64_t n = points.shape[0], np = points.shape[1];
  if (n * np == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n * np), kThreads, 0, stream, rigid_apply_kernel)
  (out, rot, trans, points, inverse, n, np);
  check_launch();
}

void backbone_update(const View& quat, const View& trans, const View& update, cudaStream_t stream) {
  const int64_t n = quat.shape[0];
  if (n == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n), kThreads, 0, stream, backbone_update_kernel)
  (quat, trans, update, n);
  check_launch();
}

void invariant_point_attention(const IpaViews& a, cudaStream_t stream) {
  const int64_t n = a.q_scalar.shape[0], heads = a.q_scalar.shape[1];
  check(n <= kIpaMaxResidues, "GPU invariant point attention holds at most ", kIpaMaxResidues,
        " residues, not ", n);
  if (n == 0 || heads == 0) return;
  const size_t shared = size_t(kThreads + n) * sizeof(float);
  const auto blocks = unsigned(std::min<int64_t>(n * heads, INT_MAX));
  EXAFOLD_LAUNCH(blocks, kThreads, shared, stream, ipa_kernel)(a);
  check_launch();
}

void point_norm(const View& out, const View& x, float eps, cudaStream_t stream) {
  const View rows = rows_of(x);
  const int64_t n = rows.numel();
  if (n == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n), kThreads, 0, stream, point_norm_kernel)(out, x, rows, n, eps);
  check_launch();
}

void l2_normalize(const View& out, const View& x, float min_norm_sq, cudaStream_t stream) {
  const View rows = rows_of(x);
  const int64_t n = x.shape[x.rank - 1] == 0 ? 0 : rows.numel();
  if (n == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n), kThreads, 0, stream, l2_normalize_kernel)
  (out, x, rows, n, min_norm_sq);
  check_launch();
}

void pairwise_distance(const View& out, const View& points, cudaStream_t stream) {
  const int64_t n = points.shape[0];
  if (n == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n * n), kThreads, 0, stream, pairwise_distance_kernel)(out, points, n);
  check_launch();
}

void torsion_angles_to_frames(const View& out_rot, const View& out_trans, const View& aatype,
                              const View& rot, const View& trans, const View& sin_cos,
                              const View& default_frames, cudaStream_t stream) {
  const int64_t n = aatype.shape[0];
  if (n == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n), kThreads, 0, stream, torsion_angles_to_frames_kernel)
  (out_rot, out_trans, aatype, rot, trans, sin_cos, default_frames, n);
  check_launch();
}

void frames_to_atom14(const View& out, const View& aatype, const View& group_rot,
                      const View& group_trans, const View& atom_group, const View& atom_positions,
                      const View& atom_mask, cudaStream_t stream) {
  const int64_t n = aatype.shape[0];
  if (n == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n * kAtoms), kThreads, 0, stream, frames_to_atom14_kernel)
  (out, aatype, group_rot, group_trans, atom_group, atom_positions, atom_mask, n);
  check_launch();
}

}  // namespace exafold::cuda
