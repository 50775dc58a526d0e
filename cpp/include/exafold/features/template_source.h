// Where a template featuriser finds its structures: a directory of mmCIF files, or a
// pre-parsed store (io/template_store.h).
#pragma once

#include <memory>
#include <string>

#include "exafold/features/template_structure.h"

namespace exafold::features {

/// Template entries by lower-case PDB id. Implementations are safe to call from several threads.
class TemplateSource {
 public:
  virtual ~TemplateSource() = default;
  /// The entry, or nullptr when the source has none under that id. An entry whose content
  /// cannot be used comes back with its `error` set.
  /// @throws IoError when the entry exists but cannot be read.
  virtual std::shared_ptr<const TemplateEntry> find(const std::string& id) const = 0;
  /// Where `id` is (or would be) found, for messages.
  virtual std::string location(const std::string& id) const = 0;
};

/// `<dir>/<id>.cif` (AlphaFold2's mmcif_dir), or `<dir>/<id>.cif.gz`, read with
/// read_template_mmcif on each call.
class MmcifDirectory : public TemplateSource {
 public:
  /// @throws InvalidArgument when `dir` is not a directory with at least one mmCIF file (as
  /// AlphaFold2's featuriser checks).
  explicit MmcifDirectory(std::string dir);
  std::shared_ptr<const TemplateEntry> find(const std::string& id) const override;
  std::string location(const std::string& id) const override;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

/// The entry id a template file name stands for ("1abc.cif" and "1abc.cif.gz": "1abc"), or ""
/// for a name that is not an mmCIF file.
std::string mmcif_id(const std::string& file_name);

}  // namespace exafold::features
