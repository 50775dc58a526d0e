// Reading Stockholm alignments (Stockholm file -> Msa), as jackhmmer writes them and AlphaFold2
// reads them.
#pragma once

#include <string>
#include <string_view>

#include "exafold/features/msa.h"

namespace exafold::features {

/// Reads a Stockholm file, streaming: only the kept rows are held, each already reduced to the
/// query's columns, never the file's text.
/// Format: '# STOCKHOLM 1.0', then '<name> <aligned>' lines in one or more blocks (a name's
/// pieces are joined in order), '#=GF', '#=GS', '#=GC', '#=GR' and other '#' markup (skipped),
/// and '//' at the end. The first name is the query; columns where the query has a gap ('-' or
/// '.') are insert columns: a row's letters there count as deletions before the next query
/// column. Letters are upper-cased, '.' is a gap. A row's description is its name, as in
/// AlphaFold2.
/// @throws IoError when the file cannot be read; ParseError (file and line) for an empty or
/// non-Stockholm file, a malformed line, a name that is not UTF-8 text, a character that is not
/// a letter or gap, a row whose column count differs from the query's, a missing '//' (a
/// truncated file), text after '//', or a first row that is not options.query.
Msa read_stockholm(const std::string& path, const MsaReadOptions& options = {});

/// As read_stockholm, from text in memory; `name` stands for the file in messages.
Msa parse_stockholm(std::string_view text, const std::string& name = "<text>",
                    const MsaReadOptions& options = {});

}  // namespace exafold::features
