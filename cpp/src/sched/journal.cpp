#include "exafold/sched/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "exafold/core/error.h"
#include "exafold/core/version.h"
#include "exafold/sched/flat_json.h"

namespace exafold::sched {
namespace {

[[noreturn]] void io_fail(const std::string& what, const std::string& path) {
  fail<IoError>(what, " ", path, ": ", std::strerror(errno));
}

void parse_record(const std::string& line, JournalContents& c) {
  const JsonObject o = JsonObject::parse(line);
  const std::string& type = o.string("type");
  if (type == "config") {
    check(c.config_hash.empty(), "a second config record");
    c.config_hash = o.string("hash");
    return;
  }
  check(!c.config_hash.empty(), "a ", type, " record before the config record");
  if (type == "done") {
    c.done.push_back({o.string("id"), o.string("shard"), o.int64("offset"), o.string("model"),
                      o.uint64("seed"), o.number("seconds")});
  } else if (type == "failed") {
    c.failed.push_back({o.string("id"), o.string("reason")});
  } else if (type == "started") {
    c.started.push_back(o.string("id"));
  } else if (type == "warning") {
    c.warnings.push_back({o.string("id"), o.string("reason")});
  } else {
    fail("unknown record type \"", type, "\"");
  }
}

}  // namespace

std::unordered_set<std::string> JournalContents::finished_ids() const {
  std::unordered_set<std::string> ids;
  for (const auto& d : done) ids.insert(d.id);
  for (const auto& f : failed) ids.insert(f.id);
  return ids;
}

JournalContents read_journal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) io_fail("cannot open journal", path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) io_fail("cannot read journal", path);
  const std::string text = ss.str();

  JournalContents c;
  size_t pos = 0;
  int64_t line_no = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      c.torn_tail = true;  // the crash cut this record; it never counted as written
      break;
    }
    ++line_no;
    const std::string line = text.substr(pos, nl - pos);
    try {
      parse_record(line, c);
    } catch (const InvalidArgument& e) {
      fail("journal ", path, " is damaged at line ", line_no, ": ", e.what());
    }
    pos = nl + 1;
  }
  c.valid_bytes = int64_t(pos);
  return c;
}

std::string config_hash(std::string_view canonical_config) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char ch : canonical_config) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

JournalWriter::JournalWriter(std::string path, std::string_view hash) : path_(std::move(path)) {
  check(!hash.empty(), "journal config hash must not be empty");
  struct stat st;
  const bool exists = ::stat(path_.c_str(), &st) == 0;
  if (exists) resumed_ = read_journal(path_);
  check(resumed_.config_hash.empty() || resumed_.config_hash == hash, "journal ", path_,
        " was written by a run with configuration hash ", resumed_.config_hash,
        " but this run's is ", hash,
        ": refusing to resume with different settings (use a new output directory, or rerun with "
        "the original settings)");
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) io_fail("cannot open journal", path_);
  // A torn tail would glue the next record onto garbage: cut it first.
  if (exists && (resumed_.torn_tail || resumed_.config_hash.empty())) {
    const int64_t keep = resumed_.config_hash.empty() ? 0 : resumed_.valid_bytes;
    if (::ftruncate(fd_, keep) != 0 || ::fsync(fd_) != 0) io_fail("cannot truncate journal", path_);
    resumed_.torn_tail = false;
  }
  if (resumed_.config_hash.empty()) {
    append(JsonWriter()
               .add("type", "config")
               .add("hash", hash)
               .add("exafold", kVersion)
               .add("created", int64_t(::time(nullptr)))
               .str());
    resumed_.config_hash = std::string(hash);
  }
}

JournalWriter::~JournalWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void JournalWriter::started(std::string_view id) {
  append(JsonWriter().add("type", "started").add("id", id).str());
}

void JournalWriter::done(const JournalDone& r) {
  append(JsonWriter()
             .add("type", "done")
             .add("id", r.id)
             .add("shard", r.shard)
             .add("offset", r.offset)
             .add("model", r.model)
             // A string: a JSON reader holding numbers as doubles would round a 64-bit seed.
             .add("seed", std::to_string(r.seed))
             .add("seconds", r.seconds)
             .str());
}

void JournalWriter::failed(std::string_view id, std::string_view reason) {
  append(JsonWriter().add("type", "failed").add("id", id).add("reason", reason).str());
}

void JournalWriter::warning(std::string_view id, std::string_view reason) {
  append(JsonWriter().add("type", "warning").add("id", id).add("reason", reason).str());
}

void JournalWriter::append(std::string line) {
  line += '\n';
  std::lock_guard lock(mutex_);
  // One write() per record: with O_APPEND a crash leaves a prefix of this line at most.
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) io_fail("cannot append to journal", path_);
    done += size_t(n);
  }
  if (::fsync(fd_) != 0) io_fail("cannot fsync journal", path_);
}

}  // namespace exafold::sched
