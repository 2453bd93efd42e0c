// NumPy .npy reading and writing, atomic writes, and interop weights.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <deepid/deepid.hpp>
#include <deepid/io/input_file.hpp>
#include <deepid/io/npy.hpp>
#include <deepid/io/record_file.hpp>
#include <deepid/io/weights_manifest.hpp>
#include <deepid/net/weights.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "test_files.hpp"

namespace dp = deepid;
namespace io = deepid::io;
namespace fs = std::filesystem;

namespace {

const deepid_test::scratch_folder scratch{"npy"};
using deepid_test::write_bytes;
using deepid_test::read_bytes;
using deepid_test::error_of;

// A fresh directory per test case under the build tree.
// The message of the deepid::error that f throws ("" when none).
// A .npy file with a hand-written header dict and raw data bytes.
std::string npy_bytes(const std::string& dict, const std::string& data, int version = 1) {
  std::string header = dict;
  const std::size_t prelude = version == 1 ? 10 : 12;
  while ((prelude + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += char(version);
  bytes += char(0);
  for (std::size_t i = 0; i < (version == 1 ? 2u : 4u); ++i) bytes += char((header.size() >> (8 * i)) & 0xff);
  return bytes + header + data;
}

template <class T>
std::string raw(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

std::size_t files_in(const fs::path& dir) {
  return std::size_t(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

using shape_t = std::vector<std::size_t>;

}  // namespace

TEST_CASE("npy: float32 and float64 round trips keep shape and values") {
  const auto dir = scratch("round_trip");
  const std::vector<float> f{1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, 7.0f};
  io::write_npy<float>(dir / "f.npy", f, shape_t{2, 3});
  const auto a = io::read_npy<float>(dir / "f.npy");
  CHECK(a.shape == shape_t{2, 3});
  CHECK(a.values == f);

  const std::vector<double> d{1.0 / 3.0, -1e300, 2.5};
  io::write_npy<double>(dir / "d.npy", d, shape_t{3});
  const auto b = io::read_npy<double>(dir / "d.npy");
  CHECK(b.shape == shape_t{3});
  CHECK(b.values == d);

  // A float64 file read as float is converted.
  const auto c = io::read_npy<float>(dir / "d.npy", {shape_t{3}, false});
  CHECK(c.values[0] == doctest::Approx(1.0 / 3.0));

  // Scalars and empty arrays.
  io::write_npy<float>(dir / "s.npy", std::vector<float>{4.0f}, shape_t{});
  CHECK(io::read_npy<float>(dir / "s.npy").shape.empty());
  io::write_npy<float>(dir / "e.npy", std::vector<float>{}, shape_t{0, 5});
  CHECK(io::read_npy<float>(dir / "e.npy").shape == shape_t{0, 5});

  // xtensor in, xtensor out.
  dp::batch4<float> x({2, 3, 4, 5});
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float(i) * 0.5f;
  io::write_npy(dir / "x.npy", x);
  const auto y = io::read_npy_tensor<float, 4>(dir / "x.npy");
  CHECK(y == x);
}

TEST_CASE("npy: headers are byte-identical to numpy.save and version 2.0 reads") {
  const auto dir = scratch("header");
  // numpy 1.24: np.save(f, np.zeros((2, 3), np.float32))
  const std::string expected = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", "");
  CHECK(io::npy_header_bytes<float>(shape_t{2, 3}) == expected);
  CHECK(io::npy_header_bytes<double>(shape_t{5}).find("'shape': (5,), }") != std::string::npos);
  CHECK(io::npy_header_bytes<float>(shape_t{2, 3}).size() % 64 == 0);

  io::write_npy<float>(dir / "v2.npy", std::vector<float>{1, 2, 3, 4, 5, 6}, shape_t{3, 2}, {.version = 2});
  const auto h = io::read_npy_header(dir / "v2.npy");
  CHECK(h.version_major == 2);
  CHECK(h.data_offset % 64 == 0);
  CHECK(io::read_npy<float>(dir / "v2.npy").values == std::vector<float>{1, 2, 3, 4, 5, 6});

  // Keys in another order, double quotes, version 3.0, long header (length byte >= 0x80).
  std::string dict = "{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<f4\"";
  dict += std::string(200, ' ') + "}";
  write_bytes(dir / "odd.npy", npy_bytes(dict, raw(std::vector<float>{1, 2}), 3));
  CHECK(io::read_npy<float>(dir / "odd.npy").values == std::vector<float>{1, 2});
  // Fortran order of a 1-d array is the same as C order.
  write_bytes(dir / "f1.npy",
              npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", raw(std::vector<float>{1, 2})));
  CHECK(io::read_npy<float>(dir / "f1.npy").values == std::vector<float>{1, 2});
}

TEST_CASE("npy: each kind of damage gives an error naming the file and the problem") {
  const auto dir = scratch("corrupt");
  const std::vector<float> six{1, 2, 3, 4, 5, 6};
  io::write_npy<float>(dir / "good.npy", six, shape_t{2, 3});
  const std::string good = read_bytes(dir / "good.npy");

  struct damage {
    std::string file, bytes, phrase;
  };
  const std::vector<damage> cases{
      {"truncated_data.npy", good.substr(0, good.size() - 5), "truncated"},
      {"truncated_header.npy", good.substr(0, 40), "truncated"},
      {"tiny.npy", good.substr(0, 4), "truncated"},
      {"empty.npy", "", "empty file"},
      {"magic.npy", "PK\x03\x04" + good.substr(4), "not a .npy file"},
      {"text.npy", "hello, this is not numpy data at all", "not a .npy file"},
      {"version.npy", good.substr(0, 6) + "\x04" + good.substr(7), "unsupported .npy format version 4.0"},
      {"int64.npy", npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", std::string(24, '\0')),
       "unsupported dtype '<i8'"},
      {"float16.npy", npy_bytes("{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }", std::string(6, '\0')),
       "unsupported dtype '<f2'"},
      {"bigendian.npy", npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", std::string(12, '\0')),
       "big-endian"},
      {"structured.npy",
       npy_bytes("{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (1,), }", std::string(8, '\0')),
       "structured"},
      {"fortran.npy", npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", raw(six)),
       "Fortran"},
      {"noshape.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, }", raw(six)), "no 'shape'"},
      {"badshape.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", raw(six)),
       "malformed .npy header"},
      {"notadict.npy", npy_bytes("[1, 2, 3]", raw(six)), "malformed .npy header"},
      {"extra.npy", good + "junk", "unexpected bytes after the array data"},
      {"huge.npy",
       npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }", raw(six)),
       "too large"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.file);
    write_bytes(dir / c.file, c.bytes);
    const std::string message = error_of([&] { io::read_npy<float>(dir / c.file); });
    CHECK(message.find((dir / c.file).string()) == 0);
    CHECK(message.find(c.phrase) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }

  SUBCASE("missing file and directory") {
    const std::string missing = error_of([&] { io::read_npy<float>(dir / "nope.npy"); });
    CHECK(missing == (dir / "nope.npy").string() + ": file not found");
    CHECK(error_of([&] { io::read_npy<float>(dir); }).find("is a directory") != std::string::npos);
  }
  SUBCASE("wrong shape and rank") {
    const std::string shape = error_of([&] { io::read_npy<float>(dir / "good.npy", {shape_t{3, 2}, false}); });
    CHECK(shape == (dir / "good.npy").string() + ": expected shape 3x2, found 2x3");
    const std::string rank = error_of([&] { io::read_npy_tensor<float, 4>(dir / "good.npy"); });
    CHECK(rank == (dir / "good.npy").string() + ": expected shape NxNxNxN, found 2x3");
    CHECK(io::read_npy<float>(dir / "good.npy", {shape_t{io::any_extent, 3}, false}).values == six);
  }
  SUBCASE("NaN and infinity when finite values are required") {
    std::vector<float> bad = six;
    bad[4] = std::numeric_limits<float>::quiet_NaN();
    io::write_npy<float>(dir / "nan.npy", bad, shape_t{2, 3});
    CHECK(io::read_npy<float>(dir / "nan.npy").values.size() == 6);  // allowed unless asked
    const std::string nan = error_of([&] { io::read_npy<float>(dir / "nan.npy", {std::nullopt, true}); });
    CHECK(nan == (dir / "nan.npy").string() + ": value [1, 1] is NaN; expected finite values");
    bad[4] = -std::numeric_limits<float>::infinity();
    io::write_npy<float>(dir / "inf.npy", bad, shape_t{2, 3});
    CHECK(error_of([&] { io::read_npy<float>(dir / "inf.npy", {std::nullopt, true}); }).find("-inf") !=
          std::string::npos);
    // float64 values beyond float's range become infinite when read as float.
    io::write_npy<double>(dir / "big.npy", std::vector<double>{1e300}, shape_t{1});
    CHECK(error_of([&] { io::read_npy<float>(dir / "big.npy", {std::nullopt, true}); }).find("+inf") !=
          std::string::npos);
  }
}

TEST_CASE("npy: writes are atomic; a failed write leaves the old file intact") {
  const auto dir = scratch("atomic");
  const fs::path file = dir / "keep.npy";
  const std::vector<float> old{1, 2, 3};
  io::write_npy<float>(file, old, shape_t{3});
  const std::string before = read_bytes(file);

  SUBCASE("a writer that fails half-way") {
    CHECK_THROWS_AS(
        [&] {
          io::atomic_file out(file);
          out.write("\x93NUMPY half a file");
          throw dp::error("disk full (simulated)");
        }(),
        dp::error);
    CHECK(read_bytes(file) == before);
    CHECK(files_in(dir) == 1);  // no temporary left behind
  }
  SUBCASE("never committed") {
    {
      io::atomic_file out(file);
      out.write("partial");
      CHECK(fs::exists(out.temp_path()));
      CHECK(out.temp_path().parent_path() == dir);
    }
    CHECK(read_bytes(file) == before);
    CHECK(files_in(dir) == 1);
  }
  SUBCASE("shape and data disagree") {
    CHECK(error_of([&] { io::write_npy<float>(file, std::vector<float>{1, 2}, shape_t{3}); })
              .find("cannot write") != std::string::npos);
    CHECK(read_bytes(file) == before);
  }
  SUBCASE("the target is a directory or its directory is missing") {
    fs::create_directories(dir / "sub.npy");
    CHECK(error_of([&] { io::write_npy<float>(dir / "sub.npy", old, shape_t{3}); }).find("is a directory") !=
          std::string::npos);
    CHECK(fs::is_directory(dir / "sub.npy"));
    const std::string missing = error_of([&] { io::write_npy<float>(dir / "no" / "x.npy", old, shape_t{3}); });
    CHECK(missing.find((dir / "no" / "x.npy").string()) == 0);
    CHECK(missing.find("does not exist") != std::string::npos);
    CHECK(files_in(dir) == 2);
  }
  SUBCASE("a device or FIFO is never replaced by a regular file") {
    const fs::path fifo = dir / "pipe.npy";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK(error_of([&] { io::write_npy<float>(fifo, old, shape_t{3}); }).find("is not a regular file") !=
          std::string::npos);
    CHECK(fs::is_fifo(fifo));
    CHECK(error_of([&] { io::atomic_file out("/dev/null"); }).find("/dev/null: is not a regular file") == 0);
    CHECK(fs::is_character_file("/dev/null"));
    fs::remove(fifo);
    CHECK(files_in(dir) == 1);
  }
  SUBCASE("a successful write replaces the file") {
    io::write_npy<float>(file, std::vector<float>{9, 8}, shape_t{2});
    CHECK(io::read_npy<float>(file).values == std::vector<float>{9, 8});
    CHECK(files_in(dir) == 1);
  }
  SUBCASE("the checksum a write returns is the written file's") {
    std::vector<double> values(70000);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = double(i) / 7;
    const std::uint64_t sum = io::write_npy<double>(file, values, shape_t{values.size()});
    CHECK(sum == io::file_checksum(file));
    CHECK(sum != io::fnv1a_start);
    const std::string bytes = read_bytes(file);
    CHECK(sum == io::fnv1a(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  }
}

TEST_CASE("record files: a section's count, when given, must match exactly, zero included") {
  const auto dir = scratch("record_counts");
  io::record_writer w("test/counts", 1);
  w.add("empty", std::span<const double>());
  w.add("three", std::span<const double>(std::vector<double>{1, 2, 3}));
  w.save(dir / "counts.rec");
  const io::record_reader r(dir / "counts.rec", "test/counts", 1);
  CHECK(r.f64("empty").empty());
  CHECK(r.f64("empty", 0).empty());
  CHECK(r.f64("three").size() == 3);
  CHECK(r.f64("three", 3).size() == 3);
  CHECK(error_of([&] { (void)r.f64("three", 0); }).find("section 'three' holds 3 values, expected 0") !=
        std::string::npos);
  CHECK(error_of([&] { (void)r.f64("empty", 2); }).find("section 'empty' holds 0 values, expected 2") !=
        std::string::npos);
}

namespace {
using net1 = dp::deepid1<dp::patch_shape<3, 39, 31>>;

template <class M>
std::vector<float> all_parameters(const M& m) {
  const auto p = m.parameters();
  return {p.begin(), p.end()};
}
}  // namespace

TEST_CASE("weights: export and import round-trip every tensor in PyTorch layout") {
  const auto dir = scratch("weights");
  dp::model<net1> a(dp::init::seed{1});
  // Non-zero biases so that their layout is exercised too.
  for (const auto& t : a.parameter_tensors()) {
    auto v = a.get_parameter(t.name);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] += 0.001f * float(i % 97);
    a.set_parameter(t.name, v);
  }
  dp::export_weights(a, dir, "deepid1-39x31x3");

  // The files a PyTorch user sees (docs/weights.md).
  CHECK(io::read_npy_header(dir / "1.weight.npy").shape == shape_t{20, 3, 4, 4});
  CHECK(io::read_npy_header(dir / "7.weight.npy").shape == shape_t{2, 2, 60, 40, 3, 3});
  CHECK(io::read_npy_header(dir / "7.bias.npy").shape == shape_t{2, 2, 60});
  CHECK(io::read_npy_header(dir / "11.weight.npy").shape == shape_t{2, 1, 80, 60, 2, 2});
  CHECK(io::read_npy_header(dir / "14.weight.npy").shape == shape_t{160, 60 * 3 * 2 + 80 * 2 * 1});
  const auto manifest = io::read_weights_manifest(dir);
  CHECK(manifest.model == "deepid1-39x31x3");
  CHECK(manifest.dtype == "float32");
  CHECK(manifest.tensors.size() == 10);

  dp::model<net1> b(dp::init::seed{2});
  CHECK(all_parameters(a) != all_parameters(b));
  dp::import_weights(b, dir, "deepid1-39x31x3");
  CHECK(all_parameters(a) == all_parameters(b));

  dp::batch4<float> x({2, 3, 39, 31});
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float((i * 7919) % 255) / 255.0f;
  CHECK(a.forward(x) == b.forward(x));

  // A double model reads the float32 files.
  dp::model<net1, double> c(dp::init::seed{3});
  dp::import_weights(c, dir);
  CHECK(c.get_parameter("14.weight")[5] == double(a.get_parameter("14.weight")[5]));
}

TEST_CASE("weights: missing file, wrong shape, NaN and wrong model are clear errors") {
  const auto dir = scratch("weights_errors");
  dp::model<net1> a(dp::init::seed{1});
  dp::export_weights(a, dir, "deepid1-39x31x3");
  dp::model<net1> b(dp::init::seed{2});
  const auto untouched = all_parameters(b);

  SUBCASE("missing tensor file") {
    fs::remove(dir / "4.bias.npy");
    CHECK(error_of([&] { dp::import_weights(b, dir); }) == (dir / "4.bias.npy").string() + ": file not found");
  }
  SUBCASE("wrong shape") {
    io::write_npy<float>(dir / "1.weight.npy", std::vector<float>(20 * 16), shape_t{20, 1, 4, 4});
    CHECK(error_of([&] { dp::import_weights(b, dir); }) ==
          (dir / "1.weight.npy").string() + ": expected shape 20x3x4x4, found 20x1x4x4");
  }
  SUBCASE("NaN weight") {
    auto v = a.get_parameter("11.bias");
    v[7] = std::numeric_limits<float>::quiet_NaN();
    io::write_npy<float>(dir / "11.bias.npy", v, shape_t{2, 1, 80});
    CHECK(error_of([&] { dp::import_weights(b, dir); }) ==
          (dir / "11.bias.npy").string() + ": value [0, 0, 7] is NaN; expected finite values");
  }
  SUBCASE("weights of another model") {
    CHECK(error_of([&] { dp::import_weights(b, dir, "deepid1-31x31x3"); }) ==
          (dir / "model.txt").string() + ": the weights are for model 'deepid1-39x31x3', not 'deepid1-31x31x3'");
    dp::model<dp::deepid1_plain<dp::patch_shape<3, 39, 31>>> plain;
    CHECK(error_of([&] { dp::import_weights(plain, dir); }).find("tensor '7.weight' has shape 2x2x60x40x3x3") !=
          std::string::npos);
  }
  SUBCASE("damaged manifest") {
    write_bytes(dir / "model.txt", "format deepid-weights 9\n");
    CHECK(error_of([&] { dp::import_weights(b, dir); }).find("unsupported format") != std::string::npos);
  }
  SUBCASE("a sound tensor file from another export (an export that failed part-way)") {
    dp::model<net1> other(dp::init::seed{5});
    dp::export_weights(other, dir / "other", "deepid1-39x31x3");
    fs::copy_file(dir / "other" / "7.weight.npy", dir / "7.weight.npy", fs::copy_options::overwrite_existing);
    CHECK(error_of([&] { dp::import_weights(b, dir); })
              .find((dir / "7.weight.npy").string() + ": not the file " + (dir / "model.txt").string() +
                    " lists (its checksum differs") == 0);
  }
  SUBCASE("a checksum that is not one") {
    auto text = read_bytes(dir / "model.txt");
    const auto at = text.find("fnv1a=");
    REQUIRE(at != std::string::npos);
    text[at + 8] = 'z';
    write_bytes(dir / "model.txt", text);
    CHECK(error_of([&] { dp::import_weights(b, dir); }).find("is not a checksum (expected fnv1a= and 16 hex digits)") !=
          std::string::npos);
  }
  SUBCASE("missing directory") {
    CHECK(error_of([&] { dp::import_weights(b, dir / "absent"); }) ==
          (dir / "absent").string() + ": weights directory not found");
  }
  SUBCASE("a manifest is optional (files written by other tools)") {
    fs::remove(dir / "model.txt");
    dp::import_weights(b, dir, "deepid1-39x31x3");
    CHECK(all_parameters(b) == all_parameters(a));
    return;
  }
  CHECK(all_parameters(b) == untouched);  // a failed import changes nothing
}

TEST_CASE("input files: directories, FIFOs and missing paths are named errors, not hangs or library exceptions") {
  const auto dir = scratch("input_files");
  write_bytes(dir / "plain.txt", "one line\n");
  std::string line;
  auto in = io::open_input(dir / "plain.txt", "the test list");
  std::getline(in, line);
  CHECK(line == "one line");
  fs::create_directories(dir / "folder.txt");
  CHECK(error_of([&] { (void)io::open_input(dir / "folder.txt", "the test list"); }) ==
        (dir / "folder.txt").string() + ": is a directory, expected the test list");
  REQUIRE(::mkfifo((dir / "fifo.txt").c_str(), 0600) == 0);
  CHECK(error_of([&] { (void)io::open_input(dir / "fifo.txt", "the test list"); }) ==
        (dir / "fifo.txt").string() + ": is not a regular file (a device, FIFO or socket), expected the test list");
  CHECK(error_of([&] { (void)io::open_input(dir / "absent.txt", "the test list"); }) ==
        (dir / "absent.txt").string() + ": cannot open the test list (no such file)");
}
