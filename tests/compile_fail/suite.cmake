# Misuses that must not compile, each checked for its readable message.
# Each misuse includes only the headers it uses (a compile of the umbrella
# header takes most of a minute on CI's machine); the two controls include
# <deepid/deepid.hpp>, as users do.
set(deepid_cf_includes)
foreach(dep Eigen3::Eigen xtensor xsimd)
  get_target_property(dirs ${dep} INTERFACE_INCLUDE_DIRECTORIES)
  list(APPEND deepid_cf_includes ${dirs})
endforeach()
list(APPEND deepid_cf_includes ${OpenCV_INCLUDE_DIRS})
list(REMOVE_DUPLICATES deepid_cf_includes)
# System directories are searched anyway; naming them with -isystem breaks #include_next.
list(REMOVE_ITEM deepid_cf_includes ${CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES})
string(REPLACE ";" "|" deepid_cf_includes "${deepid_cf_includes}")
file(GLOB deepid_cf_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
foreach(source ${deepid_cf_sources})
  get_filename_component(name ${source} NAME_WE)
  add_test(NAME compile_fail.${name}
           COMMAND ${CMAKE_COMMAND} -DCXX=${CMAKE_CXX_COMPILER} -DSOURCE=${source}
                   -DDEEPID_INCLUDE=${PROJECT_SOURCE_DIR}/include "-DINCLUDES=${deepid_cf_includes}"
                   -P ${CMAKE_CURRENT_LIST_DIR}/check.cmake)
endforeach()
