// Writes the seed corpus of every loader harness into tests/fuzz/corpus/
// (or the folder given): small valid files made by the library's own writers
// from synthetic values, and a few hand-made damaged ones. Run once when a
// format changes; the files it writes are committed.
//
//   cmake --build build --target fuzz_make_seeds && build/tests/fuzz_make_seeds tests/fuzz/corpus
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "deepid/eval/held_out_folds.hpp"
#include "deepid/face/image.hpp"
#include "deepid/io/feature_file.hpp"
#include "deepid/io/npy.hpp"
#include "deepid/io/record_file.hpp"
#include "deepid/io/weights_manifest.hpp"
#include "deepid/net/weights.hpp"
#include "deepid/train/checkpoint.hpp"
#include "deepid/verify/joint_bayesian.hpp"
#include "deepid/verify/nn_verifier.hpp"
#include "deepid/verify/pair_classifier.hpp"
#include "deepid/verify/pca.hpp"
#include "fuzz_support.hpp"
#include "weights_model.hpp"

namespace dp = deepid;
namespace io = deepid::io;
namespace vf = deepid::verify;
using deepid_fuzz::separator;
using deepid_fuzz::write_file;
namespace fs = std::filesystem;

namespace {

fs::path out_root;
const fs::path work = fs::temp_directory_path() / "deepid-make-seeds";

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void seed(const std::string& loader, const std::string& name, const std::string& bytes) {
  fs::create_directories(out_root / loader);
  write_file(out_root / loader / name, bytes);
}

// A minimal ustar archive writer (the library only reads tar).
std::string tar_member(const std::string& name, const std::string& data, char type = '0') {
  char h[512] = {};
  std::snprintf(h, 100, "%s", name.c_str());
  std::snprintf(h + 100, 8, "%07o", 0644);
  std::snprintf(h + 108, 8, "%07o", 0);
  std::snprintf(h + 116, 8, "%07o", 0);
  std::snprintf(h + 124, 12, "%011o", unsigned(data.size()));
  std::snprintf(h + 136, 12, "%011o", 0);
  h[156] = type;
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h + 148, 8, "%06o", sum);
  std::string block(h, 512);
  block += data;
  block.append((512 - data.size() % 512) % 512, '\0');
  return block;
}
std::string tar_end() { return std::string(1024, '\0'); }

std::string encoded_image(const std::string& ext, int rows, int cols) {
  cv::Mat image(rows, cols, CV_8UC3);
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < cols; ++x) image.at<cv::Vec3b>(y, x) = cv::Vec3b(uchar(x * 30), uchar(y * 30), uchar(x * y));
  std::vector<std::uint8_t> bytes;
  cv::imencode(ext, image, bytes);
  return {bytes.begin(), bytes.end()};
}

// Synthetic features: `people` identities, `per` images each, d dimensions.
struct features {
  dp::matrix<float> x;
  std::vector<int> ids;
};
features synthetic_features(std::size_t people, std::size_t per, std::size_t d) {
  features f{dp::matrix<float>({people * per, d}), {}};
  for (std::size_t p = 0; p < people; ++p)
    for (std::size_t i = 0; i < per; ++i) {
      for (std::size_t j = 0; j < d; ++j)
        f.x(p * per + i, j) = float(std::sin(double(p * 7 + j * 3)) + 0.3 * std::cos(double(i * 5 + j * p + 1)));
      f.ids.push_back(int(p));
    }
  return f;
}

void npy_seeds() {
  const fs::path f = work / "a.npy";
  const std::vector<float> v{1, 2, 3, 4, 5, 6};
  io::write_npy<float>(f, v, std::vector<std::size_t>{2, 3});
  seed("npy", "float32-2x3.npy", read_all(f));
  const std::vector<double> d{0.5, -1.5, 2.25};
  io::write_npy<double>(f, d, std::vector<std::size_t>{3}, {.version = 2});
  seed("npy", "float64-3-version2.npy", read_all(f));
  const std::vector<std::uint8_t> b{1, 2, 255, 0};
  io::write_npy<std::uint8_t>(f, b, std::vector<std::size_t>{2, 2});
  seed("npy", "uint8-2x2.npy", read_all(f));
  io::write_npy<float>(f, std::vector<float>{7}, std::vector<std::size_t>{});
  seed("npy", "float32-scalar.npy", read_all(f));
  io::write_npy<float>(f, std::vector<float>{}, std::vector<std::size_t>{0, 4});
  seed("npy", "float32-0x4.npy", read_all(f));
  // Hand-made: Fortran order, a NaN, a truncated file.
  std::string fortran("\x93NUMPY\x01\x00", 8);
  std::string dict = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }";
  dict.append((64 - (10 + dict.size() + 1) % 64) % 64, ' ');
  dict += '\n';
  fortran += char(dict.size() & 0xff);
  fortran += char(dict.size() >> 8);
  seed("npy", "invalid-fortran-order.npy", fortran + dict + std::string(16, '\0'));
  io::write_npy<float>(f, std::vector<float>{1, NAN}, std::vector<std::size_t>{2});
  seed("npy", "invalid-nan.npy", read_all(f));
  seed("npy", "invalid-truncated.npy", read_all(f).substr(0, 70));
}

