#include "features/query_check.h"

#include "exafold/features/alphabet.h"
#include "features/text_check.h"

namespace exafold::features {
namespace {

bool same_residue(char a, char b) {
  return a == b || (aatype_of(a) >= 0 && aatype_of(a) == aatype_of(b));
}

size_t first_difference(const std::string& row, const std::string& query) {
  size_t i = 0;
  while (i < row.size() && i < query.size() && same_residue(row[i], query[i])) ++i;
  return i;
}

}  // namespace

bool is_query_row(const std::string& residues, const std::string& query) {
  const size_t i = first_difference(residues, query);
  return i == query.size() && i == residues.size();
}

void check_query_row(const LineReader& in, const MsaRow& row, const std::string& query) {
  if (query.empty()) return;
  if (is_query_row(row.residues, query)) return;
  const size_t i = first_difference(row.residues, query);
  std::string why = "query missing: the first row " + quote_text(row.description) + " ";
  if (row.residues.size() != query.size()) {
    why += "has " + std::to_string(row.residues.size()) + " columns, the query " +
           std::to_string(query.size()) + " residues";
  } else {
    why += "differs from the query at residue " + std::to_string(i + 1) + " (" +
           quote_byte(row.residues[i]) + ", the query has " + quote_byte(query[i]) + ")";
  }
  in.fail_at(row.line, why);
}

}  // namespace exafold::features
