// Reading the PDB's list of obsolete entries (obsolete.dat), as AlphaFold2's _parse_obsolete.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

namespace exafold::features {

/// Obsolete PDB id (lower case) -> the id that replaced it (lower case), or "" for an entry
/// removed without replacement.
using ObsoletePdbs = std::unordered_map<std::string, std::string>;

/// Reads obsolete.dat: lines 'OBSLTE    31-JUL-94 116L     216L' (id in columns 21-24, its
/// first replacement in columns 30-33; only the first is used, as AlphaFold2 does) or
/// 'OBSLTE    06-NOV-19 6G9Y' (removed). Other lines are ignored.
/// @throws IoError when the file cannot be read; ParseError (file and line) for an OBSLTE line
/// of neither form or an id that is not four letters and digits.
ObsoletePdbs read_obsolete_pdbs(const std::string& path);
ObsoletePdbs parse_obsolete_pdbs(std::string_view text, const std::string& name = "<text>");

}  // namespace exafold::features
