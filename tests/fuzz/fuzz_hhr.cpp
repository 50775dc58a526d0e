// libFuzzer target: parse_hhr on arbitrary bytes must either return consistent hits or throw
// ParseError. Parsed hits are pushed on through the template featuriser against a one-entry
// source, which must give well-formed features.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exafold/features/parse_error.h"
#include "exafold/features/template_hits.h"
#include "template_fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exafold::features;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<TemplateHit> hits;
  try {
    hits = parse_hhr(text, "fuzz.hhr");
  } catch (const ParseError&) {
    return 0;
  }
  for (const TemplateHit& h : hits) {
    EXAFOLD_ASSERT(h.indices_query.size() == h.query.size());
    EXAFOLD_ASSERT(h.indices_hit.size() == h.hit_sequence.size());
    EXAFOLD_ASSERT(h.sum_probs.has_value());
  }
  static const fuzz::OneEntry source(parse_template_mmcif("", "1hf9"));
  fuzz::featurize_and_check(
      "MAAHKGAEHHHKAAEHHEQAAKHHHAAAEHHEKGEHEQAAHHADTAYAHHKHAEEHAAQAAKHDAEHHAPKPH", hits,
      TemplateHitFormat::hhr, source);
  return 0;
}
