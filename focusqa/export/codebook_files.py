"""Codebook files from and for other programs: a preview of an import, Taguette's CSV.

:func:`preview_codebook_import` reads a focusqa ``.yaml``, a REFI-QDA ``.qdc`` or a
Taguette-style ``.csv`` and plans its merge into the project's codebook (see
:mod:`focusqa.codebook_merge`); nothing is written until the store applies the plan.
Taguette reads a codebook only from CSV with a ``tag`` column and ``description``, so
:func:`write_taguette_csv` writes exactly that.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..codebook import Code, Codebook, load_codebook, slugify
from ..codebook_merge import CodebookMerge, IncomingCode, plan_merge
from ..errors import CodebookError, FocusqaError, reading
from ..limits import MAX_CODEBOOK_BYTES, MAX_CODES
from .refi import read_qdc_for_merge

TAG_COLUMNS = ("tag", "name", "path")


def read_incoming(path: str | Path) -> tuple[list[IncomingCode], list[str]]:
    """The codes a codebook file offers, and one line per kind of thing it holds that is not taken."""
    path = Path(path)
    suffix = path.suffix.lower()
    with reading(path, CodebookError):
        if suffix == ".qdc":
            return read_qdc_for_merge(path)
        if suffix == ".csv":
            return read_taguette_csv(path), []
        codebook = load_codebook(path)
        return [IncomingCode(c.id, c) for c in codebook.codes], []


def preview_codebook_import(store, path: str | Path, *, leave_out: frozenset[str] = frozenset(),
                            name: str | None = None) -> CodebookMerge:
    """What importing ``path`` would add, change and leave alone (nothing is written).

    ``leave_out``: labels of codes in the file not to take; ``name``: the file name to
    report (an upload is read from a temporary file).
    """
    incoming, not_taken = read_incoming(path)
    return plan_merge(store.codebook(), incoming, guids=store.code_guids(), source=name or Path(path).name,
                      not_taken=not_taken, leave_out=leave_out)


def preview_codebook_upload(store, name: str, data: bytes, *,
                            leave_out: frozenset[str] = frozenset()) -> CodebookMerge:
    """:func:`preview_codebook_import` for an uploaded file (its bytes and its name)."""
    import tempfile

    suffix = Path(name).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="focusqa-codebook-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            return preview_codebook_import(store, path, leave_out=leave_out, name=name)
        except CodebookError as exc:        # name the uploaded file, not the temporary one
            raise CodebookError(exc.message, path=name, line=exc.line, code=exc.code) from None
        except FocusqaError as exc:
            raise FocusqaError(exc.message, path=name, line=exc.line) from None


def read_taguette_csv(path: str | Path) -> list[IncomingCode]:
    """Codes from a CSV with a ``tag`` (or ``name``/``path``) column and an optional ``description``."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_CODEBOOK_BYTES:
            raise CodebookError(f"is {size / 1_048_576:.1f} MB; codebooks over "
                                f"{MAX_CODEBOOK_BYTES // 1_048_576} MB are refused", path=path)
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise CodebookError("file not found", path=path) from None
    except UnicodeDecodeError:
        raise CodebookError("is not UTF-8 text", path=path) from None
    except OSError as exc:
        raise CodebookError(f"cannot be read ({exc.strerror})", path=path) from None
    reader = csv.DictReader(io.StringIO(text))
    try:
        rows = list(reader)
    except csv.Error as exc:   # a NUL byte, a field over csv's size limit
        raise CodebookError(f"is not a readable CSV file ({exc})", path=path, line=reader.line_num) from None
    if len(rows) > MAX_CODES:
        raise CodebookError(f"has {len(rows):,} rows; codebooks of more than {MAX_CODES:,} codes are refused",
                            path=path)
    header = {(k or "").strip().lower(): k for k in (rows[0].keys() if rows else [])}
    column = next((header[c] for c in TAG_COLUMNS if c in header), None)
    if column is None:
        raise CodebookError("has no 'tag', 'name' or 'path' column (Taguette's codebook CSV has 'tag')", path=path)
    description = header.get("description")
    out: list[IncomingCode] = []
    taken: set[str] = set()
    for number, row in enumerate(rows, start=2):
        label = (row.get(column) or "").strip()
        if not label:
            continue
        code_id = slugify(label)
        while code_id in taken:
            code_id = f"{code_id[:58]}-{number}"
        taken.add(code_id)
        out.append(IncomingCode(code_id, Code(id=code_id, label_da=label[:255],
                                              definition=(row.get(description) or "").strip() if description else ""),
                                colour_given=False))
    if not out:
        raise CodebookError("has no codes", path=path)
    return out


def taguette_csv(codebook: Codebook) -> bytes:
    """The codebook as Taguette imports it: ``tag,description`` (UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["tag", "description"])
    for code in codebook.codes:
        writer.writerow([code.label_da, " ".join(code.definition.split())])
    return out.getvalue().encode("utf-8")


def write_taguette_csv(codebook: Codebook, path: str | Path) -> Path:
    path = Path(path)
    path.write_bytes(taguette_csv(codebook))
    return path
