// libFuzzer target: parse_hmmsearch_sto on arbitrary bytes must either return consistent hits
// or throw ParseError. Parsed hits are pushed on through the template featuriser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exafold/features/parse_error.h"
#include "exafold/features/template_hits.h"
#include "template_fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exafold::features;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // The short73 query, whose real hmmsearch result seeds the corpus.
  const std::string_view query =
      "MAAHKGAEHHHKAAEHHEQAAKHHHAAAEHHEKGEHEQAAHHADTAYAHHKHAEEHAAQAAKHDAEHHAPKPH";
  std::vector<TemplateHit> hits;
  try {
    hits = parse_hmmsearch_sto(text, query, "fuzz.sto");
  } catch (const ParseError&) {
    return 0;
  }
  for (const TemplateHit& h : hits) {
    EXAFOLD_ASSERT(h.query == query && h.indices_query.size() == query.size());
    EXAFOLD_ASSERT(h.indices_hit.size() == query.size() && !h.sum_probs.has_value());
  }
  static const fuzz::OneEntry source(parse_template_mmcif("", "1abc"));
  fuzz::featurize_and_check(query, hits, TemplateHitFormat::hmmsearch_sto, source);
  return 0;
}
