"""The machine line and the entry layout of every bench/RESULTS.md entry written from Python."""

import os
import platform
import time


def machine() -> str:
    """CPU model, cores and memory, as the C++ benchmarks give them."""
    model = platform.machine()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB"


def append_entry(path, title: str, command: str, table: str, notes: str) -> None:
    """Appends one entry to a RESULTS.md: its heading, the date (UTC), this machine, the command
    that measured it, the table as printed, and the notes that say how to read it."""
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with open(path, "a") as f:
        f.write(f"\n## {title}\n\n- date: {now}\n- machine: {machine()}\n- command: `{command}`\n\n"
                f"```\n{table.rstrip()}\n```\n\n{notes}\n")
