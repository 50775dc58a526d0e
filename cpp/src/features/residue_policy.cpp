#include "exafold/features/residue_policy.h"

#include <cstdint>
#include <cstdio>

#include "exafold/core/error.h"
#include "exafold/features/alphabet.h"

namespace exafold::features {
namespace {

bool is_standard(char c) { return c >= 'A' && c <= 'Z' && aatype_of(c) != kUnknownRestype; }

std::string shown(char c) {
  const auto u = uint8_t(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  char buf[32];
  std::snprintf(buf, sizeof buf, u >= 0x80 ? "a non-ASCII character (byte 0x%02x)" : "byte 0x%02x",
                unsigned(u));
  return buf;
}

}  // namespace

ResiduePolicy parse_residue_policy(std::string_view name) {
  if (name == "strict") return ResiduePolicy::strict;
  if (name == "unknown") return ResiduePolicy::unknown;
  fail("residue policy must be strict or unknown, got \"", name, "\"");
}

std::string normalize_sequence(std::string_view raw, ResiduePolicy policy) {
  std::string seq;
  seq.reserve(raw.size());
  for (char c : raw) {
    if (c == ' ' || (c >= '\t' && c <= '\r')) continue;
    seq += (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c;
  }
  if (!seq.empty() && seq.back() == '*') seq.pop_back();
  check(!seq.empty(), "empty sequence");
  if (const size_t colon = seq.find(':'); colon != std::string::npos)
    fail("multimer is not supported: the sequence joins ", "chains with ':' (at position ",
         colon + 1,
         "), which describes a complex; exafold predicts single chains with the "
         "monomer models: predict each chain on its own");
  for (size_t i = 0; i < seq.size(); ++i) {
    char& c = seq[i];
    if (is_standard(c)) continue;
    const bool nonstandard = c >= 'A' && c <= 'Z';  // B J O U X Z: AlphaFold2 reads each as X
    if (nonstandard && policy == ResiduePolicy::unknown) {
      c = 'X';
      continue;
    }
    fail("residue ", shown(c), " at position ", i + 1, " is not allowed",
         nonstandard ? " (the 'unknown' residue policy reads B, J, O, U, X and Z as X: "
                       "--residues unknown, or residues=\"unknown\" in Python)"
                     : "");
  }
  return seq;
}

}  // namespace exafold::features
