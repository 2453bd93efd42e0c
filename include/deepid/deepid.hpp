#pragma once
// deepid: the DeepID face-recognition family as header-only C++20 templates.
// This umbrella is the map of the library.

// core: shapes, tensors, errors, random numbers, threads
#include "deepid/core/config.hpp"
#include "deepid/core/error.hpp"
#include "deepid/core/limits.hpp"
#include "deepid/core/progress.hpp"
#include "deepid/core/rng.hpp"
#include "deepid/core/shape.hpp"
#include "deepid/core/tensor.hpp"
#include "deepid/core/threads.hpp"

// layers: one spec per header
#include "deepid/layers/concat.hpp"
#include "deepid/layers/conv.hpp"
#include "deepid/layers/dropout.hpp"
#include "deepid/layers/fully_connected.hpp"
#include "deepid/layers/locally_connected.hpp"
#include "deepid/layers/locally_shared_conv.hpp"
#include "deepid/layers/max_pool.hpp"
#include "deepid/layers/multi_scale_fc.hpp"
#include "deepid/layers/relu.hpp"
#include "deepid/layers/softmax.hpp"
#include "deepid/layers/tap.hpp"

// net: composition, the model, its gradient check and its interop weights (docs/weights.md)
#include "deepid/net/gradient_check.hpp"
#include "deepid/net/head.hpp"
#include "deepid/net/inception.hpp"
#include "deepid/net/layout.hpp"
#include "deepid/net/model.hpp"
#include "deepid/net/stack.hpp"
#include "deepid/net/weights.hpp"

// face: landmarks, alignment, patch schemes, training jitter, data sets, synthetic identities
#include "deepid/face/alignment.hpp"
#include "deepid/face/contact_sheet.hpp"
#include "deepid/face/face_set.hpp"
#include "deepid/face/identity_subset.hpp"
#include "deepid/face/image.hpp"
#include "deepid/face/image_store.hpp"
#include "deepid/face/jitter.hpp"
#include "deepid/face/landmark_list.hpp"
#include "deepid/face/landmarks.hpp"
#include "deepid/face/lfw.hpp"
#include "deepid/face/occlusion.hpp"
#include "deepid/face/patch_batch.hpp"
#include "deepid/face/patch_scheme.hpp"
#include "deepid/face/patches.hpp"
#include "deepid/face/similarity.hpp"
#include "deepid/face/synthetic.hpp"
#include "deepid/face/synthetic_set.hpp"
#include "deepid/face/tar_archive.hpp"

// features: classic baselines (LBP, HOG) and the extractor interface
#include "deepid/features/extractor.hpp"
#include "deepid/features/hog.hpp"
#include "deepid/features/lbp.hpp"

// features: the ensemble of patch nets (DeepID features of a face, any
// output), its training, and the DeepID2+ / DeepID3 families of nets it
// can hold
#include "deepid/features/ensemble.hpp"
#include "deepid/features/ensemble_training.hpp"
#include "deepid/features/net_families.hpp"

// loss and train: verification signals, SGD, the trainer, checkpoints
#include "deepid/loss/verification.hpp"
#include "deepid/train/checkpoint.hpp"
#include "deepid/train/interrupt.hpp"
#include "deepid/train/rank_group.hpp"
#include "deepid/train/sgd.hpp"
#include "deepid/train/trainer.hpp"

// verify: verifier policies with one interface, PCA, decision thresholds
#include "deepid/verify/distance.hpp"
#include "deepid/verify/embedded_verifier.hpp"
#include "deepid/verify/feature_group_fusion.hpp"
#include "deepid/verify/greedy_selection.hpp"
#include "deepid/verify/hamming.hpp"
#include "deepid/verify/joint_bayesian.hpp"
#include "deepid/verify/linear_models.hpp"
#include "deepid/verify/nn_verifier.hpp"
#include "deepid/verify/pair_classifier.hpp"
#include "deepid/verify/pair_sampling.hpp"
#include "deepid/verify/pca.hpp"
#include "deepid/verify/prefitted.hpp"
#include "deepid/verify/score_fusion.hpp"
#include "deepid/verify/threshold.hpp"
#include "deepid/verify/verifier.hpp"

// eval: ROC, the ten-fold protocol, reports and charts, sparsity, identification
#include "deepid/eval/held_out_folds.hpp"
#include "deepid/eval/identification.hpp"
#include "deepid/eval/lfw.hpp"
#include "deepid/eval/lfw_identification.hpp"
#include "deepid/eval/pairs.hpp"
#include "deepid/eval/plot.hpp"
#include "deepid/eval/protocol.hpp"
#include "deepid/eval/report.hpp"
#include "deepid/eval/roc.hpp"
#include "deepid/eval/sparsity.hpp"
#include "deepid/eval/sparsity_plot.hpp"

// models: the papers' nets, and a net checked against a patch scheme
#include "deepid/models/deepid1.hpp"
#include "deepid/models/deepid2.hpp"
#include "deepid/models/deepid2plus.hpp"
#include "deepid/models/deepid3.hpp"
#include "deepid/models/patch_input.hpp"

// io: NumPy .npy files, the interop weights folder, atomic writes, feature files (real or packed bits)
#include "deepid/io/atomic_file.hpp"
#include "deepid/io/npy.hpp"
#include "deepid/io/feature_file.hpp"
#include "deepid/io/input_file.hpp"
#include "deepid/io/packed_bits.hpp"
#include "deepid/io/record_file.hpp"
#include "deepid/io/weights_manifest.hpp"
