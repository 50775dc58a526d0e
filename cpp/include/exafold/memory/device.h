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
  /// Host memory that the host cannot touch: mapped PROT_NONE except while one of the strict
  /// backend's own ops runs, so that a stray host access (from model code, say) faults in tests.
  strict,
  /// Shapes without memory: allocations are counted by a caching allocator over address space
  /// that is never mapped, and ops only allocate. Running the model on it measures its peak
  /// memory without computing (model/memory_model.h). The index is the DeviceType whose
  /// backend's workspaces it replays.
  meta,
};

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;

  static Device cpu() { return {DeviceType::cpu, 0}; }
  static Device cuda(int i) { return {DeviceType::cuda, i}; }
  static Device strict() { return {DeviceType::strict, 0}; }
  /// The meta device that replays the allocations of `of`'s backend.
  static Device meta(DeviceType of = DeviceType::cpu) { return {DeviceType::meta, int(of)}; }
  /// "cpu", "cuda", "cuda:1", "test_host:0", "strict", "meta" (cpu's), "meta:cuda"; throws
  /// InvalidArgument on anything else.
  static Device parse(std::string_view s);

  bool is_cpu() const { return type == DeviceType::cpu; }
  bool is_cuda() const { return type == DeviceType::cuda; }
  bool is_meta() const { return type == DeviceType::meta; }
  /// True where plain host pointers are dereferenceable (cpu and the test device).
  bool is_host() const { return type == DeviceType::cpu || type == DeviceType::test_host; }
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
