# 'deepid stats' and 'deepid identify-lfw' on hand-made feature files
# (tests/cli/studies_fixtures.cpp): working runs with hand-computed numbers
# (studies.sh) and bad input failing with one clear line. Included from
# suite.cmake, after cli_error and the deepid_cli target are defined.
set(studies_dir ${CMAKE_CURRENT_LIST_DIR})
set(studies_work ${CMAKE_CURRENT_BINARY_DIR}/studies_work)

add_executable(deepid_test_studies_fixtures ${studies_dir}/studies_fixtures.cpp)
target_link_libraries(deepid_test_studies_fixtures PRIVATE deepid::deepid deepid_project_flags)

add_test(NAME cli.studies.setup COMMAND deepid_test_studies_fixtures ${studies_work})
set_tests_properties(cli.studies.setup PROPERTIES FIXTURES_SETUP deepid_studies_files)
add_test(NAME cli.studies COMMAND bash ${studies_dir}/studies.sh ${studies_work} $<TARGET_FILE:deepid_cli>)
set_tests_properties(cli.studies PROPERTIES FIXTURES_REQUIRED deepid_studies_files)

# Help texts (main.cpp registers both commands).
add_test(NAME cli.help_stats COMMAND deepid_cli stats --help)
set_tests_properties(cli.help_stats PROPERTIES PASS_REGULAR_EXPRESSION "usage: deepid stats --features F.npy")
add_test(NAME cli.help_identify_lfw COMMAND deepid_cli help identify-lfw)
set_tests_properties(cli.help_identify_lfw PROPERTIES PASS_REGULAR_EXPRESSION "usage: deepid identify-lfw --features F.npy")

# studies_error(<name> <expected text> ARGS <deepid arguments>), run in the studies' folder.
function(studies_error name expected)
  cmake_parse_arguments(arg "" "" "ARGS" ${ARGN})
  add_test(NAME cli.error.${name}
           COMMAND bash ${studies_dir}/expect_error.sh ${expected} -- $<TARGET_FILE:deepid_cli> ${arg_ARGS}
           WORKING_DIRECTORY ${studies_work})
  set_tests_properties(cli.error.${name} PROPERTIES FIXTURES_REQUIRED deepid_studies_files)
endfunction()

studies_error(stats_models "run 'deepid features --models M --lfw DIR --out F.npy' first"
              ARGS stats --models m --lfw lfw)
studies_error(stats_missing_features "missing.npy: file not found" ARGS stats --features missing.npy)
studies_error(stats_truncated_binary "cut_bin.npy: truncated .npy file" ARGS stats --features cut_bin.npy)
studies_error(identify_far_above_one "--far '1.5' is not a rate strictly between 0 and 1"
              ARGS identify-lfw --features ident.npy --far 1.5)
studies_error(identify_far_zero "--far '0' is not a rate strictly between 0 and 1"
              ARGS identify-lfw --features ident.npy --far 0)
studies_error(identify_names_not_lfw "bad_names.names.txt: row 1 is named 'face_0001.png', not an LFW image"
              ARGS identify-lfw --features bad_names.npy --open-gallery 1)
studies_error(identify_empty_gallery "no person has two or more images, so the closed-set gallery is empty"
              ARGS identify-lfw --features singles.npy)
studies_error(identify_open_gallery_too_large "the open-set gallery needs 596 people with two or more images, the file has 3"
              ARGS identify-lfw --features ident.npy)
studies_error(identify_name_not_in_lfw_list "row 7 is named 'Dan/Dan_0002.jpg', not an image listed in lfw/lfw-names.txt"
              ARGS identify-lfw --features ident.npy --open-gallery 3 --lfw lfw)
studies_error(identify_missing_features "nowhere.npy: file not found" ARGS identify-lfw --features nowhere.npy)

# 'deepid occlusion' on a small LFW-like folder of synthetic faces (about a minute).
add_executable(deepid_test_fake_lfw ${studies_dir}/fake_lfw.cpp)
target_link_libraries(deepid_test_fake_lfw PRIVATE deepid::deepid deepid_project_flags)
add_test(NAME cli.occlusion COMMAND bash ${studies_dir}/occlusion.sh ${studies_work} $<TARGET_FILE:deepid_cli>
                                    $<TARGET_FILE:deepid_test_fake_lfw>)
set_tests_properties(cli.occlusion PROPERTIES FIXTURES_REQUIRED deepid_studies_files)
# Model sets trained on LFW people outside held-out folds (about a minute).
add_test(NAME cli.held_out_folds COMMAND bash ${studies_dir}/held_out.sh ${studies_work} $<TARGET_FILE:deepid_cli>
                                         $<TARGET_FILE:deepid_test_fake_lfw>)
set_tests_properties(cli.held_out_folds PROPERTIES FIXTURES_REQUIRED deepid_studies_files)
# A verifier learnt from training identities the nets never saw.
add_test(NAME cli.verifier_data COMMAND bash ${studies_dir}/verifier_data.sh ${studies_work} $<TARGET_FILE:deepid_cli>
                                         $<TARGET_FILE:deepid_test_fake_lfw>)
set_tests_properties(cli.verifier_data PROPERTIES FIXTURES_REQUIRED deepid_studies_files)
add_test(NAME cli.help_occlusion COMMAND deepid_cli help occlusion)
set_tests_properties(cli.help_occlusion PROPERTIES PASS_REGULAR_EXPRESSION "usage: deepid occlusion --models DIR")
studies_error(occlusion_bar_above_one "--bar '1.5' is not a fraction of the face above 0 and at most 1"
              ARGS occlusion --models m --lfw lfw --out o --bar 1.5)
studies_error(occlusion_block_too_large "--block '97' is not a whole number of pixels from 1 to 96"
              ARGS occlusion --models m --lfw lfw --out o --block 97)
studies_error(occlusion_nothing "--bar none and --block none leave nothing to measure"
              ARGS occlusion --models m --lfw lfw --out o --bar none --block none)
studies_error(occlusion_bad_baseline "--baseline 'sift' is not lbp, lbp-multiscale, hog or none"
              ARGS occlusion --models m --lfw lfw --out o --baseline sift)
studies_error(occlusion_missing_models "'deepid occlusion' needs --models" ARGS occlusion --lfw lfw --out o)
studies_error(occlusion_no_model_folder "no_such_models" ARGS occlusion --models no_such_models --lfw lfw --out o)

# Crash safety of 'deepid train': killed with SIGKILL at random moments and
# inside checkpoint writes, and resumed until it ends, a run ends bitwise where
# an uninterrupted one does (about a minute); a damaged checkpoint is skipped
# for the previous one, and a diverging run stops with one line.
add_executable(deepid_test_checkpoint_probe ${studies_dir}/checkpoint_probe.cpp)
target_link_libraries(deepid_test_checkpoint_probe PRIVATE deepid::deepid deepid_project_flags)
add_test(NAME cli.kill_resume COMMAND bash ${studies_dir}/kill_resume.sh ${studies_work} $<TARGET_FILE:deepid_cli>
                                      $<TARGET_FILE:deepid_test_checkpoint_probe>)
add_test(NAME cli.train_recovery COMMAND bash ${studies_dir}/train_recovery.sh ${studies_work}
                                         $<TARGET_FILE:deepid_cli> $<TARGET_FILE:deepid_test_checkpoint_probe>)
set_tests_properties(cli.kill_resume cli.train_recovery PROPERTIES TIMEOUT 300)
