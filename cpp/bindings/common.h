// Declarations shared by the binding files: one bind_<area>() per area, called from module.cpp.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace exafold::py {

namespace pyb = pybind11;

void bind_errors(pyb::module_& m);
void bind_memory(pyb::module_& m);
void bind_tensor(pyb::module_& m);
void bind_info(pyb::module_& m);
void bind_sched(pyb::module_& m);
void bind_io(pyb::module_& m);
void bind_model_trunk(pyb::module_& m);
void bind_model_structure(pyb::module_& m);

}  // namespace exafold::py
