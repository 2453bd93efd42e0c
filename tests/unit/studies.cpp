// The DeepID2+ studies on feature files, against hand-computed values:
// binary feature files (numpy.packbits layout), sparsity statistics and LFW
// identification (rank-1, CMC, DIR at a false-alarm rate).
#include <doctest/doctest.h>

#include <deepid/eval/identification.hpp>
#include <deepid/eval/lfw_identification.hpp>
#include <deepid/eval/sparsity.hpp>
#include <deepid/eval/sparsity_plot.hpp>
#include <deepid/io/feature_file.hpp>
#include <deepid/io/packed_bits.hpp>
#include <deepid/verify/distance.hpp>
#include <deepid/verify/hamming.hpp>

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "test_files.hpp"

namespace dp = deepid;
namespace io = deepid::io;
namespace ev = deepid::eval;
namespace vf = deepid::verify;
namespace fs = std::filesystem;

namespace {

const deepid_test::scratch_folder scratch{"studies"};
using deepid_test::write_bytes;
using deepid_test::read_bytes;
using deepid_test::error_of;

dp::matrix<float> rows_of(std::size_t n, std::size_t d, std::initializer_list<float> values) {
  REQUIRE(values.size() == n * d);
  dp::matrix<float> m({n, d});
  std::copy(values.begin(), values.end(), m.data());
  return m;
}

// Three codes of 10 bits, as features whose sign is the bit:
//   row 0: bits 0, 3, 8   -> bytes 1001'0000 1000'0000 = 0x90 0x80
//   row 1: bits 7, 9      -> bytes 0000'0001 0100'0000 = 0x01 0x40
//   row 2: all ten bits   -> bytes 1111'1111 1100'0000 = 0xff 0xc0
// Zero and negative values are inactive bits.
dp::matrix<float> ten_bit_codes() {
  return rows_of(3, 10, {1, -1, 0, 2, 0, 0, -0.0f, 0, 3, 0,  //
                         0, 0, 0, 0, 0, 0, 0, 0.5f, -2, 1e-30f,  //
                         1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
}

const std::vector<std::string> three_names{"A/A_0001.jpg", "A/A_0002.jpg", "B/B_0001.jpg"};

}  // namespace

// ---------------------------------------------------------------- binary files

TEST_CASE("binary features: bytes are numpy.packbits of (x > 0), big bit order, zero padding") {
  const auto bytes = io::pack_positive_bits(ten_bit_codes());
  CHECK(bytes == std::vector<std::uint8_t>{0x90, 0x80, 0x01, 0x40, 0xff, 0xc0});
  CHECK(io::packed_row_bytes(10) == 2);
  CHECK(io::packed_row_bytes(8) == 1);
  CHECK(io::packed_row_bytes(1) == 1);
}

TEST_CASE("binary features: the file is a uint8 .npy N x ceil(D/8) with the names index") {
  const auto dir = scratch("file");
  io::save_binary_features(dir / "codes.npy", ten_bit_codes(), three_names);
  const std::string raw = read_bytes(dir / "codes.npy");
  // What numpy.load needs to read it as uint8 of shape (3, 2).
  CHECK(raw.find("'descr': '|u1'") != std::string::npos);
  CHECK(raw.find("'shape': (3, 2)") != std::string::npos);
  REQUIRE(raw.size() >= 6);
  CHECK(raw.substr(raw.size() - 6) == std::string("\x90\x80\x01\x40\xff\xc0", 6));
  const auto packed = io::read_npy_bytes(dir / "codes.npy");
  CHECK(packed.shape == std::vector<std::size_t>{3, 2});
  // The index: the matrix's row count and checksum, then one name a line.
  const std::string index = read_bytes(dir / "codes.names.txt");
  CHECK(index.rfind("#deepid-features rows=3 fnv1a=", 0) == 0);
  CHECK(index.substr(index.find('\n') + 1) == "A/A_0001.jpg\nA/A_0002.jpg\nB/B_0001.jpg\n");
  CHECK(index.find(io::detail::index_header(3, io::file_checksum(dir / "codes.npy"))) == 0);
  CHECK(io::read_npy_header(dir / "codes.npy").dtype == io::npy_dtype::uint8);
}

TEST_CASE("binary features: load_features unpacks to 0/1 floats, D rounded up to whole bytes") {
  const auto dir = scratch("round_trip");
  const auto x = ten_bit_codes();
  io::save_binary_features(dir / "codes.npy", x, three_names);
  const auto f = io::load_features(dir / "codes.npy");
  CHECK(f.binary);
  CHECK(f.names == three_names);
  REQUIRE(f.features.shape()[0] == 3);
  REQUIRE(f.features.shape()[1] == 16);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t d = 0; d < 16; ++d) {
      CAPTURE(i);
      CAPTURE(d);
      const float expected = d < 10 && x(i, d) > 0 ? 1.0f : 0.0f;
      CHECK(f.features(i, d) == expected);
    }

  // D a multiple of 8: nothing is added, and the signs survive exactly.
  const auto eight = rows_of(2, 8, {-1, 2, 0, 3, 4, -5, 0, 6,  //
                                    7, 0, 0, 0, 0, 0, 0, 8});
  io::save_binary_features(dir / "eight.npy", eight, {"A/A_0001.jpg", "B/B_0001.jpg"});
  CHECK(read_bytes(dir / "eight.npy").substr(read_bytes(dir / "eight.npy").size() - 2) == std::string("\x59\x81", 2));
  const auto g = io::load_features(dir / "eight.npy");
  REQUIRE(g.features.shape()[1] == 8);
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t d = 0; d < 8; ++d) CHECK(g.features(i, d) == (eight(i, d) > 0 ? 1.0f : 0.0f));

