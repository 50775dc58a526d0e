// The items of an mmCIF data block, read as Biopython's MMCIF2Dict reads them (the reader
// AlphaFold2's mmcif_parsing is built on), keeping only the items asked for.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "features/line_reader.h"

namespace exafold::features {

/// One data item: its values in file order (one for a plain item, one per row for a loop
/// column) and the line each value is on. '?' and '.' are kept as text, quotes removed.
struct CifItem {
  std::vector<std::string_view> values;
  std::vector<int32_t> lines;
};

/// Note [mmCIF syntax]: tokens follow MMCIF2Dict's rules (CIF 1.1): '#' starts a comment
/// outside a token, a quote opens a token only at its start and closes it only before a blank
/// or the line's end, a line starting with ';' opens a text field that the next such line
/// closes (lines joined with '\n', trailing blanks dropped), names are case-sensitive. A loop's
/// names are the '_' tokens right after 'loop_'; its values then fill the columns in turn, and
/// the loop ends at the next unquoted '_' token that starts a row, or at 'loop_'. Stricter than
/// MMCIF2Dict, which accepts these silently and leaves the dictionary inconsistent: a second
/// data block or a save frame, a token where a data name belongs, a name given twice, a loop
/// without names or values or whose values do not fill whole rows, and a name without a value
/// are ParseErrors.
class CifItems {
 public:
  /// Reads the single data block of `in` (the text must outlive the result: values point into
  /// it), keeping the items named in `wanted`.
  CifItems(LineReader& in, std::span<const std::string_view> wanted);

  /// The item, or nullptr when the block does not have it.
  const CifItem* find(std::string_view name) const;
  /// The data block's name (after "data_").
  const std::string& block() const { return block_; }

 private:
  std::string block_;
  std::unordered_map<std::string_view, CifItem> items_;  // keys point into `wanted`
  std::deque<std::string> text_fields_;                  // ';' fields, which span lines
};

}  // namespace exafold::features
