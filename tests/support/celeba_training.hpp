#pragma once
// The DeepID1 face net the tests on real data (celeba_to_lfw.cpp,
// held_out_folds.cpp) train on celeba_subset: the index of its patch in the
// DeepID1 scheme and its training options, as in docs/results.md but for the
// number of epochs.
#include <cstddef>
#include <string_view>

#include <doctest/doctest.h>

#include <deepid/deepid.hpp>

namespace deepid_test {

// The index of the DeepID1 patch labelled `name`; a failed test when none is.
inline std::size_t deepid1_patch_index(std::string_view name) {
  using scheme = deepid::face::deepid1_scheme;
  for (std::size_t i = 0; i < scheme::patches.size(); ++i)
    if (scheme::patches[i].label() == name) return i;
  FAIL("no patch " << name);
  return 0;
}

// Lambda 0.05, a constant learning rate of 0.01 with momentum, a margin
// re-fitted every 20000 pairs, a line of progress per epoch.
inline deepid::train::options celeba_face_net_options(int epochs) {
  deepid::train::options o;
  o.epochs = epochs;
  o.lambda = 0.05;
  o.margin_window = 20000;
  o.optimiser = {.lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4};
  o.schedule = deepid::lr_schedule::constant(0.01);
  o.progress = deepid::progress_style::lines;
  return o;
}

}  // namespace deepid_test
