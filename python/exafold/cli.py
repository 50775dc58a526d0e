"""The ``exafold`` command line: one subcommand per module in ``exafold.commands``."""

from __future__ import annotations

import argparse
import importlib
import os
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


# Exit status (docs/cli.md): 0 everything finished; 2 the command stopped on an error (bad
# arguments, unusable input, weights that do not fit the preset, an output that cannot be
# written; argparse's usage errors are 2 too); 100 + n (at most 125) n items failed and the
# others finished (commands.shared.failed_items_status); 128 + n stopped by signal n. An
# unexpected exception is a bug: Python prints its traceback and exits 1.
ERROR_STATUS = 2


def main(argv: list[str] | None = None) -> int:
    from exafold import stopping

    # First, before the commands import the engine: from here on a signal stops quietly.
    with stopping.installed("exafold " + _command_name(sys.argv[1:] if argv is None else argv)):
        args = build_parser().parse_args(argv)
        try:
            code = int(args.func(args) or 0)
            sys.stdout.flush()  # here, so that a reader gone away is caught below
            return code
        except BrokenPipeError:
            # The reader went away (`exafold simulate --json | head`): what it read was enough.
            # Point stdout at /dev/null so the interpreter's final flush does not fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        # RuntimeError: a missing engine or MPI library, a failed rank; bugs still show a traceback.
        except (ValueError, OSError, MemoryError, RuntimeError) as e:
            print(f"exafold {args.command}: error: {e}", file=sys.stderr)
            return ERROR_STATUS


def _command_name(argv: list[str]) -> str:
    """The subcommand's name for messages printed before the parser has run."""
    return next((a for a in argv if not a.startswith("-")), "").replace("_", "-")


if __name__ == "__main__":
    sys.exit(main())
