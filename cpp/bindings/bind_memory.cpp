// Allocator statistics and limits, migrate() and the MigratableMemory scope.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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
      pyb::arg("device") = "cpu", pyb::arg("kind") = "host",
      "Statistics of the caching allocator for (device, kind): bytes allocated, reserved and "
      "their peaks, allocation counts, cache hits, splits and merges.");
  m.def(
      "reset_peak_memory",
      [](const std::string& device, const std::string& kind) {
        allocator_of(device, kind).reset_peak();
      },
      pyb::arg("device") = "cpu", pyb::arg("kind") = "host",
      "Starts the peak counters of (device, kind) again from the current use.");
  m.def(
      "set_memory_limit",
      [](size_t bytes, const std::string& device, const std::string& kind) {
        allocator_of(device, kind).set_limit(bytes);
      },
      pyb::arg("bytes"), pyb::arg("device") = "cpu", pyb::arg("kind") = "host",
      "Caps the bytes (device, kind) may reserve; beyond it allocation raises MemoryError with "
      "the numbers. 0 removes the cap.");
  m.def(
      "empty_cache",
      [](std::optional<std::string> device, std::optional<std::string> kind) {
        if (!device && !kind) return empty_all_caches();
        allocator_of(device.value_or("cpu"), kind.value_or("host")).empty_cache();
      },
      pyb::arg("device") = pyb::none(), pyb::arg("kind") = pyb::none(),
      "Returns cached, unused blocks to the system: of one allocator, or of all when neither "
      "device nor kind is given.");
  m.def(
      "has_memory",
      [](const std::string& device, const std::string& kind) {
        return has_allocator(Device::parse(device), memory_kind_from_name(kind));
      },
      pyb::arg("device"), pyb::arg("kind"),
      "Whether this build and machine can allocate `kind` memory on `device`.");
  m.def(
      "accessible",
      [](const std::string& kind, const std::string& home, const std::string& target) {
        return accessible(memory_kind_from_name(kind), Device::parse(home), Device::parse(target));
      },
      pyb::arg("kind"), pyb::arg("home"), pyb::arg("target"),
      "Whether `target` reads `kind` memory living on `home` at full speed, so that migrate "
      "elides the copy (Note [Migratable memory]).");
  m.def("gpu_count", &gpu_count, "GPUs this process can use (0 without a CUDA build or device).");

  m.def(
      "stage_features",
      [](const pyb::dict& features, const std::string& device) {
        const Device d = Device::parse(device);
        std::vector<std::pair<pyb::object, Tensor>> given;
        for (auto [k, v] : features)
          given.emplace_back(pyb::reinterpret_borrow<pyb::object>(k),
                             tensor_from_numpy(pyb::array(v.cast<pyb::object>()), std::nullopt));
        std::vector<Tensor> staged(given.size());
        {
          pyb::gil_scoped_release nogil;
          for (size_t i = 0; i < given.size(); ++i) staged[i] = stage(given[i].second, d);
        }
        pyb::dict out;
        for (size_t i = 0; i < given.size(); ++i) {
          const bool same = staged[i].storage() == given[i].second.storage();
          out[given[i].first] = same ? features[given[i].first] : tensor_to_numpy(staged[i]);
        }
        return out;
      },
      pyb::arg("features"), pyb::arg("device"),
      "The arrays of `features` staged for `device` (Note [Staging]): still numpy arrays, in "
      "managed memory already on the GPU, or pinned memory, or the same arrays where `device` "
      "reads them at full speed. The prefetch pipeline calls this on its threads, so that "
      "the upload overlaps the prediction before.");
  m.def(
      "migrate",
      [](const Tensor& t, const std::string& device) {
        Device d = Device::parse(device);
        pyb::gil_scoped_release nogil;
        return migrate(t, d);
      },
      pyb::arg("tensor"), pyb::arg("device"),
      "The tensor usable on `device`: the same memory when `device` can already reach it, "
      "else a copy there.");
  m.def(
      "migrate_stats",
      [] {
        MigrateStats s = migrate_stats();
        pyb::dict d;
        d["copies"] = s.copies;
        d["elided"] = s.elided;
        d["bytes_moved"] = s.bytes_moved;
        d["prefetches"] = s.prefetches;
        d["staged"] = s.staged;
        d["bytes_staged"] = s.bytes_staged;
        return d;
      },
      "Counters of migrate() and stage(): copies, elided, bytes_moved, prefetches, staged and "
      "bytes_staged since the last reset.");
  m.def("reset_migrate_stats", &reset_migrate_stats, "Sets migrate()'s counters to zero.");

  pyb::class_<PyMigratableMemory>(m, "MigratableMemory",
                                  "A scope (with-statement) in which host allocations that name "
                                  "no memory kind come from unified memory when a GPU exists, so "
                                  "they migrate without copies.")
      .def(pyb::init<>())
      .def("__enter__", &PyMigratableMemory::enter, pyb::return_value_policy::reference_internal)
      .def("__exit__", [](PyMigratableMemory& s, pyb::args) { s.exit(); })
      .def_static("active", &MigratableMemory::active,
                  "Whether a MigratableMemory scope is open on this thread.");

  m.def("_enable_test_device", &enable_test_device);
}

}  // namespace exafold::py
