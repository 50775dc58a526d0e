// The residue rules every entry point shares (features/residue_policy.h).
#include <gtest/gtest.h>

#include "exafold/core/error.h"
#include "exafold/features/residue_policy.h"

namespace exafold::features {
namespace {

std::string error_of(std::string_view raw, ResiduePolicy p) {
  try {
    normalize_sequence(raw, p);
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

TEST(ResiduePolicy, SequencesAreCleanedAsFastaRecordsAre) {
  EXPECT_EQ(normalize_sequence("mkv la\nqr*", ResiduePolicy::strict), "MKVLAQR");
  EXPECT_EQ(normalize_sequence("MKJXbz", ResiduePolicy::unknown), "MKXXXX");
  EXPECT_EQ(normalize_sequence("ouA", ResiduePolicy::unknown), "XXA");
}

TEST(ResiduePolicy, RefusalsNameTheResidueItsPositionAndTheWayOut) {
  const std::string x = error_of("MKXV", ResiduePolicy::strict);
  EXPECT_NE(x.find("residue 'X' at position 3 is not allowed"), std::string::npos) << x;
  EXPECT_NE(x.find("--residues unknown"), std::string::npos) << x;
  // A digit, a gap or a stop inside the chain is never a residue, under either policy.
  for (auto p : {ResiduePolicy::strict, ResiduePolicy::unknown}) {
    EXPECT_NE(error_of("MK1V", p).find("residue '1' at position 3"), std::string::npos);
    EXPECT_EQ(error_of("MK1V", p).find("--residues"), std::string::npos);
    EXPECT_NE(error_of("MK-V", p).find("'-' at position 3"), std::string::npos);
  }
  EXPECT_NE(error_of("MK\xc3\xa9", ResiduePolicy::strict).find("non-ASCII"), std::string::npos);
  EXPECT_NE(error_of("  *", ResiduePolicy::strict).find("empty sequence"), std::string::npos);
}

TEST(ResiduePolicy, AComplexIsAMultimerWhichIsNotSupported) {
  const std::string e = error_of("MKVLA:GGSAQ", ResiduePolicy::strict);
  EXPECT_NE(e.find("multimer is not supported"), std::string::npos) << e;
  EXPECT_NE(e.find("position 6"), std::string::npos) << e;
}

TEST(ResiduePolicy, PolicyNames) {
  EXPECT_EQ(parse_residue_policy("strict"), ResiduePolicy::strict);
  EXPECT_EQ(parse_residue_policy("unknown"), ResiduePolicy::unknown);
  EXPECT_THROW(parse_residue_policy("lenient"), InvalidArgument);
}

}  // namespace
}  // namespace exafold::features
