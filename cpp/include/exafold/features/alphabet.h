// AlphaFold2's residue alphabets and the rules that map letters onto them.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace exafold::features {

/// AlphaFold2's residue order (residue_constants.restypes), then X = 20 and gap = 21; MSA
/// features add the masked-MSA token 22.
inline constexpr std::string_view kRestypes = "ARNDCQEGHILKMFPSTWYV";
inline constexpr int kNumRestypes = 20;
inline constexpr int kUnknownRestype = 20;  // X
inline constexpr int kGapRestype = 21;      // '-'
inline constexpr int kMaskToken = 22;       // masked-MSA [MASK]
inline constexpr int kMsaClasses = 23;      // one-hot width of an MSA entry

namespace detail {

constexpr std::array<int8_t, 256> make_aatype_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = 'A'; c <= 'Z'; ++c) t[size_t(c)] = kUnknownRestype;
  for (int i = 0; i < kNumRestypes; ++i) t[uint8_t(kRestypes[size_t(i)])] = int8_t(i);
  return t;
}

constexpr std::array<int8_t, 256> make_hhblits_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  constexpr std::string_view order = "ACDEFGHIKLMNPQRSTVWY";
  for (int i = 0; i < 20; ++i) t[uint8_t(order[size_t(i)])] = int8_t(i);
  t['B'] = t['D'];
  t['Z'] = t['E'];
  t['U'] = t['C'];
  t['J'] = t['O'] = t['X'] = 20;
  t['-'] = t['.'] = 21;
  return t;
}

inline constexpr auto kAatypeTable = make_aatype_table();
inline constexpr auto kHhblitsTable = make_hhblits_table();

}  // namespace detail

/// Query residue -> aatype index 0..20, or -1 for a character that is not an upper-case letter.
/// Rule (AlphaFold2's sequence_to_onehot with map_unknown_to_x): the 20 standard letters map to
/// their index, every other upper-case letter (B, J, O, U, X, Z) to X = 20.
inline int aatype_of(char c) { return detail::kAatypeTable[uint8_t(c)]; }

/// MSA residue -> HHblits id 0..21, or -1 for a character outside the alphabet. Rule (AlphaFold2's
/// HHBLITS_AA_TO_ID): HHblits order "ACDEFGHIKLMNPQRSTVWY", then X = 20, gap = 21; ambiguity codes
/// collapse as HHblits does: B -> D, Z -> E, U -> C, J and O -> X. '-' and '.' are gaps.
/// Lower-case letters are not MSA residues (they are insertions) and give -1.
inline int hhblits_id_of(char c) { return detail::kHhblitsTable[uint8_t(c)]; }

/// HHblits id (0..21) -> AlphaFold2 residue order
/// (residue_constants.MAP_HHBLITS_AATYPE_TO_OUR_AATYPE).
inline constexpr std::array<uint8_t, 22> kHhblitsToRestype = {
    0, 4, 3, 6, 13, 7, 8, 9, 11, 10, 12, 2, 14, 5, 1, 15, 16, 19, 17, 18, 20, 21};

}  // namespace exafold::features
