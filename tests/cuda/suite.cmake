# The CUDA backend (backend/cuda.hpp). One comparison program against the CPU
# model, compiled once and linked twice: with the kernels run on the CPU
# (always; cuda.emulated) and, where nvcc is found, with the nvcc-built
# kernels (cuda.gpu, skipped with exit code 77 where no GPU is present).
add_library(deepid_cuda_comparison OBJECT ${CMAKE_CURRENT_LIST_DIR}/device_model.cpp)
target_link_libraries(deepid_cuda_comparison PRIVATE deepid::deepid deepid_project_flags doctest::doctest)
target_include_directories(deepid_cuda_comparison PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../support)
target_compile_definitions(deepid_cuda_comparison PRIVATE DEEPID_BINARY_DIR="${PROJECT_BINARY_DIR}")

add_executable(test_cuda_emulated $<TARGET_OBJECTS:deepid_cuda_comparison>)
target_link_libraries(test_cuda_emulated PRIVATE deepid::cuda_emulated deepid_project_flags doctest::doctest)
add_test(NAME cuda.emulated COMMAND test_cuda_emulated)
set_tests_properties(cuda.emulated PROPERTIES TIMEOUT 600)

if(NOT TARGET deepid_cuda)
  add_test(NAME cuda.skipped COMMAND ${CMAKE_COMMAND} -E echo
           "SKIPPED: no CUDA toolkit (nvcc) found: the CUDA backend was neither compiled nor run")
  set_tests_properties(cuda.skipped PROPERTIES SKIP_REGULAR_EXPRESSION "SKIPPED")
  return()
endif()

add_executable(test_cuda_gpu $<TARGET_OBJECTS:deepid_cuda_comparison>)
target_link_libraries(test_cuda_gpu PRIVATE deepid::cuda deepid_project_flags doctest::doctest)
add_test(NAME cuda.gpu COMMAND test_cuda_gpu)
set_tests_properties(cuda.gpu PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)

# nvcc compiles the backend's headers and a program using them: the kernels
# and device_buffer with the library's umbrella header in the same unit.
add_library(deepid_cuda_nvcc_check OBJECT ${CMAKE_CURRENT_LIST_DIR}/nvcc_includes.cu)
target_link_libraries(deepid_cuda_nvcc_check PRIVATE deepid::cuda)
set_target_properties(deepid_cuda_nvcc_check PROPERTIES EXCLUDE_FROM_ALL ON)
add_test(NAME cuda.nvcc_compiles
         COMMAND ${CMAKE_COMMAND} --build ${PROJECT_BINARY_DIR} --target deepid_cuda_nvcc_check test_cuda_gpu)
