// The check that an alignment's first row is the query.
#pragma once

#include <string>

#include "exafold/features/msa.h"
#include "features/line_reader.h"

namespace exafold::features {

/// ParseError at the row's line unless `query` is empty or is_query_row(row.residues, query).
void check_query_row(const LineReader& in, const MsaRow& row, const std::string& query);

}  // namespace exafold::features
