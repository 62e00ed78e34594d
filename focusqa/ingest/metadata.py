"""Document metadata from manifest.csv, YAML front matter, or the command line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..errors import ManifestError
from ..limits import MAX_FILE_BYTES
from ..types import DocumentMetadata

ALIASES = {
    "file": "file", "fil": "file", "filename": "file", "filnavn": "file",
    "round": "round", "runde": "round", "year": "round", "år": "round",
    "district": "district", "distrikt": "district",
    "group": "group", "gruppe": "group", "respondentgruppe": "group", "respondent_group": "group",
    "date": "date", "dato": "date",
    "moderator": "moderators", "moderators": "moderators", "moderatorer": "moderators",
    "interviewer": "moderators",
}


def _split_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).replace(",", ";").split(";") if v.strip()]


def metadata_from_mapping(values: dict) -> DocumentMetadata:
    """Known keys (English or Danish) become fields; every other key is a free attribute."""
    meta = DocumentMetadata()
    for key, value in values.items():
        if value is None or str(value).strip() == "":
            continue
        field = ALIASES.get(str(key).strip().casefold())
        if field == "moderators":
            meta.moderators = _split_list(value)
        elif field in ("round", "district", "group", "date"):
            setattr(meta, field, str(value).strip())
        elif field != "file":
            meta.attributes[str(key).strip()] = ", ".join(_split_list(value)) if isinstance(value, list) \
                else str(value).strip()
    return meta


def edited_metadata(before: DocumentMetadata, values: dict) -> DocumentMetadata | None:
    """An interview's metadata after an edit of round, district, group or date, or ``None``
    when nothing changed. Blank means unset; moderators and free attributes are kept."""
    def cleaned(field: str) -> str | None:
        value = values.get(field, getattr(before, field))
        text = "" if value is None or (isinstance(value, float) and value != value) else str(value).strip()
        return text or None

    after = DocumentMetadata(round=cleaned("round"), district=cleaned("district"), group=cleaned("group"),
                             date=cleaned("date"), moderators=list(before.moderators),
                             attributes=dict(before.attributes))
    unchanged = all(getattr(after, f) == getattr(before, f) for f in ("round", "district", "group", "date"))
    return None if unchanged else after


def read_manifest(path: Path) -> dict[str, DocumentMetadata]:
    """``manifest.csv``: one row per file; comma or semicolon separated (Excel's Danish default)."""
    if path.is_dir():
        raise ManifestError("is a folder, not a manifest file", path=path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ManifestError(f"manifest is over {MAX_FILE_BYTES // 1_048_576} MB; refused", path=path)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ManifestError("manifest not found", path=path) from None
    except OSError as exc:
        raise ManifestError(f"manifest cannot be read ({exc.strerror})", path=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    if not text.strip():
        raise ManifestError("manifest is empty", path=path)
    dialect = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=dialect)
    try:
        return _rows(reader, path)
    except csv.Error as exc:  # e.g. a field over csv's size limit, a NUL byte
        raise ManifestError(f"is not a readable CSV file ({exc})", path=path, line=reader.line_num) from None


def _rows(reader: csv.DictReader, path: Path) -> dict[str, DocumentMetadata]:
    if not reader.fieldnames or not any(ALIASES.get(f.strip().casefold()) == "file" for f in reader.fieldnames):
        raise ManifestError("manifest needs a 'file' column", path=path, line=1)
    file_key = next(f for f in reader.fieldnames if ALIASES.get(f.strip().casefold()) == "file")
    rows: dict[str, DocumentMetadata] = {}
    for row in reader:
        name = (row.get(file_key) or "").strip()
        if not name:
            raise ManifestError("row without a file name", path=path, line=reader.line_num)
        if None in row:
            raise ManifestError("row has more columns than the header", path=path, line=reader.line_num)
        rows[name] = metadata_from_mapping({k: v for k, v in row.items() if k != file_key})
    return rows
