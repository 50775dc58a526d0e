"""``exafold demo``: the distillation job on the bundled examples, with generated demo weights."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from exafold.cli import build_parser
from exafold.demo import DEMO_LABEL, demo_params_path, examples_dir
from exafold.files import write_atomic


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run exafold distill on the bundled example proteins with generated demo weights",
    )
    p.add_argument("--out", type=Path, default=Path("exafold-demo"), help="output directory (default exafold-demo)")
    p.add_argument("--preset", default="reduced_ptm", help="model preset of the demo weights (default reduced_ptm)")
    p.set_defaults(func=run)


def distill_argv(out: Path, preset: str, params: Path) -> list[str]:
    ex = examples_dir()
    return [
        "distill",
        "--fasta", str(ex / "sequences.fasta"),
        "--alignments", str(ex / "alignments"),
        "--model", f"{preset}={params}",
        "--out", str(out),
        "--max-msa-clusters", "32",
        "--max-extra-msa", "64",
        "--recycles", "1",
        "--pdb",
        "--mmcif",
        "--filter-min-plddt", "0",
    ]


def run(args: argparse.Namespace) -> int:
    print(f"*** {DEMO_LABEL} ***")
    params = demo_params_path(args.preset)
    argv = distill_argv(args.out, args.preset, params)
    print("running: exafold " + " ".join(shlex.quote(a) for a in argv), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out / "DEMO_WEIGHTS.txt",
                 f"{DEMO_LABEL}.\nParameters: {params} (preset {args.preset}).\n"
                 "Pass official params_model_*.npz files to exafold distill --model for real structures.\n")
    distill_args = build_parser().parse_args(argv)
    code = int(distill_args.func(distill_args) or 0)
    print(f"*** {DEMO_LABEL} ***")
    return code
