// The strict test backend: the cpu backend's kernels on strict memory (exafold/memory/strict.h),
// which the host can reach only between an op's enter() and leave(). The whole model runs on it
// in the test suite, bit-identical to the cpu backend: any access to tensor memory outside an
// op (from model code, a binding or a helper) faults.
#pragma once

#include "cpu/cpu_backend.h"

namespace exafold::strict {

class StrictBackend final : public cpu::CpuBackend {
 public:
  std::string_view name() const override { return "strict"; }
  void enter(std::span<const Tensor* const> tensors) override;
  void leave() override;
};

StrictBackend& strict_backend();

}  // namespace exafold::strict
