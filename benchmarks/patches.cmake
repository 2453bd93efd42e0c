# bench_patches: DeepID1 patch extraction time per LFW face.
add_executable(bench_patches ${CMAKE_CURRENT_LIST_DIR}/patches.cpp)
target_link_libraries(bench_patches PRIVATE deepid::deepid deepid_project_flags)