  // Float files still load as floats.
  io::save_features(dir / "float.npy", x, three_names);
  const auto h = io::load_features(dir / "float.npy");
  CHECK_FALSE(h.binary);
  CHECK(h.features(0, 8) == 3.0f);
}

TEST_CASE("binary features: unpack_bits reads hand-made bytes") {
  const std::vector<std::uint8_t> bytes{0x80, 0x01, 0xa5};
  const auto x = io::unpack_bits(bytes, 3, 1);
  const std::vector<float> expected{1, 0, 0, 0, 0, 0, 0, 0,  //
                                    0, 0, 0, 0, 0, 0, 0, 1,  //
                                    1, 0, 1, 0, 0, 1, 0, 1};
  CHECK(std::vector<float>(x.data(), x.data() + x.size()) == expected);
  CHECK(error_of([&] { io::unpack_bits(bytes, 2, 1); }).find("3 bytes for 2 rows") != std::string::npos);
}

TEST_CASE("binary features: Hamming distances of hand-made codes through the file") {
  const auto dir = scratch("hamming");
  io::save_binary_features(dir / "codes.npy", ten_bit_codes(), three_names);
  const auto f = io::load_features(dir / "codes.npy");
  vf::hamming_verifier h;
  const std::vector<vf::labelled_pair> pairs{{0, 1, false}, {0, 2, false}, {1, 2, false}, {2, 2, true}};
  // Bits 0,3,8 vs 7,9: five differ; 0,3,8 vs all ten: seven; 7,9 vs all ten: eight.
  CHECK(h.scores(f.features, pairs) == std::vector<double>{-5, -7, -8, 0});
  // The same distances as the Hamming verifier on the original real-valued features.
  CHECK(h.scores(ten_bit_codes(), pairs) == std::vector<double>{-5, -7, -8, 0});
}

