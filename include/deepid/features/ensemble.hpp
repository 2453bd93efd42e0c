#pragma once
// The DeepID feature of a face: a patch scheme plus one trained ConvNet per
// patch type. Each net sees its patch and the patch's flipped counterpart,
// as in DeepID1, so a face gets 2 x 160 values per patch type,
// concatenated in the order of the chosen types: [type0 orig, type0 flip,
// type1 orig, ...].
//
// The nets differ in input shape (39x31 or 31x31, RGB or gray, ...), so the
// ensemble holds them behind a small interface (patch_net); make_patch_net
// picks the compiled net type for a scheme's patch index from a net family
// (deepid1_nets here; DeepID2+ and DeepID3 in features/net_families.hpp).
// Nets with supervision heads give features from any output: the ensemble
// extracts the same output of every net. Training the nets is
// features/ensemble_training.hpp, so that extracting features does not
// compile the trainer.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "deepid/core/error.hpp"
#include "deepid/core/progress.hpp"
#include "deepid/core/tensor.hpp"
#include "deepid/face/face_set.hpp"
#include "deepid/face/patch_batch.hpp"
#include "deepid/face/patch_scheme.hpp"
#include "deepid/io/atomic_file.hpp"
#include "deepid/io/input_file.hpp"
#include "deepid/io/record_file.hpp"
#include "deepid/models/deepid1.hpp"
#include "deepid/net/model.hpp"

DEEPID_NAMESPACE_BEGIN
namespace features {

// "deepid1-39x31x3", "deepid2-55x47x1": the family by patch size, as the CLI names models.
inline std::string architecture_name(shape3 s, bool paper_sharing = true) {
  return std::string(s.h >= 47 ? "deepid2-" : "deepid1-") + std::to_string(s.h) + "x" + std::to_string(s.w) + "x" +
         std::to_string(s.c) + (paper_sharing ? "" : "-plain");
}

// "55x47x3": a patch shape as the model names spell it.
inline std::string shape_label(shape3 s) {
  return std::to_string(s.h) + "x" + std::to_string(s.w) + "x" + std::to_string(s.c);
}

// A net family: the net type for each patch shape (`net<Patch>`), whether it
// is built for that shape (`supports<Patch>`), and the architecture name
// stored in model files and checkpoints.
template <class F>
concept net_family = requires(shape3 s) {
  { F::name } -> std::convertible_to<std::string_view>;
  { F::architecture(s) } -> std::convertible_to<std::string>;
  { F::template supports<patch_shape<1, 31, 31>> } -> std::convertible_to<bool>;
};

// DeepID1's net (DeepID2's at 55x47 and 47x47): conv3 locally shared on a
// 2x2 grid, conv4 locally connected.
struct deepid1_nets {
  static constexpr std::string_view name = "deepid1";
  template <class Patch>
  using net = deepid1<Patch>;
  template <class Patch>
  static constexpr bool supports = true;
  static std::string architecture(shape3 s) { return architecture_name(s); }
};

// Where an ensemble's nets run: on the CPU (model<Net, float>). An optional
// backend gives others with the model's interface (cuda::on_gpu).
struct on_cpu {
  template <class Net>
  using model = deepid::model<Net, float>;
};

// One trained net of an ensemble, whatever its input shape.
class patch_net {
 public:
  virtual ~patch_net() = default;
  virtual shape3 input_shape() const = 0;
  virtual std::string architecture() const = 0;
  // Outputs: the supervised heads in the model's order, then the main output.
  virtual std::size_t output_count() const = 0;
  virtual std::string output_name(std::size_t k) const = 0;
  virtual std::size_t output_dim(std::size_t k) const = 0;
  std::size_t main_output() const { return output_count() - 1; }
  std::size_t feature_dim() const { return output_dim(main_output()); }
  // Output k (the main output by default) of n normalised patches (NCHW)
  // into out (n x output_dim(k)).
  virtual void features(const float* nchw, std::size_t n, float* out, std::size_t k) = 0;
  void features(const float* nchw, std::size_t n, float* out) { features(nchw, n, out, main_output()); }
  // Every output of n patches from one forward pass: outs[k] receives
  // n x output_dim(k) values.
  virtual void all_features(const float* nchw, std::size_t n, std::span<float* const> outs) = 0;
  virtual std::vector<float> parameters() const = 0;
  virtual void set_parameters(const std::vector<float>& values, const std::string& source) = 0;
};

template <class Net, net_family Family = deepid1_nets, class Placement = on_cpu>
class typed_patch_net final : public patch_net {
 public:
  using model_type = typename Placement::template model<Net>;

