// Resource limits: files that claim huge sizes fail with a clear error before
// any large allocation, and the limits can be raised.
#include <doctest/doctest.h>

#include <deepid/deepid.hpp>
#include <deepid/io/npy.hpp>
#include <deepid/io/record_file.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "test_files.hpp"

namespace dp = deepid;
namespace fc = deepid::face;
namespace io = deepid::io;
namespace fs = std::filesystem;

namespace {

const deepid_test::scratch_folder scratch{"limits"};
using deepid_test::write_bytes;
using deepid_test::error_of;

// Restores the process-wide limits when a test case ends.
struct saved_limits {
  dp::resource_limits before = dp::limits();
  ~saved_limits() { dp::limits() = before; }
};

// A version-1.0 .npy file: header dict padded to 64 bytes, then `data`.
std::string npy_bytes(const std::string& dict, const std::string& data) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string bytes = "\x93NUMPY\x01";
  bytes += char(0);
  bytes += char(header.size() & 0xFF);
  bytes += char(header.size() >> 8);
  return bytes + header + data;
}

std::vector<std::uint8_t> encoded(const std::string& ext) {
  cv::Mat image(8, 12, CV_8UC3, cv::Scalar(10, 120, 240));
  std::vector<std::uint8_t> bytes;
  REQUIRE(cv::imencode(ext, image, bytes));
  return bytes;
}

void put_big_endian(std::vector<std::uint8_t>& b, std::size_t at, std::uint32_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i, v >>= 8) b[at + std::size_t(i)] = std::uint8_t(v & 0xFF);
}

}  // namespace

TEST_CASE("limits: sizes from the environment parse with binary suffixes; junk is refused by name") {
  CHECK(dp::detail::parse_limit("V", "1234") == 1234);
  CHECK(dp::detail::parse_limit("V", "64K") == 64u << 10);
  CHECK(dp::detail::parse_limit("V", "512M") == 512u << 20);
  CHECK(dp::detail::parse_limit("V", "8G") == std::uint64_t(8) << 30);
  CHECK(dp::detail::parse_limit("V", "2T") == std::uint64_t(2) << 40);
  for (const char* junk : {"", "G", "12Q", "-5", "1.5G", "99999999999999999999"})
    CHECK(error_of([&] { (void)dp::detail::parse_limit("DEEPID_MAX_ARRAY_BYTES", junk); })
              .find("DEEPID_MAX_ARRAY_BYTES='") != std::string::npos);
}

TEST_CASE("limits: a .npy header claiming 10^12 elements fails before allocating; the array limit can be raised") {
  const auto dir = scratch("npy");
  // A short file whose header claims a terabyte array: refused as truncated.
  write_bytes(dir / "huge.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }", "abcd"));
  const auto huge = error_of([&] { (void)io::read_npy<float>(dir / "huge.npy"); });
  CHECK(huge.find("huge.npy") != std::string::npos);
  CHECK(huge.find("truncated") != std::string::npos);
  // A header that claims to be gigabytes long is damage, not a dict.
  std::string long_header = "\x93NUMPY\x02";
  long_header += std::string("\0\0\0\0\x40", 5);  // version 2.0, header length 1 GiB
  write_bytes(dir / "long_header.npy", long_header + std::string(64, ' '));
  CHECK(error_of([&] { (void)io::read_npy<float>(dir / "long_header.npy"); }).find("claims to be") != std::string::npos);

  // A real 64-value array under a 100-byte limit: refused, naming the shape and the variable.
  saved_limits restore;
  const std::vector<float> values(64, 1.5f);
  const std::vector<std::size_t> shape{8, 8};
  io::write_npy(dir / "small.npy", std::span<const float>(values), std::span<const std::size_t>(shape));
  dp::limits().array_bytes = 100;
  const auto limited = error_of([&] { (void)io::read_npy<float>(dir / "small.npy"); });
  CHECK(limited.find("small.npy") != std::string::npos);
  CHECK(limited.find("(shape 8x8 float32) needs 256 bytes") != std::string::npos);
  CHECK(limited.find("256 bytes") != std::string::npos);
  CHECK(limited.find("DEEPID_MAX_ARRAY_BYTES") != std::string::npos);
  dp::limits().array_bytes = 256;
  CHECK(io::read_npy<float>(dir / "small.npy").values == values);
}

TEST_CASE("limits: record files larger than the array limit are refused before being read") {
  const auto dir = scratch("record");
  io::record_writer w("limits-test", 1);
  const std::vector<double> values(100, 0.25);
  w.add("values", std::span<const double>(values));
  w.save(dir / "r.rec");
  saved_limits restore;
  dp::limits().array_bytes = 500;
  const auto message = error_of([&] { io::record_reader r(dir / "r.rec", "limits-test", 1); });
  CHECK(message.find("r.rec") != std::string::npos);
  CHECK(message.find("DEEPID_MAX_ARRAY_BYTES") != std::string::npos);
  dp::limits().array_bytes = 1 << 20;
  io::record_reader r(dir / "r.rec", "limits-test", 1);
  CHECK(r.f64("values") == values);
}

