// nvcuda::wmma (tests/emulation/include/mma.h): 16x16x16 bfloat16 products with float32
// accumulation against a float64 reference, for every operand and memory layout; sm_80's 8
// elements per lane and the header's documented element-to-lane mapping; and the misuse a GPU
// would not survive: a divergent or partial-warp call, lanes passing different pointers, a
// misaligned pointer or leading dimension.
#include <cuda_bf16.h>
#include <mma.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "emulation_test_util.h"

namespace exafold::emulation_test {
namespace {

namespace wmma = nvcuda::wmma;
using bf16 = __nv_bfloat16;
template <class Layout>
using A = wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, Layout>;
template <class Layout>
using B = wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, Layout>;
using C = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;

static_assert(A<wmma::row_major>::num_elements == 8 && B<wmma::col_major>::num_elements == 8 &&
              C::num_elements == 8);

std::string at_line(int line) { return "test_runtime_wmma.cpp:" + std::to_string(line); }

// d = a b + c, each operand in the layout its template arguments say; the tiles are 16 x 16
// with leading dimension 24 (a multiple of 8 elements that is not the tile's width), in a
// 32-byte aligned buffer.
constexpr unsigned kLd = 24;
template <class LA, class LB>
__global__ void product(const bf16* a, const bf16* b, const float* c, float* d, bool c_row_major,
                        bool d_row_major) {
  A<LA> fa;
  B<LB> fb;
  C fc;
  wmma::load_matrix_sync(fa, a, kLd);
  wmma::load_matrix_sync(fb, b, kLd);
  wmma::load_matrix_sync(fc, c, kLd, c_row_major ? wmma::mem_row_major : wmma::mem_col_major);
  wmma::mma_sync(fc, fa, fb, fc);
  wmma::store_matrix_sync(d, fc, kLd, d_row_major ? wmma::mem_row_major : wmma::mem_col_major);
}

// Element (row, column) of a tile stored in `row_major` order with leading dimension kLd.
size_t at(int row, int column, bool row_major) {
  return row_major ? size_t(row) * kLd + size_t(column) : size_t(column) * kLd + size_t(row);
}

template <class LA, class LB>
void check_product(bool a_row, bool b_row) {
  std::mt19937_64 rng(11);
  std::normal_distribution<float> g(0.f, 1.f);
  const size_t n = 16 * kLd;
  std::vector<bf16> a(n, __float2bfloat16_rn(NAN)), b(n, __float2bfloat16_rn(NAN));
  std::vector<float> c(n, NAN);
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j) {
      a[at(i, j, a_row)] = __float2bfloat16_rn(g(rng));
      b[at(i, j, b_row)] = __float2bfloat16_rn(g(rng));
      c[at(i, j, true)] = g(rng);
    }
  DeviceBuffer<bf16> da(a), db(b);
  DeviceBuffer<float> dc(c);
  for (bool c_row : {true, false})
    for (bool d_row : {true, false}) {
      // The same values of c, read in the other layout.
      std::vector<float> cc(n, NAN);
      for (int i = 0; i < 16; ++i)
        for (int j = 0; j < 16; ++j) cc[at(i, j, c_row)] = c[at(i, j, true)];
      DeviceBuffer<float> dcc(cc), dd(std::vector<float>(n, NAN));
      for (const Schedule& s : kSchedules) {
        SCOPED_TRACE(schedule_name(s) + (a_row ? " a row" : " a col") +
                     (b_row ? " b row" : " b col") + (c_row ? " c row" : " c col") +
                     (d_row ? " d row" : " d col"));
        emulation::set_schedule(s);
        EXAFOLD_LAUNCH(1, 32, 0, nullptr, product<LA, LB>)
        (da.get(), db.get(), dcc.get(), dd.get(), c_row, d_row);
        ASSERT_EQ(cudaGetLastError(), cudaSuccess) << emulation::last_launch_report();
        const std::vector<float> d = dd.to_host();
        for (int i = 0; i < 16; ++i)
          for (int j = 0; j < 16; ++j) {
            double want = c[at(i, j, true)], magnitude = std::abs(want);
            for (int k = 0; k < 16; ++k) {
              const double x = double(__bfloat162float(a[at(i, k, a_row)])) *
                               double(__bfloat162float(b[at(k, j, b_row)]));
              want += x;
              magnitude += std::abs(x);
            }
            // 16 float32 additions of exact products: gamma_16 of the terms' magnitudes.
            EXPECT_NEAR(d[at(i, j, d_row)], want, 16 * 0x1p-24 * magnitude) << i << ", " << j;
          }
        // Nothing written outside the tile (the padding of each leading dimension).
        for (int col = 0; col < 16; ++col)
          for (unsigned pad = 16; pad < kLd; ++pad)
            EXPECT_TRUE(std::isnan(d[size_t(col) * kLd + pad]));
      }
    }
}

TEST_F(Emulation, WmmaProductsMatchFloat64ForEveryLayout) {
  check_product<wmma::row_major, wmma::row_major>(true, true);
  check_product<wmma::row_major, wmma::col_major>(true, false);
  check_product<wmma::col_major, wmma::row_major>(false, true);
  check_product<wmma::col_major, wmma::col_major>(false, false);
}

// Each lane writes what its fragment elements hold: a row-major A whose element (r, c) holds
// 16 r + c, and an accumulator after a uniform element-wise operation (x -> 2x + 1) stored back.
__global__ void mapping(const bf16* a, float* held, float* stored) {
  const unsigned lane = threadIdx.x;
  A<wmma::row_major> fa;
  wmma::load_matrix_sync(fa, a, 16);
  for (int i = 0; i < fa.num_elements; ++i)
    held[lane * 8 + unsigned(i)] = __bfloat162float(fa.x[i]);
  C fc;
  wmma::fill_fragment(fc, 0.f);
  for (int i = 0; i < fc.num_elements; ++i) fc.x[i] = 2.f * fc.x[i] + 1.f;
  wmma::store_matrix_sync(stored, fc, 16, wmma::mem_row_major);
}

TEST_F(Emulation, WmmaFragmentsHoldEightElementsPerLaneInTheDocumentedMapping) {
  std::vector<bf16> a(256);
  for (int e = 0; e < 256; ++e) a[size_t(e)] = __float2bfloat16_rn(float(e));  // exact
  DeviceBuffer<bf16> da(a);
  DeviceBuffer<float> held(256), stored(256);
  EXAFOLD_LAUNCH(1, 32, 0, nullptr, mapping)(da.get(), held.get(), stored.get());
  ASSERT_EQ(cudaGetLastError(), cudaSuccess) << emulation::last_launch_report();
  const std::vector<float> h = held.to_host(), s = stored.to_host();
  // mma.h: element e = 16 row + column is x[e / 32] of lane e % 32.
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 8; ++i) EXPECT_EQ(h[size_t(lane * 8 + i)], float(32 * i + lane));
  for (float x : s) EXPECT_EQ(x, 1.f);
}

