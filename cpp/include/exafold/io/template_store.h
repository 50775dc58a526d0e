// A pre-parsed template store: every entry of a template mmCIF directory as the featuriser
// uses it (SEQRES and atom37 per chain), in one HDF5 file built once (layout: docs/formats.md).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "exafold/features/template_source.h"

namespace exafold::io {

inline constexpr int kTemplateStoreVersion = 1;

struct TemplateStoreOptions {
  /// Files parsed at once; 0 takes the engine's thread pool.
  int threads = 0;
  /// Deflate level of every dataset (after the shuffle filter), 0 for none: compression makes
  /// the store smaller and each entry's read slower (its chunks are decompressed whole).
  int deflate_level = 0;
};

/// Reads every `<id>.cif` (or `<id>.cif.gz`) of `mmcif_dir` (read_template_mmcif; an unreadable one
/// is stored with its reason, as the featuriser would see it) and writes the store to `path`, under
/// a temporary name renamed when complete. Returns the number of entries.
/// @throws InvalidArgument when the directory has no mmCIF file or one entry twice; IoError when a
/// file cannot be read or the store cannot be written.
int64_t build_template_store(const std::string& mmcif_dir, const std::string& path,
                             const TemplateStoreOptions& options = {});

/// A store opened for reading; find() reads one entry's rows. Safe to share between threads.
class TemplateStore : public features::TemplateSource {
 public:
  /// @throws IoError when the file is not a template store of this version.
  explicit TemplateStore(std::string path);
  ~TemplateStore() override;

  std::shared_ptr<const features::TemplateEntry> find(const std::string& id) const override;
  std::string location(const std::string& id) const override;
  int64_t size() const { return int64_t(ids_.size()); }
  const std::string& path() const { return path_; }

 private:
  struct Datasets;
  std::string path_;
  std::vector<std::string> ids_;  // sorted
  std::vector<std::string> release_dates_, errors_;
  std::vector<int64_t> chain_begin_;  // [entries + 1]
  std::unique_ptr<Datasets> h5_;
  mutable std::mutex mutex_;
};

}  // namespace exafold::io
