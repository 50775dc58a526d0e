// Appending a benchmark's table to bench/RESULTS.md with date, machine and command.
#pragma once

#include <string>

namespace exafold::bench {

/// "2026-11-24 14:03 UTC".
std::string utc_now();
/// Appends a section (title, date, the machine as machine_summary() names it, command, the table
/// in a code block, notes).
void append_results(const std::string& path, const std::string& title, const std::string& command,
                    const std::string& table, const std::string& notes);

}  // namespace exafold::bench
