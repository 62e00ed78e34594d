"""Errors a user can act on: each names the file (and line) and the problem."""

from __future__ import annotations

from pathlib import Path


class FocusqaError(ValueError):
    """Base class for every error that is reported to the user as a message."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None):
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}"
            if self.line is not None:
                where += f", line {self.line}"
            where += ": "
        return f"{where}{self.message}"


class TranscriptError(FocusqaError):
    """A transcript file cannot be read (missing, corrupt, empty, undecodable)."""


class ManifestError(FocusqaError):
    """A manifest or metadata block is malformed or names a missing file."""


class CodebookError(FocusqaError):
    """A codebook file is malformed or fails validation."""

    def __init__(self, message: str, *, path=None, line=None, code: str | None = None):
        self.code = code
        super().__init__(message, path=path, line=line)

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} (code '{self.code}')" if self.code else base


class ConflictError(FocusqaError):
    """Someone else changed the same record since it was read (no lost updates)."""


class ProjectFileError(FocusqaError):
    """A REFI-QDA project or codebook file cannot be imported."""
