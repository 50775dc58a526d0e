// Allocator statistics and limits, migrate() and the MigratableMemory scope.
#include <memory>
#include <optional>
#include <string>

#include "common.h"
#include "exafold/memory/allocator.h"
#include "exafold/memory/gpu_backend.h"
#include "exafold/memory/migrate.h"
#include "exafold/tensor/tensor.h"

namespace exafold::py {
namespace {

pyb::dict stats_dict(const AllocatorStats& s) {
  pyb::dict d;
  d["in_use"] = s.in_use;
  d["peak_in_use"] = s.peak_in_use;
  d["reserved"] = s.reserved;
  d["peak_reserved"] = s.peak_reserved;
  d["requested"] = s.requested;
  d["allocations"] = s.allocations;
  d["frees"] = s.frees;
  d["cache_hits"] = s.cache_hits;
  d["segments"] = s.segments;
  d["system_allocs"] = s.system_allocs;
  d["ooms"] = s.ooms;
  d["limit"] = s.limit;
  return d;
}

Allocator& allocator_of(const std::string& device, const std::string& kind) {
  return get_allocator(Device::parse(device), memory_kind_from_name(kind));
}

/// The Python face of MigratableMemory: the C++ scope lives between __enter__ and __exit__.
class PyMigratableMemory {
 public:
  PyMigratableMemory& enter() {
    check(!scope_, "this MigratableMemory scope is already active");
    scope_ = std::make_unique<MigratableMemory>();
    return *this;
  }
  void exit() { scope_.reset(); }

 private:
  std::unique_ptr<MigratableMemory> scope_;
};

}  // namespace

void bind_memory(pyb::module_& m) {
  m.def(
      "memory_stats",
      [](const std::string& device, const std::string& kind) {
        return stats_dict(allocator_of(device, kind).stats());
      },
      pyb::arg("device") = "cpu", pyb::arg("kind") = "host");
  m.def(
      "reset_peak_memory",
      [](const std::string& device, const std::string& kind) {
        allocator_of(device, kind).reset_peak();
      },
      pyb::arg("device") = "cpu", pyb::arg("kind") = "host");
  m.def(
      "set_memory_limit",
      [](size_t bytes, const std::string& device, const std::string& kind) {
        allocator_of(device, kind).set_limit(bytes);
      },
      pyb::arg("bytes"), pyb::arg("device") = "cpu", pyb::arg("kind") = "host");
  m.def(
      "empty_cache",
      [](std::optional<std::string> device, std::optional<std::string> kind) {
        if (!device && !kind) return empty_all_caches();
        allocator_of(device.value_or("cpu"), kind.value_or("host")).empty_cache();
      },
      pyb::arg("device") = pyb::none(), pyb::arg("kind") = pyb::none());
  m.def(
      "has_memory",
      [](const std::string& device, const std::string& kind) {
        return has_allocator(Device::parse(device), memory_kind_from_name(kind));
      },
      pyb::arg("device"), pyb::arg("kind"));
  m.def(
      "accessible",
      [](const std::string& kind, const std::string& home, const std::string& target) {
        return accessible(memory_kind_from_name(kind), Device::parse(home), Device::parse(target));
      },
      pyb::arg("kind"), pyb::arg("home"), pyb::arg("target"));
  m.def("gpu_count", &gpu_count);

  m.def(
      "migrate",
      [](const Tensor& t, const std::string& device) {
        Device d = Device::parse(device);
        pyb::gil_scoped_release nogil;
        return migrate(t, d);
      },
      pyb::arg("tensor"), pyb::arg("device"));
  m.def("migrate_stats", [] {
    MigrateStats s = migrate_stats();
    pyb::dict d;
    d["copies"] = s.copies;
    d["elided"] = s.elided;
    d["bytes_moved"] = s.bytes_moved;
    d["prefetches"] = s.prefetches;
    return d;
  });
  m.def("reset_migrate_stats", &reset_migrate_stats);

  pyb::class_<PyMigratableMemory>(m, "MigratableMemory")
      .def(pyb::init<>())
      .def("__enter__", &PyMigratableMemory::enter, pyb::return_value_policy::reference_internal)
      .def("__exit__", [](PyMigratableMemory& s, pyb::args) { s.exit(); })
      .def_static("active", &MigratableMemory::active);

  m.def("_enable_test_device", &enable_test_device);
}

}  // namespace exafold::py
