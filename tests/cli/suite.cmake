# The deepid command-line tool: working runs, and every bad input failing with
# one line "deepid: error: ..." that names the file, a non-zero status, no
# crash, and no damage to existing files.
if(NOT TARGET deepid_cli)
  return()
endif()

add_executable(deepid_test_npy_tool ${CMAKE_CURRENT_LIST_DIR}/npy_tool.cpp)
target_link_libraries(deepid_test_npy_tool PRIVATE deepid::deepid deepid_project_flags)

set(cli_dir ${CMAKE_CURRENT_LIST_DIR})
set(cli_work ${CMAKE_CURRENT_BINARY_DIR}/cli_work)
set(cli_exe $<TARGET_FILE:deepid_cli>)

add_test(NAME cli.setup COMMAND bash ${cli_dir}/setup.sh ${cli_work} ${cli_exe} $<TARGET_FILE:deepid_test_npy_tool>)
set_tests_properties(cli.setup PROPERTIES FIXTURES_SETUP deepid_cli_files)

# Working runs.
add_test(NAME cli.help COMMAND deepid_cli help)
set_tests_properties(cli.help PROPERTIES PASS_REGULAR_EXPRESSION "usage: deepid <command>")
add_test(NAME cli.help_forward COMMAND deepid_cli forward --help)
set_tests_properties(cli.help_forward PROPERTIES PASS_REGULAR_EXPRESSION "usage: deepid forward --model NAME")
# DeepID2+ and DeepID3 are listed with their parameter counts and outputs.
add_test(NAME cli.info_deeper_nets COMMAND deepid_cli info)
set_tests_properties(cli.info_deeper_nets PROPERTIES PASS_REGULAR_EXPRESSION
                     "deepid2plus-47x47x3 +3x47x47 +42297216 +2974080 +243.73 +165.09 +fc1,fc2,fc3,fc4.*deepid3-net2-55x47x3 ")
add_test(NAME cli.info_deepid2plus_fc1 COMMAND deepid_cli info --model deepid2plus-55x47x3)
set_tests_properties(cli.info_deepid2plus_fc1 PROPERTIES PASS_REGULAR_EXPRESSION
                     "5  fully_connected<512> \\+ relu +fc1 +512x1x1 +37487104")
add_test(NAME cli.info COMMAND deepid_cli info)
set_tests_properties(cli.info PROPERTIES
  PASS_REGULAR_EXPRESSION "simd: .*threads: .*deepid1-39x31x3 +3x39x31 +216780.*deepid2-47x47x1-plain +1x47x47 +317480")
add_test(NAME cli.info_model COMMAND deepid_cli info --model deepid1-39x31x3)
set_tests_properties(cli.info_model PROPERTIES
  PASS_REGULAR_EXPRESSION "locally_shared_conv<60,3,regions<2,2>> \\+ relu +60x6x4 +86640.*total +216780 +5\\.980")
add_test(NAME cli.forward COMMAND bash ${cli_dir}/forward_ok.sh ${cli_work} ${cli_exe}
                                  $<TARGET_FILE:deepid_test_npy_tool>)
set_tests_properties(cli.forward PROPERTIES FIXTURES_REQUIRED deepid_cli_files)

# cli_error(<name> <expected text> [UNCHANGED file] ARGS <deepid arguments>)
function(cli_error name expected)
  cmake_parse_arguments(arg "" "UNCHANGED" "ARGS" ${ARGN})
  set(keep)
  if(arg_UNCHANGED)
    set(keep --unchanged ${arg_UNCHANGED})
  endif()
  add_test(NAME cli.error.${name}
           COMMAND bash ${cli_dir}/expect_error.sh ${keep} ${expected} -- ${cli_exe} ${arg_ARGS}
           WORKING_DIRECTORY ${cli_work})
  set_tests_properties(cli.error.${name} PROPERTIES FIXTURES_REQUIRED deepid_cli_files)
endfunction()

