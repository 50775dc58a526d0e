// Bytes of pair-shaped operands that meta:cuda's replay reads and writes (ops/backend_info.h).
#pragma once

#include <cstdint>

#include "exafold/ops/backend_info.h"
#include "exafold/tensor/tensor.h"

namespace exafold::cuda {

/// Counts, from now on, the operands with two dimensions of n elements and a multiple of n^2
/// distinct elements; n = 0 stops counting.
void start_pair_traffic(int64_t n);
/// The bytes counted so far, and a fresh count.
ops::OperandTraffic take_pair_traffic();
/// Adds t's distinct bytes (a broadcast dimension counts once) as read or written, when t is
/// pair-shaped.
void note_read(const Tensor& t);
void note_written(const Tensor& t);

}  // namespace exafold::cuda
