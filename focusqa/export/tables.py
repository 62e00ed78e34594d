"""Spreadsheet exports: one row per excerpt × code (xlsx sheet 1 and csv), and the matrix.

Sheet "Uddrag" / the csv has these columns (stable names, for scripts):

``document, round, district, group, row, date, segment, segment_id, speaker, role,
timestamp, code_id, code_number, code, coders, status, confirmed, score, text,
coded_start, coded_end, memos`` and one ``attr:<name>`` column per document attribute
from the manifest (e.g. ``attr:participants``).

``row`` is the matrix row (district, or "Projektgruppe"); ``status`` is the Danish
wording the Word export uses ("bekræftet", "forslag, score 0,82"), ``confirmed`` and
``score`` the same as values. Sheet "Matrix" holds, per round, codes × rows counts of the
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

BASE_COLUMNS = ["document", "round", "district", "group", "row", "date", "segment", "segment_id",
                "speaker", "role", "timestamp", "code_id", "code_number", "code", "coders", "status",
                "confirmed", "score", "text", "coded_start", "coded_end", "memos"]


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
            "document": seg.document, "round": seg.round, "district": seg.district, "group": seg.group,
            "row": row_label(seg.district, seg.group), "date": doc.date if doc else None,
            "segment": seg.index, "segment_id": seg.id, "speaker": selection.speaker(item), "role": seg.role,
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
    return frame.astype({"segment": "Int64", "segment_id": "Int64", "code_number": "Int64",
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
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        excerpts.to_excel(writer, sheet_name="Uddrag", index=False)
        matrix.to_excel(writer, sheet_name="Matrix", index=False)
        _tidy_sheet(writer.sheets["Uddrag"], excerpts, wide={"text": 80, "memos": 40})
        _tidy_sheet(writer.sheets["Matrix"], matrix, wide={"code": 45})
    return len(excerpts)


def _tidy_sheet(sheet, frame: pd.DataFrame, wide: dict[str, int]) -> None:
    """Readable in Excel: header frozen, sensible column widths, long text wrapped."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet.freeze_panes = "A2"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for i, name in enumerate(frame.columns, start=1):
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = wide.get(name, min(24, max(8, len(str(name)) + 2)))
        if name in wide and len(frame) <= 20000:
            for cell in sheet[letter][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")


def export_csv(store: Store, out: str | Path | BinaryIO, *, language: str = "da", **filters) -> int:
    """Write the excerpt rows (sheet 1 of the xlsx) as UTF-8 csv with a BOM (Excel reads æøå).

    Returns the number of rows.
    """
    selection = select(store, **filters)
    frame = excerpt_frame(selection, language)
    if isinstance(out, (str, Path)):
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, index=False, encoding="utf-8-sig")
    else:
        out.write(frame.to_csv(index=False).encode("utf-8-sig"))
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
           "BASE_COLUMNS"]

