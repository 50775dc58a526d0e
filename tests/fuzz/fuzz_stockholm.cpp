// libFuzzer target: parse_stockholm on arbitrary bytes must either return a consistent
// alignment or throw ParseError.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exafold/core/error.h"
#include "exafold/features/parse_error.h"
#include "exafold/features/stockholm.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exafold::features;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    Msa msa = parse_stockholm(text, "fuzz.sto", {.max_rows = 64});
    EXAFOLD_ASSERT(msa.num_rows() >= 1 && msa.num_rows() <= 64);
    for (const MsaRow& row : msa.rows()) {
      EXAFOLD_ASSERT(int64_t(row.residues.size()) == msa.width());
      int32_t last = -1;
      for (const Deletion& d : row.deletions) {
        EXAFOLD_ASSERT(d.count > 0 && d.column > last && d.column < msa.width());
        last = d.column;
      }
    }
  } catch (const ParseError&) {
  }
  return 0;
}
