// Where memory lives (Device) and what kind of memory it is (MemoryKind).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace exafold {

enum class DeviceType : uint8_t {
  cpu,
  cuda,
  /// A second host-backed device that exists only once tests enable it: it makes the copy path
  /// of migrate() testable on machines without a GPU.
  test_host,
};

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;

  static Device cpu() { return {DeviceType::cpu, 0}; }
  static Device cuda(int i) { return {DeviceType::cuda, i}; }
  /// "cpu", "cuda", "cuda:1", "test_host:0"; throws InvalidArgument on anything else.
  static Device parse(std::string_view s);

  bool is_cpu() const { return type == DeviceType::cpu; }
  bool is_cuda() const { return type == DeviceType::cuda; }
  /// True where plain host pointers are dereferenceable (cpu and the test device).
  bool is_host() const { return type != DeviceType::cuda; }
  std::string str() const;
  bool operator==(const Device&) const = default;
};

enum class MemoryKind : uint8_t {
  host,     ///< pageable host memory, 64-byte aligned
  pinned,   ///< page-locked host memory (cudaHostAlloc)
  device,   ///< GPU memory (cudaMalloc)
  unified,  ///< managed memory, or system memory a GPU reads coherently
};

std::string_view memory_kind_name(MemoryKind k);
MemoryKind memory_kind_from_name(std::string_view name);

/// What a GPU can reach, probed once per device (cudaDeviceProp).
struct DeviceCaps {
  std::string name;
  int compute_major = 0;
  int compute_minor = 0;
  size_t total_memory = 0;
  bool integrated = false;                      ///< shares physical memory with the host (APU)
  bool managed_memory = false;                  ///< supports cudaMallocManaged
  bool concurrent_managed_access = false;       ///< reads managed memory without host sync
  bool pageable_memory_access = false;          ///< reads pageable host memory (HMM or ATS)
  bool pageable_uses_host_page_tables = false;  ///< ... through the host's page tables (ATS)
};

}  // namespace exafold
