"""Errors for bad user input.

Every problem with a file the user gave us (scenario, Zensus CSV, sweep file) is raised as an
:class:`InputError` that names the file and the field. The CLI prints it as one line and exits
with status 2.
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """A user-supplied file or value is invalid.

    Args:
        source: The file (or command-line option) the problem is in.
        field: The offending field as a dotted path, column name or line reference.
        message: What is wrong, in one short sentence.
    """

    def __init__(self, source: str | Path, field: str | None, message: str) -> None:
        self.source = str(source)
        self.field = field
        self.message = " ".join(str(message).split())
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The error as a single line: ``file: field: message``."""
        parts = [self.source]
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)
