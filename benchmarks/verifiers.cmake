# bench_verifiers: Joint Bayesian training and scoring, PCA (benchmarks/verifiers.cpp).
# Included from benchmarks/CMakeLists.txt after find_package(benchmark):
#   include(${CMAKE_CURRENT_SOURCE_DIR}/verifiers.cmake)
if(benchmark_FOUND)
  add_executable(bench_verifiers ${CMAKE_CURRENT_LIST_DIR}/verifiers.cpp)
  target_link_libraries(bench_verifiers PRIVATE deepid::deepid deepid_project_flags benchmark::benchmark)
else()
  message(STATUS "deepid benchmarks: Google Benchmark not found (libbenchmark-dev); bench_verifiers skipped")
endif()
