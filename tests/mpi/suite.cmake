# Data-parallel training on MPI (distributed/mpi.hpp): 2 and 3 ranks on this
# machine (3 oversubscribe 2 cores), each rank on one thread. Where no MPI was
# found the suite is one test that reports itself skipped.
if(NOT TARGET deepid_mpi OR NOT MPIEXEC_EXECUTABLE)
  add_test(NAME mpi.skipped COMMAND ${CMAKE_COMMAND} -E echo
           "SKIPPED: no MPI (install libopenmpi-dev and openmpi-bin; see scripts/install-deps.sh)")
  set_tests_properties(mpi.skipped PROPERTIES SKIP_REGULAR_EXPRESSION "SKIPPED")
  return()
endif()

add_executable(mpi_data_parallel ${CMAKE_CURRENT_LIST_DIR}/data_parallel.cpp)
target_link_libraries(mpi_data_parallel PRIVATE deepid::mpi deepid_project_flags)
target_include_directories(mpi_data_parallel PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../support)

# Root may run mpirun here (CI containers run as root); one thread per rank.
set(deepid_mpi_env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
    OMPI_MCA_btl_vader_single_copy_mechanism=none)
set(deepid_mpi_work ${CMAKE_CURRENT_BINARY_DIR}/mpi_work)
function(deepid_mpi_test name ranks)
  add_test(NAME mpi.${name}
           COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${ranks} --oversubscribe --bind-to none
                   ${MPIEXEC_PREFLAGS} $<TARGET_FILE:mpi_data_parallel> ${ARGN})
  set_tests_properties(mpi.${name} PROPERTIES ENVIRONMENT "${deepid_mpi_env}" TIMEOUT 600 LABELS mpi)
endfunction()

deepid_mpi_test(equal_2_ranks 2 equal)
deepid_mpi_test(equal_3_ranks 3 equal)

# A run checkpointed on 2 ranks and finished on 3 ends where one process does.
deepid_mpi_test(resume_part_2_ranks 2 part ${deepid_mpi_work}/run.ckpt 5)
deepid_mpi_test(resume_finish_3_ranks 3 resume ${deepid_mpi_work}/run.ckpt)
set_tests_properties(mpi.resume_part_2_ranks PROPERTIES FIXTURES_SETUP deepid_mpi_checkpoint)
set_tests_properties(mpi.resume_finish_3_ranks PROPERTIES FIXTURES_REQUIRED deepid_mpi_checkpoint)

# Faults end the job with a clear error on every rank, never a hang (ctest's
# TIMEOUT bounds it). The rank that is left running is ended by mpirun with
# SIGTERM, and says so (mpi_session).
set(deepid_mpi_fault_mismatch --expect "the training run differs from rank 0's")
set(deepid_mpi_fault_die --expect "rank 1 .*exited on signal 9"
    --expect "mpi_data_parallel: error: rank 0 of 2: ended by SIGTERM")
set(deepid_mpi_fault_hang --expect "rank 0: no answer from the other ranks for 5 s"
    --expect "mpi_data_parallel: error: rank 1 of 2: ended by SIGTERM")
foreach(fault mismatch die hang)
  add_test(NAME mpi.fault_${fault}
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/expect_failure.sh ${deepid_mpi_fault_${fault}} --
                   ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 2 --oversubscribe --bind-to none ${MPIEXEC_PREFLAGS}
                   $<TARGET_FILE:mpi_data_parallel> ${fault})
  set_tests_properties(mpi.fault_${fault} PROPERTIES ENVIRONMENT "${deepid_mpi_env}" TIMEOUT 180 LABELS mpi)
endforeach()

# The tool on several ranks (built with MPI: examples/CMakeLists.txt).
if(TARGET deepid_cli)
  add_test(NAME mpi.cli_train
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/cli_train.sh ${deepid_mpi_work} $<TARGET_FILE:deepid_cli>
                   ${MPIEXEC_EXECUTABLE} --oversubscribe --bind-to none ${MPIEXEC_PREFLAGS})
  set_tests_properties(mpi.cli_train PROPERTIES ENVIRONMENT "${deepid_mpi_env}" TIMEOUT 600 LABELS mpi)
endif()
