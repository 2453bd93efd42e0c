#pragma once
// One verifier's file carried whole inside another's (PCA + V, the members of
// a feature-group fusion, the V a greedy selection keeps). The inner
// verifier's complete record, its kind, version and checksum included, is one
// bytes section of the outer record; loading parses it from memory with the
// same checks as a file of its own, and every error names the outer file,
// the section and the inner verifier's kind.
#include <string>
#include <string_view>

#include "deepid/core/error.hpp"
#include "deepid/io/record_file.hpp"
#include "deepid/verify/verifier.hpp"

DEEPID_NAMESPACE_BEGIN
namespace verify {

template <verifier V>
void embed_verifier(io::record_writer& outer, const std::string& section, const V& inner) {
  outer.add_text(section, inner.record().bytes());
}

template <verifier V>
V load_embedded_verifier(const io::record_reader& outer, const std::string& section) {
  const std::string kind(V::kind());
  const std::string bytes = outer.text(section);
  const std::string name = outer.path() + ": the '" + kind + "' verifier embedded in section '" + section + "'";
  try {
    // The kind and version every verifier's own file has.
    return V::from_record(io::record_reader::from_bytes(name, bytes, "verifier/" + kind, 1));
  } catch (const error& e) {
    // The reader's errors start with `name` already; others (a verifier's
    // own checks) get it here.
    if (std::string_view(e.what()).starts_with(name)) throw;
    throw error(name + ": " + e.what());
  }
}

}  // namespace verify
DEEPID_NAMESPACE_END
