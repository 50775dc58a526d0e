// The host CPU: its model and the widest vector instruction set it offers, for choosing and
// judging kernels (ops/blas.h) and for describing the machine in reports.
#pragma once

#include <istream>
#include <string>
#include <string_view>

namespace exafold {

/// The x86-64 vector instruction-set levels that decide which kernels run well, in order.
/// avx2 means AVX2 with FMA; avx512 means the Skylake-X set (AVX-512 F, CD, BW, DQ and VL), which
/// every AVX-512 GEMM kernel of OpenBLAS uses. unknown: not x86-64, or not known.
enum class VectorIsa { unknown, sse, avx, avx2, avx512 };

/// "SSE", "AVX", "AVX2", "AVX-512" or "unknown".
std::string_view vector_isa_name(VectorIsa isa);

struct CpuInfo {
  std::string model;   ///< "model name", e.g. "Intel(R) Xeon(R) Processor"; empty if not given
  std::string vendor;  ///< "vendor_id", e.g. "GenuineIntel"; empty off x86
  int family = -1;     ///< "cpu family"; -1 off x86
  int model_number = -1;
  VectorIsa isa = VectorIsa::unknown;
};

/// This machine's CPU, read once from /proc/cpuinfo. Linux lists only the features the CPU
/// reports and the kernel has enabled (an AVX-512 CPU under a kernel or hypervisor that does not
/// save the AVX-512 registers shows no avx512 flags), so these are the features code can use.
const CpuInfo& cpu_info();

/// The parse behind cpu_info(): the first processor's entry in /proc/cpuinfo's format.
CpuInfo parse_cpuinfo(std::istream& in);

/// "Intel(R) Xeon(R) Processor (GenuineIntel family 6 model 207, AVX-512)".
std::string cpu_description(const CpuInfo& cpu);

}  // namespace exafold
