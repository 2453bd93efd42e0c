// LFW as shipped in DEEPID_DATA/lfw: every landmark row and pair parses, every
// pair image resolves inside the tar, and alignment residuals are reported.
#include <doctest/doctest.h>

#include <deepid/deepid.hpp>

#include <iostream>
#include <map>

#include "data_root.hpp"

namespace fc = deepid::face;

TEST_CASE("LFW: names, landmarks, View 2 and View 1 pairs, all resolved in the tar") {
  const auto lfw = fc::lfw_dataset::open(data_folder("lfw"));
  const auto people = lfw.people();
  CHECK(people.size() == 5749);
  const auto images = lfw.image_names();
  CHECK(images.size() == 13233);
  CHECK(lfw.landmarks().size() == 13233);
  for (const auto& name : images) REQUIRE_MESSAGE(lfw.landmarks().contains(name), name);
  for (const auto& name : images) REQUIRE_MESSAGE(lfw.images().contains(name), name);

  const auto pairs = lfw.view2_pairs();
  REQUIRE(pairs.size() == 6000);
  std::map<int, std::pair<int, int>> per_fold;
  for (const auto& p : pairs) {
    (p.same ? per_fold[p.fold].first : per_fold[p.fold].second)++;
    REQUIRE_MESSAGE(lfw.images().contains(p.first), p.first);
    REQUIRE_MESSAGE(lfw.images().contains(p.second), p.second);
  }
  CHECK(per_fold.size() == 10);
  for (const auto& [fold, counts] : per_fold) {
    CHECK(counts.first == 300);
    CHECK(counts.second == 300);
  }
  // Folds are contiguous blocks of 600 lines: 300 matched, then 300 mismatched.
  CHECK(pairs[0].same);
  CHECK(!pairs[300].same);
  CHECK(pairs[600].fold == 1);
  CHECK(pairs[0].first == "Abel_Pacheco/Abel_Pacheco_0001.jpg");
  CHECK(pairs[0].second == "Abel_Pacheco/Abel_Pacheco_0004.jpg");

  CHECK(lfw.view1_train_pairs().size() == 2200);
  CHECK(lfw.view1_test_pairs().size() == 1000);
}

TEST_CASE("LFW: alignment residual over all faces, and patches of real faces") {
  const auto lfw = fc::lfw_dataset::open(data_folder("lfw"));
  double sum = 0, worst = 0;
  for (const auto& row : lfw.landmarks().rows()) {
    const double r = fc::alignment_residual(row.points);
    sum += r;
    worst = std::max(worst, r);
  }
  const double mean = sum / double(lfw.landmarks().size());
  std::cout << "LFW alignment residual (canonical px, template IOD 35.2): mean " << mean << ", worst " << worst
            << " over " << lfw.landmarks().size() << " faces\n";
  // A 3-point similarity cannot fit every face; the mean residual measures the
  // spread of face geometry and stays well below one eye's width.
  CHECK(mean < 4.0);

  std::vector<std::string> names{"AJ_Cook/AJ_Cook_0001.jpg", "George_W_Bush/George_W_Bush_0001.jpg",
                                 "Zico/Zico_0003.jpg"};
  fc::face_source source{[&](std::size_t i) { return std::pair{lfw.load(names[i]), lfw.landmarks().at(names[i]).points}; },
                         [&](std::size_t i) { return names[i]; }, names.size()};
  const auto batch = fc::extract_patches<fc::deepid1_scheme>(source);
  REQUIRE(batch.original.size() == 60);
  for (const auto& t : batch.original) {
    double mean_value = 0;
    for (float v : t) mean_value += v;
    mean_value /= double(t.size());
    CHECK(mean_value > 0.05);  // real image content, not the black border
    CHECK(mean_value < 0.95);
  }
}

TEST_CASE("CelebA subset: 6,289 faces of 299 identities with landmarks") {
  const auto set = fc::read_celeba(data_folder("celeba_subset"));
  CHECK(set.faces.size() == 6289);
  CHECK(set.identities() == 299);
  CHECK(set.problems.empty());
  const auto image = set.images.load(set.faces.front().image);
  CHECK(image.cols == 178);
  CHECK(image.rows == 218);
}
