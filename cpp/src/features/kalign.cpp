#include "features/kalign.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "exafold/core/error.h"

extern char** environ;

namespace exafold::features {

namespace fs = std::filesystem;

namespace {

// A directory of our own under TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/exafold-kalign-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data()))
      fail<IoError>("kalign: cannot create a temporary directory ", tmpl, ": ",
                    std::strerror(errno));
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string tail(const std::string& s) {
  constexpr size_t kMax = 2000;
  return s.size() > kMax ? "..." + s.substr(s.size() - kMax) : s;
}

}  // namespace

std::pair<std::string, std::string> kalign_align(const std::string& binary, const std::string& a,
                                                 const std::string& b) {
  for (const std::string* s : {&a, &b})
    if (s->size() < 6)
      fail("kalign requires all sequences to be at least 6 residues long; got ", *s, " (",
           s->size(), " residues)");
  TempDir dir;
  const fs::path input = dir.path() / "input.fasta", output = dir.path() / "output.a3m",
                 log = dir.path() / "kalign.log";
  {
    std::ofstream f(input, std::ios::binary);
    f << ">sequence 1\n" << a << "\n>sequence 2\n" << b << "\n";
    if (!f) fail<IoError>("kalign: cannot write ", input.string());
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<std::string> args = {binary,          "-i",      input.string(), "-o",
                                   output.string(), "-format", "fasta"};
  std::vector<char*> argv;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) fail("kalign: cannot run '", binary, "': ", std::strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) fail("kalign: waiting for '", binary, "' failed: ", std::strerror(errno));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail("kalign failed (",
         WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                           : "signal " + std::to_string(WTERMSIG(status)),
         "):\n", tail(slurp(log)));

  // parse_a3m on the output: two FASTA records, lower-case letters removed.
  std::istringstream text(slurp(output));
  std::vector<std::pair<std::string, std::string>> records;
  std::string line;
  while (std::getline(text, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    if (line[0] == '>') {
      records.push_back({line.substr(1), {}});
    } else if (!records.empty()) {
      for (char c : line)
        if (!(c >= 'a' && c <= 'z')) records.back().second.push_back(c);
    } else {
      fail("kalign: output ", output.string(), " does not start with a FASTA header");
    }
  }
  const std::string* rows[2] = {nullptr, nullptr};
  for (const auto& [name, seq] : records) {
    if (name == "sequence 1") rows[0] = &seq;
    if (name == "sequence 2") rows[1] = &seq;
  }
  if (records.size() != 2 || !rows[0] || !rows[1])
    fail("kalign: expected the two aligned sequences in its output, found ", records.size(),
         " records:\n", tail(slurp(log)));
  return {*rows[0], *rows[1]};
}

}  // namespace exafold::features
