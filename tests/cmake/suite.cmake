# deepid consumed as a user would: installed + find_package, and add_subdirectory.
foreach(mode find_package add_subdirectory)
  add_test(NAME consume.${mode}
           COMMAND ${CMAKE_COMMAND} -DMODE=${mode} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
                   -DBINARY_DIR=${PROJECT_BINARY_DIR} -P ${CMAKE_CURRENT_LIST_DIR}/run.cmake)
endforeach()