void record_seeds() {
  const fs::path f = work / "a.rec";
  io::record_writer w("fuzz", 2);
  const std::vector<double> d{1, 2, 3};
  const std::vector<float> fl{4, 5};
  const std::vector<std::int64_t> ints{-1, 7, 9};
  w.add("doubles", std::span<const double>(d));
  w.add("floats", std::span<const float>(fl), {1, 2});
  w.add("integers", std::span<const std::int64_t>(ints));
  w.add_text("text", "hello");
  w.add_scalar("scalar", 0.25);
  w.save(f);
  seed("record_file", "valid.rec", read_all(f));
  io::record_writer other("other-kind", 1);
  other.add_scalar("scalar", 1);
  other.save(f);
  seed("record_file", "invalid-other-kind.rec", read_all(f));
  std::string corrupt = read_all(out_root / "record_file" / "valid.rec");
  corrupt[corrupt.size() / 2] ^= 0x40;
  seed("record_file", "invalid-checksum.rec", corrupt);
}

void checkpoint_seeds() {
  const fs::path f = work / "a.ckpt";
  dp::train::checkpoint_state s;
  s.architecture = "fuzz-net";
  s.params = {1, 2, 3, 4, 5, 6};
  s.velocity = {0, 0, 0, 0, 0, 0};
  s.classifier = {1, 2, 3, 4};
  s.classifier_velocity = {0, 0, 0, 0};
  s.best_params = s.params;
  s.best_classifier = s.classifier;
  s.classifier_dims = {2, 2};
  s.position = {3, 1};
  s.refit_distances = {0.5, 1.5};
  s.refit_same = {1, 0};
  dp::train::epoch_log e;
  e.epoch = 1;
  e.lr = 0.01;
  s.history = {e};
  dp::train::write_checkpoint(f, s);
  seed("checkpoint", "single-output.ckpt", read_all(f));
  s.head_names = {"head-a"};
  dp::train::head_checkpoint h;
  h.classifier = {1, 2};
  h.classifier_velocity = {0, 0};
  h.best_classifier = {1, 2};
  h.refit_distances = {0.25};
  h.refit_same = {1};
  s.heads = {h};
  s.partial.heads = {0, 0, 0};
  s.history[0].heads = {dp::train::head_log{}};
  dp::train::write_checkpoint(f, s);
  seed("checkpoint", "one-head.ckpt", read_all(f));
}

void weights_seeds() {
  const fs::path dir = work / "weights";
  deepid_fuzz::weights_model m(dp::init::seed{1});
  dp::export_weights(m, dir, "fuzz-model");
  const std::string manifest = read_all(dir / io::weights_manifest_file);
  seed("weights", "manifest-only.txt", manifest);
  seed("weights", "manifest-and-tensor.bin",
       manifest + std::string(separator) + read_all(io::weights_file(dir, deepid_fuzz::fuzzed_tensor)));
  // A manifest with no tensor lines, and another tensor's file (wrong shape).
  seed("weights", "no-manifest-and-tensor.bin",
       "format deepid-weights 1\n" + std::string(separator) + read_all(io::weights_file(dir, "3.bias")));
}

void feature_seeds() {
  const fs::path f = work / "features.npy";
  const auto data = synthetic_features(2, 2, 5);
  const std::vector<std::string> names{"a/a_0001.jpg", "a/a_0002.jpg", "b/b_0001.jpg", "b/b_0002.jpg"};
  io::save_features(f, data.x, names);
  seed("feature_file", "float-features.bin", read_all(f) + std::string(separator) + read_all(io::feature_names_path(f)));
  io::save_binary_features(f, data.x, names);
  seed("feature_file", "binary-features.bin", read_all(f) + std::string(separator) + read_all(io::feature_names_path(f)));
  seed("feature_file", "invalid-no-names-index.npy", read_all(f));
}

template <class V>
std::string saved(const V& v) {
  const fs::path f = work / "verifier.bin";
  v.save(f);
  return read_all(f);
}

