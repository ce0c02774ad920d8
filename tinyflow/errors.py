"""One exception type for every user-facing failure.

The CLI prints `message` (and `hint`, when there is one) and exits non-zero; a traceback
is shown only with --debug. Raise it for anything the user can fix.
"""


class TinyflowError(Exception):
    def __init__(self, message: str, hint: str | None = None, exit_code: int = 2):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"