set(m deepid1-39x31x3)
set(ok --model ${m} --weights w --input x.npy --output y.npy)
# Usage mistakes.
cli_error(unknown_command "unknown command 'frobnicate'" ARGS frobnicate)
cli_error(unknown_option "unknown option '--bogus' for 'deepid forward'" ARGS forward ${ok} --bogus 1)
cli_error(unknown_global_option "unknown option '--bogus'" ARGS --bogus)
cli_error(missing_option "'deepid forward' needs --weights" ARGS forward --model ${m} --input x.npy --output y.npy)
cli_error(option_without_value "option '--input' needs a value" ARGS forward --model ${m} --weights w --input)
cli_error(option_twice "option '--model' is given twice" ARGS forward ${ok} --model ${m})
cli_error(stray_argument "unexpected argument 'x.npy'" ARGS forward x.npy)
cli_error(bad_threads "--threads 'zero' is not an integer" ARGS forward ${ok} --threads zero)
cli_error(bad_seed "--seed '-3' is not an integer" ARGS export --model ${m} --out e --seed -3)
cli_error(help_unknown "no help for unknown command 'nope'" ARGS help nope)
cli_error(bad_device "unknown --device 'tpu' (cpu or cuda)" ARGS train --synthetic 3:4 --out t_device --device tpu)
cli_error(device_without_models "--device needs --models" ARGS features --extractor lbp --lfw . --out f.npy --device cuda)
if(NOT DEEPID_CLI_CUDA)
  cli_error(device_cuda_not_built "--device cuda: this deepid tool was built without the CUDA backend"
            ARGS train --synthetic 3:4 --out t_device --device cuda)
endif()
# Unknown model.
cli_error(unknown_model "unknown model 'deepid9'" ARGS forward --model deepid9 --weights w --input x.npy --output y.npy)
cli_error(unknown_head "model has no output named 'fc1' (it has output)" ARGS forward ${ok} --head fc1)
cli_error(unknown_model_info "unknown model 'deepid1'" ARGS info --model deepid1)
cli_error(unknown_model_export "unknown model 'deepid3-net1'" ARGS export --model deepid3-net1 --out e)
# Weights.
cli_error(weights_dir_missing "absent: weights directory not found"
          ARGS forward --model ${m} --weights absent --input x.npy --output y.npy)
cli_error(weights_dir_is_file "x.npy: not a directory"
          ARGS forward --model ${m} --weights x.npy --input x.npy --output y.npy)
cli_error(weight_file_missing "w_missing/4.bias.npy: file not found"
          ARGS forward --model ${m} --weights w_missing --input x.npy --output y.npy)
cli_error(weight_wrong_shape "w_shape/1.weight.npy: expected shape 20x3x4x4, found 20x1x4x4"
          ARGS forward --model ${m} --weights w_shape --input x.npy --output y.npy)
cli_error(weight_nan "w_nan/7.bias.npy: value [0, 0, 0] is NaN"
          ARGS forward --model ${m} --weights w_nan --input x.npy --output y.npy)
cli_error(weights_mixed "w_mixed/14.weight.npy: not the file w_mixed/model.txt lists (its checksum differs"
          ARGS forward --model ${m} --weights w_mixed --input x.npy --output y.npy)
cli_error(output_overflows "y_huge.npy: not written: output value"
          ARGS forward --model ${m} --weights w_huge --input x.npy --output y_huge.npy)
cli_error(weight_truncated "w_truncated/14.weight.npy: truncated .npy file"
          ARGS forward --model ${m} --weights w_truncated --input x.npy --output y.npy)
cli_error(weights_other_model "w/model.txt: the weights are for model 'deepid1-39x31x3', not 'deepid1-39x31x3-plain'"
          ARGS forward --model deepid1-39x31x3-plain --weights w --input x.npy --output y.npy)
cli_error(weights_bad_manifest "w_manifest/model.txt: line 1: unsupported format"
          ARGS forward --model ${m} --weights w_manifest --input x.npy --output y.npy)
# Input batch.
cli_error(input_missing "absent.npy: file not found"
          ARGS forward --model ${m} --weights w --input absent.npy --output y.npy)
cli_error(input_wrong_shape "x_gray.npy: expected shape Nx3x39x31, found 4x1x39x31"
          ARGS forward --model ${m} --weights w --input x_gray.npy --output y.npy)
cli_error(input_wrong_rank "x_rank3.npy: expected shape Nx3x39x31, found 3x39x31"
          ARGS forward --model ${m} --weights w --input x_rank3.npy --output y.npy)
cli_error(input_nan "x_nan.npy: value [0, 0, 0, 0] is NaN"
          ARGS forward --model ${m} --weights w --input x_nan.npy --output y.npy)
cli_error(input_inf "x_inf.npy: value [1, 2, 38, 30] is +inf"
          ARGS forward --model ${m} --weights w --input x_inf.npy --output y.npy)
cli_error(input_empty "x_empty.npy: the batch is empty"
          ARGS forward --model ${m} --weights w --input x_empty.npy --output y.npy)
cli_error(input_truncated "x_truncated.npy: truncated .npy file"
          ARGS forward --model ${m} --weights w --input x_truncated.npy --output y.npy)
cli_error(input_not_npy "x_text.npy: not a .npy file"
          ARGS forward --model ${m} --weights w --input x_text.npy --output y.npy)
# Output: a failed run leaves an existing file as it was.
cli_error(output_kept_on_failure "x_nan.npy: value" UNCHANGED ${cli_work}/existing.npy
          ARGS forward --model ${m} --weights w --input x_nan.npy --output existing.npy)
