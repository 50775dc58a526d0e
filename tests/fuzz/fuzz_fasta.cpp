// libFuzzer target: parse_fasta on arbitrary bytes must either return well-formed records or
// throw ParseError; anything else (a crash, a sanitizer report, another exception) is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exafold/core/error.h"
#include "exafold/features/fasta.h"
#include "exafold/features/parse_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exafold::features;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    for (const FastaRecord& r : parse_fasta(text, "fuzz.fasta"))
      EXAFOLD_ASSERT(!r.sequence.empty() && r.line >= 1);
  } catch (const ParseError&) {
  }
  return 0;
}
