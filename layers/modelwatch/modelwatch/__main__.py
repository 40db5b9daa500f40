"""`python -m modelwatch` runs the command line."""

from modelwatch.cli.main import entry_point

entry_point()
