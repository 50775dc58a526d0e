"""The command-line reference (docs/cli.md), generated from the parser itself.

Regenerate after changing any command's arguments::

    python -m exafold.cli_reference > docs/cli.md

A test compares docs/cli.md with ``markdown()``, so the page cannot drift from the parser.
"""

from __future__ import annotations

import argparse

from exafold.cli import build_parser

# Usage lines are wrapped to a fixed width so the page does not depend on the terminal.
USAGE_WIDTH = 100


def _usage(parser: argparse.ArgumentParser) -> str:
    formatter = argparse.HelpFormatter(parser.prog, width=USAGE_WIDTH)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    return formatter.format_help().strip()


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) of every subcommand, in registration order."""
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    # The one-line help given to add_parser lives only on these pseudo-actions.
    helps = {a.dest: a.help or "" for a in sub._choices_actions}
    return [(name, helps.get(name, ""), p) for name, p in sub.choices.items()]


def _escape(text: str) -> str:
    """Plain text safe inside a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("<", "&lt;").replace(">", "&gt;")


def _name(action: argparse.Action) -> str:
    return ", ".join(f"`{s}`" for s in action.option_strings) if action.option_strings else f"`{action.dest}`"


def _value(action: argparse.Action) -> str:
    """What the argument takes, as argparse's usage line would write it."""
    if action.nargs == 0:
        return ""
    if action.choices is not None:
        metavar = "{" + ",".join(map(str, action.choices)) + "}"
    else:
        metavar = action.metavar or (action.dest.upper() if action.option_strings else action.dest)
    forms = {None: metavar, "?": f"[{metavar}]", "*": f"[{metavar} ...]", "+": f"{metavar} [{metavar} ...]"}
    value = forms[action.nargs] if action.nargs in forms else " ".join([metavar] * int(action.nargs))
    return f"`{value}`"


def _default(action: argparse.Action) -> str:
    notes = []
    if action.required:
        notes.append("required")
    if isinstance(action, argparse._AppendAction):
        notes.append("repeatable")
    default = action.default
    if action.nargs != 0 and default is not None and default is not argparse.SUPPRESS:
        # A list default (e.g. parsed from a comma-separated string) reads as the user would type it.
        notes.append(f"`{','.join(map(str, default)) if isinstance(default, (list, tuple)) else default}`")
    return ", ".join(notes)


def _help(action: argparse.Action) -> str:
    text = action.help or ""
    if "%(" in text:
        text = text % {**vars(action), "default": action.default}
    return _escape(text)


def _command_section(name: str, summary: str, parser: argparse.ArgumentParser) -> list[str]:
    lines = [f"## exafold {name}", ""]
    if summary:
        lines += [_escape(summary[0].upper() + summary[1:]) + ".", ""]
    if parser.description:
        lines += [_escape(parser.description), ""]
    lines += ["```", _usage(parser), "```", ""]
    actions = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
    if actions:
        lines += ["| argument | value | default | help |", "| --- | --- | --- | --- |"]
        lines += [f"| {_name(a)} | {_value(a)} | {_default(a)} | {_help(a)} |" for a in actions]
        lines.append("")
    for group in parser._mutually_exclusive_groups:
        names = ", ".join(_name(a) for a in group._group_actions)
        lines += [f"{'Exactly' if group.required else 'At most'} one of {names}.", ""]
    return lines


def markdown() -> str:
    """docs/cli.md: every subcommand of ``exafold`` with its usage and every argument's value,
    default and help, generated from ``exafold.cli.build_parser()``."""
    parser = build_parser()
    commands = _subcommands(parser)
    lines = [
        "# Command-line reference",
        "",
        "<!-- Generated from the parser: python -m exafold.cli_reference > docs/cli.md -->",
        "",
        _escape(parser.description or ""),
        "",
        "Every command also takes `-h`/`--help`. One exit status rule for every command:",
        "",
        "| status | meaning |",
        "| --- | --- |",
        "| 0 | everything finished |",
        "| 2 | the command stopped on an error, printed as an `error:` line on standard error: invalid "
        "arguments, an input it cannot read or use, weights that do not fit the preset, an output it "
        "cannot write |",
        "| 100 + n (at most 125) | n items failed, each with its reason (`exafold predict` prints them, "
        "`exafold distill` journals them), and the others finished; 125 means 25 or more |",
        "| 128 + n | stopped by signal n (SIGINT, SIGTERM) once the work in progress is finished "
        "(docs/scaling.md) |",
        "",
        "Any other status (1, with a traceback) is a bug in exafold.",
        "",
        "```",
        _usage(parser),
        "```",
        "",
        "| command | what it does |",
        "| --- | --- |",
    ]
    lines += [f"| [`{name}`](#exafold-{name}) | {_escape(summary)} |" for name, summary, _ in commands]
    lines.append("")
    for name, summary, sub in commands:
        lines += _command_section(name, summary, sub)
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
