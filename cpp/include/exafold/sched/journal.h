// The job journal: an append-only JSON-lines record of every finished item, fsynced per record,
// from which a restarted run learns what to skip. Format in docs/formats.md.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace exafold::sched {

struct JournalDone {
  std::string id;
  std::string shard;   // the shard file (name relative to the output directory)
  int64_t offset = 0;  // the structure's row in that shard
  std::string model;   // parameter set, e.g. model_1_ptm
  uint64_t seed = 0;   // written as a decimal string (docs/formats.md)
  double seconds = 0;  // wall time of the prediction
};

struct JournalFailed {
  std::string id;
  std::string reason;
};

/// Something an item went on without (a template hit skipped, no usable template): the item is
/// predicted all the same, and the reason stays on record.
struct JournalWarning {
  std::string id;
  std::string reason;
};

struct JournalContents {
  std::string config_hash;  // empty for a journal that has no complete record yet
  std::vector<std::string> started;
  std::vector<JournalDone> done;
  std::vector<JournalFailed> failed;
  std::vector<JournalWarning> warnings;
  int64_t valid_bytes = 0;  // length of the complete lines; a torn tail starts here
  bool torn_tail = false;   // the file ended inside a record (a crash mid-write); it was ignored

  /// Ids that a rerun skips: every done or failed item.
  std::unordered_set<std::string> finished_ids() const;
};

/// Reads a journal. A last line without its newline is a record cut by a crash and is ignored;
/// any other malformed line means the file was damaged, which resuming must not paper over.
/// @throws IoError when the file cannot be read; InvalidArgument naming the line when damaged.
JournalContents read_journal(const std::string& path);

/// A stable 16-hex-digit hash (FNV-1a, 64 bit) of a run's canonical configuration text.
std::string config_hash(std::string_view canonical_config);

/// Appends records, each with one write() and an fsync, so a record is either whole on disk or
/// a torn last line. Safe to call from several threads.
class JournalWriter {
 public:
  /// Opens path, creating it (and writing the config record) if absent. An existing journal must
  /// carry the same config hash; a torn last line is cut off before the first append.
  /// @throws InvalidArgument when resuming with a different configuration; IoError on I/O.
  JournalWriter(std::string path, std::string_view config_hash);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  /// What the journal held when opened (for the resume skip set).
  const JournalContents& resumed() const { return resumed_; }

  void started(std::string_view id);
  void done(const JournalDone& record);
  void failed(std::string_view id, std::string_view reason);
  /// Does not finish the item: a warning is not a verdict, the item's done or failed record is.
  void warning(std::string_view id, std::string_view reason);

 private:
  void append(std::string line);
  std::string path_;
  int fd_ = -1;
  std::mutex mutex_;
  JournalContents resumed_;
};

}  // namespace exafold::sched
