"""``exafold info``: version, build options, the CPU, BLAS and its kernel, devices, memory kinds and
threads."""

from __future__ import annotations

import argparse
import json

import exafold


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="show the build, CPU, BLAS kernel, devices, memory kinds and threads")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=run)


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def format_info(i: dict) -> str:
    lines = [
        f"exafold {i['version']}",
        f"  build        {i['build_type']}, {i['compiler']}"
        + (", sanitizers on" if i["sanitized"] else ""),
        f"  CUDA         {i['cuda_version'] if i['cuda_built'] else 'not built (EXAFOLD_CUDA=OFF or no nvcc)'}",
        f"  threads      {i['num_threads']} (EXAFOLD_NUM_THREADS), BLAS threads {i['blas_threads']}",
        f"  CPU          {i['cpu']}",
        f"  BLAS         {i['blas_vendor']} {i['blas_version']}, kernel {i['blas_core']}, {i['blas_library']}",
        f"               {i['blas_config']}",
    ]
    if i["blas_warning"]:
        lines.append(f"  warning      {i['blas_warning']}")
    lines += [
        "  devices",
        "    cpu",
    ]
    if not i["gpus"]:
        lines.append("    (no GPU" + (" found)" if i["cuda_built"] else " backend in this build)"))
    for g in i["gpus"]:
        lines.append(
            f"    {g['device']}  {g['name']}  sm_{g['compute_capability'].replace('.', '')}  "
            f"{_gib(g['free_memory'])} free of {_gib(g['total_memory'])}"
        )
        caps = [
            ("integrated", g["integrated"]),
            ("managed memory", g["managed_memory"]),
            ("concurrent managed access", g["concurrent_managed_access"]),
            ("pageable memory access", g["pageable_memory_access"]),
            ("via host page tables", g["pageable_uses_host_page_tables"]),
        ]
        lines.append("      unified memory: " + ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in caps))
    lines.append("  memory kinds")
    for dev, kinds in i["memory_kinds"].items():
        lines.append(f"    {dev:<8} {', '.join(kinds)}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    i = exafold.info()
    print(json.dumps(i, indent=2) if args.json else format_info(i))
    return 0
