# PyTorch interop: every output of deepid's models (each head and the main
# one) equals PyTorch's (scripts/torch_deepid.py) within 1e-4 on the same
# weights and input. Skipped (status 77, with the reason printed) when the
# interpreter lacks torch or numpy.
if(NOT TARGET deepid_cli)
  return()
endif()

set(DEEPID_TORCH_PYTHON /usr/bin/python3 CACHE FILEPATH
    "Python with torch and numpy for the PyTorch interop check (Debian's python3)")
execute_process(COMMAND ${DEEPID_TORCH_PYTHON} -c "import numpy, torch"
                RESULT_VARIABLE deepid_torch_missing OUTPUT_QUIET ERROR_QUIET)
if(deepid_torch_missing)
  message(STATUS "deepid: ${DEEPID_TORCH_PYTHON} cannot import torch and numpy: "
                 "the PyTorch interop tests will be SKIPPED (set DEEPID_TORCH_PYTHON)")
endif()

# model;batch (the paper-scale nets on smaller batches: their weights alone
# are 140-260 MB).
foreach(pair "deepid1-39x31x3-plain;8" "deepid1-39x31x3;8"
             "deepid2plus-55x47x3;4" "deepid2plus-55x47x1;4" "deepid2plus-47x47x3;4" "deepid2plus-47x47x1;4"
             "deepid3-net1-55x47x3;3" "deepid3-net2-55x47x3;3"
             "deepid3-net1-55x47x3-reduced;6" "deepid3-net2-55x47x3-reduced;6"
             "deepid3-net1-47x47x1-reduced;6" "deepid3-net2-47x47x1-reduced;6")
  list(GET pair 0 model)
  list(GET pair 1 batch)
  add_test(NAME interop.torch.${model}
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/torch_interop.sh ${DEEPID_TORCH_PYTHON} $<TARGET_FILE:deepid_cli>
                   ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/interop_work/${model} ${model} ${batch})
  set_tests_properties(interop.torch.${model} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600 LABELS interop)
endforeach()