TEST_CASE("limits: a tar member over the member limit is refused by name; one that claims terabytes is truncated") {
  const auto dir = scratch("tar");
  write_bytes(dir / "a.bin", std::string(5000, 'a'));
  REQUIRE(std::system(("cd " + dir.string() + " && tar --format=ustar -cf set.tar a.bin").c_str()) == 0);
  {
    saved_limits restore;
    dp::limits().member_bytes = 4096;
    const fc::tar_archive tar(dir / "set.tar");
    const auto message = error_of([&] { (void)tar.read("a.bin"); });
    CHECK(message.find("set.tar: member 'a.bin'") != std::string::npos);
    CHECK(message.find("DEEPID_MAX_MEMBER_BYTES") != std::string::npos);
    dp::limits().member_bytes = 5000;
    CHECK(tar.read("a.bin").size() == 5000);
  }
  // Rewrite the member's size field to 2^40 bytes (base-256, as GNU tar
  // writes sizes of 8 GiB and more) and fix the header checksum.
  std::ifstream in(dir / "set.tar", std::ios::binary);
  std::string tar((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string size_field(12, '\0');
  size_field[0] = char(0x80);
  size_field[6] = char(0x01);  // byte 6 of 12 is bit 40 in big-endian order
  tar.replace(124, 12, size_field);
  tar.replace(148, 8, "        ");
  unsigned sum = 0;
  for (int i = 0; i < 512; ++i) sum += static_cast<unsigned char>(tar[std::size_t(i)]);
  char field[8];
  std::snprintf(field, sizeof field, "%06o", sum);
  tar.replace(148, 7, std::string(field, 6) + '\0');
  write_bytes(dir / "claims.tar", tar);
  const auto message = error_of([&] { fc::tar_archive claims(dir / "claims.tar"); });
  CHECK(message.find("claims.tar: truncated archive: member 'a.bin' needs 1099511627776 bytes") != std::string::npos);
}

TEST_CASE("limits: a small PNG, JPEG or BMP that declares 60,000 x 60,000 pixels is refused before decoding") {
  const auto dir = scratch("image");
  auto png = encoded(".png");
  put_big_endian(png, 16, 60000, 4);
  put_big_endian(png, 20, 60000, 4);
  auto jpeg = encoded(".jpg");
  // Find the start-of-frame segment (FF C0) and rewrite its height and width.
  std::size_t sof = 2;
  while (!(jpeg[sof] == 0xFF && jpeg[sof + 1] == 0xC0)) sof += 2 + (std::size_t(jpeg[sof + 2]) << 8 | jpeg[sof + 3]);
  put_big_endian(jpeg, sof + 5, 60000, 2);
  put_big_endian(jpeg, sof + 7, 60000, 2);
  auto bmp = encoded(".bmp");
  for (std::size_t at : {18u, 22u}) {
    bmp[at] = 0x60, bmp[at + 1] = 0xEA, bmp[at + 2] = 0, bmp[at + 3] = 0;  // 60000, little-endian
  }
  for (const auto& [name, bytes] : {std::pair{"big.png", png}, std::pair{"big.jpg", jpeg}, std::pair{"big.bmp", bmp}}) {
    CAPTURE(name);
    write_bytes(dir / name, std::string(bytes.begin(), bytes.end()));
    const auto message = error_of([&] { (void)fc::load_image(dir / name); });
    CHECK(message.find(std::string(name) + " is 60000 x 60000 pixels") != std::string::npos);
    CHECK(message.find("DEEPID_MAX_IMAGE_PIXELS") != std::string::npos);
  }
  // Within the limit the same formats decode, and the declared size is the real one.
  for (const auto& ext : {".png", ".jpg", ".bmp"}) {
    const auto bytes = encoded(ext);
    const auto size = fc::detail::declared_image_size(bytes);
    REQUIRE(size.has_value());
    CHECK(size->width == 12);
    CHECK(size->height == 8);
    CHECK(fc::decode_image(bytes, ext).cols == 12);
  }
  // An image file over the member limit is refused before it is read.
  saved_limits restore;
  write_bytes(dir / "small.png", std::string(png.begin(), png.end()));
  dp::limits().member_bytes = 10;
  const auto message = error_of([&] { (void)fc::load_image(dir / "small.png"); });
  CHECK(message.find("small.png is") != std::string::npos);
  CHECK(message.find("DEEPID_MAX_MEMBER_BYTES") != std::string::npos);
}

TEST_CASE("limits: a synthetic set is bounded to a million faces, checked before any face is rendered") {
  for (const auto& [ids, images] : {std::pair{100000, 100000}, std::pair{0, 3}, std::pair{3, 0}, std::pair{-2, 5}}) {
    CAPTURE(ids);
    CAPTURE(images);
    const auto message = error_of([&] { (void)fc::synthetic_face_set(ids, images); });
    CHECK(message.find("synthetic faces: " + std::to_string(ids) + " identities x " + std::to_string(images) +
                       " images is not from 1 to 1000000 faces") != std::string::npos);
  }
  CHECK(error_of([&] { (void)fc::synthetic_face_set(3, 2, {}, std::numeric_limits<int>::max() - 1); })
            .find("first identity") != std::string::npos);
  CHECK(fc::synthetic_face_set(3, 2).faces.size() == 6);
}
