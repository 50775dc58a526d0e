# The HDF5 C library (serial) as the imported target exafold::hdf5, for the shard writer/reader.
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_C_INCLUDE_DIRS AND HDF5_INCLUDE_DIRS)
  set(HDF5_C_INCLUDE_DIRS ${HDF5_INCLUDE_DIRS})
endif()
add_library(exafold::hdf5 INTERFACE IMPORTED)
target_include_directories(exafold::hdf5 INTERFACE ${HDF5_C_INCLUDE_DIRS})
target_link_libraries(exafold::hdf5 INTERFACE ${HDF5_C_LIBRARIES})
target_compile_definitions(exafold::hdf5 INTERFACE ${HDF5_C_DEFINITIONS})
