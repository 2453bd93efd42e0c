// expect: model: the scalar type must be float or double
#include <deepid/deepid.hpp>
int main() {
  deepid::model<deepid::deepid1<deepid::patch_shape<1, 31, 31>>, int> m;
  return int(m.param_count);
}
