# The layers of DESIGN.md section 2 as one OBJECT library each, compiled against a view of the
# headers that holds only what the layer may include: a forbidden #include does not compile.
#
# exafold_layer(NAME
#   SOURCES <files>          the layer's sources
#   SEES <layer>...          public header folders it may include (cpp/include/exafold/<layer>)
#   SEES_FILES <file>...     single public headers (core/error.h) where a whole folder is too much
#   INTERNAL <folder>...     cpp/src folders whose private headers it may include (its own first))
#
# The view is a folder of symbolic links in the build tree, made at configure time; the
# library's objects all go into the one static library exafold.
function(exafold_layer name)
  cmake_parse_arguments(L "" "" "SOURCES;SEES;SEES_FILES;INTERNAL" ${ARGN})
  set(root ${CMAKE_BINARY_DIR}/layer_views/${name})
  file(REMOVE_RECURSE ${root})
  file(MAKE_DIRECTORY ${root}/exafold)
  foreach(layer IN LISTS L_SEES)
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/cpp/include/exafold/${layer} ${root}/exafold/${layer}
         SYMBOLIC)
  endforeach()
  foreach(header IN LISTS L_SEES_FILES)
    get_filename_component(dir ${header} DIRECTORY)
    file(MAKE_DIRECTORY ${root}/exafold/${dir})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/cpp/include/exafold/${header}
         ${root}/exafold/${header} SYMBOLIC)
  endforeach()
  foreach(folder IN LISTS L_INTERNAL)
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/cpp/src/${folder} ${root}/${folder} SYMBOLIC)
  endforeach()
  add_library(exafold_${name} OBJECT ${L_SOURCES})
  target_include_directories(exafold_${name} PRIVATE ${root})
  # -fno-trapping-math (clang's default): exafold never reads floating-point exception flags,
  # and without it GCC will not turn a float select inside a loop into a vector blend, which
  # leaves loops such as the softmax's scalar (cpu/fast_exp.h). It changes no result.
  target_compile_options(exafold_${name} PRIVATE
                         $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -fno-trapping-math>)
  target_compile_definitions(
    exafold_${name} PRIVATE EXAFOLD_BUILD_TYPE="${CMAKE_BUILD_TYPE}"
                            EXAFOLD_COMPILER="${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}"
                            $<$<BOOL:${EXAFOLD_SANITIZE}>:EXAFOLD_SANITIZED=1>)
  set_property(GLOBAL APPEND PROPERTY EXAFOLD_LAYER_TARGETS exafold_${name})
endfunction()

# Every public header of core/ except those named: a layer that must not reach them (the model
# and the thread pool) sees the rest one by one.
function(exafold_core_headers_except out)
  file(GLOB headers RELATIVE ${PROJECT_SOURCE_DIR}/cpp/include/exafold
       ${PROJECT_SOURCE_DIR}/cpp/include/exafold/core/*.h)
  list(REMOVE_ITEM headers ${ARGN})
  set(${out} ${headers} PARENT_SCOPE)
endfunction()

function(exafold_layer_sources out folder)
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/cpp/src/${folder}/*.cpp
       ${PROJECT_SOURCE_DIR}/cpp/src/${folder}/*.cu)
  set(${out} ${sources} PARENT_SCOPE)
endfunction()
