"""Registers, shared memory, stack and spills of every CUDA kernel, from ptxas, without a GPU.

Recompiles each .cu file of a CUDA build (its compile_commands.json) with the build's own flags
plus -Xptxas=-v, and prints one Markdown row per kernel instantiation (the table in
docs/gpu.md). Exits with status 1 if any kernel spills registers.

    python cpp/tools/cuda_resources.py [build/release]
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ENTRY = re.compile(r"Compiling entry function '(\w+)' for '(\w+)'")
FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
USED = re.compile(r"Used (\d+) registers")
SMEM = re.compile(r"(\d+) bytes smem")


def kernels(command: list[str], source: str) -> list[dict]:
    """Compiles one source with ptxas verbose and parses what it says per entry function."""
    with tempfile.TemporaryDirectory() as tmp:
        args = list(command)
        args[args.index("-o") + 1] = str(Path(tmp) / "out.o")
        done = subprocess.run(args + ["-Xptxas=-v"], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{source}: nvcc failed:\n{done.stderr}")
    found, current = [], None
    for line in done.stderr.splitlines():
        if m := ENTRY.search(line):
            current = {"mangled": m.group(1), "arch": m.group(2), "source": Path(source).name}
            found.append(current)
        elif current is not None and (m := FRAME.search(line)):
            current.update(stack=int(m.group(1)), spill_stores=int(m.group(2)),
                           spill_loads=int(m.group(3)))
        elif current is not None and (m := USED.search(line)):
            current["registers"] = int(m.group(1))
            s = SMEM.search(line)
            current["smem"] = int(s.group(1)) if s else 0
    return found


def demangle(names: list[str]) -> list[str]:
    out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True)
    return out.stdout.splitlines()


def main() -> int:
    build = Path(sys.argv[1] if len(sys.argv) > 1 else "build/release")
    entries = json.loads((build / "compile_commands.json").read_text())
    rows = []
    for e in entries:
        if e["file"].endswith(".cu"):
            command = e.get("arguments") or shlex.split(e["command"])
            rows += kernels(command, e["file"])
    if not rows:
        sys.exit(f"no CUDA kernels in {build}: configure it with nvcc (EXAFOLD_CUDA=AUTO or ON)")
    for row, name in zip(rows, demangle([r["mangled"] for r in rows])):
        row["name"] = re.sub(r"exafold::cuda::\(anonymous namespace\)::", "", name)
    print("| source | kernel | arch | registers | static shared (B) | stack (B) | spill stores (B) "
          "| spill loads (B) |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['source']} | `{r['name']}` | {r['arch']} | {r['registers']} | {r['smem']} | "
              f"{r['stack']} | {r['spill_stores']} | {r['spill_loads']} |")
    return 1 if any(r["spill_stores"] or r["spill_loads"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