void verifier_seeds() {
  const auto data = synthetic_features(6, 4, 6);
  vf::joint_bayesian jb;
  jb.fit({data.x, data.ids});
  seed("verifier", "joint-bayesian.bin", std::string(1, '\0') + saved(jb));
  vf::with_pca<vf::joint_bayesian> pjb(vf::pca_options{.components = 3});
  pjb.fit({data.x, data.ids});
  seed("verifier", "pca-joint-bayesian.bin", std::string(1, '\1') + saved(pjb));
  vf::pca p(vf::pca_options{.components = 3});
  p.fit(data.x);
  seed("verifier", "pca.bin", std::string(1, '\2') + saved(p));
  vf::nn_verifier_options o;
  o.sizes = {2, 3, 4, 4, 0};
  o.stage1_epochs = o.stage2_epochs = 1;
  o.sampled_pairs = 64;
  vf::nn_verifier nn(o);
  nn.fit({data.x, data.ids});
  seed("verifier", "nn-verifier.bin", std::string(1, '\3') + saved(nn));
  vf::logistic_verifier lr;
  lr.fit({data.x, data.ids});
  seed("verifier", "logistic.bin", std::string(1, '\4') + saved(lr));
  vf::svm_verifier svm;
  svm.fit({data.x, data.ids});
  seed("verifier", "svm.bin", std::string(1, '\5') + saved(svm));
}

const std::string landmark_text =
    "# image x1 y1 x2 y2 x3 y3 x4 y4 x5 y5\n"
    "000001.jpg\t60.5\t100\t110\t101\t85\t130\t65\t160\t105\t161\n"
    "000002.jpg 62 99 112 99 88 128 66 158 108 158 0.98\n";

void text_seeds() {
  seed("landmark_list", "two-faces.txt", landmark_text);
  seed("landmark_list", "invalid-nine-coordinates.txt", "a.jpg 1 2 3 4 5 6 7 8 9\n");
  seed("lfw", "pairs-2-folds.txt",
       "2\t1\nAaron_Peirsol\t1\t2\nAbel_Pacheco\t1\tAbdullah\t3\nBob_Saget\t1\t2\nCarl_Fox\t2\tDan\t1\n");
  seed("lfw", "pairs-view1.txt", "1\nAaron_Peirsol\t1\t4\nAbel_Pacheco\t1\tAbdullah\t3\n");
  seed("lfw", "names.txt", "Aaron_Peirsol\t4\nAbel_Pacheco\t2\n");
  const fs::path f = work / "folds.txt";
  dp::eval::write_held_out_folds(f, {0, 1, 2, 7}, "made by make_seeds");
  seed("held_out_folds", "folds.txt", read_all(f));
  seed("held_out_folds", "ranges.txt", "0-4,8\n");
  seed("held_out_folds", "invalid-backwards-range.txt", "5-3\n");
}

void image_seeds() {
  seed("image", "rgb-8x6.png", encoded_image(".png", 6, 8));
  seed("image", "rgb-8x6.jpg", encoded_image(".jpg", 6, 8));
  seed("image", "rgb-4x4.bmp", encoded_image(".bmp", 4, 4));
  seed("image", "invalid-truncated.jpg", encoded_image(".jpg", 6, 8).substr(0, 200));
}

void tar_seeds() {
  seed("tar_archive", "two-members.tar",
       tar_member("img/a.txt", "hello") + tar_member("img/b.bin", std::string(600, 'x')) + tar_end());
  seed("tar_archive", "gnu-long-name.tar",
       tar_member("././@LongLink", std::string(120, 'n') + '\0', 'L') + tar_member("short", "data") + tar_end());
  seed("tar_archive", "invalid-truncated.tar", tar_member("img/b.bin", std::string(600, 'x')).substr(0, 700));
}

void celeba_seeds() {
  const std::string identity = "000001.jpg 10\n000002.jpg 12\n";
  const std::string images = tar_member("img_align_yunet/000001.jpg", encoded_image(".jpg", 8, 8)) +
                             tar_member("img_align_yunet/000002.jpg", encoded_image(".png", 8, 8)) + tar_end();
  const std::string sep(separator);
  seed("celeba", "with-tar.bin", identity + sep + landmark_text + sep + images);
  seed("celeba", "with-folder.bin", identity + sep + landmark_text);
  seed("celeba", "invalid-missing-landmarks.bin", identity + "000003.jpg 10\n" + sep + landmark_text);
}

}  // namespace

int main(int argc, char** argv) {
  out_root = argc > 1 ? fs::path(argv[1]) : fs::path("tests/fuzz/corpus");
  fs::create_directories(work);
  npy_seeds();
  record_seeds();
  checkpoint_seeds();
  weights_seeds();
  feature_seeds();
  verifier_seeds();
  text_seeds();
  image_seeds();
  tar_seeds();
  celeba_seeds();
  fs::remove_all(work);
  std::printf("seeds written to %s\n", out_root.c_str());
}
