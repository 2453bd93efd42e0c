#pragma once
// Binary feature codes as bytes, in NumPy's numpy.packbits layout (bitorder
// 'big'): bit d of a row is bit 7 - d % 8 of byte d / 8, a row takes
// ceil(D / 8) bytes and the unused low bits of its last byte are zero. This
// is how binary feature files store DeepID2+'s codes (bit = activation > 0);
// numpy.unpackbits reads them back as they are.
//
// verify::binary_codes packs into 64-bit words instead, for fast Hamming
// distances in memory; this layout is the one other tools read.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/tensor.hpp"

DEEPID_NAMESPACE_BEGIN
namespace io {

// Bytes that hold `bits` bits.
constexpr std::size_t packed_row_bytes(std::size_t bits) { return (bits + 7) / 8; }

// Packs every row of x (N x D): bit = x > 0. Returns N x ceil(D / 8) bytes,
// row after row. Throws on a value that is not finite (it has no sign to keep).
inline std::vector<std::uint8_t> pack_positive_bits(const matrix<float>& x) {
  const std::size_t n = x.shape()[0], d = x.shape()[1], row_bytes = packed_row_bytes(d);
  std::vector<std::uint8_t> bytes(n * row_bytes, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const float* row = x.data() + i * d;
    std::uint8_t* out = bytes.data() + i * row_bytes;
    for (std::size_t j = 0; j < d; ++j) {
      if (!std::isfinite(row[j]))
        throw error("pack_positive_bits: feature " + std::to_string(j) + " of row " + std::to_string(i) + " is not finite");
      if (row[j] > 0.0f) out[j / 8] |= std::uint8_t(0x80u >> (j % 8));
    }
  }
  return bytes;
}

// Unpacks rows of `row_bytes` bytes into 0/1 floats: rows x (8 row_bytes).
// The file does not record D, so the padding bits come back as zero columns.
inline matrix<float> unpack_bits(std::span<const std::uint8_t> bytes, std::size_t rows, std::size_t row_bytes) {
  if (bytes.size() != rows * row_bytes)
    throw error("unpack_bits: " + std::to_string(bytes.size()) + " bytes for " + std::to_string(rows) + " rows of " +
                std::to_string(row_bytes) + " bytes");
  matrix<float> x({rows, 8 * row_bytes});
  float* out = x.data();
  for (std::size_t k = 0; k < bytes.size(); ++k)
    for (std::size_t b = 0; b < 8; ++b) out[8 * k + b] = float((bytes[k] >> (7 - b)) & 1u);
  return x;
}

}  // namespace io
DEEPID_NAMESPACE_END
