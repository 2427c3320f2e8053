"""Errors that carry a message meant for the user, printed as one line by the CLI."""


class BabelmillError(Exception):
    """A failure the user can fix; the message says how."""


class InputError(BabelmillError):
    """An input path, format or field that cannot be read as asked."""


class ModelNotFoundError(BabelmillError):
    """A model that is neither at the given path nor in the local cache."""
