// Compiled against single_include/deepid/deepid.hpp only (include/ is not on
// the include path), so the generated header stands on its own.
#include <deepid/deepid.hpp>

#ifndef DEEPID_SINGLE_HEADER_CHECK
#error "built with the wrong include path"
#endif

#include <iostream>

int main() {
  deepid::model<deepid::deepid1_plain<deepid::patch_shape<3, 39, 31>>> m(deepid::init::seed{1});
  deepid::batch4<float> x = xt::ones<float>({1ul, 3ul, 39ul, 31ul});
  const auto f = m.forward(x);
  std::cout << "single header: " << m.param_count << " parameters, " << f.shape()[1] << " features\n";
  return f.shape()[1] == 160 ? 0 : 1;
}
