// nvcuda::wmma for the CPU emulation of CUDA: the 16x16x16 bfloat16 products with float32
// accumulation that exafold's tensor-core kernels use (fragments of matrix_a and matrix_b in
// row_major and col_major, the float32 accumulator, fill_fragment, load_matrix_sync,
// store_matrix_sync, mma_sync), with sm_80's fragment sizes: num_elements is 8 per lane.
//
// The element-to-lane mapping is this header's own and NOT the hardware's, which CUDA leaves
// opaque: element e = 16 * row + column of a fragment's 16x16 tile (row and column of the
// matrix it stands for: A is m x k, B is k x n, the accumulator m x n, whatever the memory
// layout) is x[e / 32] of lane e % 32. So lane l holds column l % 16 of rows l / 16, 2 + l / 16,
// ..., 14 + l / 16. A kernel may apply only uniform element-wise operations to fragment
// elements (scale, fill, convert); one that reads meaning into an element's position computes
// wrong results here instead of by luck on one GPU generation.
//
// Every call but fill_fragment is warp-collective, as on the hardware: it rendezvouses with
// the whole warp (__match_all_sync on the call's arguments, mask 0xffffffff, at the caller's
// line), so a divergent or partial-warp call is reported as any divergent warp intrinsic is
// (a deadlock, lanes waiting in different intrinsics, a mask naming an exited or missing lane),
// and lanes passing different pointers, leading dimensions or layouts fail the launch. The
// pointer must be 32-byte aligned and ldm a multiple of 16 bytes, as CUDA requires. Loads read
// and stores write each lane's own elements after the rendezvous, with no ordering towards the
// other lanes: data written by other lanes before a load, or read by them after a store, needs
// __syncwarp, as on the hardware.
//
// mma_sync computes each lane's elements of D = A B + C in float32: C plus the 16 products
// (exact: bfloat16 products have 16 significant bits) added in order of k, each sum rounded to
// nearest. A tensor core's order and internal rounding are unspecified; only a GPU run shows
// them.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include "cuda_bf16.h"
#include "cuda_runtime.h"

