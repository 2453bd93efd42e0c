// The registry of named models (the networks themselves are instantiated in
// the registry_*.cpp files, one per family member).
#include "registry.hpp"

#include <deepid/core/error.hpp>

namespace deepid_cli {

const std::vector<model_entry>& all_models() {
  static const std::vector<model_entry> models = [] {
    auto list = deepid1_models();
    for (auto& e : deepid2_models()) list.push_back(std::move(e));
    for (auto& e : deepid2plus_models()) list.push_back(std::move(e));
    for (auto& e : deepid3_models()) list.push_back(std::move(e));
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
