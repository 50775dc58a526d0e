# Decides EXAFOLD_WITH_CUDA from EXAFOLD_CUDA (AUTO|ON|OFF|EMULATE) and provides
# exafold_link_cuda(). EMULATE builds the CUDA backend as C++ against the CPU emulation of CUDA
# (ExafoldCudaEmulation.cmake).
if(EXAFOLD_CUDA STREQUAL "EMULATE")
  include(ExafoldCudaEmulation)
  return()
endif()

include(CheckLanguage)

set(EXAFOLD_WITH_CUDA OFF)
if(EXAFOLD_CUDA STREQUAL "ON" OR EXAFOLD_CUDA STREQUAL "AUTO")
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(EXAFOLD_WITH_CUDA ON)
  elseif(EXAFOLD_CUDA STREQUAL "ON")
    message(FATAL_ERROR "EXAFOLD_CUDA=ON but no CUDA compiler (nvcc) was found")
  endif()
elseif(NOT EXAFOLD_CUDA STREQUAL "OFF")
  message(FATAL_ERROR "EXAFOLD_CUDA must be AUTO, ON, OFF or EMULATE, not '${EXAFOLD_CUDA}'")
endif()

if(EXAFOLD_WITH_CUDA)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    # Hopper (H100/H200) is the target; add more with -DCMAKE_CUDA_ARCHITECTURES.
    set(CMAKE_CUDA_ARCHITECTURES 90)
  endif()
  enable_language(CUDA)
  # Some CMake versions (3.25 among them) know nvcc's standard flags only up to C++17, although
  # nvcc takes -std=c++20 since CUDA 12; without this, configuring with them fails.
  if(NOT DEFINED CMAKE_CUDA20_STANDARD_COMPILE_OPTION
     AND CMAKE_CUDA_COMPILER_VERSION VERSION_GREATER_EQUAL 12.0)
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
  endif()
  set(CMAKE_CUDA_STANDARD 20)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  find_package(CUDAToolkit REQUIRED)
  message(STATUS "exafold: CUDA backend ON (${CUDAToolkit_VERSION})")
else()
  message(STATUS "exafold: CUDA backend OFF")
endif()

function(exafold_link_cuda target)
  target_link_libraries(${target} PRIVATE CUDA::cudart_static CUDA::cublas CUDA::cublasLt)
  target_compile_definitions(${target} PRIVATE
                             EXAFOLD_CUDA_VERSION="${CUDAToolkit_VERSION}")
  set_target_properties(${target} PROPERTIES CUDA_SEPARABLE_COMPILATION OFF)
endfunction()
