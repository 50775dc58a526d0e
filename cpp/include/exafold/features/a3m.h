// Reading A3M alignments (A3M file -> Msa), as HHblits writes them and AlphaFold2 reads them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "exafold/features/msa.h"

namespace exafold::features {

/// Reads an A3M file, streaming: only the kept rows are held, never the file's text.
/// Format: FASTA records; the first is the query. Upper-case letters and '-' are query columns,
/// lower-case letters are insertions (counted in the deletion matrix), '.' (gaps in insert
/// columns) is skipped. Lines starting with '#' before the first record are comments (ColabFold
/// writes `#<lengths>\t<cardinalities>` there). Headers are text: ColabFold's `>101` query is
/// a query like any other.
/// @throws IoError when the file cannot be read; ParseError (file and line) for an empty file,
/// text that is not an A3M record, a header that is not UTF-8 text, a record without sequence,
/// any other character in a sequence, a row whose column count differs from the query's, or a
/// first row that is not options.query.
Msa read_a3m(const std::string& path, const MsaReadOptions& options = {});

/// As read_a3m, from text in memory; `name` stands for the file in messages.
Msa parse_a3m(std::string_view text, const std::string& name = "<text>",
              const MsaReadOptions& options = {});

/// Every alignment of an A3M file that holds one per query, each ended by a NUL byte (an MMseqs2
/// database, as colabfold_search writes one for many queries); a file without NUL bytes gives
/// its one alignment. Each is read as read_a3m reads a file, with options applied to each.
std::vector<Msa> read_a3m_queries(const std::string& path, const MsaReadOptions& options = {});

}  // namespace exafold::features
