# Every public header compiles on its own: one translation unit per header.
file(GLOB_RECURSE deepid_public_headers RELATIVE ${PROJECT_SOURCE_DIR}/include CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/include/deepid/*.hpp)
set(deepid_header_units)
foreach(header ${deepid_public_headers})
  # MPI's header needs MPI; it has its own tests. (The CUDA backend's headers
  # are plain C++: its kernels, compiled by nvcc, are a .cuh.)
  if(header MATCHES "^deepid/distributed/")
    continue()
  endif()
  string(REPLACE "/" "_" unit ${header})
  set(unit "${CMAKE_CURRENT_BINARY_DIR}/header_units/${unit}.cpp")
  set(text "#include <${header}>\n#include <${header}>  // include guards hold\n")
  if(EXISTS ${unit})
    file(READ ${unit} old)
  endif()
  if(NOT old STREQUAL text)
    file(WRITE ${unit} "${text}")
  endif()
  list(APPEND deepid_header_units ${unit})
endforeach()
add_library(deepid_header_check OBJECT ${deepid_header_units})
target_link_libraries(deepid_header_check PRIVATE deepid::deepid deepid_project_flags)
target_compile_options(deepid_header_check PRIVATE -Werror)
add_test(NAME headers.compile_alone
         COMMAND ${CMAKE_COMMAND} --build ${PROJECT_BINARY_DIR} --target deepid_header_check)

# No header includes a folder above its own (the order: docs/design.md).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME headers.include_direction
           COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/check_include_direction.py)
endif()
