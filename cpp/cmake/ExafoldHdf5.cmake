# The HDF5 C library (serial) as the imported target exafold::hdf5, for the shard writer/reader:
# the system's (FindHDF5), or the unpacked Debian package under EXAFOLD_HDF5_ROOT, which
# bench/gpu/pack_device_kit.sh packs for a GPU machine without HDF5 (docs/gpu.md).
set(EXAFOLD_HDF5_ROOT "" CACHE PATH
    "prefix of an unpacked Debian HDF5 (include/hdf5/serial, lib/<arch>); empty: the system's")
if(EXAFOLD_HDF5_ROOT)
  find_path(EXAFOLD_HDF5_INCLUDE_DIR hdf5.h REQUIRED NO_DEFAULT_PATH
            PATHS ${EXAFOLD_HDF5_ROOT}/include/hdf5/serial ${EXAFOLD_HDF5_ROOT}/include)
  find_library(EXAFOLD_HDF5_LIBRARY NAMES hdf5_serial hdf5 REQUIRED NO_DEFAULT_PATH
               PATHS ${EXAFOLD_HDF5_ROOT}/lib/${CMAKE_LIBRARY_ARCHITECTURE} ${EXAFOLD_HDF5_ROOT}/lib)
  set(HDF5_C_INCLUDE_DIRS ${EXAFOLD_HDF5_INCLUDE_DIR})
  set(HDF5_C_LIBRARIES ${EXAFOLD_HDF5_LIBRARY})
  set(HDF5_C_DEFINITIONS "")
  message(STATUS "exafold HDF5: ${EXAFOLD_HDF5_LIBRARY}")
else()
  find_package(HDF5 REQUIRED COMPONENTS C)
  if(NOT HDF5_C_INCLUDE_DIRS AND HDF5_INCLUDE_DIRS)
    set(HDF5_C_INCLUDE_DIRS ${HDF5_INCLUDE_DIRS})
  endif()
endif()
add_library(exafold::hdf5 INTERFACE IMPORTED)
target_include_directories(exafold::hdf5 INTERFACE ${HDF5_C_INCLUDE_DIRS})
target_link_libraries(exafold::hdf5 INTERFACE ${HDF5_C_LIBRARIES})
target_compile_definitions(exafold::hdf5 INTERFACE ${HDF5_C_DEFINITIONS})
