// exafold._core: the compiled engine. Private; the exafold package re-exports what users need.
#include "common.h"

namespace exafold::py {

pyb::module_ test_modules(pyb::module_& m) {
  if (pyb::hasattr(m, "_modules")) return m.attr("_modules").cast<pyb::module_>();
  return m.def_submodule("_modules", "Single AlphaFold2 modules, for parity tests");
}

}  // namespace exafold::py

PYBIND11_MODULE(_core, m) {
  m.doc() = "exafold's C++ engine (private: use the exafold package)";
  exafold::py::bind_errors(m);
  // Tensor first: later signatures name it as a Python type, not as exafold::Tensor.
  exafold::py::bind_tensor(m);
  exafold::py::bind_memory(m);
  exafold::py::bind_info(m);
  exafold::py::bind_sched(m);
  exafold::py::bind_io(m);
  exafold::py::bind_model_structure(m);
  exafold::py::bind_model_trunk(m);
  exafold::py::bind_model(m);
  exafold::py::bind_memory_model(m);
  exafold::py::bind_features(m);
  exafold::py::bind_templates(m);  // adds to the features submodule
  exafold::py::bind_metrics(m);
}
