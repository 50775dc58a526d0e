"""The ``exafold`` command line: one subcommand per module in ``exafold.commands``."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each module defines register(subparsers), which adds its subcommand and sets func=run.
COMMANDS = ["info", "memory_demo", "simulate", "distill", "demo", "predict", "fit_time_model", "calibrate"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exafold",
        description="AlphaFold2 inference engine for distillation datasets at scale.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"exafold.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from exafold import stopping

    # First, before the commands import the engine: from here on a signal stops quietly.
    with stopping.installed("exafold " + _command_name(sys.argv[1:] if argv is None else argv)):
        args = build_parser().parse_args(argv)
        try:
            return int(args.func(args) or 0)
        # RuntimeError: a missing engine or MPI library, a failed rank; bugs still show a traceback.
        except (ValueError, OSError, MemoryError, RuntimeError) as e:
            print(f"exafold {args.command}: error: {e}", file=sys.stderr)
            return 2


def _command_name(argv: list[str]) -> str:
    """The subcommand's name for messages printed before the parser has run."""
    return next((a for a in argv if not a.startswith("-")), "").replace("_", "-")


if __name__ == "__main__":
    sys.exit(main())
