#pragma once
// The processes of a data-parallel training run, as the trainer sees them:
// this process's rank, how many ranks there are, and sums over all of them.
// distributed/mpi.hpp implements it on MPI; nothing in the trainer depends
// on how the ranks talk.
//
// Every rank holds the whole model. A batch of B pairs is cut into `size()`
// consecutive parts (rank r takes pairs [B r / N, B (r + 1) / N)); each rank
// runs forward and backward on its part, the gradients are summed over the
// ranks, and every rank applies the same update.
#include <cstddef>
#include <span>
#include <string>

#include "deepid/core/config.hpp"

DEEPID_NAMESPACE_BEGIN
namespace train {

class rank_group {
 public:
  virtual ~rank_group() = default;
  virtual std::size_t rank() const = 0;
  virtual std::size_t size() const = 0;

  // Replaces `values` on every rank by their element-wise sum over the ranks.
  // The terms are added in an order fixed by the rank count alone, so every
  // rank gets the same bits and a rerun gets them again.
  virtual void sum(std::span<float> values) = 0;
  virtual void sum(std::span<double> values) = 0;
  // Starts sum(values) and may return before it is done, so that the caller
  // computes while the values travel; `values` must not be touched until
  // wait_sums() returns. Sums run in the order they were started (every rank
  // starts the same ones). By default the sum is done at once.
  virtual void start_sum(std::span<float> values) { sum(values); }
  // Waits until every sum that start_sum started is done; throws its error.
  virtual void wait_sums() {}

  // Replaces `values` on every rank by rank `root`'s (the same count on each).
  virtual void broadcast(std::span<float> values, std::size_t root) = 0;

  // Throws on every rank when `text` (a run's configuration: model type,
  // options, data) is not the same on every rank; `what` names it.
  virtual void require_same(const std::string& what, const std::string& text) = 0;
};

// Pairs [first, last) of a batch of `pairs` that rank `rank` of `ranks` takes.
struct pair_share {
  std::size_t first = 0, last = 0;
  std::size_t count() const { return last - first; }
};

inline pair_share share_of(std::size_t pairs, std::size_t rank, std::size_t ranks) {
  return {pairs * rank / ranks, pairs * (rank + 1) / ranks};
}

}  // namespace train
DEEPID_NAMESPACE_END
