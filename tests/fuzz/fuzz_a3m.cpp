// libFuzzer target: parse_a3m on arbitrary bytes must either return a consistent alignment or
// throw ParseError. A parsed alignment is pushed on through raw and processed features, which
// must then succeed.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exafold/core/error.h"
#include "exafold/features/a3m.h"
#include "exafold/features/alphabet.h"
#include "exafold/features/parse_error.h"
#include "exafold/features/processed_features.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exafold::features;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Msa msa("fuzz.a3m");
  try {
    msa = parse_a3m(text, "fuzz.a3m", {.max_rows = 64});
  } catch (const ParseError&) {
    return 0;
  }
  EXAFOLD_ASSERT(msa.num_rows() >= 1 && msa.num_rows() <= 64 && msa.width() >= 1);
  for (const MsaRow& row : msa.rows()) {
    EXAFOLD_ASSERT(int64_t(row.residues.size()) == msa.width());
    for (const Deletion& d : row.deletions) EXAFOLD_ASSERT(d.count > 0 && d.column < msa.width());
  }
  // Query rows with gaps are refused by the raw builder (the query must be residues).
  for (char c : msa.row(0).residues)
    if (aatype_of(c) < 0) return 0;
  FastaRecord query{"fuzz", msa.row(0).residues, 1};
  RawFeatures raw = build_raw_features(query, std::span<const Msa>(&msa, 1));
  ProcessConfig config{.max_clusters = 3, .max_extra = 4, .num_recycle = 1, .fixed_size = true};
  FeatureDict f = make_processed_features(raw, config, structure_seed("fuzz", size));
  EXAFOLD_ASSERT(f.at("msa_feat").size(1) == 3);
  return 0;
}
