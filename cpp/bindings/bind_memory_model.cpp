// The prediction memory model (issue 3): predicted peak bytes and the chunk for a budget.
#include <string>
#include <utility>
#include <vector>

#include "common.h"
#include "exafold/model/memory_fit.h"
#include "exafold/model/memory_model.h"

namespace exafold::py {

namespace {

using Overrides = std::vector<std::pair<std::string, int>>;

model::MemoryWorkload workload(int64_t n, int64_t s, int64_t e, int iterations, int threads,
                               int64_t templates) {
  return {n, s, e, iterations, threads, templates};
}

}  // namespace

void bind_memory_model(pyb::module_& m) {
  using pyb::arg;
  m.def(
      "predict_peak_bytes",
      [](const std::string& preset, const Overrides& overrides, int64_t n, int64_t s, int64_t e,
         int64_t chunk, const std::string& dtype, int iterations, int threads, int64_t templates) {
        const auto cfg = model::with_overrides(model::preset(preset), overrides);
        return model::predict_peak_bytes(cfg, workload(n, s, e, iterations, threads, templates),
                                         chunk, dtype_from_name(dtype));
      },
      arg("preset"), arg("overrides"), arg("residues"), arg("clusters"), arg("extra_rows"),
      arg("chunk_size"), arg("dtype"), arg("iterations"), arg("threads"), arg("templates") = 0,
      "Predicted peak allocator bytes of a prediction above what was live before it");
  m.def(
      "choose_chunk",
      [](const std::string& preset, const Overrides& overrides, int64_t n, int64_t s, int64_t e,
         int64_t budget, const std::string& dtype, int iterations, int threads, int64_t templates) {
        const auto cfg = model::with_overrides(model::preset(preset), overrides);
        return model::choose_chunk(cfg, workload(n, s, e, iterations, threads, templates), budget,
                                   dtype_from_name(dtype));
      },
      arg("preset"), arg("overrides"), arg("residues"), arg("clusters"), arg("extra_rows"),
      arg("budget_bytes"), arg("dtype"), arg("iterations"), arg("threads"), arg("templates") = 0,
      "The largest chunk size (0 = unchunked) whose predicted peak fits the budget");
  m.def(
      "choose_gpu_chunk",
      [](const std::string& preset, const Overrides& overrides, int64_t n, int64_t s, int64_t e,
         const std::string& dtype, int iterations, int64_t templates, const std::string& device) {
        const auto cfg = model::with_overrides(model::preset(preset), overrides);
        const Device d = Device::parse(device);
        pyb::gil_scoped_release nogil;
        return model::choose_gpu_chunk(cfg, workload(n, s, e, iterations, 1, templates),
                                       dtype_from_name(dtype), d);
      },
      arg("preset"), arg("overrides"), arg("residues"), arg("clusters"), arg("extra_rows"),
      arg("dtype"), arg("iterations"), arg("templates"), arg("device"),
      "The chunk a prediction on the GPU `device` starts with: the largest whose reserved peak "
      "fits the device's free memory and cache, less its reserve (model/memory_fit.h)");
}

}  // namespace exafold::py
