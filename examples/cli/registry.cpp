// The registry of named models (the networks themselves are instantiated in
// registry_deepid1.cpp and registry_deepid2.cpp).
#include "registry.hpp"

#include <deepid/core/error.hpp>

namespace deepid_cli {

const std::vector<model_entry>& all_models() {
  static const std::vector<model_entry> models = [] {
    auto list = deepid1_models();
    for (auto& e : deepid2_models()) list.push_back(std::move(e));
    return list;
  }();
  return models;
}

const model_entry& find_model(std::string_view name) {
  for (const auto& e : all_models())
    if (e.name == name) return e;
  throw deepid::error("unknown model '" + std::string(name) + "' (run 'deepid info' to list the " +
                      std::to_string(all_models().size()) + " models)");
}

}  // namespace deepid_cli
