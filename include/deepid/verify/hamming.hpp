#pragma once
// Binarised features and the Hamming verifier (DeepID2+).
//
// A feature becomes a bit string with bit d = 1 iff x[d] > 0: DeepID2+
// features are ReLU outputs and "activated" means positive. Bits are packed
// little-endian into 64-bit words (bit d lives in word d / 64 at position
// d % 64); the unused high bits of a row's last word are always zero, so the
// distance of two rows is a plain popcount of XORed words.
//
// hamming_verifier: score = -(Hamming distance), an integer in [-D, 0];
// HIGHER = MORE LIKELY THE SAME PERSON. fit() learns the dimension and the
// accuracy-maximising threshold on training pairs, nothing else.
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/threads.hpp"
#include "deepid/verify/verifier.hpp"

DEEPID_NAMESPACE_BEGIN
namespace verify {

// Rows of packed bits, one row per feature row.
class binary_codes {
 public:
  binary_codes() = default;
  binary_codes(std::size_t rows, std::size_t bits)
      : rows_(rows), bits_(bits), words_((bits + 63) / 64), data_(rows * words_, 0) {}

  std::size_t rows() const { return rows_; }
  std::size_t bits() const { return bits_; }
  std::size_t words_per_row() const { return words_; }
  std::span<const std::uint64_t> row(std::size_t i) const { return {data_.data() + i * words_, words_}; }
  std::span<std::uint64_t> row(std::size_t i) { return {data_.data() + i * words_, words_}; }
  bool bit(std::size_t i, std::size_t d) const { return (data_[i * words_ + d / 64] >> (d % 64)) & 1u; }

 private:
  std::size_t rows_ = 0, bits_ = 0, words_ = 0;
  std::vector<std::uint64_t> data_;
};

// Packs one feature vector: bit d = values[d] > threshold. Unused high bits
// of the last word are zero. Throws on a non-finite value.
inline void pack_bits(std::span<const float> values, std::span<std::uint64_t> out, float threshold = 0.0f) {
  if (out.size() != (values.size() + 63) / 64)
    throw error("pack_bits: " + std::to_string(values.size()) + " values need " +
                std::to_string((values.size() + 63) / 64) + " words, found " + std::to_string(out.size()));
  for (auto& w : out) w = 0;
  for (std::size_t d = 0; d < values.size(); ++d) {
    if (!std::isfinite(values[d])) throw error("binarise: feature " + std::to_string(d) + " is not finite");
    out[d / 64] |= std::uint64_t(values[d] > threshold) << (d % 64);
  }
}

// Binarises every row of x (bit = x > threshold, 0 by default), rows in parallel.
inline binary_codes binarise(const matrix<float>& x, float threshold = 0.0f) {
  const std::size_t n = x.shape()[0], d = x.shape()[1];
  binary_codes codes(n, d);
  bool bad = false;
#if DEEPID_OPENMP
#pragma omp parallel for schedule(static) num_threads(num_threads()) reduction(|| : bad)
#endif
  for (std::ptrdiff_t i = 0; i < std::ptrdiff_t(n); ++i) {
    const float* r = x.data() + std::size_t(i) * d;
    auto out = codes.row(std::size_t(i));
    for (std::size_t j = 0; j < d; ++j) {
      bad = bad || !std::isfinite(r[j]);
      out[j / 64] |= std::uint64_t(r[j] > threshold) << (j % 64);
    }
  }
  if (bad)
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!std::isfinite(x.data()[i]))
        throw error("binarise: feature " + std::to_string(i % d) + " of row " + std::to_string(i / d) + " is not finite");
  return codes;
}

// Number of differing bits of two packed rows of equal length.
inline std::size_t hamming_distance(std::span<const std::uint64_t> a, std::span<const std::uint64_t> b) {
  if (a.size() != b.size())
    throw error("hamming_distance: rows of " + std::to_string(a.size()) + " and " + std::to_string(b.size()) + " words");
  std::size_t d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d += std::size_t(std::popcount(a[i] ^ b[i]));
  return d;
}

