# The generated single header: up to date with include/, and usable alone.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME single_include.up_to_date
           COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/amalgamate.py --check)
endif()
add_executable(single_include_example ${CMAKE_CURRENT_LIST_DIR}/example.cpp)
target_include_directories(single_include_example PRIVATE ${PROJECT_SOURCE_DIR}/single_include)
target_compile_definitions(single_include_example PRIVATE DEEPID_SINGLE_HEADER_CHECK)
target_compile_features(single_include_example PRIVATE cxx_std_20)
target_link_libraries(single_include_example PRIVATE Eigen3::Eigen xtensor xsimd deepid_project_flags
                      opencv_core opencv_imgproc opencv_imgcodecs)
target_include_directories(single_include_example SYSTEM PRIVATE ${OpenCV_INCLUDE_DIRS})
if(TARGET OpenMP::OpenMP_CXX)
  target_link_libraries(single_include_example PRIVATE OpenMP::OpenMP_CXX)
endif()
add_test(NAME single_include.example COMMAND single_include_example)
