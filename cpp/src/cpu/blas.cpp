#include "exafold/ops/blas.h"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <sstream>

#include "cpu/openblas.h"

namespace exafold {
namespace {

// OpenBLAS's x86-64 kernel sets (the corename table of its driver/others/dynamic.c) by the
// vector instruction set of the CPUs each was written for. Excavator and Zen run AVX2 kernels;
// Cooperlake and SapphireRapids share SkylakeX's float32/float64 GEMM and add bfloat16 ones.
// On x86-64, scipy-openblas 0.3.34 reports a forced Prescott (OPENBLAS_CORETYPE=Prescott) as
// "Katmai", whose table it aliases.
struct Core {
  const char* name;
  VectorIsa isa;
};
constexpr Core kCores[] = {
    {"Katmai", VectorIsa::sse},        {"Coppermine", VectorIsa::sse},
    {"Northwood", VectorIsa::sse},     {"Prescott", VectorIsa::sse},
    {"Banias", VectorIsa::sse},        {"Atom", VectorIsa::sse},
    {"Core2", VectorIsa::sse},         {"Penryn", VectorIsa::sse},
    {"Dunnington", VectorIsa::sse},    {"Nehalem", VectorIsa::sse},
    {"Athlon", VectorIsa::sse},        {"Opteron", VectorIsa::sse},
    {"Opteron_SSE3", VectorIsa::sse},  {"Barcelona", VectorIsa::sse},
    {"Nano", VectorIsa::sse},          {"Bobcat", VectorIsa::sse},
    {"Sandybridge", VectorIsa::avx},   {"Bulldozer", VectorIsa::avx},
    {"Piledriver", VectorIsa::avx},    {"Steamroller", VectorIsa::avx},
    {"Haswell", VectorIsa::avx2},      {"Excavator", VectorIsa::avx2},
    {"Zen", VectorIsa::avx2},          {"SkylakeX", VectorIsa::avx512},
    {"Cooperlake", VectorIsa::avx512}, {"SapphireRapids", VectorIsa::avx512},
};

// The kernel set to force for a CPU of each level, for the warning's advice.
const char* best_core(VectorIsa cpu) {
  switch (cpu) {
    case VectorIsa::avx512:
      return "SkylakeX";
    case VectorIsa::avx2:
      return "Haswell";
    case VectorIsa::avx:
      return "Sandybridge";
    default:
      return "Prescott";
  }
}

bool same_name(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// "OpenBLAS 0.3.34.481.3 DYNAMIC_ARCH ..." -> "0.3.34.481.3".
std::string version_of(const std::string& config) {
  std::istringstream words(config);
  std::string vendor, version;
  words >> vendor >> version;
  return version;
}

std::string loaded_library() {
  Dl_info where{};
  if (dladdr(openblas::any_symbol(), &where) == 0 || where.dli_fname == nullptr) return "";
  return std::filesystem::path(where.dli_fname)
      .lexically_normal()
      .string();  // drops the RPATH's ".."
}

}  // namespace

void blas_init() {
  static std::once_flag once;
  std::call_once(once, [] { openblas::set_num_threads(1); });
}

BlasInfo blas_info() {
  blas_init();
  BlasInfo b;
  b.vendor = "OpenBLAS";
  b.config = openblas::config();
  b.version = version_of(b.config);
  b.library = loaded_library();
  b.core = openblas::core_name();
  b.threads = openblas::num_threads();
  return b;
}

VectorIsa blas_core_isa(std::string_view core) {
  for (const Core& c : kCores)
    if (same_name(core, c.name)) return c.isa;
  return VectorIsa::unknown;
}

std::string blas_kernel_warning(std::string_view core, VectorIsa cpu) {
  if (cpu == VectorIsa::unknown) return "";
  const VectorIsa kernel = blas_core_isa(core);
  if (kernel >= cpu) return "";
  std::ostringstream os;
  os << "OpenBLAS runs its " << core << " kernels";
  if (kernel == VectorIsa::unknown)
    os << ", which exafold cannot place against this " << vector_isa_name(cpu) << " CPU";
  else
    os << ", written for " << vector_isa_name(kernel) << " CPUs, on a CPU with "
       << vector_isa_name(cpu) << ": its GEMMs run slower than this CPU allows";
  if (const char* forced = std::getenv("OPENBLAS_CORETYPE"))
    os << " (OPENBLAS_CORETYPE=" << forced << " is set; unset it)";
  else
    os << " (OPENBLAS_CORETYPE=" << best_core(cpu) << " selects the " << vector_isa_name(cpu)
       << " kernels)";
  return os.str();
}

}  // namespace exafold
