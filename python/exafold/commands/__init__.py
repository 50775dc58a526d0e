"""Subcommands of the ``exafold`` CLI, one module each (see exafold.cli.COMMANDS)."""
