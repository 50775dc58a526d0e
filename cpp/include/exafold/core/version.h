// The version, defined once: CMake and pyproject.toml read it from here.
#pragma once

#define EXAFOLD_VERSION_STRING "0.1.0"

namespace exafold {
inline constexpr const char* kVersion = EXAFOLD_VERSION_STRING;
}  // namespace exafold
