"""Spreadsheet exports: one row per excerpt × code (xlsx sheet 1 and csv), and the matrix.

Sheet "Uddrag" / the csv has these columns (stable names, for scripts; with
``language="en"`` in English, by default in Danish, see :data:`DANISH_COLUMNS`):

``document, round, district, group, row, date, turn, segment, segment_id, speaker, role,
timestamp, code_id, code_number, code, coders, status, confirmed, score, text,
coded_start, coded_end, memos`` and one ``attr:<name>`` column per document attribute
from the manifest (e.g. ``attr:participants``; in Danish ``egenskab:participants``).

The Danish csv is what Danish Excel opens by double-click: ``;`` between fields and a
decimal comma (``0,91``). ``excel_dialect`` overrides that choice ("da" or "en").

``row`` is the matrix row (district, or "Projektgruppe"); ``status`` is the Danish
wording the Word export uses ("bekræftet", "forslag, sikkerhed 0,82"), ``confirmed`` and
``score`` the same as values (in Danish ``bekræftet`` is "ja"/"nej" and ``rolle``
"deltager"/"moderator"; in English True/False and participant/moderator). Sheet "Matrix" holds, per round, codes × rows counts of the
same excerpts plus a total. With masking (the default) ``text``, ``memos`` and
``speaker`` are masked exactly as in the Word export.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from ..analysis import row_label, row_order
from ..store import Store
from . import Selection, select, status_text

BASE_COLUMNS = ["document", "round", "district", "group", "row", "date", "turn", "segment", "segment_id",
                "speaker", "role", "timestamp", "code_id", "code_number", "code", "coders", "status",
                "confirmed", "score", "text", "coded_start", "coded_end", "memos"]

DANISH_COLUMNS = {
    "document": "dokument", "round": "runde", "district": "distrikt", "group": "gruppe", "row": "række",
    "date": "dato", "turn": "tur", "segment": "segment", "segment_id": "segment_id", "speaker": "taler",
    "role": "rolle", "timestamp": "tidsstempel", "code_id": "kode_id", "code_number": "kodenummer",
    "code": "kode", "coders": "kodere", "status": "status", "confirmed": "bekræftet", "score": "score",
    "text": "tekst", "coded_start": "kodet_start", "coded_end": "kodet_slut", "memos": "memoer",
    "total": "i alt",
}
"""Danish column names of both sheets and the csv (the default language of the exports)."""

DANISH_ATTRIBUTE_PREFIX = "egenskab:"

DANISH_VALUES = {"role": {"participant": "deltager", "moderator": "moderator"},
                 "confirmed": {True: "ja", False: "nej"}}
"""The Danish words of the coded values a Danish reader meets (``role``, ``confirmed``)."""

CSV_DIALECTS = {"da": {"sep": ";", "decimal": ","}, "en": {"sep": ",", "decimal": "."}}
"""Field separator and decimal mark of the csv: Danish Excel expects ``;`` and ``,``."""


def column_name(column: str, language: str = "da") -> str:
    """The header of ``column`` (an English stable name) in ``language``."""
    if language != "da":
        return column
    if column.startswith("attr:"):
        return DANISH_ATTRIBUTE_PREFIX + column[len("attr:"):]
    return DANISH_COLUMNS.get(column, column)


def _localized(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    """The frame with headers in ``language`` (row labels such as "Nord" are data and stay)."""
    return frame.rename(columns=lambda c: column_name(str(c), language) if c in DANISH_COLUMNS
                        or str(c).startswith("attr:") else c)


def excerpt_frame(selection: Selection, language: str = "da") -> pd.DataFrame:
    """One row per excerpt × code with every attribute (sheet 1 / the csv)."""
    records = []
    attribute_names: list[str] = []
    for doc in selection.documents.values():
        for name in doc.attributes:
            if name not in attribute_names:
                attribute_names.append(name)
    for item in selection.excerpts:
        seg = item.segment
        code = selection.codebook.get(item.code_id)
        doc = selection.documents.get(seg.document_id)
        start, end = item.span
        record = {
            "document": selection.text(seg.document), "round": seg.round, "district": seg.district, "group": seg.group,
            "row": row_label(seg.district, seg.group), "date": doc.date if doc else None,
            "turn": seg.turn_number, "segment": seg.index, "segment_id": seg.id,
            "speaker": selection.speaker(item), "role": seg.role,
            "timestamp": seg.timestamp, "code_id": code.id, "code_number": code.number,
            "code": code.label(language), "coders": ", ".join(item.coders),
            "status": status_text(item, language), "confirmed": item.confirmed, "score": item.score,
            "text": selection.text(item.text), "coded_start": start, "coded_end": end,
            "memos": "\n".join(selection.text(m) for m in item.memos),
        }
        for name in attribute_names:
            value = (doc.attributes.get(name) if doc else None)
            record[f"attr:{name}"] = selection.text(value) if isinstance(value, str) else value
        records.append(record)
    columns = BASE_COLUMNS + [f"attr:{n}" for n in attribute_names]
    frame = pd.DataFrame.from_records(records, columns=columns)
    if language == "da":
        for column, words in DANISH_VALUES.items():
            frame[column] = frame[column].map(lambda v, words=words: words.get(v, v))
    return frame.astype({"turn": "Int64", "segment": "Int64", "segment_id": "Int64", "code_number": "Int64",
                         "coded_start": "Int64", "coded_end": "Int64", "score": "Float64"})


def matrix_frame(selection: Selection, language: str = "da") -> pd.DataFrame:
    """Per round, codes × rows (district / Projektgruppe): counts of the selection's excerpts."""
    rows_of = [row_label(e.segment.district, e.segment.group) for e in selection.excerpts]
    columns = row_order(rows_of)
    counts: dict[tuple[str | None, str, str], int] = {}
    rounds_present: list[str | None] = []
    for item, row in zip(selection.excerpts, rows_of):
        key = (item.segment.round, item.code_id, row)
        counts[key] = counts.get(key, 0) + 1
        if item.segment.round not in rounds_present:
            rounds_present.append(item.segment.round)
    rounds = [r for r in selection.rounds if r in rounds_present] + \
             [r for r in rounds_present if r not in selection.rounds]
    records = []
    for round_ in rounds:
        for code_id in selection.code_ids:
            code = selection.codebook.get(code_id)
            values = {c: counts.get((round_, code_id, c), 0) for c in columns}
            records.append({"round": round_, "code_id": code_id, "code": code.heading(language), **values,
                            "total": sum(values.values())})
    return pd.DataFrame.from_records(records, columns=["round", "code_id", "code", *columns, "total"])


