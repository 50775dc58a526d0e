#include "record.h"

#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "exafold/core/error.h"

namespace exafold::bench {

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  return buf;
}

std::string machine_description() {
  std::string model = "unknown CPU";
  std::ifstream cpu("/proc/cpuinfo");
  for (std::string line; std::getline(cpu, line);)
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  long mem_kb = 0;
  std::ifstream mem("/proc/meminfo");
  for (std::string line; std::getline(mem, line);)
    if (line.rfind("MemTotal:", 0) == 0) mem_kb = std::stol(line.substr(9));
  std::ostringstream os;
  os << model << ", " << std::thread::hardware_concurrency() << " cores, "
     << (mem_kb + 512 * 1024) / (1024 * 1024) << " GiB";
  return os.str();
}

void append_results(const std::string& path, const std::string& title, const std::string& command,
                    const std::string& table, const std::string& notes) {
  std::ofstream out(path, std::ios::app);
  check<IoError>(bool(out), "cannot append to ", path);
  out << "\n## " << title << "\n\n- date: " << utc_now() << "\n- machine: " << machine_description()
      << "\n- command: `" << command << "`\n\n```\n"
      << table << "```\n";
  if (!notes.empty()) out << "\n" << notes << "\n";
}

}  // namespace exafold::bench
