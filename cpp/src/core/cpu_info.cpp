#include "exafold/core/cpu_info.h"

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

namespace exafold {
namespace {

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

int to_int(const std::string& s) {
  try {
    return std::stoi(s);
  } catch (const std::exception&) {
    return -1;
  }
}

VectorIsa isa_from_flags(const std::set<std::string>& flags) {
  auto all = [&](std::initializer_list<const char*> names) {
    return std::all_of(names.begin(), names.end(), [&](const char* f) { return flags.count(f); });
  };
  if (all({"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"})) return VectorIsa::avx512;
  if (all({"avx2", "fma"})) return VectorIsa::avx2;
  if (all({"avx"})) return VectorIsa::avx;
  if (all({"sse2"})) return VectorIsa::sse;
  return VectorIsa::unknown;
}

}  // namespace

std::string_view vector_isa_name(VectorIsa isa) {
  switch (isa) {
    case VectorIsa::sse:
      return "SSE";
    case VectorIsa::avx:
      return "AVX";
    case VectorIsa::avx2:
      return "AVX2";
    case VectorIsa::avx512:
      return "AVX-512";
    case VectorIsa::unknown:
      break;
  }
  return "unknown";
}

CpuInfo parse_cpuinfo(std::istream& in) {
  CpuInfo cpu;
  std::set<std::string> flags;
  bool seen = false;
  for (std::string line; std::getline(in, line);) {
    if (trim(line).empty()) {
      if (seen) break;  // the first processor's entry is enough: all cores are alike
      continue;
    }
    seen = true;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(std::string_view(line).substr(0, colon));
    const std::string value = trim(std::string_view(line).substr(colon + 1));
    if (key == "model name")
      cpu.model = value;
    else if (key == "vendor_id")
      cpu.vendor = value;
    else if (key == "cpu family")
      cpu.family = to_int(value);
    else if (key == "model")
      cpu.model_number = to_int(value);
    else if (key == "flags") {
      std::istringstream words(value);
      for (std::string f; words >> f;) flags.insert(f);
    }
  }
  cpu.isa = isa_from_flags(flags);
  return cpu;
}

const CpuInfo& cpu_info() {
  static const CpuInfo cpu = [] {
    std::ifstream in("/proc/cpuinfo");
    return parse_cpuinfo(in);
  }();
  return cpu;
}

std::string cpu_description(const CpuInfo& cpu) {
  std::ostringstream os;
  os << (cpu.model.empty() ? "unknown CPU" : cpu.model) << " (";
  if (!cpu.vendor.empty())
    os << cpu.vendor << " family " << cpu.family << " model " << cpu.model_number << ", ";
  os << vector_isa_name(cpu.isa) << ")";
  return os.str();
}

}  // namespace exafold
