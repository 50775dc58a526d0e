// libFuzzer target: the npz reader on arbitrary bytes must either refuse them with
// InvalidArgument or give entries whose every array then reads, CRC-checked, to its declared
// shape (or is refused, also with InvalidArgument, when its bytes fail the check). Nothing else:
// no other exception, no read out of bounds, no allocation of what a damaged header claims.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "exafold/core/error.h"
#include "exafold/io/npz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exafold;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::optional<NpzFile> npz;
  try {
    npz.emplace(NpzFile::from_memory(bytes, "fuzz.npz"));
  } catch (const InvalidArgument&) {
    return 0;
  }
  EXAFOLD_ASSERT(!npz->entries().empty());
  for (const NpyEntry& e : npz->entries()) {
    EXAFOLD_ASSERT(e.header_bytes <= e.member_size);
    EXAFOLD_ASSERT(uint64_t(e.shape.product()) * dtype_size(e.dtype) ==
                   e.member_size - e.header_bytes);
    EXAFOLD_ASSERT(e.deflated || e.data_offset + (e.member_size - e.header_bytes) <= size);
    try {
      const Tensor t = npz->read(e);
      EXAFOLD_ASSERT(t.shape() == e.shape && t.dtype() == e.dtype);
    } catch (const InvalidArgument&) {
    }
  }
  return 0;
}