class hamming_verifier : public threshold_holder {
 public:
  explicit hamming_verifier(float bit_threshold = 0.0f) : bit_threshold_(bit_threshold) {}

  static std::string kind() { return "hamming"; }
  float bit_threshold() const { return bit_threshold_; }
  bool fitted() const { return fitted_; }
  std::size_t dim() const { return dim_; }

  void fit(const training_data& data) {
    dim_ = data.features.shape()[1];
    if (dim_ == 0) throw error("hamming verifier: features have no dimensions");
    for (std::size_t i = 0; i < data.features.size(); ++i)
      if (!std::isfinite(data.features.data()[i]))
        throw error(kind() + ": feature " + std::to_string(i % dim_) + " of row " + std::to_string(i / dim_) +
                    " is not finite");
    fitted_ = true;
    if (!data.pairs.empty()) learn_threshold(scores(data.features, data.pairs), data.pairs);
  }

  double score(std::span<const float> a, std::span<const float> b) const {
    check_dim(a.size(), b.size());
    std::vector<std::uint64_t> pa((a.size() + 63) / 64), pb(pa.size());
    pack_bits(a, pa, bit_threshold_);
    pack_bits(b, pb, bit_threshold_);
    return -double(hamming_distance(pa, pb));
  }

  // Packs every row once, then scores the pairs in parallel.
  std::vector<double> scores(const matrix<float>& x, std::span<const labelled_pair> pairs) const {
    check_dim(x.shape()[1], x.shape()[1]);
    check_pairs(pairs, x.shape()[0], "hamming verifier");
    return scores(binarise(x, bit_threshold_), pairs);
  }
  // Scores pairs of already packed rows (e.g. codes stored instead of features).
  std::vector<double> scores(const binary_codes& codes, std::span<const labelled_pair> pairs) const {
    check_dim(codes.bits(), codes.bits());
    check_pairs(pairs, codes.rows(), "hamming verifier");
    std::vector<double> out(pairs.size());
#if DEEPID_OPENMP
#pragma omp parallel for schedule(static) num_threads(num_threads())
#endif
    for (std::ptrdiff_t k = 0; k < std::ptrdiff_t(pairs.size()); ++k) {
      const auto& p = pairs[std::size_t(k)];
      out[std::size_t(k)] = -double(hamming_distance(codes.row(p.first), codes.row(p.second)));
    }
    return out;
  }

  io::record_writer record() const {
    io::record_writer w("verifier/" + kind(), 1);
    w.add_scalar("dim", double(dim_));
    w.add_scalar("fitted", fitted_ ? 1.0 : 0.0);
    w.add_scalar("bit_threshold", double(bit_threshold_));
    save_threshold(w);
    return w;
  }
  void save(const std::filesystem::path& path) const { record().save(path); }
  static hamming_verifier load(const std::filesystem::path& path) {
    return from_record(io::record_reader(path, "verifier/" + kind(), 1));
  }
  static hamming_verifier from_record(const io::record_reader& r) {
    hamming_verifier v(float(r.scalar("bit_threshold")));
    v.dim_ = std::size_t(r.scalar("dim"));
    v.fitted_ = r.scalar("fitted") != 0.0;
    v.load_threshold(r);
    return v;
  }

 private:
  void check_dim(std::size_t a, std::size_t b) const {
    if (a != b)
      throw error(kind() + ": feature lengths differ (" + std::to_string(a) + " and " + std::to_string(b) + ")");
    if (fitted_ && a != dim_)
      throw error(kind() + ": features have " + std::to_string(a) + " dimensions, fitted on " + std::to_string(dim_));
  }

  float bit_threshold_ = 0.0f;
  std::size_t dim_ = 0;
  bool fitted_ = false;
};

static_assert(verifier<hamming_verifier>);

}  // namespace verify
DEEPID_NAMESPACE_END
