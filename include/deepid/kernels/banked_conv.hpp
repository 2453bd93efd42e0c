#pragma once
// The convolution kernels for ordinary, locally shared and locally connected
// layers (one code path: a layer is a grid of weight banks).
//
// Every pass is a direct, register-tiled xsimd kernel on NHWC data (a kernel
// row is one contiguous run of kernel*Cin values, so no im2col copy is made).
// A tile is a compile-time rectangle of output positions that share one bank
// (for a locally connected layer: one position in several samples), so every
// offset inside it is a constant from one base pointer and the inner loops
// are loads, broadcasts and FMAs on registers:
//  - forward: positions x channel vectors, summed over K = (ky, kx, ci);
//    optionally max-pooled in registers before the store (inference);
//  - d(weights): a block of K values x channel vectors, summed over positions;
//  - d(input): positions x vectors of a kernel row, summed over output
//    channels, then added in place.
// Tile shapes are chosen at compile time from the geometry and the number of
// vector registers; a region row whose width no tile divides ends with a
// narrower tail tile. Tile code is compiled per tile key (row length,
// kernel, stride, channels), not per geometry, and is not inlined, so that
// layers of equally wide maps share one copy. Determinism: every value is summed in one fixed order
// whatever the thread count; d(weights) is summed per fixed chunk of samples
// and the chunk partials are reduced in chunk order (layers with many banks:
// per bank over all samples, see conv_backward).
#include <algorithm>
#include <array>
#include <cstddef>

#include "deepid/core/buffer.hpp"
#include "deepid/kernels/conv_geometry.hpp"
#include "deepid/kernels/detail/transpose.hpp"
#include "deepid/kernels/detail/xsimd.hpp"
#include "deepid/kernels/parallel.hpp"
#include "deepid/kernels/simd.hpp"

