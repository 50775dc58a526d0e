// libFuzzer target: parse_template_mmcif on arbitrary bytes must return an entry that is either
// marked unreadable (with a reason) or consistent. A readable entry's first chain then serves as
// the template of a hit covering it, through featurisation and the processed features.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exafold/features/template_structure.h"
#include "template_fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exafold::features;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  TemplateEntry e = parse_template_mmcif(text, "1abc", "fuzz.cif");
  if (!e.error.empty()) {
    EXAFOLD_ASSERT(e.chains.empty());
    return 0;
  }
  EXAFOLD_ASSERT(!e.chains.empty());
  for (const TemplateChain& c : e.chains) {
    const size_t n = c.residues.size();
    EXAFOLD_ASSERT(n > 0);
    if (c.atom_error.empty()) {
      EXAFOLD_ASSERT(c.positions.size() == n * 37 * 3 && c.mask.size() == n * 37);
      for (float m : c.mask) EXAFOLD_ASSERT(m == 0.0f || m == 1.0f);
    } else {
      EXAFOLD_ASSERT(c.positions.empty() && c.mask.empty());
    }
  }
  const TemplateChain& c = e.chains.front();
  const std::string query = c.sequence(ResidueLetters::biopython_1_79);
  if (query.size() > 256) return 0;
  TemplateHit hit;
  hit.index = 1;
  hit.name = "1abc_" + c.id;
  hit.sum_probs = 1.0;
  hit.aligned_cols = int64_t(query.size());
  hit.query = hit.hit_sequence = query;
  for (size_t k = 0; k < query.size(); ++k) {
    hit.indices_query.push_back(int32_t(k));
    hit.indices_hit.push_back(int32_t(k));
  }
  fuzz::featurize_and_check(query, std::span<const TemplateHit>(&hit, 1), TemplateHitFormat::hhr,
                            fuzz::OneEntry(std::move(e)));
  return 0;
}
