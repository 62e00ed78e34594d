"""Errors a user can act on: each names the file (and line) and the problem."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029\x0b\x0c\x85]+\s*")
MAX_MESSAGE_CHARS = 500


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
        return fold(f"{where}{self.message}")


def fold(text: str) -> str:
    """One line, of bounded length: parser messages (lxml, YAML) span lines and may quote input."""
    text = _LINE_BREAKS.sub(" ", text)
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS - 1] + "…"


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
        return fold(f"{base} (code '{self.code}')") if self.code else base


class ConflictError(FocusqaError):
    """Someone else changed the same record since it was read (no lost updates)."""


class ProjectFileError(FocusqaError):
    """A REFI-QDA project or codebook file cannot be imported."""


@contextmanager
def reading(path: str | Path, error: type[FocusqaError] = FocusqaError) -> Iterator[None]:
    """Whatever else a reader raises on a broken file becomes a one-line ``error`` naming
    the file (the type of the failure stays in the message, to be reported and fixed)."""
    try:
        yield
    except FocusqaError:
        raise
    except RecursionError:
        raise error("is nested too deeply to read", path=path) from None
    except MemoryError:
        raise error("is too large to read", path=path) from None
    except Exception as exc:  # noqa: BLE001 - the point: no traceback for a bad file
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):   # the database failed, not the file
            raise
        raise error(f"cannot be read (unexpected {type(exc).__name__}: {exc})", path=path) from None
