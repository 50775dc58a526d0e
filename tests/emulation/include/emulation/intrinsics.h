// Device-side built-ins for kernels compiled as C++: the thread and block indices, barriers,
// warp intrinsics (32 lanes, *_sync forms only), atomics, fences and the math intrinsics that
// have no C++ name. Barriers and warp intrinsics take their call site as a defaulted argument,
// so a report names the kernel's own source line.
#pragma once

#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "emulation/block.h"
#include "vector_types.h"

namespace exafold::emulation {

inline Block& block_of_caller(const char* what) {
  if (!t_block) {
    std::fprintf(stderr, "exafold CUDA emulation: %s called outside a kernel\n", what);
    std::abort();
  }
  return *t_block;
}

inline int barrier(BarrierKind kind, int predicate, Site site) {
  return block_of_caller(barrier_name(kind)).barrier(kind, predicate, site);
}

template <class T>
uint64_t to_bits(T v) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8,
                "warp intrinsics move values of at most 8 bytes");
  uint64_t u = 0;
  std::memcpy(&u, &v, sizeof v);
  return u;
}

template <class T>
T from_bits(uint64_t u) {
  T v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

inline uint64_t warp_op(WarpKind kind, unsigned mask, uint64_t value, uint8_t bytes, Site site,
                        unsigned b = 0, unsigned c = 0, int* predicate = nullptr) {
  return block_of_caller(warp_name(kind)).warp({kind, bytes, mask, value, b, c}, site, predicate);
}

template <class T>
T shuffle(WarpKind kind, unsigned mask, T var, unsigned b, int width, bool up, Site site) {
  if (width < 1 || width > 32 || (width & (width - 1)) != 0)
    block_of_caller(warp_name(kind))
        .trap(site, std::string(warp_name(kind)) + " with width " + std::to_string(width) +
                        ": not a power of two from 1 to 32");
  // CUDA's operand c: the segment mask in bits 8-12, the clamp lane in bits 0-4 (0 for up).
  const unsigned c = (unsigned(32 - width) << 8) | (up ? 0u : 0x1fu);
  return from_bits<T>(warp_op(kind, mask, to_bits(var), uint8_t(sizeof(T)), site, b, c));
}

}  // namespace exafold::emulation

inline void __syncthreads(exafold::emulation::Site site = exafold::emulation::Site::here()) {
  exafold::emulation::barrier(exafold::emulation::BarrierKind::sync, 0, site);
}
inline int __syncthreads_count(int predicate,
                               exafold::emulation::Site site = exafold::emulation::Site::here()) {
  return exafold::emulation::barrier(exafold::emulation::BarrierKind::count, predicate, site);
}
inline int __syncthreads_and(int predicate,
                             exafold::emulation::Site site = exafold::emulation::Site::here()) {
  return exafold::emulation::barrier(exafold::emulation::BarrierKind::all, predicate, site);
}
inline int __syncthreads_or(int predicate,
                            exafold::emulation::Site site = exafold::emulation::Site::here()) {
  return exafold::emulation::barrier(exafold::emulation::BarrierKind::any, predicate, site);
}

inline void __syncwarp(unsigned mask = 0xffffffffu,
                       exafold::emulation::Site site = exafold::emulation::Site::here()) {
  exafold::emulation::warp_op(exafold::emulation::WarpKind::syncwarp, mask, 0, 0, site);
}

template <class T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = 32,
              exafold::emulation::Site site = exafold::emulation::Site::here()) {
  return exafold::emulation::shuffle(exafold::emulation::WarpKind::shfl_idx, mask, var,
                                     unsigned(src_lane), width, false, site);
}
template <class T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = 32,
                 exafold::emulation::Site site = exafold::emulation::Site::here()) {
  return exafold::emulation::shuffle(exafold::emulation::WarpKind::shfl_up, mask, var, delta, width,
                                     true, site);
}
template <class T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = 32,
                   exafold::emulation::Site site = exafold::emulation::Site::here()) {
  return exafold::emulation::shuffle(exafold::emulation::WarpKind::shfl_down, mask, var, delta,
                                     width, false, site);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = 32,
                  exafold::emulation::Site site = exafold::emulation::Site::here()) {
  return exafold::emulation::shuffle(exafold::emulation::WarpKind::shfl_xor, mask, var,
                                     unsigned(lane_mask), width, false, site);
}

inline unsigned __ballot_sync(unsigned mask, int predicate,
                              exafold::emulation::Site site = exafold::emulation::Site::here()) {
  return unsigned(exafold::emulation::warp_op(exafold::emulation::WarpKind::ballot, mask,
                                              predicate != 0, 4, site));
}
inline int __all_sync(unsigned mask, int predicate,
                      exafold::emulation::Site site = exafold::emulation::Site::here()) {
  return int(exafold::emulation::warp_op(exafold::emulation::WarpKind::all, mask, predicate != 0, 4,
                                         site));
}
inline int __any_sync(unsigned mask, int predicate,
                      exafold::emulation::Site site = exafold::emulation::Site::here()) {
  return int(exafold::emulation::warp_op(exafold::emulation::WarpKind::any, mask, predicate != 0, 4,
                                         site));
}