TEST_CASE("binary features: damaged or foreign files give an error naming the file") {
  const auto dir = scratch("errors");
  io::save_binary_features(dir / "good.npy", ten_bit_codes(), three_names);
  const std::string good = read_bytes(dir / "good.npy");

  // Truncated data.
  write_bytes(dir / "cut.npy", good.substr(0, good.size() - 1));
  fs::copy_file(dir / "good.names.txt", dir / "cut.names.txt");
  auto message = error_of([&] { io::load_features(dir / "cut.npy"); });
  CHECK(message.find((dir / "cut.npy").string()) == 0);
  CHECK(message.find("truncated") != std::string::npos);

  // A one-axis uint8 array is not a feature matrix.
  io::write_npy<std::uint8_t>(dir / "flat.npy", std::vector<std::uint8_t>{1, 2, 3}, std::vector<std::size_t>{3});
  message = error_of([&] { io::load_features(dir / "flat.npy"); });
  CHECK(message.find((dir / "flat.npy").string()) == 0);
  CHECK(message.find("2 axes") != std::string::npos);

  // Another integer type.
  std::string int16 = good;
  const auto at = int16.find("|u1");
  REQUIRE(at != std::string::npos);
  int16.replace(at, 3, "<i2");
  write_bytes(dir / "int16.npy", int16);
  message = error_of([&] { io::load_features(dir / "int16.npy"); });
  CHECK(message.find((dir / "int16.npy").string()) == 0);
  CHECK(message.find("unsupported dtype '<i2'") != std::string::npos);

  // A names index that does not match the rows.
  fs::copy_file(dir / "good.npy", dir / "short.npy");
  write_bytes(dir / "short.names.txt", "A/A_0001.jpg\n");
  message = error_of([&] { io::load_features(dir / "short.npy"); });
  CHECK(message.find("short.names.txt: lists 1 names but") != std::string::npos);

  // A matrix replaced without its index (a write interrupted between the two
  // renames), even with the same number of rows, is refused.
  io::save_binary_features(dir / "pair.npy", ten_bit_codes(), three_names);
  auto other = ten_bit_codes();
  other(0, 0) = -other(0, 0) + 1.0f;
  io::save_binary_features(dir / "newer.npy", other, three_names);
  fs::copy_file(dir / "newer.npy", dir / "pair.npy", fs::copy_options::overwrite_existing);
  message = error_of([&] { io::load_features(dir / "pair.npy"); });
  CHECK(message.find((dir / "pair.names.txt").string() + ": does not belong to " + (dir / "pair.npy").string()) == 0);
  // An index written by hand (no checksum line) is read as a plain name list.
  write_bytes(dir / "pair.names.txt", "A/A_0001.jpg\nA/A_0002.jpg\nB/B_0001.jpg\n");
  CHECK(io::load_features(dir / "pair.npy").names == three_names);

  // Readers of float arrays (weights, batches) do not take packed bits as numbers.
  message = error_of([&] { io::read_npy<float>(dir / "good.npy"); });
  CHECK(message.find("unsupported dtype 'uint8'") != std::string::npos);
}

TEST_CASE("binary features: a failed save leaves the existing files as they were") {
  const auto dir = scratch("atomic");
  io::save_binary_features(dir / "codes.npy", ten_bit_codes(), three_names);
  const std::string npy = read_bytes(dir / "codes.npy"), names = read_bytes(dir / "codes.names.txt");
  auto bad = ten_bit_codes();
  bad(1, 4) = std::numeric_limits<float>::quiet_NaN();
  const auto message = error_of([&] { io::save_binary_features(dir / "codes.npy", bad, {"X/X_0001.jpg", "Y/Y_0001.jpg", "Z/Z_0001.jpg"}); });
  CHECK(message.find((dir / "codes.npy").string()) == 0);
  CHECK(message.find("feature 4 of row 1 is not finite") != std::string::npos);
  CHECK(error_of([&] { io::save_binary_features(dir / "codes.npy", ten_bit_codes(), {"X/X_0001.jpg"}); })
            .find("1 names for 3 feature rows") != std::string::npos);
  // Float features are refused the same way: load_features would not read them back.
  io::save_features(dir / "floats.npy", ten_bit_codes(), three_names);
  const std::string floats = read_bytes(dir / "floats.npy");
  CHECK(error_of([&] { io::save_features(dir / "floats.npy", bad, three_names); }) ==
        (dir / "floats.npy").string() + ": not written: feature 4 of row 1 is not finite");
  CHECK(read_bytes(dir / "floats.npy") == floats);
  fs::remove(dir / "floats.npy");
  fs::remove(dir / "floats.names.txt");
  CHECK(read_bytes(dir / "codes.npy") == npy);
  CHECK(read_bytes(dir / "codes.names.txt") == names);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++files;
  CHECK(files == 2);  // no temporary left behind
}

