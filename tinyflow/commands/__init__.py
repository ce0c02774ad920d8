"""Subcommands of the `tinyflow` CLI; see tinyflow/cli.py for the contract."""
