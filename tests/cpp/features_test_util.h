// Helpers shared by the feature-pipeline tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "exafold/features/parse_error.h"

namespace exafold::features::testing {

/// Runs f and expects a ParseError at `line` whose message contains `needle`.
template <class F>
void expect_parse_error(F&& f, int64_t line, std::string_view needle) {
  try {
    f();
    ADD_FAILURE() << "expected a ParseError containing \"" << needle << "\"";
  } catch (const ParseError& e) {
    EXPECT_EQ(e.line(), line) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

/// tests/data of the source tree.
inline std::filesystem::path test_data_dir() {
  const char* d = std::getenv("EXAFOLD_TEST_DATA");
  return d ? std::filesystem::path(d) : std::filesystem::path("tests/data");
}

/// The project's shared real data (../shared/data beside the repository; EXAFOLD_SHARED_DATA
/// overrides), or an empty path when it is not there.
inline std::filesystem::path shared_data_dir() {
  std::filesystem::path d;
  if (const char* env = std::getenv("EXAFOLD_SHARED_DATA")) {
    d = env;
  } else {
    d = test_data_dir() / ".." / ".." / ".." / "shared" / "data";
  }
  return std::filesystem::exists(d / "6kwc" / "6kwc.fasta") ? d : std::filesystem::path();
}

}  // namespace exafold::features::testing