/// Only the calling lane: the hardware may split a warp anywhere, so code must not rely on
/// more lanes being converged, and here none are.
inline unsigned __activemask() {
  exafold::emulation::block_of_caller("__activemask");
  return 1u << (exafold::emulation::t_thread->linear % exafold::emulation::kWarpSize);
}

template <class T>
unsigned __match_any_sync(unsigned mask, T value,
                          exafold::emulation::Site site = exafold::emulation::Site::here()) {
  return unsigned(exafold::emulation::warp_op(exafold::emulation::WarpKind::match_any, mask,
                                              exafold::emulation::to_bits(value),
                                              uint8_t(sizeof(T)), site));
}
template <class T>
unsigned __match_all_sync(unsigned mask, T value, int* predicate,
                          exafold::emulation::Site site = exafold::emulation::Site::here()) {
  return unsigned(exafold::emulation::warp_op(exafold::emulation::WarpKind::match_all, mask,
                                              exafold::emulation::to_bits(value),
                                              uint8_t(sizeof(T)), site, 0, 0, predicate));
}

#define EXAFOLD_EMULATION_REDUCE(name, type, kind)                                     \
  inline type name(unsigned mask, type value,                                          \
                   exafold::emulation::Site site = exafold::emulation::Site::here()) { \
    return type(exafold::emulation::warp_op(exafold::emulation::WarpKind::kind, mask,  \
                                            uint32_t(value), 4, site));                \
  }
EXAFOLD_EMULATION_REDUCE(__reduce_add_sync, unsigned, reduce_add_u)
EXAFOLD_EMULATION_REDUCE(__reduce_add_sync, int, reduce_add_i)
EXAFOLD_EMULATION_REDUCE(__reduce_min_sync, unsigned, reduce_min_u)
EXAFOLD_EMULATION_REDUCE(__reduce_min_sync, int, reduce_min_i)
EXAFOLD_EMULATION_REDUCE(__reduce_max_sync, unsigned, reduce_max_u)
EXAFOLD_EMULATION_REDUCE(__reduce_max_sync, int, reduce_max_i)
EXAFOLD_EMULATION_REDUCE(__reduce_and_sync, unsigned, reduce_and)
EXAFOLD_EMULATION_REDUCE(__reduce_or_sync, unsigned, reduce_or)
EXAFOLD_EMULATION_REDUCE(__reduce_xor_sync, unsigned, reduce_xor)
#undef EXAFOLD_EMULATION_REDUCE

/// Fails the launch, as the trap instruction does.
[[noreturn]] inline void __trap(exafold::emulation::Site site = exafold::emulation::Site::here()) {
  exafold::emulation::block_of_caller("__trap").trap(site, "__trap()");
}

// Blocks run on different OS threads, so atomics are real ones; a block's own threads take
// turns on one OS thread.
namespace exafold::emulation {
template <class T>
std::atomic_ref<T> atomic(T* p) {
  return std::atomic_ref<T>(*p);
}
}  // namespace exafold::emulation

#define EXAFOLD_EMULATION_ATOMIC(name, type, op)          \
  inline type name(type* address, type value) {           \
    return exafold::emulation::atomic(address).op(value); \
  }
EXAFOLD_EMULATION_ATOMIC(atomicAdd, int, fetch_add)
EXAFOLD_EMULATION_ATOMIC(atomicAdd, unsigned, fetch_add)
EXAFOLD_EMULATION_ATOMIC(atomicAdd, unsigned long long, fetch_add)
EXAFOLD_EMULATION_ATOMIC(atomicAdd, float, fetch_add)
EXAFOLD_EMULATION_ATOMIC(atomicAdd, double, fetch_add)
EXAFOLD_EMULATION_ATOMIC(atomicSub, int, fetch_sub)
EXAFOLD_EMULATION_ATOMIC(atomicSub, unsigned, fetch_sub)
EXAFOLD_EMULATION_ATOMIC(atomicExch, int, exchange)
EXAFOLD_EMULATION_ATOMIC(atomicExch, unsigned, exchange)
EXAFOLD_EMULATION_ATOMIC(atomicExch, unsigned long long, exchange)
EXAFOLD_EMULATION_ATOMIC(atomicExch, float, exchange)
EXAFOLD_EMULATION_ATOMIC(atomicAnd, int, fetch_and)
EXAFOLD_EMULATION_ATOMIC(atomicAnd, unsigned, fetch_and)
EXAFOLD_EMULATION_ATOMIC(atomicAnd, unsigned long long, fetch_and)
EXAFOLD_EMULATION_ATOMIC(atomicOr, int, fetch_or)
EXAFOLD_EMULATION_ATOMIC(atomicOr, unsigned, fetch_or)
EXAFOLD_EMULATION_ATOMIC(atomicOr, unsigned long long, fetch_or)
EXAFOLD_EMULATION_ATOMIC(atomicXor, int, fetch_xor)
EXAFOLD_EMULATION_ATOMIC(atomicXor, unsigned, fetch_xor)
EXAFOLD_EMULATION_ATOMIC(atomicXor, unsigned long long, fetch_xor)
#undef EXAFOLD_EMULATION_ATOMIC

