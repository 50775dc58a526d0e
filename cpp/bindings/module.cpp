// exafold._core: the compiled engine. Private; the exafold package re-exports what users need.
#include "common.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "exafold's C++ engine (private: use the exafold package)";
  exafold::py::bind_errors(m);
  exafold::py::bind_memory(m);
  exafold::py::bind_tensor(m);
  exafold::py::bind_info(m);
  exafold::py::bind_sched(m);
  exafold::py::bind_io(m);
  exafold::py::bind_model_trunk(m);
  exafold::py::bind_model_structure(m);
}
