// The check that an alignment's first row is the query.
#pragma once

#include <string>

#include "exafold/features/msa.h"
#include "features/line_reader.h"

namespace exafold::features {

/// Whether an alignment row is the query: the same residue type in every column, where letters
/// that are equal match, and so do any two of B, J, O, U, X, Z (each is X in the query's aatype).
/// So a query whose non-standard residues were written as X (`--residues unknown`) still finds
/// alignments that carry the original letters, and the reverse.
bool is_query_row(const std::string& residues, const std::string& query);

/// ParseError at the row's line unless `query` is empty or is_query_row(row.residues, query).
void check_query_row(const LineReader& in, const MsaRow& row, const std::string& query);

}  // namespace exafold::features