namespace nvcuda::wmma {

struct row_major;
struct col_major;
struct matrix_a;
struct matrix_b;
struct accumulator;

enum layout_t { mem_row_major, mem_col_major };

template <class T, int size>
struct __frag_base {
  enum { num_elements = size, num_storage_elements = size };
  typedef T element_type;
  typedef T storage_element_type;
  T x[size];
};

template <class Use, int m, int n, int k, class T, class Layout = void>
class fragment;

template <>
class fragment<matrix_a, 16, 16, 16, __nv_bfloat16, row_major>
    : public __frag_base<__nv_bfloat16, 8> {};
template <>
class fragment<matrix_a, 16, 16, 16, __nv_bfloat16, col_major>
    : public __frag_base<__nv_bfloat16, 8> {};
template <>
class fragment<matrix_b, 16, 16, 16, __nv_bfloat16, row_major>
    : public __frag_base<__nv_bfloat16, 8> {};
template <>
class fragment<matrix_b, 16, 16, 16, __nv_bfloat16, col_major>
    : public __frag_base<__nv_bfloat16, 8> {};
template <>
class fragment<accumulator, 16, 16, 16, float> : public __frag_base<float, 8> {};

template <class T, int size>
inline void fill_fragment(__frag_base<T, size>& f, const std::type_identity_t<T>& v) {
  for (int i = 0; i < size; ++i) f.x[i] = v;
}

namespace detail {

using exafold::emulation::Site;
constexpr int kTile = 16;
constexpr int kPerLane = kTile * kTile / 32;

// Row and column of element i of `lane`, and the lane and index that hold (row, column).
inline int row_of(int lane, int i) { return (32 * i + lane) / kTile; }
inline int column_of(int lane, int i) { return (32 * i + lane) % kTile; }
inline int lane_of(int row, int column) { return (kTile * row + column) % 32; }
inline int index_of(int row, int column) { return (kTile * row + column) / 32; }

inline int lane() { return int(exafold::emulation::t_thread->linear % 32); }

[[noreturn]] inline void fail(const char* call, Site site, const std::string& what) {
  exafold::emulation::block_of_caller(call).trap(
      site, std::string("nvcuda::wmma::") + call + ": " + what);
}

// The whole warp meets here, and every lane passes the same value.
inline void rendezvous(const char* call, uint64_t value, const char* what, Site site) {
  int same = 0;
  __match_all_sync(0xffffffffu, value, &same, site);
  if (!same) fail(call, site, std::string("the lanes of the warp ") + what);
}

// The arguments every lane of a load or store must agree on, and that CUDA requires.
inline void check_memory(const char* call, const void* p, unsigned ldm, unsigned element_bytes,
                         int layout, Site site) {
  rendezvous(call, uint64_t(reinterpret_cast<uintptr_t>(p)),
             "pass different pointers (or are in different wmma calls)", site);
  rendezvous(call, uint64_t(ldm) << 1 | unsigned(layout),
             "pass different leading dimensions or layouts", site);
  if (reinterpret_cast<uintptr_t>(p) % 32 != 0)
    fail(call, site, "the pointer is not 32-byte (256-bit) aligned");
  if (ldm * element_bytes % 16 != 0)
    fail(call, site, "ldm " + std::to_string(ldm) + " is not a multiple of 16 bytes");
}

// The memory offset of (row, column) in a tile of the given layout.
inline size_t offset(int row, int column, unsigned ldm, bool row_major_memory) {
  return row_major_memory ? size_t(row) * ldm + size_t(column) : size_t(column) * ldm + size_t(row);
}

template <class T, int size>
void load(const char* call, __frag_base<T, size>& f, const T* p, unsigned ldm,
          bool row_major_memory, Site site) {
  check_memory(call, p, ldm, sizeof(T), row_major_memory ? 0 : 1, site);
  const int l = lane();
  for (int i = 0; i < size; ++i)
    f.x[i] = p[offset(row_of(l, i), column_of(l, i), ldm, row_major_memory)];
}

template <class L>
constexpr bool is_row_major() {
  return std::is_same_v<L, row_major>;
}

// Where each lane's operands of an mma_sync are, for the others to read between the two
// rendezvous: one slot per thread of the block running on this OS thread.
struct Operands {
  const __nv_bfloat16* a = nullptr;
  const __nv_bfloat16* b = nullptr;
};
inline thread_local Operands t_operands[1024];

}  // namespace detail

template <class Use, class L>
void load_matrix_sync(fragment<Use, 16, 16, 16, __nv_bfloat16, L>& f, const __nv_bfloat16* p,
                      unsigned ldm,
                      exafold::emulation::Site site = exafold::emulation::Site::here()) {
  detail::load("load_matrix_sync", f, p, ldm, detail::is_row_major<L>(), site);
}

inline void load_matrix_sync(fragment<accumulator, 16, 16, 16, float>& f, const float* p,
                             unsigned ldm, layout_t layout,
                             exafold::emulation::Site site = exafold::emulation::Site::here()) {
  detail::load("load_matrix_sync", f, p, ldm, layout == mem_row_major, site);
}

inline void store_matrix_sync(float* p, const fragment<accumulator, 16, 16, 16, float>& f,
                              unsigned ldm, layout_t layout,
                              exafold::emulation::Site site = exafold::emulation::Site::here()) {
  detail::check_memory("store_matrix_sync", p, ldm, sizeof(float), layout, site);
  const int l = detail::lane();
  for (int i = 0; i < detail::kPerLane; ++i)
    p[detail::offset(detail::row_of(l, i), detail::column_of(l, i), ldm, layout == mem_row_major)] =
        f.x[i];
}

template <class LA, class LB>
void mma_sync(fragment<accumulator, 16, 16, 16, float>& d,
              const fragment<matrix_a, 16, 16, 16, __nv_bfloat16, LA>& a,
              const fragment<matrix_b, 16, 16, 16, __nv_bfloat16, LB>& b,
              const fragment<accumulator, 16, 16, 16, float>& c,
              exafold::emulation::Site site = exafold::emulation::Site::here()) {
  using namespace detail;
  const unsigned linear = exafold::emulation::t_thread->linear, base = linear - linear % 32;
  t_operands[linear] = {a.x, b.x};
  // A tag, so that an mma_sync meets only mma_syncs; after this every lane's operands are posted.
  rendezvous("mma_sync", 0x6d6d615f73796e63ull, "are in different wmma calls", site);
  const int l = lane();
  float out[kPerLane];
  for (int i = 0; i < kPerLane; ++i) {
    const int r = row_of(l, i), n = column_of(l, i);
    float sum = c.x[i];
    for (int k = 0; k < kTile; ++k) {
      const float x =
          __bfloat162float(t_operands[base + unsigned(lane_of(r, k))].a[index_of(r, k)]);
      const float y =
          __bfloat162float(t_operands[base + unsigned(lane_of(k, n))].b[index_of(k, n)]);
      sum += x * y;
    }
    out[i] = sum;
  }
  // No lane may change its operands before every lane has read them.
  rendezvous("mma_sync", 0x6d6d615f646f6e65ull, "are in different wmma calls", site);
  for (int i = 0; i < kPerLane; ++i) d.x[i] = out[i];
}

}  // namespace nvcuda::wmma
