# OpenBLAS as the imported target exafold::blas: PyPI's scipy-openblas32, the OpenBLAS build that
# SciPy and numpy ship, rather than the distribution's (docs/performance.md, "BLAS kernels": an
# older OpenBLAS falls back to its SSE3 kernels on CPUs newer than itself). Its names carry a
# scipy_ prefix; cpp/src/cpu/openblas.h is the only file that uses them.
#
# It is a Python package, found in this order, so that every build of the tree (the Python
# module, build/release's tests and benchmarks, build/asan, a build by hand) links the same file:
# EXAFOLD_OPENBLAS_ROOT (the scipy_openblas32 package directory) when given; else the interpreter
# building the Python module (scikit-build-core sets Python_EXECUTABLE); else the project's .venv,
# which cpp/tools/setup.sh creates and fills from cpp/tools/requirements.txt.
set(EXAFOLD_OPENBLAS_ROOT "" CACHE PATH
    "scipy_openblas32 package directory (default: asked of Python_EXECUTABLE, else .venv)")

set(_exafold_openblas_root ${EXAFOLD_OPENBLAS_ROOT})
if(NOT _exafold_openblas_root)
  if(Python_EXECUTABLE)
    set(_exafold_openblas_python ${Python_EXECUTABLE})
  else()
    set(_exafold_openblas_python ${PROJECT_SOURCE_DIR}/.venv/bin/python)
  endif()
  execute_process(
    COMMAND ${_exafold_openblas_python} -c
            "import os, scipy_openblas32 as s; print(os.path.dirname(s.get_lib_dir()))"
    OUTPUT_VARIABLE _exafold_openblas_root OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _exafold_openblas_status ERROR_VARIABLE _exafold_openblas_error)
  if(NOT _exafold_openblas_status EQUAL 0)
    message(FATAL_ERROR
            "scipy-openblas32 not found by ${_exafold_openblas_python}: run "
            "`bash cpp/tools/setup.sh` (it installs cpp/tools/requirements.txt into .venv), or "
            "pass -DPython_EXECUTABLE=<a python with scipy-openblas32> or "
            "-DEXAFOLD_OPENBLAS_ROOT=<its package directory>.\n${_exafold_openblas_error}")
  endif()
endif()

find_package(OpenBLAS 0.3.34 CONFIG REQUIRED PATHS ${_exafold_openblas_root}/lib/cmake/openblas
             NO_DEFAULT_PATH)
message(STATUS "exafold BLAS: OpenBLAS ${OpenBLAS_VERSION} (${OpenBLAS_LIBRARIES})")
add_library(exafold::blas INTERFACE IMPORTED)
target_link_libraries(exafold::blas INTERFACE OpenBLAS::OpenBLAS)

# Binaries in the build tree find the library through CMake's build RPATH (its absolute path).
# The installed Python module (the only installed target, in <site-packages>/exafold/) finds it
# in the scipy-openblas32 wheel beside it, which pyproject.toml makes a dependency.
list(APPEND CMAKE_INSTALL_RPATH "$ORIGIN/../scipy_openblas32/lib")
