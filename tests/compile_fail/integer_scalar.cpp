// expect: model: the scalar type must be float or double
#include <deepid/core/shape.hpp>
#include <deepid/models/deepid1.hpp>
#include <deepid/net/model.hpp>
int main() {
  deepid::model<deepid::deepid1<deepid::patch_shape<1, 31, 31>>, int> m;
  return int(m.param_count);
}