  explicit typed_patch_net(std::uint64_t seed) : model_(init::seed{seed}) {}
  // The model behind the interface (features/ensemble_training.hpp trains it).
  model_type& typed_model() { return model_; }
  shape3 input_shape() const override { return model_type::input_shape; }
  std::string architecture() const override { return Family::architecture(input_shape()); }
  std::size_t output_count() const override { return model_type::output_count; }
  std::string output_name(std::size_t k) const override { return std::string(model_type::output_name(k)); }
  std::size_t output_dim(std::size_t k) const override { return model_type::output_shape_of(k).size(); }
  void features(const float* nchw, std::size_t n, float* out, std::size_t k) override {
    if (k >= model_type::output_count) throw error("patch_net: output " + std::to_string(k) + " is outside the model");
    constexpr std::size_t chunk = 256;
    const std::size_t in = input_shape().size(), dim = output_dim(k);
    const head_pass heads = k < model_type::head_count ? head_pass::run : head_pass::skip;
    for (std::size_t start = 0; start < n; start += chunk) {
      const std::size_t m = std::min(chunk, n - start);
      model_.forward(nchw + start * in, m, mode::inference, heads);
      std::copy_n(model_.output(k), m * dim, out + start * dim);
    }
    model_.release_buffers();
  }
  void all_features(const float* nchw, std::size_t n, std::span<float* const> outs) override {
    if (outs.size() != model_type::output_count)
      throw error("patch_net: " + std::to_string(outs.size()) + " output buffers for " +
                  std::to_string(model_type::output_count) + " outputs");
    constexpr std::size_t chunk = 256;
    const std::size_t in = input_shape().size();
    const head_pass heads = model_type::head_count > 0 ? head_pass::run : head_pass::skip;
    for (std::size_t start = 0; start < n; start += chunk) {
      const std::size_t m = std::min(chunk, n - start);
      model_.forward(nchw + start * in, m, mode::inference, heads);
      for (std::size_t k = 0; k < outs.size(); ++k)
        std::copy_n(model_.output(k), m * output_dim(k), outs[k] + start * output_dim(k));
    }
    model_.release_buffers();
  }
  std::vector<float> parameters() const override { return {model_.parameters().begin(), model_.parameters().end()}; }
  void set_parameters(const std::vector<float>& values, const std::string& source) override {
    if (values.size() != model_type::param_count)
      throw error(source + ": " + std::to_string(values.size()) + " parameters, " + architecture() + " has " +
                  std::to_string(model_type::param_count));
    std::copy(values.begin(), values.end(), model_.parameters().begin());
  }

 private:
  model_type model_;
};

namespace detail {
// Calls visit.template operator()<Net>() with the family's net type for
// patch `index` of scheme S; does nothing when the family has no net for
// that patch's shape.
template <face::patch_scheme S, net_family Family, class Visit>
void visit_patch_net_type(std::size_t index, Visit&& visit) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    const auto one = [&]<std::size_t J>() {
      using patch = face::scheme_patch_shape<S, J>;
      if constexpr (Family::template supports<patch>) visit.template operator()<typename Family::template net<patch>>();
    };
    ((index == I ? (one.template operator()<I>(), 0) : 0), ...);
  }(std::make_index_sequence<S::patches.size()>{});
}
}  // namespace detail

// The family's net for patch `index` of scheme S.
template <face::patch_scheme S, net_family Family = deepid1_nets, class Placement = on_cpu>
std::unique_ptr<patch_net> make_patch_net(std::size_t index, std::uint64_t seed) {
  if (index >= S::patches.size()) throw error("make_patch_net: patch " + std::to_string(index) + " is outside the scheme");
  std::unique_ptr<patch_net> net;
  detail::visit_patch_net_type<S, Family>(index, [&]<class Net>() {
    net = std::make_unique<typed_patch_net<Net, Family, Placement>>(seed);
  });
  if (!net)
    throw error("patch " + std::string(S::patches[index].label()) + " (" + shape_label(S::patches[index].shape()) +
                ") has no " + std::string(Family::name) + " net: the family is built for other patch shapes");
  return net;
}