constexpr int kHalfWarpMma = __LINE__ + 9;
__global__ void half_warp_mma(float* d) {
  C fc;
  A<wmma::row_major> fa;
  B<wmma::row_major> fb;
  wmma::fill_fragment(fc, 0.f);
  wmma::fill_fragment(fa, __float2bfloat16_rn(1.f));
  wmma::fill_fragment(fb, __float2bfloat16_rn(1.f));
  if (threadIdx.x >= 16) return;
  wmma::mma_sync(fc, fa, fb, fc);
  d[threadIdx.x] = fc.x[0];
}

TEST_F(Emulation, WmmaReportsACallFromHalfAWarp) {
  DeviceBuffer<float> d(32);
  for (const Schedule& s : kSchedules) {
    SCOPED_TRACE(schedule_name(s));
    emulation::set_schedule(s);
    EXAFOLD_LAUNCH(1, 32, 0, nullptr, half_warp_mma)(d.get());
    // Lanes 0-15 wait for lanes that have returned: reported at the mma_sync, whichever comes
    // first.
    expect_launch_failure(
        {"half_warp_mma", at_line(kHalfWarpMma), "mask 0xffffffff", "which has exited"});
  }
}

constexpr int kDivergentMma = __LINE__ + 10;
constexpr int kDivergentStore = __LINE__ + 11;
__global__ void divergent_wmma(float* d) {
  C fc;
  A<wmma::row_major> fa;
  B<wmma::row_major> fb;
  wmma::fill_fragment(fc, 0.f);
  wmma::fill_fragment(fa, __float2bfloat16_rn(1.f));
  wmma::fill_fragment(fb, __float2bfloat16_rn(1.f));
  if (threadIdx.x < 16)
    wmma::mma_sync(fc, fa, fb, fc);
  else
    wmma::store_matrix_sync(d, fc, 16, wmma::mem_row_major);
}

