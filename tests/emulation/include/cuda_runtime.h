// The CUDA runtime, emulated on the CPU, header-only: kernels compile as C++ (g++ or clang++)
// with this directory first on the include path, each CUDA thread runs as a fiber, a block's
// fibers on one OS thread, blocks on a pool of OS threads, and device memory is host memory.
// docs/gpu.md describes what it checks and what only a GPU can show.
//
// Kernel sources launch through EXAFOLD_LAUNCH and take dynamic shared memory through
// EXAFOLD_DYNAMIC_SHARED (cpp/src/cuda/kernel.cuh), whose C++ branch uses
// exafold::emulation::Launch and exafold::emulation::dynamic_shared below.
#pragma once

#define EXAFOLD_CUDA_EMULATION 1

// CUDA's declaration qualifiers. A __shared__ variable is one per OS thread, hence one per
// running block, as a block's fibers share their OS thread. Its contents carry over from the
// previous block on that thread: only dynamic shared memory is refilled (with NaN) per block.
#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __grid_constant__
#define __shared__ static thread_local
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

#include "driver_types.h"
#include "emulation/block.h"
#include "emulation/device_info.h"
#include "emulation/errors.h"
#include "emulation/intrinsics.h"
#include "emulation/launch.h"
#include "emulation/memory.h"
#include "emulation/streams.h"
#include "vector_types.h"