def export_xlsx(store: Store, out: str | Path | BinaryIO, *, language: str = "da", **filters) -> int:
    """Write the excerpts (sheet "Uddrag") and the matrix per round (sheet "Matrix").

    ``filters`` are those of :func:`focusqa.export.select` (rounds, districts, groups,
    codes, coders, statuses, min_score, masking, names). Returns the number of excerpt rows.
    """
    selection = select(store, **filters)
    excerpts = excerpt_frame(selection, language)
    matrix = matrix_frame(selection, language)
    if isinstance(out, (str, Path)):
        Path(out).parent.mkdir(parents=True, exist_ok=True)
    wide_excerpts = {column_name(c, language): w for c, w in {"text": 80, "memos": 40}.items()}
    _write_workbook(out, [("Uddrag", _localized(excerpts, language), wide_excerpts),
                          ("Matrix", _localized(matrix, language), {column_name("code", language): 45})])
    return len(excerpts)


def _cell_value(value):
    """Plain Python values for openpyxl (no pandas NA, no numpy scalars)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def _write_workbook(out: str | Path | BinaryIO, sheets: list[tuple[str, pd.DataFrame, dict[str, int]]]) -> None:
    """Write sheets with openpyxl's streaming writer (about 2.5 times faster than pandas' default
    for 10,000 rows), readable in Excel: bold frozen header, column widths, long text wrapped."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    wrap, bold = Alignment(wrap_text=True, vertical="top"), Font(bold=True)
    for name, frame, wide in sheets:
        sheet = book.create_sheet(name)
        sheet.freeze_panes = "A2"
        for i, column in enumerate(frame.columns, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = wide.get(
                column, min(24, max(8, len(str(column)) + 2)))
        header = []
        for column in frame.columns:
            cell = WriteOnlyCell(sheet, value=str(column))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        wrapped = [i for i, column in enumerate(frame.columns) if column in wide]
        for values in frame.itertuples(index=False, name=None):
            row = [_cell_value(v) for v in values]
            for i in wrapped:
                cell = WriteOnlyCell(sheet, value=row[i])
                cell.alignment = wrap
                row[i] = cell
            sheet.append(row)
    book.save(out)


def export_csv(store: Store, out: str | Path | BinaryIO, *, language: str = "da",
               excel_dialect: str | None = None, **filters) -> int:
    """Write the excerpt rows (sheet 1 of the xlsx) as UTF-8 csv with a BOM (Excel reads æøå).

    ``excel_dialect`` ("da": ``;`` and decimal comma, "en": ``,`` and decimal point)
    follows ``language`` unless given. Returns the number of rows.
    """
    dialect = CSV_DIALECTS[excel_dialect or ("da" if language == "da" else "en")]
    selection = select(store, **filters)
    frame = excerpt_frame(selection, language)
    # to_csv's decimal applies to plain floats only, not to the nullable Float64 column.
    text = _localized(frame.astype({"score": "float64"}), language).to_csv(index=False, **dialect)
    if isinstance(out, (str, Path)):
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_bytes(text.encode("utf-8-sig"))
    else:
        out.write(text.encode("utf-8-sig"))
    return len(frame)


def xlsx_bytes(store: Store, **options) -> bytes:
    """The xlsx as bytes, for the app's download button."""
    buffer = io.BytesIO()
    export_xlsx(store, buffer, **options)
    return buffer.getvalue()


def csv_bytes(store: Store, **options) -> bytes:
    """The csv as bytes, for the app's download button."""
    buffer = io.BytesIO()
    export_csv(store, buffer, **options)
    return buffer.getvalue()


__all__ = ["export_xlsx", "export_csv", "xlsx_bytes", "csv_bytes", "excerpt_frame", "matrix_frame",
           "column_name", "BASE_COLUMNS", "DANISH_COLUMNS", "CSV_DIALECTS"]

