// A user's translation unit: a DeepID1 net on 31x31 gray patches.
#include <deepid/deepid.hpp>

#include <iostream>

int main() {
  using net = deepid::deepid1<deepid::patch_shape<1, 31, 31>>;
  deepid::model<net> m(deepid::init::seed{3});
  deepid::batch4<float> x = xt::zeros<float>({2ul, 1ul, 31ul, 31ul});
  const auto features = m.forward(x);
  std::cout << "params " << m.param_count << " features " << features.shape()[0] << "x" << features.shape()[1]
            << "\n";
  return m.param_count == 164860 && features.shape()[1] == 160 ? 0 : 1;
}
