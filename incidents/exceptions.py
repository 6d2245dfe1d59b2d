class Conflict(Exception):
    """The request is valid but the incident's current state refuses it (HTTP 409)."""


class TransitionNotAllowed(Conflict):
    pass


class TooLarge(Exception):
    """An upload over its limit (HTTP 413)."""
