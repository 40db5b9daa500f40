"""The one exception type for mistakes a user can fix (bad spec, unreadable data, bad usage)."""


class UserInputError(Exception):
    """Raised for problems in what the user gave us; the CLI prints it as one line, exit 2."""
