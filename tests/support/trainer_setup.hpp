#pragma once
// What the trainer tests (trainer.cpp, trainer_heads.cpp, augmentation.cpp,
// tests/mpi) train with on the synthetic patches of synthetic_patches.hpp: a
// small DeepID-shaped net and one with heads, quick options (a few seconds
// an epoch), and a whole run that returns the trained weights.
#include <vector>

#include <deepid/deepid.hpp>
#include <deepid/train/trainer.hpp>

#include "synthetic_patches.hpp"

namespace deepid_test {

// A small DeepID-shaped net on 31x31 gray patches.
using small_net =
    deepid::stack<deepid::input<1, 31, 31>, deepid::conv<8, 4>, deepid::relu, deepid::max_pool<2>, deepid::conv<12, 3>,
                  deepid::relu, deepid::max_pool<2>, deepid::locally_shared_conv<16, 3, deepid::regions<2, 2>>,
                  deepid::relu, deepid::max_pool<2>, deepid::tap<"pool3">, deepid::locally_connected<16, 2>,
                  deepid::relu, deepid::tap<"conv4">, deepid::multi_scale_fc<32, "pool3", "conv4">, deepid::relu>;

// DeepID2+ in miniature on 31x31 gray patches: heads after pool1 and pool2,
// the feature layer fed by pool3 and conv4, dropout on a head and on the
// feature layer.
using headed_net =
    deepid::stack<deepid::input<1, 31, 31>, deepid::conv<8, 4>, deepid::relu, deepid::max_pool<2>, deepid::tap<"pool1">,
                  deepid::head<"fc1", "pool1", deepid::fully_connected<24>, deepid::relu, deepid::dropout<0.5>>,
                  deepid::conv<12, 3>, deepid::relu, deepid::max_pool<2>, deepid::tap<"pool2">,
                  deepid::head<"fc2", "pool2", deepid::fully_connected<24>, deepid::relu>,
                  deepid::locally_shared_conv<16, 3, deepid::regions<2, 2>>, deepid::relu, deepid::max_pool<2>,
                  deepid::tap<"pool3">, deepid::locally_connected<16, 2>, deepid::relu, deepid::tap<"conv4">,
                  deepid::multi_scale_fc<32, "pool3", "conv4">, deepid::relu, deepid::dropout<0.5>, deepid::tap<"fc4">>;

// Batches of 16 pairs, a constant learning rate of 0.02 with momentum,
// seed 9, no progress output.
inline deepid::train::options quick_options(int epochs) {
  deepid::train::options o;
  o.epochs = epochs;
  o.batch_pairs = 16;
  o.lambda = 0.05;
  o.margin_window = 64;
  o.optimiser = {.lr = 0.02, .momentum = 0.9, .weight_decay = 5e-4};
  o.schedule = deepid::lr_schedule::constant(0.02);
  o.seed = 9;
  o.progress = deepid::progress_style::silent;
  return o;
}

// The weights of a Net (initialised with seed 3) trained on the synthetic
// patches with `o` on `threads` threads; the thread count is 2 afterwards.
template <class Net>
std::vector<float> trained_weights(const deepid::train::options& o, int threads) {
  deepid::set_num_threads(threads);
  deepid::model<Net> m(deepid::init::seed{3});
  deepid::train::trainer<Net> t(m, synthetic_patches().identities, o);
  t.fit(synthetic_patches());
  deepid::set_num_threads(2);
  return {m.parameters().begin(), m.parameters().end()};
}

}  // namespace deepid_test
