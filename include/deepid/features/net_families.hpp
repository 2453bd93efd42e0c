#pragma once
// The deeper nets as ensemble families (features/ensemble.hpp): DeepID2+
// and the two DeepID3 nets (paper or reduced widths) for every patch shape of
// DeepID2's candidate pool. Their heads (FC-1..FC-3) are outputs too, so an
// ensemble gives the features of any of them.
#include <string>
#include <string_view>
#include <type_traits>

#include "deepid/features/ensemble.hpp"
#include "deepid/models/deepid2plus.hpp"
#include "deepid/models/deepid3.hpp"

DEEPID_NAMESPACE_BEGIN
namespace features {

// DeepID2+ (reading B of conv3's sharing, FC-4 fed by pool3 and conv4).
struct deepid2plus_nets {
  static constexpr std::string_view name = "deepid2plus";
  template <class Patch>
  using net = deepid2plus<Patch>;
  template <class Patch>
  static constexpr bool supports = true;
  static std::string architecture(shape3 s) { return "deepid2plus-" + shape_label(s); }
};

// DeepID3 net1 (VGG) or net2 (Inception) at the widths W.
template <bool Inception, class Widths>
struct deepid3_nets {
  static constexpr bool reduced = std::is_same_v<Widths, deepid3_reduced_widths>;
  static constexpr std::string_view name = Inception ? (reduced ? "deepid3-net2-reduced" : "deepid3-net2")
                                                     : (reduced ? "deepid3-net1-reduced" : "deepid3-net1");
  template <class Patch>
  using net = std::conditional_t<Inception, deepid3_net2<Patch, Widths>, deepid3_net1<Patch, Widths>>;
  template <class Patch>
  static constexpr bool supports = true;
  static std::string architecture(shape3 s) {
    return std::string(Inception ? "deepid3-net2-" : "deepid3-net1-") + shape_label(s) + (reduced ? "-reduced" : "");
  }
};

using deepid3_net1_nets = deepid3_nets<false, deepid3_paper_widths>;
using deepid3_net2_nets = deepid3_nets<true, deepid3_paper_widths>;
using deepid3_net1_reduced_nets = deepid3_nets<false, deepid3_reduced_widths>;
using deepid3_net2_reduced_nets = deepid3_nets<true, deepid3_reduced_widths>;

}  // namespace features
DEEPID_NAMESPACE_END
