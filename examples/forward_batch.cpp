// A forward pass of the paper's DeepID1 net over a small batch of patches.
// The weights are seeded random numbers (untrained), so the features mean
// nothing yet; what this shows is the shapes, the call and determinism.
// The specific headers: the umbrella <deepid/deepid.hpp> costs about 55 s of
// compile time by itself.
#include <deepid/models/deepid1.hpp>
#include <deepid/net/model.hpp>

#include <cmath>
#include <cstdio>

namespace dp = deepid;

// DeepID1 on 39x31 RGB patches; its input and output shapes are constants.
using net = dp::deepid1<dp::patch_shape<3, 39, 31>>;
static_assert(dp::net_traits<net>::output_shape == dp::shape3{160, 1, 1});

int main() {
  dp::model<net> m(dp::init::seed{7});  // the same seed gives the same weights

  // Four deterministic patches, N x C x H x W: smooth ramps that differ per sample.
  constexpr std::size_t batch = 4;
  dp::batch4<float> x = xt::zeros<float>({batch, 3ul, 39ul, 31ul});
  for (std::size_t n = 0; n < batch; ++n)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t h = 0; h < 39; ++h)
        for (std::size_t w = 0; w < 31; ++w) x(n, c, h, w) = float(std::sin(0.3 * (n + 1) * h + 0.2 * w + c));

  const dp::matrix<float> features = m.forward(x);  // N x 160
  std::printf("input %s -> features %s\n", dp::shape_string(x.shape()).c_str(),
              dp::shape_string(features.shape()).c_str());
  for (std::size_t n = 0; n < batch; ++n)
    std::printf("  sample %zu: %.4f %.4f %.4f ...\n", n, features(n, 0), features(n, 1), features(n, 2));

  // The run-time shape is the compile-time one, every value is finite, and
  // different inputs give different features.
  bool ok = features.shape()[0] == batch && features.shape()[1] == dp::model<net>::output_shape.size();
  for (float v : features) ok = ok && std::isfinite(v) && v >= 0;  // the DeepID layer ends in a ReLU
  for (std::size_t n = 1; n < batch; ++n) {
    bool differs = false;
    for (std::size_t j = 0; j < features.shape()[1]; ++j) differs = differs || features(n, j) != features(0, j);
    ok = ok && differs;
  }
  // Running again gives the same bits: a forward pass is deterministic.
  ok = ok && m.forward(x) == features;
  std::printf("%s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
