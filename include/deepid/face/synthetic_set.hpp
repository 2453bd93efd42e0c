#pragma once
// The synthetic identities as a face_set: identities x images_per_identity
// faces named "id0007/0003.png", rendered on demand (nothing on disk).
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>

#include "deepid/face/face_set.hpp"
#include "deepid/face/synthetic.hpp"

DEEPID_NAMESPACE_BEGIN
namespace face {

inline std::string synthetic_name(int identity, int sample) {
  char text[32];
  std::snprintf(text, sizeof text, "id%04d/%04d.png", identity, sample);
  return text;
}

// Building the set renders every face once (for its landmarks), so its size
// is bounded: a million faces take minutes, more is a typing mistake.
inline constexpr std::int64_t synthetic_max_faces = 1'000'000;

inline face_set synthetic_face_set(int identities, int images_per_identity, synthetic_options options = {},
                                   int first_identity = 0) {
  const std::int64_t faces = std::int64_t(identities) * images_per_identity;
  if (identities < 1 || images_per_identity < 1 || faces > synthetic_max_faces)
    throw error("synthetic faces: " + std::to_string(identities) + " identities x " + std::to_string(images_per_identity) +
                " images is not from 1 to " + std::to_string(synthetic_max_faces) + " faces");
  if (first_identity < 0 || first_identity > std::numeric_limits<int>::max() - identities)
    throw error("synthetic faces: first identity " + std::to_string(first_identity) + " is out of range");
  auto generator = std::make_shared<synthetic_faces>(options);
  face_set set;
  set.images = image_store::from_function([generator](const std::string& name) {
    int identity = 0, sample = 0;
    if (std::sscanf(name.c_str(), "id%d/%d.png", &identity, &sample) != 2)
      throw error("synthetic faces: no image named '" + name + "'");
    return generator->render(identity, sample).image;
  });
  for (int id = 0; id < identities; ++id) {
    set.identity_names.push_back("id" + std::to_string(first_identity + id));
    for (int s = 0; s < images_per_identity; ++s)
      set.faces.push_back({synthetic_name(first_identity + id, s), id, generator->render(first_identity + id, s).points});
  }
  return set;
}

}  // namespace face
DEEPID_NAMESPACE_END
