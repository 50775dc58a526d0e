# OpenBLAS as the imported target exafold::blas (cblas.h + openblas_* thread controls).
set(BLA_VENDOR OpenBLAS)
find_package(BLAS REQUIRED)
find_path(EXAFOLD_CBLAS_INCLUDE_DIR cblas.h
          PATH_SUFFIXES openblas openblas-pthread x86_64-linux-gnu/openblas-pthread
                        aarch64-linux-gnu/openblas-pthread)
if(NOT EXAFOLD_CBLAS_INCLUDE_DIR)
  message(FATAL_ERROR "cblas.h not found: install OpenBLAS (Debian: libopenblas-dev)")
endif()
add_library(exafold::blas INTERFACE IMPORTED)
target_link_libraries(exafold::blas INTERFACE ${BLAS_LIBRARIES})
target_include_directories(exafold::blas INTERFACE ${EXAFOLD_CBLAS_INCLUDE_DIR})
