"""The machine line of every bench/RESULTS.md entry written from Python."""

import os
import platform


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