TEST_F(Emulation, WmmaReportsLanesInDifferentCalls) {
  DeviceBuffer<float> d(256);
  for (const Schedule& s : kSchedules) {
    SCOPED_TRACE(schedule_name(s));
    emulation::set_schedule(s);
    EXAFOLD_LAUNCH(1, 32, 0, nullptr, divergent_wmma)(d.get());
    // Whichever lane sees it first reports it, at its own call.
    const std::string report = emulation::last_launch_report();
    EXPECT_TRUE(report.find(at_line(kDivergentMma)) != std::string::npos ||
                report.find(at_line(kDivergentStore)) != std::string::npos)
        << report;
    expect_launch_failure({"divergent_wmma", "nvcuda::wmma::", "in different wmma calls"});
  }
}

constexpr int kPartialWarpLoad = __LINE__ + 4;
__global__ void partial_warp_load(const bf16* a, float* out) {
  A<wmma::row_major> fa;
  // A block of 48 threads: the second warp has 16 lanes, so it cannot make a whole-warp call.
  wmma::load_matrix_sync(fa, a, 16);
  out[threadIdx.x] = __bfloat162float(fa.x[0]);
}

TEST_F(Emulation, WmmaReportsACallFromAPartialWarp) {
  DeviceBuffer<bf16> a(std::vector<bf16>(256, __float2bfloat16_rn(1.f)));
  DeviceBuffer<float> out(48);
  EXAFOLD_LAUNCH(1, 48, 0, nullptr, partial_warp_load)(a.get(), out.get());
  expect_launch_failure({"thread (32,0,0) [warp 1 lane 0] at " + at_line(kPartialWarpLoad),
                         "names lane 16, which this warp does not have"});
}

constexpr int kMisuseLine = __LINE__ + 5;
__global__ void misused_load(const bf16* a, int how) {
  A<wmma::row_major> fa;
  const bf16* p = how == 0 ? a + (threadIdx.x % 2) * 16 : how == 1 ? a + 8 : a;
  const unsigned ldm = how == 2 ? 12 : how == 3 ? 16 + 8 * (threadIdx.x % 2) : 16;
  wmma::load_matrix_sync(fa, p, ldm);
}

TEST_F(Emulation, WmmaReportsArgumentsThatDifferAcrossLanesOrBreakAlignment) {
  DeviceBuffer<bf16> a(std::vector<bf16>(1024, __float2bfloat16_rn(1.f)));
  const char* expected[] = {"the lanes of the warp pass different pointers",
                            "the pointer is not 32-byte (256-bit) aligned",
                            "ldm 12 is not a multiple of 16 bytes",
                            "the lanes of the warp pass different leading dimensions"};
  for (int how = 0; how < 4; ++how) {
    SCOPED_TRACE(how);
    EXAFOLD_LAUNCH(1, 32, 0, nullptr, misused_load)(a.get(), how);
    expect_launch_failure({"nvcuda::wmma::load_matrix_sync", expected[how], at_line(kMisuseLine)});
  }
}

}  // namespace
}  // namespace exafold::emulation_test
