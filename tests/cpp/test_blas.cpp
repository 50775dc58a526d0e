#include <gtest/gtest.h>

#include <sstream>

#include "cpu/gemm.h"
#include "exafold/core/cpu_info.h"
#include "exafold/core/error.h"
#include "exafold/ops/blas.h"

namespace exafold {
namespace {

// The first processor's entry of a real Linux /proc/cpuinfo (2-core Intel Xeon, family 6 model
// 207), flags shortened to those that matter plus neighbours; a second entry follows.
constexpr const char* kXeon =
    "processor\t: 0\n"
    "vendor_id\t: GenuineIntel\n"
    "cpu family\t: 6\n"
    "model\t\t: 207\n"
    "model name\t: Intel(R) Xeon(R) Processor\n"
    "flags\t\t: fpu sse sse2 pni ssse3 fma sse4_1 sse4_2 avx f16c avx2 avx512f avx512dq "
    "avx512ifma avx512cd avx512bw avx512vl avx512_bf16 avx512_fp16\n"
    "\n"
    "processor\t: 1\n"
    "flags\t\t: fpu sse sse2\n";

CpuInfo parse(const std::string& text) {
  std::istringstream in(text);
  return parse_cpuinfo(in);
}

TEST(CpuInfo, ReadsTheFirstProcessorsModelAndVectorIsa) {
  const CpuInfo cpu = parse(kXeon);
  EXPECT_EQ(cpu.model, "Intel(R) Xeon(R) Processor");
  EXPECT_EQ(cpu.vendor, "GenuineIntel");
  EXPECT_EQ(cpu.family, 6);
  EXPECT_EQ(cpu.model_number, 207);
  EXPECT_EQ(cpu.isa, VectorIsa::avx512);
  EXPECT_EQ(cpu_description(cpu),
            "Intel(R) Xeon(R) Processor (GenuineIntel family 6 model 207, AVX-512)");
}

TEST(CpuInfo, EachLevelNeedsAllOfItsFlags) {
  auto isa = [](const std::string& flags) { return parse("flags\t: " + flags + "\n").isa; };
  EXPECT_EQ(isa("sse sse2 pni"), VectorIsa::sse);
  EXPECT_EQ(isa("sse2 avx"), VectorIsa::avx);
  EXPECT_EQ(isa("sse2 avx avx2"), VectorIsa::avx);  // AVX2 kernels also need FMA
  EXPECT_EQ(isa("sse2 avx avx2 fma"), VectorIsa::avx2);
  // Knights Landing: AVX-512 F and CD without BW, DQ and VL.
  EXPECT_EQ(isa("sse2 avx avx2 fma avx512f avx512cd avx512er avx512pf"), VectorIsa::avx2);
  EXPECT_EQ(isa("sse2 avx avx2 fma avx512f avx512cd avx512bw avx512dq avx512vl"),
            VectorIsa::avx512);
  // An aarch64 /proc/cpuinfo has "Features", not "flags": nothing is judged there.
  EXPECT_EQ(parse("processor\t: 0\nFeatures\t: fp asimd sve\n").isa, VectorIsa::unknown);
}

TEST(Blas, CoreTableNamesTheKernelsIsa) {
  EXPECT_EQ(blas_core_isa("Prescott"), VectorIsa::sse);
  EXPECT_EQ(blas_core_isa("Katmai"), VectorIsa::sse);  // a forced Prescott, as 0.3.34 names it
  EXPECT_EQ(blas_core_isa("Sandybridge"), VectorIsa::avx);
  EXPECT_EQ(blas_core_isa("Haswell"), VectorIsa::avx2);
  EXPECT_EQ(blas_core_isa("Zen"), VectorIsa::avx2);
  EXPECT_EQ(blas_core_isa("SkylakeX"), VectorIsa::avx512);
  EXPECT_EQ(blas_core_isa("COOPERLAKE"), VectorIsa::avx512);
  EXPECT_EQ(blas_core_isa("NeoverseN1"), VectorIsa::unknown);
}

TEST(Blas, WarnsOnlyWhenTheKernelIsBelowTheCpu) {
  EXPECT_EQ(blas_kernel_warning("SkylakeX", VectorIsa::avx512), "");
  EXPECT_EQ(blas_kernel_warning("Haswell", VectorIsa::avx2), "");
  EXPECT_EQ(blas_kernel_warning("SkylakeX", VectorIsa::avx2), "");
  EXPECT_EQ(blas_kernel_warning("NeoverseN1", VectorIsa::unknown), "");
  const std::string prescott = blas_kernel_warning("Prescott", VectorIsa::avx512);
  EXPECT_NE(prescott.find("Prescott kernels, written for SSE CPUs, on a CPU with AVX-512"),
            std::string::npos)
      << prescott;
  EXPECT_NE(blas_kernel_warning("Haswell", VectorIsa::avx512), "");
  EXPECT_NE(blas_kernel_warning("Sandybridge", VectorIsa::avx2), "");
  EXPECT_NE(blas_kernel_warning("NewCore", VectorIsa::avx2).find("cannot place"),
            std::string::npos);
}

// The point of linking a current OpenBLAS: on this machine's CPU it must have chosen kernels of
// the CPU's own level, not a fallback. Fails when run under OPENBLAS_CORETYPE=Prescott.
TEST(Blas, KernelMatchesThisCpu) {
  const CpuInfo& cpu = cpu_info();
  const BlasInfo blas = blas_info();
  EXPECT_EQ(blas.vendor, "OpenBLAS");
  EXPECT_FALSE(blas.version.empty()) << blas.config;
  EXPECT_NE(blas.library.find("scipy_openblas"), std::string::npos) << blas.library;
  EXPECT_EQ(blas.threads, 1);  // Note [Threads and BLAS]
  if (cpu.isa < VectorIsa::avx2) GTEST_SKIP() << cpu_description(cpu) << ": no AVX2";
  EXPECT_GE(int(blas_core_isa(blas.core)), int(cpu.isa))
      << "OpenBLAS " << blas.version << " chose " << blas.core << " on " << cpu_description(cpu)
      << ": " << blas_kernel_warning(blas.core, cpu.isa);
  EXPECT_EQ(blas_kernel_warning(blas.core, cpu.isa), "");
}

// scipy-openblas32 takes 32-bit dimensions: a larger one must fail, not wrap around.
TEST(Blas, DimensionsBeyondThe32BitLimitFail) {
  float x = 0;
  const int64_t big = int64_t(1) << 31;
  EXPECT_THROW(cpu::gemm_serial<float>(false, false, 1, 1, big, 1.f, &x, big, &x, 1, 0.f, &x, 1),
               InvalidArgument);
}

}  // namespace
}  // namespace exafold
