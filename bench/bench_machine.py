"""The machine line and the entry layout of every bench/RESULTS.md entry written from Python."""

import time


def machine() -> str:
    """CPU, cores, memory, BLAS kernel and GPUs: the engine's machine_summary(), which the C++
    benchmarks write too. (exafold is imported here: benchmark children that run under the
    reference's python import this module without it.)"""
    import exafold

    return exafold.info()["machine"]


def append_entry(path, title: str, command: str, table: str, notes: str) -> None:
    """Appends one entry to a RESULTS.md: its heading, the date (UTC), this machine, the command
    that measured it, the table as printed, and the notes that say how to read it."""
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with open(path, "a") as f:
        f.write(f"\n## {title}\n\n- date: {now}\n- machine: {machine()}\n- command: `{command}`\n\n"
                f"```\n{table.rstrip()}\n```\n\n{notes}\n")
