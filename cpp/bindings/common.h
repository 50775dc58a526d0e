// Declarations shared by the binding files: one bind_<area>() per area, called from module.cpp.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "exafold/tensor/tensor.h"

namespace exafold::py {

namespace pyb = pybind11;

/// exafold._core._modules: single AlphaFold2 modules exposed for the parity tests. Every area
/// adds its entry points to the one submodule.
pyb::module_ test_modules(pyb::module_& m);

/// A numpy array as a Tensor sharing its memory (the tensor keeps the array alive); bfloat16
/// from uint16 raw bits when dtype says so (Note [bfloat16 in numpy] in bind_tensor.cpp).
Tensor tensor_from_numpy(pyb::array a, std::optional<std::string> dtype);
/// A host Tensor as a numpy array sharing its memory (the array keeps the storage alive).
pyb::array tensor_to_numpy(const Tensor& t);
/// A contiguous exafold copy of an array-like in `dtype` (float32, float64, int32 or int64; numpy
/// casts), made while the GIL is held, for entry points whose C++ wants one precision.
Tensor tensor_copy_as(const pyb::handle& h, DType dtype);
template <class E>
Tensor copy_as(const pyb::handle& h) {
  return tensor_copy_as(h, dtype_v<E>);
}

/// The value of a 0-d (or one-element) tensor on any device, as a double.
double scalar_of(const Tensor& t);

void bind_errors(pyb::module_& m);
void bind_memory(pyb::module_& m);
void bind_tensor(pyb::module_& m);
void bind_info(pyb::module_& m);
void bind_sched(pyb::module_& m);
void bind_io(pyb::module_& m);
void bind_model_structure(pyb::module_& m);
void bind_model_trunk(pyb::module_& m);
void bind_model(pyb::module_& m);
void bind_memory_model(pyb::module_& m);
void bind_features(pyb::module_& m);
void bind_templates(pyb::module_& m);
void bind_metrics(pyb::module_& m);

}  // namespace exafold::py
