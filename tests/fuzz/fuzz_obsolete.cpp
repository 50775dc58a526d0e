// libFuzzer target: parse_obsolete_pdbs on arbitrary bytes must either return a consistent map
// (lower-case four-character ids, each replacement such an id or empty) or throw ParseError.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exafold/features/obsolete_pdbs.h"
#include "exafold/features/parse_error.h"
#include "template_fuzz_util.h"

namespace {

bool is_pdb_id(const std::string& id) {
  if (id.size() != 4) return false;
  for (unsigned char c : id)
    if (!std::isdigit(c) && !std::islower(c)) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exafold::features;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ObsoletePdbs obsolete;
  try {
    obsolete = parse_obsolete_pdbs(text, "fuzz.dat");
  } catch (const ParseError&) {
    return 0;
  }
  for (const auto& [id, replacement] : obsolete) {
    EXAFOLD_ASSERT(is_pdb_id(id));
    EXAFOLD_ASSERT(replacement.empty() || is_pdb_id(replacement));
  }
  return 0;
}