// ---------------------------------------------------------------- sparsity

namespace {
// Active (> 0) values: row 0: 2, row 1: 0, row 2: 2, row 3: 3 of 3 neurons;
// neuron 0: 3, neuron 1: 1, neuron 2: 3 of 4 images.
dp::matrix<float> sparse_features() {
  return rows_of(4, 3, {1, 0, 2,  //
                        0, -0.0f, -4,  //
                        3, -1, 1,  //
                        0.5f, 0.1f, 0.2f});
}
}  // namespace

TEST_CASE("sparsity: counts, means and standard deviations by hand") {
  const auto s = ev::sparsity(sparse_features());
  CHECK(s.images == 4);
  CHECK(s.neurons == 3);
  CHECK(s.active_per_image == std::vector<std::size_t>{2, 0, 2, 3});
  CHECK(s.images_per_neuron == std::vector<std::size_t>{3, 1, 3});
  // Mean 7/4; deviations 0.25, -1.75, 0.25, 1.25; variance 4.75 / 4.
  CHECK(s.active.mean == doctest::Approx(1.75));
  CHECK(s.active.sd == doctest::Approx(std::sqrt(4.75 / 4)));
  // Mean 7/3; deviations 2/3, -4/3, 2/3; variance (24/9) / 3.
  CHECK(s.activating.mean == doctest::Approx(7.0 / 3));
  CHECK(s.activating.sd == doctest::Approx(std::sqrt(8.0 / 9)));
}

TEST_CASE("sparsity: histograms by hand, single values and wider bins") {
  const auto s = ev::sparsity(sparse_features());
  // 0..3 active neurons: one image with 0, none with 1, two with 2, one with 3.
  CHECK(s.active_histogram.bin_width == 1);
  CHECK(s.active_histogram.counts == std::vector<std::size_t>{1, 0, 2, 1});
  // 0..4 images: one neuron on 1 image, two on 3.
  CHECK(s.activating_histogram.counts == std::vector<std::size_t>{0, 1, 0, 2, 0});

  const auto two = ev::sparsity(sparse_features(), 2);
  CHECK(two.active_histogram.bin_width == 2);  // bins 0-1, 2-3
  CHECK(two.active_histogram.counts == std::vector<std::size_t>{1, 3});
  CHECK(two.activating_histogram.bin_width == 3);  // bins 0-2, 3-4
  CHECK(two.activating_histogram.counts == std::vector<std::size_t>{1, 2});
  CHECK(two.activating_histogram.bin_last(1) == 4);

  const std::vector<std::size_t> values{0, 9, 10, 3};
  const auto h = ev::histogram_of(values, 10, 4);  // width 3: 0-2, 3-5, 6-8, 9-10
  CHECK(h.counts == std::vector<std::size_t>{1, 1, 0, 2});
}