namespace exafold::emulation {
// new = f(old), atomically; returns old.
template <class T, class F>
T atomic_update(T* address, F f) {
  std::atomic_ref<T> a(*address);
  T old = a.load();
  while (!a.compare_exchange_weak(old, f(old))) {
  }
  return old;
}
}  // namespace exafold::emulation

#define EXAFOLD_EMULATION_ATOMIC_MINMAX(type)                                                     \
  inline type atomicMin(type* address, type value) {                                              \
    return exafold::emulation::atomic_update(address,                                             \
                                             [value](type old) { return std::min(old, value); }); \
  }                                                                                               \
  inline type atomicMax(type* address, type value) {                                              \
    return exafold::emulation::atomic_update(address,                                             \
                                             [value](type old) { return std::max(old, value); }); \
  }
EXAFOLD_EMULATION_ATOMIC_MINMAX(int)
EXAFOLD_EMULATION_ATOMIC_MINMAX(unsigned)
EXAFOLD_EMULATION_ATOMIC_MINMAX(long long)
EXAFOLD_EMULATION_ATOMIC_MINMAX(unsigned long long)
#undef EXAFOLD_EMULATION_ATOMIC_MINMAX

inline unsigned atomicInc(unsigned* address, unsigned value) {
  return exafold::emulation::atomic_update(
      address, [value](unsigned old) { return old >= value ? 0u : old + 1; });
}
inline unsigned atomicDec(unsigned* address, unsigned value) {
  return exafold::emulation::atomic_update(
      address, [value](unsigned old) { return old == 0 || old > value ? value : old - 1; });
}

#define EXAFOLD_EMULATION_ATOMIC_CAS(type)                                       \
  inline type atomicCAS(type* address, type compare, type value) {               \
    exafold::emulation::atomic(address).compare_exchange_strong(compare, value); \
    return compare;                                                              \
  }
EXAFOLD_EMULATION_ATOMIC_CAS(int)
EXAFOLD_EMULATION_ATOMIC_CAS(unsigned)
EXAFOLD_EMULATION_ATOMIC_CAS(unsigned long long)
EXAFOLD_EMULATION_ATOMIC_CAS(unsigned short)
#undef EXAFOLD_EMULATION_ATOMIC_CAS

inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_signal_fence(std::memory_order_seq_cst); }
inline void __threadfence_system() { std::atomic_thread_fence(std::memory_order_seq_cst); }

template <class T>
T __ldg(const T* p) {
  return *p;
}

inline long long clock64() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

// Math intrinsics without a C++ name. The fast approximations (__expf, __fdividef, ...) are the
// accurate functions here: the CPU cannot reproduce the GPU's approximation error, which only a
// GPU run checks.
inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __fdividef(float x, float y) { return x / y; }
extern "C" inline float __expf(float x) noexcept { return std::exp(x); }
extern "C" inline float __logf(float x) noexcept { return std::log(x); }
inline float __saturatef(float x) { return x > 1.f ? 1.f : x > 0.f ? x : 0.f; }  // NaN -> 0
inline float __frcp_rn(float x) { return 1.f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float __fdiv_rn(float x, float y) { return x / y; }
inline float __fadd_rn(float x, float y) { return x + y; }
inline float __fmul_rn(float x, float y) { return x * y; }
inline float __fmaf_rn(float x, float y, float z) { return std::fma(x, y, z); }
inline int __float_as_int(float x) { return std::bit_cast<int>(x); }
inline float __int_as_float(int x) { return std::bit_cast<float>(x); }
inline unsigned __float_as_uint(float x) { return std::bit_cast<unsigned>(x); }
inline float __uint_as_float(unsigned x) { return std::bit_cast<float>(x); }
inline long long __double_as_longlong(double x) { return std::bit_cast<long long>(x); }
inline double __longlong_as_double(long long x) { return std::bit_cast<double>(x); }

inline int __popc(unsigned x) { return std::popcount(x); }
inline int __popcll(unsigned long long x) { return std::popcount(x); }
inline int __clz(int x) { return std::countl_zero(unsigned(x)); }
inline int __clzll(long long x) { return std::countl_zero((unsigned long long)x); }
inline int __ffs(int x) { return x == 0 ? 0 : std::countr_zero(unsigned(x)) + 1; }
inline int __ffsll(long long x) { return x == 0 ? 0 : std::countr_zero((unsigned long long)x) + 1; }
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}
inline unsigned __umulhi(unsigned x, unsigned y) { return unsigned((uint64_t(x) * y) >> 32); }
inline int __mulhi(int x, int y) { return int((int64_t(x) * y) >> 32); }

// CUDA's global min and max overloads.
inline int min(int a, int b) { return a < b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }
