"""User-facing errors: one French line naming the file, column or row, and a non-zero exit."""


class SyntheseError(Exception):
    """An error the user can act on. Its message is a single French sentence."""

    exit_code = 2
