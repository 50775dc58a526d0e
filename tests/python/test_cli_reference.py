"""docs/cli.md is exactly what the parser generates, and it covers every command."""

import argparse
from pathlib import Path

from exafold.cli import COMMANDS, build_parser
from exafold.cli_reference import markdown

CLI_MD = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_docs_cli_md_is_up_to_date():
    assert CLI_MD.read_text() == markdown(), (
        "docs/cli.md differs from the parser; regenerate it with "
        "`python -m exafold.cli_reference > docs/cli.md`"
    )


def test_every_command_and_argument_is_documented():
    text = markdown()
    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(sub.choices) == len(COMMANDS)
    for module in COMMANDS:
        assert f"\n## exafold {module.replace('_', '-')}\n" in text, module
    for name, parser in sub.choices.items():
        section = text.split(f"\n## exafold {name}\n", 1)[1].split("\n## ", 1)[0]
        assert f"usage: exafold {name}" in section
        for action in parser._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}`" in section, f"{name} {option}"
