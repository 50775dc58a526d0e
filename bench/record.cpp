#include "record.h"

#include <ctime>
#include <fstream>

#include "exafold/core/error.h"
#include "exafold/ops/system_info.h"

namespace exafold::bench {

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  return buf;
}

void append_results(const std::string& path, const std::string& title, const std::string& command,
                    const std::string& table, const std::string& notes) {
  std::ofstream out(path, std::ios::app);
  check<IoError>(bool(out), "cannot append to ", path);
  out << "\n## " << title << "\n\n- date: " << utc_now()
      << "\n- machine: " << machine_summary(system_info()) << "\n- command: `" << command
      << "`\n\n```\n"
      << table << "```\n";
  if (!notes.empty()) out << "\n" << notes << "\n";
}

}  // namespace exafold::bench
