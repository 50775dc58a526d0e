#include "exafold/features/alphabet.h"

namespace exafold::features {

namespace {

constexpr std::array<int8_t, 256> make_aatype_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kUnknownRestype;
  for (int i = 0; i < kNumRestypes; ++i) t[uint8_t(kRestypes[i])] = int8_t(i);
  return t;
}

constexpr std::array<int8_t, 256> make_hhblits_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  constexpr std::string_view order = "ACDEFGHIKLMNPQRSTVWY";
  for (int i = 0; i < 20; ++i) t[uint8_t(order[i])] = int8_t(i);
  t['B'] = t['D'];
  t['Z'] = t['E'];
  t['U'] = t['C'];
  t['J'] = t['O'] = t['X'] = 20;
  t['-'] = t['.'] = 21;
  return t;
}

constexpr auto kAatype = make_aatype_table();
constexpr auto kHhblits = make_hhblits_table();

}  // namespace

int aatype_of(char c) { return kAatype[uint8_t(c)]; }

int hhblits_id_of(char c) { return kHhblits[uint8_t(c)]; }

}  // namespace exafold::features
