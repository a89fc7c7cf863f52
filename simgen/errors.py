"""User-facing errors: one clear line naming the file and the field."""

from __future__ import annotations


class SimgenError(Exception):
    """An error caused by user input. The CLI prints it as one line and exits with status 2."""

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None):
        self.file = file
        self.field = field
        self.message = message
        super().__init__(self.format())

    def format(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = ": ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message
