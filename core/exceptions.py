"""The one error type for "not now, not in this state": pages show its message, the API
answers 409 Conflict with it."""


class Conflict(Exception):
    """A transition or action that the record's current state does not allow."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
