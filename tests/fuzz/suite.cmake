# Loader fuzz harnesses, replayed: each tests/fuzz/<loader>.cpp becomes
# fuzz_<loader>, built with the normal compiler around replay_main.cpp, and
# the ctest test fuzz.<loader> runs it over tests/fuzz/corpus/<loader>/ (the
# seeds and every input a fuzzer once failed on). scripts/fuzz.sh builds the
# same harnesses with libFuzzer to search for new inputs.
# Relies only on deepid::deepid and deepid_project_flags, so a build that
# includes this file alone (the sanitizer subset) works too.
# The replay runs in sanitized builds only: several regression inputs fail
# only under ASan + UBSan (an integer overflow, a NaN cast), so that is where
# replaying them proves something. CI runs it inside sanitize.address_subset;
# scripts/test.sh --sanitize runs it too.
if(NOT DEEPID_SANITIZE)
  return()
endif()
file(GLOB deepid_fuzz_harnesses CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
list(FILTER deepid_fuzz_harnesses EXCLUDE REGEX "/(replay_main|make_seeds)\\.cpp$")
add_library(deepid_fuzz_replay OBJECT ${CMAKE_CURRENT_LIST_DIR}/replay_main.cpp)
target_link_libraries(deepid_fuzz_replay PRIVATE deepid_project_flags)
target_compile_features(deepid_fuzz_replay PRIVATE cxx_std_20)
foreach(source ${deepid_fuzz_harnesses})
  get_filename_component(loader ${source} NAME_WE)
  add_executable(fuzz_${loader} ${source} $<TARGET_OBJECTS:deepid_fuzz_replay>)
  target_link_libraries(fuzz_${loader} PRIVATE deepid::deepid deepid_project_flags)
  target_include_directories(fuzz_${loader} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
  add_test(NAME fuzz.${loader} COMMAND fuzz_${loader} ${CMAKE_CURRENT_LIST_DIR}/corpus/${loader})
  set_tests_properties(fuzz.${loader} PROPERTIES LABELS fuzz TIMEOUT 300)
endforeach()

# Writes the seed corpus (see make_seeds.cpp); built only when asked for.
add_executable(fuzz_make_seeds EXCLUDE_FROM_ALL ${CMAKE_CURRENT_LIST_DIR}/make_seeds.cpp)
target_link_libraries(fuzz_make_seeds PRIVATE deepid::deepid deepid_project_flags)
target_include_directories(fuzz_make_seeds PRIVATE ${CMAKE_CURRENT_LIST_DIR})
