#include "features/query_check.h"

#include "features/text_check.h"

namespace exafold::features {

void check_query_row(const LineReader& in, const MsaRow& row, const std::string& query) {
  if (query.empty() || row.residues == query) return;
  std::string why = "query missing: the first row " + quote_text(row.description) + " ";
  if (row.residues.size() != query.size()) {
    why += "has " + std::to_string(row.residues.size()) + " columns, the query " +
           std::to_string(query.size()) + " residues";
  } else {
    size_t i = 0;
    while (row.residues[i] == query[i]) ++i;
    why += "differs from the query at residue " + std::to_string(i + 1) + " (" +
           quote_byte(row.residues[i]) + ", the query has " + quote_byte(query[i]) + ")";
  }
  in.fail_at(row.line, why);
}

}  // namespace exafold::features