TEST_CASE("sparsity: CSV and PNG, and bad input") {
  const auto dir = scratch("sparsity");
  const auto s = ev::sparsity(sparse_features());
  ev::write_sparsity_csv(dir / "sparsity.csv", s);
  CHECK(read_bytes(dir / "sparsity.csv") ==
        "histogram,first,last,count\n"
        "active_neurons_per_image,0,0,1\nactive_neurons_per_image,1,1,0\n"
        "active_neurons_per_image,2,2,2\nactive_neurons_per_image,3,3,1\n"
        "images_per_neuron,0,0,0\nimages_per_neuron,1,1,1\nimages_per_neuron,2,2,0\n"
        "images_per_neuron,3,3,2\nimages_per_neuron,4,4,0\n");
  ev::plot_sparsity_png(dir / "sparsity.png", s, "test");
  const cv::Mat png = cv::imread((dir / "sparsity.png").string());
  CHECK(png.cols == 1240);
  CHECK(png.rows == 560);

  auto nan = sparse_features();
  nan(2, 1) = std::numeric_limits<float>::infinity();
  CHECK(error_of([&] { ev::sparsity(nan); }).find("feature 1 of row 2 is not finite") != std::string::npos);
  CHECK(error_of([&] { ev::sparsity(dp::matrix<float>(std::array<std::size_t, 2>{0, 3})); }).find("empty") != std::string::npos);
}

TEST_CASE("sparsity of a binary file equals that of its real features, plus silent padding neurons") {
  const auto dir = scratch("sparsity_binary");
  io::save_binary_features(dir / "f.npy", sparse_features(), {"A/A_0001.jpg", "A/A_0002.jpg", "B/B_0001.jpg", "C/C_0001.jpg"});
  const auto s = ev::sparsity(io::load_features(dir / "f.npy").features);
  CHECK(s.neurons == 8);
  CHECK(s.active_per_image == std::vector<std::size_t>{2, 0, 2, 3});
  CHECK(s.images_per_neuron == std::vector<std::size_t>{3, 1, 3, 0, 0, 0, 0, 0});
}

// ---------------------------------------------------------------- identification

TEST_CASE("identification: a probe's rank, ties counted against it") {
  const std::vector<double> clear{0.2, 0.9, 0.5}, tie{0.9, 0.9, 0.1}, third{0.3, 0.8, 0.5};
  CHECK(ev::rank_probe(clear, 1).mate_rank == 1);
  CHECK(ev::rank_probe(clear, 1).top_score == 0.9);
  CHECK(ev::rank_probe(tie, 0).mate_rank == 2);
  CHECK(ev::rank_probe(tie, 1).mate_rank == 2);
  CHECK(ev::rank_probe(third, 0).mate_rank == 3);
  CHECK(ev::rank_probe(third, 2).mate_rank == 2);
  const auto impostor = ev::rank_probe(third, ev::identification_split::impostor);
  CHECK(impostor.mate_rank == 0);
  CHECK(impostor.top_score == 0.8);
  CHECK(error_of([] { ev::rank_probe({}, 0); }).find("gallery is empty") != std::string::npos);
}

namespace {
// Four genuine probes (rank, top-1 score) and five impostors (top-1 score).
std::vector<ev::probe_ranking> hand_rankings(std::vector<double> impostor_tops) {
  std::vector<ev::probe_ranking> r{{0.9, 1}, {0.6, 1}, {0.8, 2}, {0.7, 3}};
  for (double s : impostor_tops) r.push_back({s, 0});
  return r;
}
}  // namespace

TEST_CASE("identification: rank-1 and CMC by hand") {
  const auto r = hand_rankings({0.95, 0.7, 0.5, 0.4, 0.3});
  const auto c = ev::closed_set_metrics(r, 3);
  CHECK(c.probes == 4);  // impostors are not part of the closed set
  CHECK(c.rank1 == doctest::Approx(0.5));
  CHECK(c.cmc == std::vector<double>{0.5, 0.75, 1.0});
  CHECK(error_of([&] { ev::closed_set_metrics(r, 2); }).find("rank 3 in a gallery of 2") != std::string::npos);
}

