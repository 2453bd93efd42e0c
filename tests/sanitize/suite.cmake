# ASan + UBSan over a subset of the unit tests and the fuzz replay tests, in a
# nested build of this project (kept between runs, so a second run only
# rebuilds what changed). Sanitized builds run their own tests directly.
if(DEEPID_SANITIZE)
  return()
endif()
include(ProcessorCount)
ProcessorCount(deepid_sanitize_jobs)
if(deepid_sanitize_jobs EQUAL 0)
  set(deepid_sanitize_jobs 1)
endif()
add_test(NAME sanitize.address_subset
         COMMAND ${CMAKE_COMMAND} -DSANITIZER=address -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
                 -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/sanitize_address
                 "-DGENERATOR=${CMAKE_GENERATOR}" -DCXX=${CMAKE_CXX_COMPILER}
                 -DUSE_OPENMP=${DEEPID_USE_OPENMP} -DNATIVE=${DEEPID_NATIVE} -DJOBS=${deepid_sanitize_jobs}
                 -DCTEST=${CMAKE_CTEST_COMMAND}
                 -P ${CMAKE_CURRENT_LIST_DIR}/run.cmake)
# Started first (it is the longest) and given room for a build from scratch.
set_tests_properties(sanitize.address_subset PROPERTIES COST 100000 TIMEOUT 2400)
