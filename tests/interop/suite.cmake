# PyTorch interop: deepid's features equal PyTorch's (scripts/torch_deepid.py)
# within 1e-4 on the same weights and input, for DeepID1 39x31x3 with ordinary
# convolutions and with the paper's weight sharing. Skipped (status 77, with
# the reason printed) when the interpreter lacks torch or numpy.
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

foreach(pair "plain;deepid1-39x31x3-plain" "paper;deepid1-39x31x3")
  list(GET pair 0 sharing)
  list(GET pair 1 model)
  add_test(NAME interop.torch_${sharing}
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/torch_interop.sh ${DEEPID_TORCH_PYTHON} $<TARGET_FILE:deepid_cli>
                   ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/interop_work/${sharing} ${sharing} ${model})
  set_tests_properties(interop.torch_${sharing} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS interop)
endforeach()