template <face::patch_scheme S, net_family Family = deepid1_nets, class Placement = on_cpu>
class ensemble {
 public:
  static constexpr std::uint32_t file_version = 1;

  // Untrained nets for patch types `types`, seeded from `seed`.
  ensemble(std::vector<std::size_t> types, std::uint64_t seed) : types_(std::move(types)) {
    if (types_.empty()) throw error("ensemble: no patch types chosen");
    for (std::size_t k = 0; k < types_.size(); ++k) {
      nets_.push_back(make_patch_net<S, Family, Placement>(types_[k], mix64(seed + types_[k])));
      norms_.emplace_back();
    }
  }

  const std::vector<std::size_t>& types() const { return types_; }
  // The width of output `output` (default: the main one) for a face.
  std::size_t dim(std::size_t output) const {
    std::size_t d = 0;
    for (const auto& n : nets_) d += 2 * n->output_dim(output);
    return d;
  }
  std::size_t dim() const { return dim(main_output()); }
  patch_net& net(std::size_t k) { return *nets_[k]; }
  // What net k's patches are normalised with (learnt when the net is trained).
  face::patch_normalisation& normalisation(std::size_t k) { return norms_[k]; }

  // Every net of an ensemble has the same outputs (one family).
  std::size_t output_count() const { return nets_.front()->output_count(); }
  std::size_t main_output() const { return nets_.front()->main_output(); }
  std::vector<std::string> output_names() const {
    std::vector<std::string> names;
    for (std::size_t k = 0; k < output_count(); ++k) names.push_back(nets_.front()->output_name(k));
    return names;
  }
  std::size_t output_index(const std::string& name) const {
    const auto names = output_names();
    for (std::size_t k = 0; k < names.size(); ++k)
      if (names[k] == name) return k;
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    throw error("the nets have no output '" + name + "' (they have " + known + ")");
  }

  // Features of every face of `source`: rows x dim(output), rows = faces
  // kept; `output` indexes the nets' outputs (default: the main one).
  face::patch_batch extract(const face::face_source& source, matrix<float>& out,
                            face::on_bad_item policy = face::on_bad_item::fail) {
    return extract(source, out, policy, main_output());
  }
  face::patch_batch extract(const face::face_source& source, matrix<float>& out, face::on_bad_item policy,
                            std::size_t output) {
    if (output >= output_count()) throw error("ensemble: output " + std::to_string(output) + " is outside the nets");
    auto batch = face::extract_patches<S>(source, types_, true, policy);
    out = matrix<float>::from_shape({batch.faces.size(), dim(output)});
    run_nets(batch, [&](patch_net& net, const float* patches, std::size_t n, std::vector<float*> parts) {
      net.features(patches, n, parts[output], output);
    }, std::span<matrix<float>>(&out, 1), output);
    return batch;
  }

  // Every output at once, as extract(..., k) gives output k, from one forward
  // pass of each net per patch: out[k] is rows x dim(k).
  face::patch_batch extract_outputs(const face::face_source& source, std::vector<matrix<float>>& out,
                                    face::on_bad_item policy = face::on_bad_item::fail) {
    auto batch = face::extract_patches<S>(source, types_, true, policy);
    out.clear();
    for (std::size_t k = 0; k < output_count(); ++k) out.push_back(matrix<float>::from_shape({batch.faces.size(), dim(k)}));
    run_nets(batch, [&](patch_net& net, const float* patches, std::size_t n, std::vector<float*> parts) {
      net.all_features(patches, n, parts);
    }, std::span<matrix<float>>(out), output_count());
    return batch;
  }

  // DIR/ensemble.txt lists the nets; DIR/patch_<index>.net holds each one
  // (record file: architecture, patch name, parameters, normalisation).
  void save(const std::filesystem::path& dir) const {
    std::filesystem::create_directories(dir);
    std::string manifest = "deepid-ensemble 1\n";
    for (std::size_t k = 0; k < types_.size(); ++k) {
      const auto& d = S::patches[types_[k]];
      const std::string file = "patch_" + std::to_string(types_[k]) + ".net";
      io::record_writer w("patch_net", file_version);
      w.add_text("architecture", nets_[k]->architecture());
      w.add_text("patch", std::string(d.label()));
      w.add_scalar("patch_index", double(types_[k]));
      const auto params = nets_[k]->parameters();
      w.add("params", std::span<const float>(params));
      w.add("norm_mean", std::span<const float>(norms_[k].mean));
      w.add_scalar("norm_scale", norms_[k].scale);
      w.save(dir / file);
      manifest += std::to_string(types_[k]) + " " + std::string(d.label()) + " " + file + "\n";
    }
    io::atomic_file f(dir / "ensemble.txt");
    f.write(manifest);
    f.commit();
  }