DEEPID_NAMESPACE_BEGIN
namespace kernels {

// Weights repacked for the forward kernel: [banks][K][Cout rounded up to the
// SIMD width], bias [banks][Cout rounded up]; padding lanes are zero.
template <class T>
struct packed_conv_weights {
  buffer<T> weights, bias;
};

template <class T>
void pack_conv_weights(const conv_geometry& g, const T* weights, const T* bias, packed_conv_weights<T>& p) {
  const std::size_t cp = padded_channels<T>(g.cout), k = g.patch();
  p.weights.assign(g.banks() * k * cp, T(0));
  p.bias.assign(g.banks() * cp, T(0));
  for (std::size_t b = 0; b < g.banks(); ++b) {
    for (std::size_t i = 0; i < k; ++i)
      std::copy_n(weights + (b * k + i) * g.cout, g.cout, p.weights.data() + (b * k + i) * cp);
    std::copy_n(bias + b * g.cout, g.cout, p.bias.data() + b * cp);
  }
}

// Scratch memory a layer keeps between calls, so passes do not allocate.
template <class T>
struct conv_workspace {
  buffer<T> padded, dpadded;  // zero-bordered input and its gradient (layers with padding)
  buffer<T> dz;               // ReLU-masked d(output), channels padded to the SIMD width
  buffer<T> partial;          // d(weights), d(bias) of each chunk of samples (or of each bank)
  buffer<T> wt;               // weights for d(input): [bank][ky][Cout][kernel row, padded]
};

namespace detail {

// ---------------------------------------------------------------- planning

// A tile of output positions: `samples` x `rows` x `cols`, one bank.
struct conv_tile {
  std::size_t samples = 1, rows = 1, cols = 1;
  constexpr std::size_t positions() const { return samples * rows * cols; }
  constexpr bool operator==(const conv_tile&) const = default;
};

// A tile and how many tiles a position costs: 1 / positions where tiles
// divide the region, more where each region row ends with a narrower tail.
struct tile_choice {
  conv_tile tile{0, 0, 0};
  double tiles_per_position = 1e9;
};

// The tile of at most `limit` positions that needs the fewest tiles for the
// region (rh x rw): rows and cols multiples of `step` (the pool window, when
// pooling in the epilogue); either dividing the region (several samples only
// where `max_samples` > 1), or `step` rows of one sample whose cols need not
// divide a row, which then ends with a tail tile of rw % cols columns (maps
// 47 or 23 wide have no divisor that would make a tile). Ties go to tiles
// without a tail, to fewer samples, then to longer rows (contiguous reads).
constexpr tile_choice pick_tile(std::size_t rh, std::size_t rw, std::size_t limit, std::size_t step,
                                std::size_t max_samples) {
  tile_choice best;
  const auto consider = [&](conv_tile t, double tiles_per_position, bool tail) {
    const double eps = 1e-12;
    const bool better =
        tiles_per_position < best.tiles_per_position - eps ||
        (tiles_per_position < best.tiles_per_position + eps && !tail &&
         (t.samples < best.tile.samples || (t.samples == best.tile.samples && t.cols > best.tile.cols)));
    if (better) best = {t, tiles_per_position};
  };
  for (std::size_t s = 1; s <= max_samples; s *= 2)
    for (std::size_t r = step; r <= rh; r += step)
      for (std::size_t c = step; c <= rw; c += step) {
        const conv_tile t{s, r, c};
        if (rh % r || rw % c || t.positions() > limit) continue;
        consider(t, 1.0 / double(t.positions()), false);
      }
  if (rh % step == 0)
    for (std::size_t c = step; c < rw && step * c <= limit; c += step)
      if (rw % c) consider({1, step, c}, double((rw + c - 1) / c) / double(step * rw), true);
  return best;
}

// What a tile of one sample reads of a geometry: the padded row length, the
// kernel, stride and channels; not the map's height, its padding or its
// banks. Such tiles are compiled for this key, so layers whose maps are
// equally wide share their code (the nets of 55x47 and 47x47 patches do).
// Tiles of several samples also step from sample to sample: they keep the
// whole geometry.
constexpr conv_geometry tile_key(const conv_geometry& g, const conv_tile& t) {
  if (t.samples > 1) return g;
  return {g.cin, g.kernel, g.padded_w(), g.kernel, g.stride, 0, g.cout, 1, 1};
}

// A register plan: `chunk` vectors per pass (the last pass may have fewer)
// and a tile of positions (or a block of K values for d(weights)).
struct conv_plan {
  std::size_t vectors = 1, chunk = 1;
  conv_tile tile{0, 0, 0};  // no tile: the plan is not feasible
  constexpr std::size_t chunks() const { return (vectors + chunk - 1) / chunk; }
  constexpr std::size_t last_chunk() const { return vectors - (chunks() - 1) * chunk; }
};

// Loads per FMA of a plan: each pass of a tile loads `chunk` vectors and
// broadcasts one scalar per position, for positions x chunk FMAs; summed over
// the tiles and passes of a region, that is tiles per position + passes per
// vector. Lower is better.
constexpr double loads_per_fma(std::size_t vectors, std::size_t chunk, double tiles_per_position) {
  const std::size_t passes = (vectors + chunk - 1) / chunk;
  return tiles_per_position + double(passes) / double(vectors);
}

// Picks the chunk of vectors and the tile that keep the most FMAs per load
// within the registers: accumulators + one pass's vectors + one broadcast.
template <class Tile>
constexpr conv_plan plan(std::size_t vectors, Tile&& tile_for_limit) {
  conv_plan best;
  double best_cost = 1e9;
  for (std::size_t chunk = 1; chunk <= vectors; ++chunk) {
    if (simd_registers < chunk + 2) break;
    const std::size_t limit = (simd_registers - 1 - chunk) / chunk;
    const tile_choice t = tile_for_limit(limit);
    if (t.tile.positions() == 0) continue;
    const double cost = loads_per_fma(vectors, chunk, t.tiles_per_position);
    if (cost < best_cost - 1e-9) best_cost = cost, best = {vectors, chunk, t.tile};
  }
  return best;
}

template <class T, conv_geometry G, std::size_t Pool>
constexpr conv_plan forward_plan() {
  return plan(padded_channels<T>(G.cout) / simd_width<T>, [](std::size_t limit) {
    // Several samples per tile only where a region is too small to fill one.
    const std::size_t samples = G.region_positions() * 2 <= limit ? 8 : 1;
    return pick_tile(G.region_h(), G.region_w(), limit, Pool, Pool == 1 ? samples : 1);
  });
}

// d(weights): a block of `rows` consecutive K values inside one kernel row.
template <class T, conv_geometry G>
constexpr conv_plan weight_grad_plan() {
  return plan(padded_channels<T>(G.cout) / simd_width<T>, [](std::size_t limit) {
    std::size_t block = 0;
    for (std::size_t b = 1; b <= limit; ++b)
      if ((G.kernel * G.cin) % b == 0) block = b;
    return tile_choice{conv_tile{block ? std::size_t(1) : 0, 1, block}, block ? 1.0 / double(block) : 1e9};
  });
}

// d(input): vectors of one kernel row (kernel * Cin values, padded).
template <class T>
constexpr std::size_t padded_run(const conv_geometry& g) {
  return padded_channels<T>(g.kernel * g.cin);
}

// Several samples per tile where a region is too small to fill one (a
// locally connected layer: one position per bank), so that a bank's weights
// are read once for the tile's samples, not once per sample.
template <class T, conv_geometry G>
constexpr conv_plan input_grad_plan() {
  return plan(padded_run<T>(G) / simd_width<T>, [](std::size_t limit) {
    const std::size_t samples = G.region_positions() * 2 <= limit ? 8 : 1;
    return pick_tile(G.region_h(), G.region_w(), limit, 1, samples);
  });
}

// Offsets, from a tile's first position, of each position's receptive field
// (in the padded input) and of its output.
template <conv_geometry G, conv_tile Tile>
constexpr auto tile_input_offsets() {
  std::array<std::size_t, Tile.positions()> off{};
  std::size_t q = 0;
  for (std::size_t s = 0; s < Tile.samples; ++s)
    for (std::size_t r = 0; r < Tile.rows; ++r)
      for (std::size_t c = 0; c < Tile.cols; ++c)
        off[q++] = s * G.padded_in_size() + (r * G.stride * G.padded_w() + c * G.stride) * G.cin;
  return off;
}

// ---------------------------------------------------------------- forward

// One tile, channel vectors [C0, C0 + VC): acc = bias + sum_k in * w, then
// [max-pool over Pool x Pool positions], [ReLU], store. `out` points at the
// tile's first output position (pooled map when Pool > 1).
template <class T, conv_geometry G, conv_tile Tile, std::size_t C0, std::size_t VC, std::size_t Pool, bool Relu>
inline void forward_tile(const T* in, T* out, const T* w, const T* b) {
  using vec = xsimd::batch<T>;
  constexpr std::size_t width = simd_width<T>, cp = padded_channels<T>(G.cout), P = Tile.positions();
  constexpr std::size_t run = G.kernel * G.cin, row_step = G.padded_w() * G.cin;
  constexpr auto in_off = tile_input_offsets<G, Tile>();

  vec acc[P][VC];
  unroll<VC>([&](auto v) {
    const vec bias = vec::load_aligned(b + (C0 + v) * width);
    unroll<P>([&](auto q) { acc[q][v] = bias; });
  });
  for (std::size_t ky = 0; ky < G.kernel; ++ky) {
    const T* wk = w + ky * run * cp + C0 * width;
    const T* ik = in + ky * row_step;
    for (std::size_t j = 0; j < run; ++j) {
      const T* a0 = ik + j;
      opaque(a0);
      vec wv[VC];
      unroll<VC>([&](auto v) { wv[v] = vec::load_aligned(wk + j * cp + v * width); });
      unroll<P>([&](auto q) {
        const vec a(a0[in_off[q]]);
        unroll<VC>([&](auto v) { acc[q][v] = xsimd::fma(a, wv[v], acc[q][v]); });
      });
    }
  }

  // Epilogue: output positions (pooled or not) of the tile, per sample.
  constexpr std::size_t oh = G.out_h() / Pool, ow = G.out_w() / Pool;
  constexpr std::size_t rows = Tile.rows / Pool, cols = Tile.cols / Pool;
  unroll<Tile.samples * rows * cols>([&](auto o) {
    constexpr std::size_t s = o / (rows * cols), r = (o / cols) % rows, c = o % cols;
    T* dst = out + (s * oh * ow + r * ow + c) * G.cout;
    unroll<VC>([&](auto v) {
      constexpr std::size_t first = (s * Tile.rows + r * Pool) * Tile.cols + c * Pool;
      vec m = acc[first][v];
      unroll<Pool * Pool>([&](auto i) {
        if constexpr (i > 0) m = xsimd::max(m, acc[first + (i / Pool) * Tile.cols + i % Pool][v]);
      });
      if constexpr (Relu) m = xsimd::max(m, vec(T(0)));
      constexpr std::size_t ch = (C0 + v) * width;
      if constexpr (ch < G.cout) store_first<std::min(width, G.cout - ch)>(m, dst + ch);
    });
  });
}

// `count` tiles side by side along a row, every channel. Not inlined: it is
// compiled once per tile key (tile_key), whatever geometries share it.
template <class T, conv_geometry K, conv_tile Tile, conv_plan Plan, std::size_t Pool, bool Relu>
[[gnu::noinline]] void forward_tile_run(const T* in, T* out, const T* w, const T* b, std::size_t count) {
  constexpr std::size_t in_step = Tile.cols * K.stride * K.cin, out_step = Tile.cols / Pool * K.cout;
  for (std::size_t i = 0; i < count; ++i, in += in_step, out += out_step)
    unroll<Plan.chunks()>([&](auto k) {
      constexpr std::size_t c0 = k * Plan.chunk;
      constexpr std::size_t vc = k + 1 == Plan.chunks() ? Plan.last_chunk() : Plan.chunk;
      forward_tile<T, K, Tile, c0, vc, Pool, Relu>(in, out, w, b);
    });
}

// Tiles of one sample, `tile` wide (the plan's) except the tail, along the
// rows of a region: how the tiles of index [first, last) split into runs.
// Tiles are numbered row of tiles after row of tiles; each row holds `full`
// tiles of the plan's width, then one tail tile where `tail` > 0.
struct tile_row_layout {
  std::size_t rows, full, tail;
  constexpr std::size_t per_row() const { return full + (tail ? 1 : 0); }
  constexpr std::size_t count() const { return rows * per_row(); }
};

// The layout of `tile` over one region of g.
constexpr tile_row_layout row_layout(const conv_geometry& g, const conv_tile& tile) {
  return {g.region_h() / tile.rows, g.region_w() / tile.cols, g.region_w() % tile.cols};
}

// A region row's tail tile: `tile`'s rows, the columns left over (the plan's
// tile itself where none are, so that the type is valid either way).
constexpr conv_tile tail_tile(const conv_geometry& g, const conv_tile& tile) {
  return {1, tile.rows, g.region_w() % tile.cols ? g.region_w() % tile.cols : tile.cols};
}

// Calls run(tile_row, first_col, full_tiles, with_tail) for the runs of
// tiles [first, last): full_tiles tiles of the plan's width from tile column
// first_col, then the row's tail tile when with_tail.
template <class Run>
[[gnu::always_inline]] inline void for_tile_runs(const tile_row_layout& l, std::size_t first, std::size_t last,
                                                 Run&& run) {
  const std::size_t per_row = l.per_row();
  for (std::size_t t = first; t < last;) {
    const std::size_t row = t / per_row, col = t % per_row, end = std::min(last - t, per_row - col) + col;
    const std::size_t full_end = std::min(end, l.full);
    run(row, col, full_end > col ? full_end - col : 0, end > l.full);
    t += end - col;
  }
}

// Copies n samples into a zero-bordered buffer (only when the layer pads).
template <class T>
void pad_input(const conv_geometry& g, const T* in, T* padded, std::size_t n) {
  const std::size_t hp = g.padded_h(), wp = g.padded_w(), c = g.cin;
  parallel_for(n, [&](std::size_t s) {
    std::fill_n(padded + s * g.padded_in_size(), g.padded_in_size(), T(0));
    for (std::size_t y = 0; y < g.h; ++y)
      std::copy_n(in + (s * g.h + y) * g.w * c, g.w * c, padded + ((s * hp + y + g.pad) * wp + g.pad) * c);
  });
}

// Tiles per work item: about 256K multiply-adds (a few microseconds), so that
// two threads seldom meet at parallel_for's shared counter or on the cache
// lines where one item's output ends and the next begins; fewer where that
// would leave less than eight items per thread (small maps at batch 1). On a
// 3-channel first layer, items of 32K multiply-adds made two threads slower
// than one. Which tiles share an item never changes a result.
inline std::size_t tiles_per_item(std::size_t macs_per_tile, std::size_t tiles, std::size_t other_items) {
  constexpr std::size_t item_macs = std::size_t(1) << 18;
  const std::size_t wanted = 8 * std::size_t(num_threads());
  std::size_t span = std::max<std::size_t>(1, std::min(tiles, (item_macs + macs_per_tile - 1) / macs_per_tile));
  while (span > 1 && other_items * ((tiles + span - 1) / span) < wanted) span = (span + 1) / 2;
  return span;
}

// Samples per work item where a tile spans several samples (forward and
// d(input) of layers with tiny regions): large enough that a bank's weights
// are read from memory a few times per batch, small enough to share out.
inline constexpr std::size_t forward_sample_block = 64;

template <class T, conv_geometry G, std::size_t Pool, bool Relu>
void conv_forward_impl(const T* in, T* out, std::size_t n, const packed_conv_weights<T>& packed,
                       conv_workspace<T>& ws) {
  static_assert(Pool >= 1 && G.region_h() % Pool == 0 && G.region_w() % Pool == 0,
                "conv_forward: a pool window must not straddle two regions");
  constexpr conv_plan plan = forward_plan<T, G, Pool>();
  static_assert(plan.tile.positions() > 0, "conv_forward: no register tile fits this pooling window");
  constexpr conv_tile tile = plan.tile;
  constexpr std::size_t cp = padded_channels<T>(G.cout);
  constexpr std::size_t oh = G.out_h() / Pool, ow = G.out_w() / Pool;
  if constexpr (G.pad > 0) {
    ws.padded.resize(n * G.padded_in_size());
    pad_input(G, in, ws.padded.data(), n);
    in = ws.padded.data();
  }
  const T* weights = packed.weights.data();
  const T* bias = packed.bias.data();

  if constexpr (tile.samples > 1) {
    constexpr conv_tile single{1, tile.rows, tile.cols};
    constexpr std::size_t tile_cols = G.region_w() / tile.cols, tiles = (G.region_h() / tile.rows) * tile_cols;
    // Regions of a position or two (locally connected): a bank's weights
    // (K x Cout, 1.8 MB for DeepID3's top layers) outgrow the L2, so an item
    // is a bank over a block of samples, and it walks the channel chunks
    // outside the samples: each chunk's slice of the weights is read from
    // memory once per block and from cache for the block's samples.
    const std::size_t blocks = (n + forward_sample_block - 1) / forward_sample_block;
    parallel_for(blocks * G.banks(), [&](std::size_t item) {
      const std::size_t bank = item % G.banks(), s0 = (item / G.banks()) * forward_sample_block;
      const std::size_t s1 = std::min(n, s0 + forward_sample_block);
      const T* w = weights + bank * G.patch() * cp;
      const T* b = bias + bank * cp;
      unroll<plan.chunks()>([&](auto k) {
        constexpr std::size_t c0 = k * plan.chunk;
        constexpr std::size_t vc = k + 1 == plan.chunks() ? plan.last_chunk() : plan.chunk;
        for (std::size_t t = 0; t < tiles; ++t) {
          const std::size_t y = (bank / G.grid_cols) * G.region_h() + (t / tile_cols) * tile.rows;
          const std::size_t x = (bank % G.grid_cols) * G.region_w() + (t % tile_cols) * tile.cols;
          for (std::size_t s = s0; s < s1;) {
            const T* src = in + ((s * G.padded_h() + y * G.stride) * G.padded_w() + x * G.stride) * G.cin;
            T* dst = out + ((s * oh + y) * ow + x) * G.cout;
            if (s + tile.samples <= s1) {
              forward_tile<T, G, tile, c0, vc, 1, Relu>(src, dst, w, b);
              s += tile.samples;
            } else {
              forward_tile<T, G, single, c0, vc, 1, Relu>(src, dst, w, b);
              ++s;
            }
          }
        }
      });
    });
    return;
  }
  // Tiles of one sample: a region row may end with a tail tile. An item is
  // a run of consecutive tiles of one bank and sample, long enough that
  // claiming it costs little next to its multiply-adds (a tile of a
  // 3-channel first layer is a few thousand).
  constexpr conv_geometry key = tile_key(G, tile);
  constexpr tile_row_layout layout = row_layout(G, tile);
  constexpr conv_tile tail = tail_tile(G, tile);
  const std::size_t span = tiles_per_item(tile.positions() * G.patch() * cp, layout.count(), n * G.banks());
  const std::size_t runs = (layout.count() + span - 1) / span;
  parallel_for(n * G.banks() * runs, [&](std::size_t item) {
    const std::size_t s = item / (G.banks() * runs), bank = (item / runs) % G.banks();
    const std::size_t first = (item % runs) * span, last = std::min(layout.count(), first + span);
    const T* w = weights + bank * G.patch() * cp;
    const T* b = bias + bank * cp;
    const std::size_t x0 = (bank % G.grid_cols) * G.region_w();
    for_tile_runs(layout, first, last, [&](std::size_t row, std::size_t col, std::size_t count, bool with_tail) {
      const std::size_t y = (bank / G.grid_cols) * G.region_h() + row * tile.rows;
      const auto src = [&](std::size_t x) {
        return in + ((s * G.padded_h() + y * G.stride) * G.padded_w() + x * G.stride) * G.cin;
      };
      const auto dst = [&](std::size_t x) { return out + ((s * oh + y / Pool) * ow + x / Pool) * G.cout; };
      const std::size_t x = x0 + col * tile.cols, x_tail = x0 + layout.full * tile.cols;
      if (count) forward_tile_run<T, key, tile, plan, Pool, Relu>(src(x), dst(x), w, b, count);
      if constexpr (layout.tail > 0)
        if (with_tail) forward_tile_run<T, key, tail, plan, Pool, Relu>(src(x_tail), dst(x_tail), w, b, 1);
    });
  });
}

// ---------------------------------------------------------------- backward

// Samples per chunk of the d(weights) sums: a function of n only, so sums do
// not depend on the thread count; small enough for a chunk's d(output) to
// stay in cache, large enough to keep few partials.
constexpr std::size_t chunk_samples(std::size_t n) { return std::clamp<std::size_t>(n / 16, 1, 8); }

// One position's dz = d(output) where the fused ReLU passed, else 0; the
// padding lanes up to the SIMD width are 0.
template <class T, std::size_t Cout, bool Relu>
[[gnu::always_inline]] inline void mask_gradient(const T* out, const T* dout, T* dz) {
  using vec = xsimd::batch<T>;
  constexpr std::size_t width = simd_width<T>;
  unroll<padded_channels<T>(Cout) / width>([&](auto v) {
    constexpr std::size_t c = v * width, count = Cout - c < width ? Cout - c : width;
    vec d = load_first<count>(dout + c);
    if constexpr (Relu) d = xsimd::select(load_first<count>(out + c) > vec(T(0)), d, vec(T(0)));
    d.store_aligned(dz + c);
  });
}

// The positions a d(weights) block sums over: samples [s0, s1), output rows
// [y0, y1) and columns [x0, x1) (part of one bank's region). A sample's
// padded input and its d(output) are `in_sample` and `dz_sample` values long.
struct weight_grad_span {
  std::size_t s0, s1, y0, y1, x0, x1, in_sample, dz_sample;
};

// d(weights) over `span`, for the block of K values [j0, j0 + KB) of kernel
// row ky and channel vectors [C0, C0 + VC); written to `dw` ([K][Cout
// padded]), or added to it when `accumulate`.
template <class T, conv_geometry K, std::size_t KB, std::size_t C0, std::size_t VC>
inline void weight_grad_block(const T* in, const T* dz, T* dw, weight_grad_span span,
                              std::size_t ky, std::size_t j0, bool accumulate) {
  using vec = xsimd::batch<T>;
  constexpr std::size_t width = simd_width<T>, cp = padded_channels<T>(K.cout);
  T* target = dw + (ky * K.kernel * K.cin + j0) * cp + C0 * width;
  vec acc[KB][VC];
  unroll<KB>([&](auto k) {
    unroll<VC>([&](auto v) { acc[k][v] = accumulate ? vec::load_aligned(target + k * cp + v * width) : vec(T(0)); });
  });
  const std::size_t shift = ky * K.padded_w() * K.cin + j0;
  for (std::size_t s = span.s0; s < span.s1; ++s)
    for (std::size_t y = span.y0; y < span.y1; ++y)
      for (std::size_t x = span.x0; x < span.x1; ++x) {
        const T* a = in + s * span.in_sample + (y * K.stride * K.padded_w() + x * K.stride) * K.cin + shift;
        const T* d = dz + s * span.dz_sample + (y * K.out_w() + x) * cp + C0 * width;
        opaque(a);
        vec dv[VC];
        unroll<VC>([&](auto v) { dv[v] = vec::load_aligned(d + v * width); });
        unroll<KB>([&](auto k) {
          const vec av(a[k]);
          unroll<VC>([&](auto v) { acc[k][v] = xsimd::fma(av, dv[v], acc[k][v]); });
        });
      }
  unroll<KB>([&](auto k) { unroll<VC>([&](auto v) { acc[k][v].store_aligned(target + k * cp + v * width); }); });
}

// The same, compiled once per tile key: for regions large enough that a call
// costs nothing next to the block's sum (small regions inline the block).
template <class T, conv_geometry K, std::size_t KB, std::size_t C0, std::size_t VC>
[[gnu::noinline]] void weight_grad_block_shared(const T* in, const T* dz, T* dw, weight_grad_span span,
                                                std::size_t ky, std::size_t j0, bool accumulate) {
  weight_grad_block<T, K, KB, C0, VC>(in, dz, dw, span, ky, j0, accumulate);
}

// d(input) of one tile of positions (one bank; one or several samples),
// vectors [R0, R0 + VR) of each kernel row: acc = sum_co dz[q][co] *
// w[ky][co][...], added in place, position after position (a fixed order).
template <class T, conv_geometry G, conv_tile Tile, std::size_t R0, std::size_t VR>
inline void input_grad_tile(const T* dz, T* din, const T* wt) {
  using vec = xsimd::batch<T>;
  constexpr std::size_t width = simd_width<T>, cp = padded_channels<T>(G.cout), P = Tile.positions();
  constexpr std::size_t run = G.kernel * G.cin, rp = padded_run<T>(G), row_step = G.padded_w() * G.cin;
  constexpr auto in_off = tile_input_offsets<G, Tile>();
  constexpr auto dz_off = [] {
    std::array<std::size_t, P> off{};
    std::size_t q = 0;
    for (std::size_t s = 0; s < Tile.samples; ++s)
      for (std::size_t r = 0; r < Tile.rows; ++r)
        for (std::size_t c = 0; c < Tile.cols; ++c) off[q++] = ((s * G.out_h() + r) * G.out_w() + c) * cp;
    return off;
  }();
  for (std::size_t ky = 0; ky < G.kernel; ++ky) {
    vec acc[P][VR];
    unroll<P>([&](auto q) { unroll<VR>([&](auto r) { acc[q][r] = vec(T(0)); }); });
    const T* wk = wt + ky * G.cout * rp + R0 * width;
    for (std::size_t co = 0; co < G.cout; ++co) {
      const T* d0 = dz + co;
      opaque(d0);
      vec wv[VR];
      unroll<VR>([&](auto r) { wv[r] = vec::load_aligned(wk + co * rp + r * width); });
      unroll<P>([&](auto q) {
        const vec d(d0[dz_off[q]]);
        unroll<VR>([&](auto r) { acc[q][r] = xsimd::fma(d, wv[r], acc[q][r]); });
      });
    }
    unroll<P>([&](auto q) {
      T* dst = din + in_off[q] + ky * row_step + R0 * width;
      unroll<VR>([&](auto r) {
        constexpr std::size_t at = (R0 + r) * width;
        if constexpr (at < run) {
          constexpr std::size_t count = std::min(width, run - at);
          store_first<count>(load_first<count>(dst + r * width) + acc[q][r], dst + r * width);
        }
      });
    });
  }
}

// `count` tiles side by side along a row, all vectors of the kernel rows.
// Compiled once per tile key, like forward_tile_run.
template <class T, conv_geometry K, conv_tile Tile, conv_plan Plan>
[[gnu::noinline]] void input_grad_tile_run(const T* dz, T* din, const T* wt, std::size_t count) {
  constexpr std::size_t dz_step = Tile.cols * padded_channels<T>(K.cout), din_step = Tile.cols * K.stride * K.cin;
  for (std::size_t i = 0; i < count; ++i, dz += dz_step, din += din_step)
    unroll<Plan.chunks()>([&](auto k) {
      constexpr std::size_t r0 = k * Plan.chunk;
      constexpr std::size_t vr = k + 1 == Plan.chunks() ? Plan.last_chunk() : Plan.chunk;
      input_grad_tile<T, K, Tile, r0, vr>(dz, din, wt);
    });
}

}  // namespace detail

// out = [relu](bias + conv(in)) for n samples, NHWC.
template <class T, conv_geometry G, bool Relu>
void conv_forward(const T* in, T* out, std::size_t n, const packed_conv_weights<T>& packed, conv_workspace<T>& ws) {
  detail::conv_forward_impl<T, G, 1, Relu>(in, out, n, packed, ws);
}

// The same followed by Pool x Pool max pooling with stride Pool, in registers:
// `out` receives the pooled maps only (inference: no gradient needs the
// convolution's own output).
template <class T, conv_geometry G, bool Relu, std::size_t Pool>
void conv_forward_pooled(const T* in, T* out, std::size_t n, const packed_conv_weights<T>& packed,
                         conv_workspace<T>& ws) {
  detail::conv_forward_impl<T, G, Pool, Relu>(in, out, n, packed, ws);
}

// Whether conv_forward_pooled supports a Pool x Pool window on G: the window
// must tile each region and fit a register tile.
template <class T, conv_geometry G, std::size_t Pool>
inline constexpr bool can_pool_in_epilogue = Pool >= 1 && G.region_h() % Pool == 0 && G.region_w() % Pool == 0 &&
                                             detail::forward_plan<T, G, Pool>().tile.positions() > 0;

// Adds to dweights/dbias (and din when not null) the gradients of
// conv_forward. `out` is the forward output (for the fused ReLU mask);
// `weights` the layer's [banks][K][Cout] weights.
//
// d(weights) of a layer with few banks is summed per chunk of samples (work
// items over samples) and the chunk partials are reduced in chunk order. A
// layer with many banks (locally connected: one per output position) would
// need chunks x banks x K x Cout partials, gigabytes for DeepID3's top layers,
// so there each bank is one work item summing all samples in order. Either
// way the order of every sum is fixed by the geometry and the batch size.
template <class T, conv_geometry G, bool Relu>
void conv_backward(const T* in, const T* out, const T* dout, T* din, std::size_t n, const T* weights, T* dweights,
                   T* dbias, conv_workspace<T>& ws) {
  using vec = xsimd::batch<T>;
  constexpr std::size_t width = simd_width<T>, cp = padded_channels<T>(G.cout);
  constexpr std::size_t run = G.kernel * G.cin, rp = detail::padded_run<T>(G), k = G.patch();
  constexpr std::size_t positions = G.out_h() * G.out_w();
  constexpr std::size_t bank_partial = k * cp + cp;  // d(weights), then d(bias)
  constexpr detail::conv_plan wplan = detail::weight_grad_plan<T, G>();
  constexpr std::size_t kb = wplan.tile.cols;
  constexpr detail::conv_plan iplan = detail::input_grad_plan<T, G>();
  constexpr detail::conv_tile itile = iplan.tile;
  static_assert(kb > 0 && itile.positions() > 0);

  constexpr bool by_bank = G.banks() >= 8;
  const std::size_t chunk = detail::chunk_samples(n), chunks = (n + chunk - 1) / chunk;
  const std::size_t partial_sets = by_bank ? 1 : chunks;
  if constexpr (G.pad > 0) {
    ws.padded.resize(n * G.padded_in_size());
    detail::pad_input(G, in, ws.padded.data(), n);
    in = ws.padded.data();
    if (din) ws.dpadded.assign(n * G.padded_in_size(), T(0));
  }
  T* dinp = G.pad > 0 ? (din ? ws.dpadded.data() : nullptr) : din;
  ws.dz.resize(n * positions * cp);
  ws.partial.resize(partial_sets * G.banks() * bank_partial);
  if (dinp) {
    // d(input) reads each bank's weights as [ky][co][kernel row], padded.
    // The padding lanes stay zero from the first call (same geometry).
    if (ws.wt.size() != G.banks() * G.kernel * G.cout * rp) ws.wt.assign(G.banks() * G.kernel * G.cout * rp, T(0));
    parallel_for(G.banks() * G.kernel, [&](std::size_t item) {
      const std::size_t b = item / G.kernel, ky = item % G.kernel;
      detail::transpose_into(weights + (b * k + ky * run) * G.cout, G.cout, G.cout, run,
                             ws.wt.data() + item * G.cout * rp, rp);
    });
  }
  T* dz = ws.dz.data();

  // One bank's d(weights) and d(bias) over samples [s0, s1), written to dw.
  // Large regions go a few rows at a time, every block of K values over
  // those rows before the next rows: their d(output) stays in L1 for all the
  // passes instead of streaming from memory once per pass. The partial sums
  // wait in dw between row blocks, so each sum keeps its order.
  constexpr std::size_t block_rows = std::clamp<std::size_t>(64 / G.region_w(), 1, G.region_h());
  constexpr bool row_blocks = G.region_positions() > 64;
  constexpr conv_geometry wkey = detail::tile_key(G, detail::conv_tile{});
  const auto bank_gradients = [&](std::size_t bank, std::size_t s0, std::size_t s1, T* dw) {
    const std::size_t y0 = (bank / G.grid_cols) * G.region_h(), x0 = (bank % G.grid_cols) * G.region_w();
    const auto rows_of = [&](std::size_t sa, std::size_t sb, std::size_t r0, std::size_t r1, bool accumulate) {
      const detail::weight_grad_span span{sa,         sb, y0 + r0, y0 + r1, x0, x0 + G.region_w(), G.padded_in_size(),
                                          positions * cp};
      for (std::size_t ky = 0; ky < G.kernel; ++ky)
        for (std::size_t j0 = 0; j0 < run; j0 += kb)
          detail::unroll<wplan.chunks()>([&](auto ck) {
            constexpr std::size_t c0 = ck * wplan.chunk;
            constexpr std::size_t vc = ck + 1 == wplan.chunks() ? wplan.last_chunk() : wplan.chunk;
            if constexpr (G.region_positions() >= 16)
              detail::weight_grad_block_shared<T, wkey, kb, c0, vc>(in, dz, dw, span, ky, j0, accumulate);
            else
              detail::weight_grad_block<T, wkey, kb, c0, vc>(in, dz, dw, span, ky, j0, accumulate);
          });
    };
    if constexpr (row_blocks) {
      for (std::size_t s = s0; s < s1; ++s)
        for (std::size_t r = 0; r < G.region_h(); r += block_rows)
          rows_of(s, s + 1, r, std::min(G.region_h(), r + block_rows), s != s0 || r != 0);
    } else {
      rows_of(s0, s1, 0, G.region_h(), false);
    }
    // d(bias): sum of dz over the bank's positions.
    for (std::size_t v = 0; v < cp / width; ++v) {
      vec sum(T(0));
      for (std::size_t s = s0; s < s1; ++s)
        for (std::size_t p = 0; p < G.region_positions(); ++p) {
          const std::size_t y = G.out_row(bank, p), x = G.out_col(bank, p);
          sum += vec::load_aligned(dz + ((s * G.out_h() + y) * G.out_w() + x) * cp + v * width);
        }
      sum.store_aligned(dw + k * cp + v * width);
    }
  };

  parallel_for(chunks, [&](std::size_t c) {
    const std::size_t s0 = c * chunk, s1 = std::min(n, s0 + chunk);
    for (std::size_t i = s0 * positions; i < s1 * positions; ++i)
      detail::mask_gradient<T, G.cout, Relu>(out + i * G.cout, dout + i * G.cout, dz + i * cp);
    if constexpr (!by_bank) {
      T* partial = ws.partial.data() + c * G.banks() * bank_partial;
      for (std::size_t bank = 0; bank < G.banks(); ++bank) bank_gradients(bank, s0, s1, partial + bank * bank_partial);
    }
    if constexpr (itile.samples == 1) {
      if (!dinp) return;
      // Sample after sample, bank after bank, tile after tile (a region row
      // may end with a tail tile): each d(input) value is summed in this order.
      constexpr conv_geometry key = detail::tile_key(G, itile);
      constexpr detail::tile_row_layout layout = detail::row_layout(G, itile);
      constexpr detail::conv_tile tail = detail::tail_tile(G, itile);
      for (std::size_t s = s0; s < s1; ++s)
        for (std::size_t bank = 0; bank < G.banks(); ++bank) {
          const T* w = ws.wt.data() + bank * G.kernel * G.cout * rp;
          const std::size_t x0 = (bank % G.grid_cols) * G.region_w();
          detail::for_tile_runs(layout, 0, layout.count(), [&](std::size_t row, std::size_t col, std::size_t count,
                                                                bool with_tail) {
            const std::size_t y = (bank / G.grid_cols) * G.region_h() + row * itile.rows;
            const auto d = [&](std::size_t x) { return dz + ((s * G.out_h() + y) * G.out_w() + x) * cp; };
            const auto target = [&](std::size_t x) {
              return dinp + ((s * G.padded_h() + y * G.stride) * G.padded_w() + x * G.stride) * G.cin;
            };
            const std::size_t x = x0 + col * itile.cols, x_tail = x0 + layout.full * itile.cols;
            if (count) detail::input_grad_tile_run<T, key, itile, iplan>(d(x), target(x), w, count);
            if constexpr (layout.tail > 0)
              if (with_tail) detail::input_grad_tile_run<T, key, tail, iplan>(d(x_tail), target(x_tail), w, 1);
          });
        }
    }
  });

  // d(input) of layers with tiny regions, as in the forward pass: an item is
  // a block of samples, walking each bank's weights a chunk of vectors at a
  // time with the block's samples inside. Each sample's sums keep the order
  // of the loop above (bank after bank, all output channels per tile).
  if constexpr (itile.samples > 1) {
    if (dinp) {
      constexpr detail::conv_tile single{1, itile.rows, itile.cols};
      constexpr std::size_t tile_cols = G.region_w() / itile.cols, tiles = (G.region_h() / itile.rows) * tile_cols;
      constexpr std::size_t block = detail::forward_sample_block;
      parallel_for((n + block - 1) / block, [&](std::size_t item) {
        const std::size_t s0 = item * block, s1 = std::min(n, s0 + block);
        for (std::size_t bank = 0; bank < G.banks(); ++bank) {
          const T* w = ws.wt.data() + bank * G.kernel * G.cout * rp;
          detail::unroll<iplan.chunks()>([&](auto ck) {
            constexpr std::size_t r0 = ck * iplan.chunk;
            constexpr std::size_t vr = ck + 1 == iplan.chunks() ? iplan.last_chunk() : iplan.chunk;
            for (std::size_t t = 0; t < tiles; ++t) {
              const std::size_t y = (bank / G.grid_cols) * G.region_h() + (t / tile_cols) * itile.rows;
              const std::size_t x = (bank % G.grid_cols) * G.region_w() + (t % tile_cols) * itile.cols;
              for (std::size_t s = s0; s < s1;) {
                const T* d = dz + ((s * G.out_h() + y) * G.out_w() + x) * cp;
                T* target = dinp + ((s * G.padded_h() + y * G.stride) * G.padded_w() + x * G.stride) * G.cin;
                if (s + itile.samples <= s1) {
                  detail::input_grad_tile<T, G, itile, r0, vr>(d, target, w);
                  s += itile.samples;
                } else {
                  detail::input_grad_tile<T, G, single, r0, vr>(d, target, w);
                  ++s;
                }
              }
            }
          });
        }
      });
    }
  }

  if constexpr (by_bank)
    parallel_for(G.banks(), [&](std::size_t bank) { bank_gradients(bank, 0, n, ws.partial.data() + bank * bank_partial); });

  // Fixed-order reduction of the chunk partials, parallel over rows of K.
  constexpr std::size_t rows = G.banks() * (k + 1), block = 16;
  parallel_for((rows + block - 1) / block, [&](std::size_t b) {
    for (std::size_t row = b * block; row < std::min(rows, b * block + block); ++row) {
      const std::size_t bank = row / (k + 1), i = row % (k + 1);
      T* target = i < k ? dweights + (bank * k + i) * G.cout : dbias + bank * G.cout;
      for (std::size_t c = 0; c < partial_sets; ++c) {
        const T* src = ws.partial.data() + (c * G.banks() + bank) * bank_partial + i * cp;
        for (std::size_t co = 0; co < G.cout; ++co) target[co] += src[co];
      }
    }
  });

  if constexpr (G.pad > 0) {
    if (din)
      parallel_for(n, [&](std::size_t s) {
        for (std::size_t y = 0; y < G.h; ++y)
          for (std::size_t j = 0; j < G.w * G.cin; ++j)
            din[(s * G.h + y) * G.w * G.cin + j] +=
                ws.dpadded[((s * G.padded_h() + y + G.pad) * G.padded_w() + G.pad) * G.cin + j];
      });
  }
}

// Overloads with a temporary workspace, for one-off calls and tests.
template <class T, conv_geometry G, bool Relu>
void conv_forward(const T* in, T* out, std::size_t n, const packed_conv_weights<T>& packed) {
  conv_workspace<T> ws;
  conv_forward<T, G, Relu>(in, out, n, packed, ws);
}

template <class T, conv_geometry G, bool Relu, std::size_t Pool>
void conv_forward_pooled(const T* in, T* out, std::size_t n, const packed_conv_weights<T>& packed) {
  conv_workspace<T> ws;
  conv_forward_pooled<T, G, Relu, Pool>(in, out, n, packed, ws);
}

template <class T, conv_geometry G, bool Relu>
void conv_backward(const T* in, const T* out, const T* dout, T* din, std::size_t n, const T* weights, T* dweights,
                   T* dbias) {
  conv_workspace<T> ws;
  conv_backward<T, G, Relu>(in, out, dout, din, n, weights, dweights, dbias, ws);
}

}  // namespace kernels
DEEPID_NAMESPACE_END
