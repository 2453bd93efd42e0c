# Configures, builds and tests the sanitizer subset of this project
# (DEEPID_TEST_SUBSET=sanitize) in WORK_DIR with DEEPID_SANITIZE=SANITIZER.
# The folder is reused: a second run rebuilds only what changed.
cmake_minimum_required(VERSION 3.20)
foreach(var SANITIZER SOURCE_DIR WORK_DIR GENERATOR CXX USE_OPENMP NATIVE JOBS CTEST)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake needs -D${var}=...")
  endif()
endforeach()
# These tests need no face data; a data folder set for the outer run must not
# change what they do.
unset(ENV{DEEPID_DATA})

set(configure_command "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${WORK_DIR}" -G "${GENERATOR}"
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX}
    -DDEEPID_SANITIZE=${SANITIZER} -DDEEPID_TEST_SUBSET=sanitize -DDEEPID_USE_OPENMP=${USE_OPENMP}
    -DDEEPID_NATIVE=${NATIVE} -DDEEPID_BUILD_EXAMPLES=OFF -DDEEPID_BUILD_BENCHMARKS=OFF)
foreach(step configure build test)
  if(step STREQUAL "configure")
    set(cmd ${configure_command})
  elseif(step STREQUAL "build")
    set(cmd "${CMAKE_COMMAND}" --build "${WORK_DIR}" --parallel ${JOBS})
  else()
    set(cmd "${CTEST}" --test-dir "${WORK_DIR}" --output-on-failure --parallel ${JOBS})
  endif()
  execute_process(COMMAND ${cmd} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "sanitizer subset (${SANITIZER}) ${step} failed:\n${out}\n${err}")
  endif()
endforeach()
message(STATUS "sanitizer subset (${SANITIZER}):\n${out}")