TEST_CASE("identification: DIR at FAR by hand, with an impostor above the threshold") {
  // FAR 0.2 of 5 impostors: one may score above the threshold, the second highest (0.7).
  const auto r = ev::open_set_metrics(hand_rankings({0.95, 0.7, 0.5, 0.4, 0.3}), 0.2);
  CHECK(r.genuine == 4);
  CHECK(r.impostors == 5);
  CHECK(r.threshold == 0.7);
  CHECK(r.impostors_above == 1);  // the 0.95 impostor
  CHECK(r.far == doctest::Approx(0.2));
  // Only the first probe is rank 1 and above 0.7 (the second is rank 1 at 0.6).
  CHECK(r.genuine_detected == 1);
  CHECK(r.dir == doctest::Approx(0.25));

  // FAR 0.1 of 5: no impostor may pass, the threshold is the highest impostor.
  const auto strict = ev::open_set_metrics(hand_rankings({0.95, 0.7, 0.5, 0.4, 0.3}), 0.1);
  CHECK(strict.threshold == 0.95);
  CHECK(strict.impostors_above == 0);
  CHECK(strict.dir == 0.0);
}

TEST_CASE("identification: ties at the threshold are rejected on both sides") {
  // Two impostors tie at 0.7: with FAR 0.2 the threshold is 0.7 and neither is above it.
  auto rankings = hand_rankings({0.7, 0.7, 0.5, 0.4, 0.3});
  rankings[1].top_score = 0.7;  // a rank-1 genuine probe exactly at the threshold
  const auto r = ev::open_set_metrics(rankings, 0.2);
  CHECK(r.threshold == 0.7);
  CHECK(r.impostors_above == 0);
  CHECK(r.far == 0.0);
  CHECK(r.genuine_detected == 1);
}

TEST_CASE("identification: FAR times impostors is not floored below its value by rounding") {
  // 0.29 * 100 is 28.999999999999996 in binary: 29 of 100 impostors may pass.
  std::vector<ev::probe_ranking> r{{200, 1}};
  for (int s = 1; s <= 100; ++s) r.push_back({double(s), 0});
  const auto m = ev::open_set_metrics(r, 0.29);
  CHECK(m.threshold == 71);
  CHECK(m.impostors_above == 29);
}

TEST_CASE("identification: bad FAR, no impostors, no genuine probes") {
  const auto r = hand_rankings({0.5});
  for (double far : {0.0, 1.0, -0.1, 1.5, std::numeric_limits<double>::quiet_NaN()})
    CHECK(error_of([&] { ev::open_set_metrics(r, far); }).find("strictly between 0 and 1") != std::string::npos);
  CHECK(error_of([&] { ev::open_set_metrics(hand_rankings({}), 0.01); }).find("no impostor probes") != std::string::npos);
  const std::vector<ev::probe_ranking> impostors_only{{0.5, 0}, {0.4, 0}};
  CHECK(error_of([&] { ev::open_set_metrics(impostors_only, 0.01); }).find("no genuine probes") != std::string::npos);
  CHECK(error_of([&] { ev::closed_set_metrics(impostors_only, 3); }).find("no probe has a mate") != std::string::npos);
}

namespace {
// Rows:            0         1           2         3           4           5           6         7
const std::vector<std::string> lfw_rows{"Bob/Bob_0002.jpg",     "Alice/Alice_0001.jpg", "Bob/Bob_0001.jpg",
                                        "Carol/Carol_0001.jpg", "Alice/Alice_0003.jpg", "Alice/Alice_0002.jpg",
                                        "Dan/Dan_0001.jpg",     "Dan/Dan_0002.jpg"};
}  // namespace

TEST_CASE("identification: LFW image names") {
  const auto id = ev::parse_lfw_image_name("Aaron_Eckhart/Aaron_Eckhart_0012.jpg");
  REQUIRE(id);
  CHECK(id->person == "Aaron_Eckhart");
  CHECK(id->number == 12);
  for (const char* bad : {"face_0001.png", "Alice/Bob_0001.jpg", "Alice/Alice_1.jpg", "Alice/Alice_0000.jpg",
                          "/Alice_0001.jpg", "Alice/Alice_0001.png", "Alice/Alice_00a1.jpg", "Alice", ""})
    CHECK_MESSAGE(!ev::parse_lfw_image_name(bad), bad);
}