  static ensemble load(const std::filesystem::path& dir) {
    const auto manifest = dir / "ensemble.txt";
    if (!std::filesystem::exists(manifest))
      throw error(manifest.string() + ": cannot open the ensemble manifest (train one with 'deepid train')");
    auto in = io::open_input(manifest, "the ensemble manifest");
    std::string header;
    std::getline(in, header);
    if (header != "deepid-ensemble 1") throw error(manifest.string() + ":1: not a deepid ensemble manifest");
    std::vector<std::size_t> types;
    std::vector<std::string> files;
    std::string line;
    std::size_t line_no = 1;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.empty()) continue;
      std::istringstream f(line);
      std::size_t index;
      std::string name, file;
      if (!(f >> index >> name >> file) || index >= S::patches.size() || S::patches[index].label() != name)
        throw error(manifest.string() + ":" + std::to_string(line_no) + ": '" + line +
                    "' is not a patch of this scheme ('index name file')");
      types.push_back(index);
      files.push_back(file);
    }
    ensemble e(types, 0);
    for (std::size_t k = 0; k < types.size(); ++k) {
      const auto path = dir / files[k];
      const io::record_reader r(path, "patch_net", file_version);
      if (r.text("architecture") != e.nets_[k]->architecture())
        throw error(path.string() + ": holds a '" + r.text("architecture") + "', patch " +
                    std::string(S::patches[types[k]].label()) + " needs a '" + e.nets_[k]->architecture() + "'");
      e.nets_[k]->set_parameters(r.f32("params"), path.string());
      for (float v : r.f32("params"))
        if (!std::isfinite(v)) throw error(path.string() + ": the parameters hold a value that is not finite");
      e.norms_[k].mean = r.f32("norm_mean", S::patches[types[k]].shape().size());
      e.norms_[k].scale = float(r.scalar("norm_scale"));
    }
    return e;
  }

 private:
  // Runs `net_pass(net, patches, n, parts)` on the normalised patches of every
  // net and flip, where parts[k] is an n x output_dim(k) buffer of output k
  // (only `only` when it is not output_count()), and scatters the parts into
  // the columns of `out` (one matrix per output, or the one output asked for).
  template <class Pass>
  void run_nets(face::patch_batch& batch, const Pass& net_pass, std::span<matrix<float>> out, std::size_t only) {
    const std::size_t n = batch.faces.size(), outputs = output_count();
    std::vector<std::size_t> column(outputs, 0);
    std::vector<std::vector<float>> parts(outputs);
    for (std::size_t k = 0; k < types_.size(); ++k)
      for (int flipped = 0; flipped < 2; ++flipped) {
        auto& patches = flipped ? batch.flipped[k] : batch.original[k];
        norms_[k].apply(patches);
        std::vector<float*> pointers(outputs, nullptr);
        for (std::size_t j = 0; j < outputs; ++j)
          if (only == outputs || j == only) parts[j].resize(n * nets_[k]->output_dim(j)), pointers[j] = parts[j].data();
        net_pass(*nets_[k], patches.data(), n, pointers);
        for (std::size_t j = 0; j < outputs; ++j) {
          if (!pointers[j]) continue;
          auto& target = out[only == outputs ? j : 0];
          const std::size_t fd = nets_[k]->output_dim(j), width = target.shape()[1];
          for (std::size_t i = 0; i < n; ++i)
            std::copy_n(parts[j].data() + i * fd, fd, target.data() + i * width + column[j]);
          column[j] += fd;
        }
      }
  }

  std::vector<std::size_t> types_;
  std::vector<std::unique_ptr<patch_net>> nets_;
  std::vector<face::patch_normalisation> norms_;
};

}  // namespace features
DEEPID_NAMESPACE_END
