# EXAFOLD_CUDA=EMULATE: the CUDA backend (cpp/src/cuda) compiled unchanged as C++ against the
# CPU emulation of the CUDA runtime and cuBLASLt in tests/emulation/include, so that everything
# above it, the GPU tests included, runs on a machine without a GPU or nvcc (docs/gpu.md):
#   cmake -S . -B build/emulation -DEXAFOLD_CUDA=EMULATE -DEXAFOLD_BUILD_TESTS=ON
# The tests of the emulation itself (tests/emulation) are added with the C++ tests.
set(EXAFOLD_WITH_CUDA ON)
set(EXAFOLD_CUDA_EMULATION ON)
set(EXAFOLD_CUDA_EMULATION_INCLUDE ${PROJECT_SOURCE_DIR}/tests/emulation/include)
find_package(Threads REQUIRED)
message(STATUS "exafold: CUDA backend EMULATE (on the CPU, tests/emulation)")

# The .cu sources of `target` become C++ sources, with the emulation's headers (cuda_runtime.h,
# cuda_bf16.h, cublasLt.h) found before any CUDA installation's. GCC does not know nvcc's
# `#pragma unroll` (clang does); the loops it marks run as written. Emulated kernels (and the
# cuBLASLt stand-in) do all of a GPU's arithmetic on a few cores: unoptimised, as in a Debug
# build, the GPU test table takes minutes under ASan, so they get -O1 there, the level ASan
# itself recommends, which keeps its reports exact.
function(exafold_link_cuda target)
  get_target_property(_sources ${target} SOURCES)
  list(FILTER _sources INCLUDE REGEX "\\.cu$")
  if(_sources)
    set_source_files_properties(
      ${_sources} TARGET_DIRECTORY ${target}
      PROPERTIES LANGUAGE CXX COMPILE_OPTIONS
                 "$<$<CXX_COMPILER_ID:GNU>:-Wno-unknown-pragmas>;$<$<CONFIG:Debug>:-O1>")
  endif()
  target_include_directories(${target} BEFORE PRIVATE ${EXAFOLD_CUDA_EMULATION_INCLUDE})
  target_compile_definitions(${target} PRIVATE EXAFOLD_CUDA_VERSION="emulated")
  target_link_libraries(${target} PRIVATE Threads::Threads)
endfunction()
