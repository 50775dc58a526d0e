// Human-readable byte counts for messages and reports.
#pragma once

#include <cstddef>
#include <string>

namespace exafold {

/// "20.00 MiB (20971520 bytes)": the exact count stays greppable next to the readable one.
std::string format_bytes(size_t bytes);

}  // namespace exafold