TEST_CASE("identification: the closed-set split by hand") {
  const auto s = ev::closed_set_split(lfw_rows, "f.names.txt");
  // Alice (rows 1, 5, 4 in file-name order), Bob (2, 0), Dan (6, 7); Carol has one image.
  CHECK(s.gallery == std::vector<std::size_t>{1, 2, 6});
  CHECK(s.probes == std::vector<std::size_t>{5, 4, 0, 7});
  CHECK(s.mate == std::vector<std::ptrdiff_t>{0, 0, 1, 2});
  CHECK(s.impostor_probes() == 0);
}

TEST_CASE("identification: the open-set split is seeded, and impostors include one-image people") {
  std::set<std::size_t> drawn;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const auto s = ev::open_set_split(lfw_rows, 1, seed, "f.names.txt");
    CHECK(s.gallery.size() == 1);
    CHECK(s.probes.size() == 7);  // every other image is a probe
    const std::size_t person_images = s.genuine_probes() + 1;
    CHECK(s.impostor_probes() == 8 - person_images);
    CHECK(std::count(s.probes.begin(), s.probes.end(), std::size_t(3)) == 1);  // Carol
    drawn.insert(s.gallery[0]);
    const auto again = ev::open_set_split(lfw_rows, 1, seed, "f.names.txt");
    CHECK(again.gallery == s.gallery);
    CHECK(again.probes == s.probes);
  }
  // The first image of Alice, Bob or Dan; the seed decides which.
  CHECK(drawn.size() > 1);
  for (std::size_t g : drawn) CHECK((g == 1 || g == 2 || g == 6));

  const auto all = ev::open_set_split(lfw_rows, 3, 7, "f.names.txt");
  CHECK(all.gallery == std::vector<std::size_t>{1, 2, 6});
  CHECK(all.probes == std::vector<std::size_t>{5, 4, 0, 3, 7});
  CHECK(all.mate == std::vector<std::ptrdiff_t>{0, 0, 1, -1, 2});
}

TEST_CASE("identification: bad names, duplicates and empty galleries give one clear error") {
  std::vector<std::string> names = lfw_rows;
  names[3] = "carol.png";
  auto message = error_of([&] { ev::closed_set_split(names, "f.names.txt"); });
  CHECK(message == "f.names.txt: row 3 is named 'carol.png', not an LFW image (expected Name/Name_0001.jpg)");
  names[3] = "Bob/Bob_0001.jpg";
  CHECK(error_of([&] { ev::closed_set_split(names, "f.names.txt"); }).find("'Bob/Bob_0001.jpg' appears twice") !=
        std::string::npos);
  const std::vector<std::string> singles{"A/A_0001.jpg", "B/B_0001.jpg"};
  CHECK(error_of([&] { ev::closed_set_split(singles, "f.names.txt"); }).find("gallery is empty") != std::string::npos);
  CHECK(error_of([&] { ev::open_set_split(lfw_rows, 4, 1, "f.names.txt"); })
            .find("needs 4 people with two or more images, the file has 3") != std::string::npos);
  CHECK(error_of([&] { ev::open_set_split(lfw_rows, 0, 1, "f.names.txt"); }).find("gallery is empty") !=
        std::string::npos);
  dp::matrix<float> x(std::array<std::size_t, 2>{8, 2});
  ev::identification_split empty;
  CHECK(error_of([&] { ev::rank_probes_cosine(x, empty); }).find("gallery is empty") != std::string::npos);
}

