# bench_features: the classic features (LBP, HOG) on 1,000 LFW faces
# (features.cpp). Included from benchmarks/CMakeLists.txt with
#   include(${CMAKE_CURRENT_LIST_DIR}/features.cmake)
# Skipped, with a message, without Google Benchmark; OpenCV's objdetect module
# (the HOGDescriptor peer) is optional.
if(NOT TARGET benchmark::benchmark)
  find_package(benchmark QUIET)
endif()
if(NOT TARGET benchmark::benchmark)
  message(STATUS "deepid benchmarks: Google Benchmark not found (libbenchmark-dev); bench_features skipped")
  return()
endif()

add_executable(bench_features ${CMAKE_CURRENT_LIST_DIR}/features.cpp)
target_link_libraries(bench_features PRIVATE deepid::deepid deepid_project_flags benchmark::benchmark)
find_package(OpenCV QUIET COMPONENTS objdetect)
if(OpenCV_FOUND AND TARGET opencv_objdetect)
  # OpenCV's headers are third-party: SYSTEM keeps their C++20 warnings out.
  target_include_directories(bench_features SYSTEM PRIVATE ${OpenCV_INCLUDE_DIRS})
  target_link_libraries(bench_features PRIVATE opencv_objdetect)
  target_compile_definitions(bench_features PRIVATE DEEPID_BENCH_OPENCV_HOG=1)
else()
  message(STATUS "deepid benchmarks: OpenCV objdetect not found; bench_features runs without its HOGDescriptor peer")
endif()