cli_error(output_dir_missing "nodir/y.npy: directory 'nodir' does not exist"
          ARGS forward --model ${m} --weights w --input x.npy --output nodir/y.npy)
cli_error(output_is_directory "w: is a directory"
          ARGS forward --model ${m} --weights w --input x.npy --output w)
cli_error(export_onto_file "x.npy: cannot create the weights directory"
          UNCHANGED ${cli_work}/x.npy ARGS export --model ${m} --out x.npy)

# The main job end to end (about a minute on two cores) and 'deepid verify'.
add_test(NAME cli.quickstart COMMAND bash ${cli_dir}/quickstart.sh ${cli_work} ${cli_exe})
set_tests_properties(cli.quickstart PROPERTIES FIXTURES_REQUIRED deepid_cli_files TIMEOUT 900)
# Bad input for the face, training and evaluation commands.
cli_error(patches_no_source "needs exactly one of --image, --lfw or --synthetic" ARGS patches --out s.png)
cli_error(patches_bad_landmarks "--landmarks needs ten numbers" ARGS patches --image x.npy --landmarks "1 2 3" --out s.png)
cli_error(patches_unreadable_image "x.npy: not a readable image" ARGS patches --image x.npy --landmarks "10 10 30 10 20 20 12 30 28 30" --out s.png)
cli_error(patches_unknown_scheme "unknown --scheme 'deepid9'" ARGS patches --synthetic 1:1 --out s.png --scheme deepid9)
cli_error(features_missing_lfw "nowhere: not an LFW folder" ARGS features --extractor lbp --lfw nowhere --out f.npy)
cli_error(eval_missing_features "missing.npy" ARGS eval-lfw --features missing.npy --lfw . --verifier jb --out e)
cli_error(eval_unknown_verifier "unknown verifier 'nope'" ARGS eval-lfw --features x.npy --lfw . --verifier nope --out e)
cli_error(train_no_set "give one training set (--celeba, --folders or --synthetic), --lfw" ARGS train --scheme deepid1 --patches 1 --out m)
# The deeper schemes: training every head, resuming, output weights; bad input.
add_test(NAME cli.train_deeper_schemes COMMAND bash ${cli_dir}/deeper_schemes.sh ${cli_work} ${cli_exe})
set_tests_properties(cli.train_deeper_schemes PROPERTIES FIXTURES_REQUIRED deepid_cli_files TIMEOUT 600)
# A model folder continues only with the settings it began with.
add_test(NAME cli.train_settings COMMAND bash ${cli_dir}/train_settings.sh ${cli_work} ${cli_exe})
set_tests_properties(cli.train_settings PROPERTIES FIXTURES_REQUIRED deepid_cli_files)
cli_error(train_unknown_scheme "unknown --scheme 'deepid4'" ARGS train --scheme deepid4 --patches 1 --out m --synthetic 4:3)
cli_error(train_output_weights "--output-weights: 3 weights for the 4 outputs of a deepid2plus net (fc1,fc2,fc3,fc4)"
          ARGS train --scheme deepid2plus --patches face.s1.rgb --output-weights 1,1,1 --out m --synthetic 4:3 --epochs 1)
cli_error(features_head_without_models "--head needs --models" ARGS features --extractor lbp --head fc1 --lfw . --out f.npy)
cli_error(train_bad_patch "--patches: 'face.s9.rgb' is neither" ARGS train --scheme deepid1 --patches face.s9.rgb --out m --synthetic 4:3)
# Numbers too large for any integer type, and sets too large to build.
cli_error(train_huge_patch_count "--patches '99999999999999999999999' is not an integer from 1 to 60"
          ARGS train --scheme deepid1 --patches 99999999999999999999999 --out m --synthetic 4:3)
cli_error(train_huge_patch_index "--patches: '99999999999999999999999' is neither"
          ARGS train --scheme deepid1 --patches 1,99999999999999999999999 --out m --synthetic 4:3)
cli_error(train_huge_synthetic_set "synthetic faces: 100000 identities x 100000 images is not from 1 to 1000000 faces"
          ARGS train --scheme deepid1 --patches 1 --out m --synthetic 100000:100000)
cli_error(verify_missing_models "scheme.txt: cannot open" ARGS verify --models nowhere --verifier v.jb a.png b.png --landmarks-a "1 2 3 4 5 6 7 8 9 10" --landmarks-b "1 2 3 4 5 6 7 8 9 10")
cli_error(verify_one_image "needs exactly two images" ARGS verify --models m --verifier v.jb a.png)

# deepid stats and deepid identify-lfw.
include(${CMAKE_CURRENT_LIST_DIR}/studies.cmake)