namespace {
// 2-d features for lfw_rows: Alice along x, Bob along y, Dan on the diagonal.
dp::matrix<float> lfw_features() {
  return rows_of(8, 2, {0, 3,      // 0 Bob_0002: cosine 1 with Bob -> rank 1
                        1, 0,      // 1 Alice_0001 (gallery)
                        0, 1,      // 2 Bob_0001 (gallery)
                        -1, -1,    // 3 Carol_0001
                        1, 1,      // 4 Alice_0003: Dan 1, Alice and Bob tie at 0.707 -> rank 3
                        2, 0.1f,   // 5 Alice_0002: Alice 0.999 -> rank 1
                        1, 1,      // 6 Dan_0001 (gallery)
                        1, 0.9f}); // 7 Dan_0002: Dan 0.9986, Alice 0.743 -> rank 1
}
}  // namespace

TEST_CASE("identification: cosine scores of hand-made features, end to end") {
  const auto s = ev::closed_set_split(lfw_rows, "f.names.txt");
  const auto ranks = ev::rank_probes_cosine(lfw_features(), s);
  REQUIRE(ranks.size() == 4);
  CHECK(ranks[0].mate_rank == 1);  // Alice_0002
  CHECK(ranks[1].mate_rank == 3);  // Alice_0003, tied with Bob
  CHECK(ranks[2].mate_rank == 1);  // Bob_0002
  CHECK(ranks[3].mate_rank == 1);  // Dan_0002
  CHECK(ranks[2].top_score == doctest::Approx(1.0));
  const auto c = ev::closed_set_metrics(ranks, s.gallery.size());
  CHECK(c.rank1 == doctest::Approx(0.75));
  CHECK(c.cmc == std::vector<double>{0.75, 0.75, 1.0});

  // The cosine verifier through the generic path ranks the same, in blocks of one probe too.
  const auto with = ev::rank_probes_with(vf::cosine_verifier{}, lfw_features(), s);
  for (std::size_t p = 0; p < ranks.size(); ++p) {
    CHECK(with[p].mate_rank == ranks[p].mate_rank);
    CHECK(with[p].top_score == doctest::Approx(ranks[p].top_score));
  }
  const auto x = lfw_features();
  const auto one_by_one = ev::rank_probes(
      s,
      [&](std::size_t first, std::size_t count, std::vector<double>& out) {
        CHECK(count == 1);
        for (std::size_t g = 0; g < s.gallery.size(); ++g)
          out[g] = vf::metric::cosine::similarity(x.data() + 2 * s.probes[first], x.data() + 2 * s.gallery[g], 2);
      },
      3);
  for (std::size_t p = 0; p < ranks.size(); ++p) CHECK(one_by_one[p].mate_rank == ranks[p].mate_rank);
}

TEST_CASE("identification: Hamming scores on a binary feature file") {
  const auto dir = scratch("identify_binary");
  // Codes of 3 bits; Alice 100, Bob 010, Dan 011 in the gallery.
  const auto x = rows_of(8, 3, {0, 1, 0,    // Bob_0002: Bob 0, Dan 1, Alice 2 -> rank 1
                                1, 0, 0,    // Alice_0001 (gallery)
                                0, 1, 0,    // Bob_0001 (gallery)
                                1, 1, 1,    // Carol
                                0, 0, 1,    // Alice_0003: Dan 1, Alice 2, Bob 2 -> rank 3 (tie with Bob)
                                1, 0, 1,    // Alice_0002: Alice 1, Dan 2, Bob 3 -> rank 1
                                0, 1, 1,    // Dan_0001 (gallery)
                                0, 1, 0});  // Dan_0002: Bob 0, Dan 1 -> rank 2
  io::save_binary_features(dir / "codes.npy", x, lfw_rows);
  const auto f = io::load_features(dir / "codes.npy");
  const auto s = ev::closed_set_split(f.names, "codes.names.txt");
  const auto ranks = ev::rank_probes_with(vf::hamming_verifier{}, f.features, s);
  REQUIRE(ranks.size() == 4);
  CHECK(ranks[0].mate_rank == 1);
  CHECK(ranks[1].mate_rank == 3);
  CHECK(ranks[2].mate_rank == 1);
  CHECK(ranks[3].mate_rank == 2);
  CHECK(ranks[3].top_score == 0.0);  // distance 0 to Bob
}
