"""Readers turn a file into normalised plain text and its paragraphs.

Each reader returns a :class:`RawText`: the document's plain text and the
paragraphs in it (with offsets), plus any speaker label the file's structure
gives explicitly (a bold run in Word, the first cell of a "Taler | Tekst" table).
"""

from __future__ import annotations

import html
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TranscriptError
from ..limits import (MAX_ARCHIVE_BYTES, MAX_FILE_BYTES, MAX_MEMBER_BYTES, MAX_TRANSCRIPT_CHARS,
                      MAX_TRANSCRIPT_LINES, MAX_WORD_PARAGRAPHS, MAX_YAML_BYTES)

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
DOCX_SUFFIXES = {".docx"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | DOCX_SUFFIXES
MAX_TABLE_DEPTH = 8
SPEAKER_HEADERS = {"taler", "speaker", "navn", "name", "person", "deltager", "hvem", "respondent"}


@dataclass
class Paragraph:
    """A paragraph of the plain text; ``explicit_label`` comes from the file's structure."""

    start: int
    text: str
    explicit_label: str | None = None
    body_offset: int = 0
    heading_level: int = 0  # a Word heading's level (a title counts as 1); 0 for other paragraphs


@dataclass
class RawText:
    plain_text: str
    paragraphs: list[Paragraph]
    source_format: str
    front_matter: dict = field(default_factory=dict)


def check_file(path: Path) -> bytes:
    """Read the file's bytes or raise a :class:`TranscriptError` saying why not."""
    if not path.exists():
        raise TranscriptError("file not found", path=path)
    if path.is_dir():
        raise TranscriptError("is a folder, not a file", path=path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise TranscriptError(
            f"is {size / 1_048_576:.0f} MB; transcripts larger than "
            f"{MAX_FILE_BYTES // 1_048_576} MB are refused (a focus group is normally under 1 MB)",
            path=path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TranscriptError(f"cannot be read ({exc.strerror})", path=path) from None
    if not data.strip():
        raise TranscriptError("is empty", path=path)
    return data


def decode_text(data: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM), UTF-16/32 with BOM, else Windows-1252."""
    boms = [(b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"),
            (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")]
    for bom, encoding in boms:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding)
            except UnicodeDecodeError:
                raise TranscriptError(f"starts with a {encoding.upper()} mark but is not valid "
                                      f"{encoding.upper()} text", path=path) from None
    if b"\x00" in data:
        text = _utf16_without_bom(data)
        if text is None:
            raise TranscriptError("is a binary file, not text (it contains NUL bytes)", path=path)
        return text
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise TranscriptError(
                f"is neither UTF-8 nor Windows-1252 text (undecodable byte 0x{data[exc.start]:02x} "
                f"at position {exc.start})", path=path) from None
    controls = _control_count(text)
    if controls > max(3, len(text) // 100):
        raise TranscriptError("looks like binary data, not text", path=path)
    return text


_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f]")


def _control_count(text: str) -> int:
    """Control characters other than white space (one regex pass: a loop in Python takes
    seconds on a large file)."""
    return sum(1 for _ in _CONTROLS.finditer(text))


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text saved without a byte-order mark: every other byte of Latin text is NUL."""
    if len(data) < 4 or len(data) % 2:
        return None
    half = len(data) // 2
    even, odd = data[0::2].count(0), data[1::2].count(0)
    for encoding, nuls, others in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if nuls >= 0.6 * half and others == 0:
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                return None
            controls = _control_count(text)
            return text if controls <= max(3, len(text) // 100) else None
    return None


FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.S)


def split_front_matter(text: str, path: Path) -> tuple[dict, str]:
    """YAML front matter (``---`` … ``---``) at the top of a text file, and the rest."""
    import yaml

    from ..safe_yaml import load_yaml

    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text
    if len(match.group(1)) > MAX_YAML_BYTES:
        from ..errors import ManifestError
        raise ManifestError(f"front matter is {len(match.group(1)) // 1024:,} KB; front matter over "
                            f"{MAX_YAML_BYTES // 1024} KB is refused (it is a few lines of metadata)", path=path)
    try:
        meta = load_yaml(match.group(1)) or {}
    except RecursionError:
        from ..errors import ManifestError
        raise ManifestError("front matter is nested too deeply to be metadata", path=path, line=2) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        from ..errors import ManifestError
        raise ManifestError(f"front matter is not valid YAML ({getattr(exc, 'problem', exc)})",
                            path=path, line=mark.line + 2 if mark else None) from None
    if not isinstance(meta, dict):
        from ..errors import ManifestError
        raise ManifestError("front matter must be 'key: value' lines", path=path, line=2)
    return meta, text[match.end():]


HARD_WRAP_MAX = 100


def text_paragraphs(plain: str, starts_turn) -> list[Paragraph]:
    """Paragraphs of plain text: blank lines separate them, and a line that starts with
    a speaker label always starts a new one.

    Hard-wrapped lines (all short, no tabs) stay together; in a file whose lines are
    long or tab-separated (one paragraph or table row per line) each line is a paragraph.
    """
    lines = plain.split("\n")
    one_per_line = any(len(line) > HARD_WRAP_MAX or "\t" in line.strip() for line in lines)
    paragraphs: list[Paragraph] = []
    current_start: int | None = None
    current_end = 0
    pos = 0
    for line in lines:
        line_start, line_end = pos, pos + len(line)
        pos = line_end + 1
        if not line.strip():
            if current_start is not None:
                paragraphs.append(Paragraph(current_start, plain[current_start:current_end]))
                current_start = None
            continue
        if current_start is not None and (one_per_line or starts_turn(line)):
            paragraphs.append(Paragraph(current_start, plain[current_start:current_end]))
            current_start = None
        if current_start is None:
            current_start = line_start
        current_end = line_end
    if current_start is not None:
        paragraphs.append(Paragraph(current_start, plain[current_start:current_end]))
    return paragraphs


_HTML_TAG = re.compile(r"</?(p|br|li|ul|ol|b|i|u|em|strong|span|div|h[1-6]|table|tr|td|th|font|a)\b[^<>]*>",
                       re.I)
_HTML_BLOCKS = {"p", "br", "li", "ul", "ol", "div", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}


def _strip_html(text: str) -> str:
    """Text pasted from a web page or a case system often keeps its HTML tags; drop them.

    Only when the text really holds markup (three or more known tags), so a literal
    "<b>" in a transcript stays. Block tags become line breaks, cells a tab. A tag ends
    before the next "<" (``[^<>]``): an unclosed "<p " then fails at once instead of
    scanning the rest of the text (quadratic on "<p <p <p …").
    """
    if len(_HTML_TAG.findall(text, 0, 200_000)) < 3:
        return text

    def replace(match: re.Match) -> str:
        name = match.group(1).lower()
        return "\n" if name in _HTML_BLOCKS else "\t" if name in ("td", "th") else ""

    return html.unescape(_HTML_TAG.sub(replace, text))


def normalise_text(text: str) -> str:
    """One line-end convention, no byte-order mark, no HTML markup."""
    return _strip_html(text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"))


def check_text_size(text: str, path: str | Path) -> None:
    """Refuse a text longer, or of more lines, than a transcript has, before any line is
    looked at: each line is matched for a speaker label and may become a segment of its own."""
    lines = text.count("\n") + text.count("\r") - text.count("\r\n") + 1
    if lines > MAX_TRANSCRIPT_LINES:
        raise TranscriptError(f"has {lines:,} lines; transcripts of more than {MAX_TRANSCRIPT_LINES:,} lines "
                              "are refused", path=path)
    if len(text) > MAX_TRANSCRIPT_CHARS:
        raise TranscriptError(f"has {len(text):,} characters; transcripts of more than {MAX_TRANSCRIPT_CHARS:,} "
                              "are refused (a focus group is normally under 200,000)", path=path)


def read_text_file(path: Path, starts_turn) -> RawText:
    data = check_file(path)
    if len(data) > 4 * MAX_TRANSCRIPT_CHARS:   # more characters than allowed, in any encoding
        raise TranscriptError(f"is {len(data) / 1_048_576:.0f} MB; text transcripts of more than "
                              f"{MAX_TRANSCRIPT_CHARS:,} characters are refused", path=path)
    decoded = decode_text(data, path)
    check_text_size(decoded, path)
    text = normalise_text(decoded)
    front_matter, body = split_front_matter(text, path)
    if not body.strip():
        raise TranscriptError("has no text after its front matter", path=path)
    fmt = "md" if path.suffix.lower() in {".md", ".markdown"} else "txt"
    return RawText(body, text_paragraphs(body, starts_turn), fmt, front_matter)


class _DocxBuilder:
    """Collects Word paragraphs into plain text with offsets, in body order."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.paragraphs: list[Paragraph] = []

    def add(self, text: str, label: str | None = None, body_offset: int = 0, heading_level: int = 0) -> None:
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0b", "\n")
        if not text.strip():
            return
        if self.parts:
            self.parts.append("\n\n")
            self.length += 2
        self.paragraphs.append(Paragraph(self.length, text, label, body_offset, heading_level))
        self.parts.append(text)
        self.length += len(text)

    @property
    def plain_text(self) -> str:
        return "".join(self.parts)


def _bold_label(paragraph) -> tuple[str, int] | None:
    """A speaker label written as leading bold runs ("**Rådgiver 1:** tekst")."""
    bold_text = ""
    for run in paragraph.runs:
        if not run.text:
            continue
        # run.style scans every style for the default when the run names none: look it
        # up only for runs with their own character style (thousands of runs otherwise)
        if run.bold or (run.element.style is not None and run.style.font.bold):
            bold_text += run.text
        else:
            break
    label = bold_text.strip()
    full = paragraph.text
    if not label or len(label) > 50 or len(label.rstrip(":").split()) > 5:
        return None
    rest = full[len(bold_text):]
    if not label.endswith(":") and not rest.lstrip().startswith(":"):
        return None
    offset = len(bold_text)
    if rest.lstrip().startswith(":"):
        offset += len(rest) - len(rest.lstrip()) + 1
    return label.rstrip(":").strip(), offset


def _cell_text(cell) -> str:
    return "\n".join(p.text for p in cell.paragraphs if p.text.strip()).strip()


def _is_turn_table(rows: list[list[str]]) -> tuple[bool, bool]:
    """(is it a speaker/text table, does it have a header row)."""
    rows = [r for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2 or any(len(r) < 2 for r in rows):
        return False, False
    header = rows[0][0].strip().casefold().rstrip(":") in SPEAKER_HEADERS
    body = rows[1:] if header else rows
    short_first = sum(1 for r in body if 0 < len(r[0]) <= 40 and len(r[0].split()) <= 5)
    return header or short_first >= 0.8 * len(body), header


_HEADING_STYLE = re.compile(r"^(?:heading|overskrift|(title|titel))\s*(\d?)$", re.I)


def _heading_level(paragraph) -> int:
    """The level of a Word heading ("Heading 2", in Danish Word "Overskrift 2"; a title is
    1), read from the style id on the paragraph itself (resolving the style object is slow)."""
    match = _HEADING_STYLE.match(paragraph._p.style or "")
    if not match:
        return 0
    return 1 if match.group(1) or not match.group(2) else int(match.group(2))


def _walk_docx(container, builder: _DocxBuilder, depth: int, path: Path) -> None:
    from docx.table import Table
    from docx.text.paragraph import Paragraph as DocxParagraph

    if depth > MAX_TABLE_DEPTH:
        raise TranscriptError(f"has tables nested more than {MAX_TABLE_DEPTH} levels deep", path=path)
    for block in container.iter_inner_content():
        if isinstance(block, DocxParagraph):
            label = _bold_label(block)
            if label:
                builder.add(block.text, label[0], label[1])
            else:
                builder.add(block.text, heading_level=_heading_level(block))
        elif isinstance(block, Table):
            _read_table(block, builder, depth, path)


def _read_table(table, builder: _DocxBuilder, depth: int, path: Path) -> None:
    rows = []
    for row in table.rows:
        cells = []
        for cell in row.cells:
            if cell.tables:
                cells = None
                break
            cells.append(_cell_text(cell))
        if cells is None:
            rows = None
            break
        # merged cells repeat in python-docx; keep distinct neighbours only
        deduped = [c for i, c in enumerate(cells) if i == 0 or c != cells[i - 1]]
        rows.append(deduped)
    if rows is not None:
        is_turns, header = _is_turn_table(rows)
        if is_turns:
            for row in rows[1:] if header else rows:
                if not any(c.strip() for c in row):
                    continue
                speaker, text = row[0].strip().rstrip(":"), " ".join(c for c in row[1:] if c).strip()
                if not speaker:
                    builder.add(text)
                    continue
                line = f"{speaker}: {text}"
                builder.add(line, speaker, len(speaker) + 2)
            return
    for row in table.rows:
        for cell in row.cells:
            _walk_docx(cell, builder, depth + 1, path)


def _check_unpacked_size(path: Path) -> None:
    """Refuse a .docx that unpacks to more than a transcript ever needs, checking every
    part (media too): a small zip can expand to gigabytes and keep the reader busy for hours."""
    try:
        with zipfile.ZipFile(path) as package:
            infos = package.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise TranscriptError(f"is a damaged .docx file ({type(exc).__name__})", path=path) from None
    largest = max(infos, key=lambda info: info.file_size, default=None)
    if largest is not None and largest.file_size > MAX_MEMBER_BYTES:
        raise TranscriptError(
            f"has a part ({largest.filename}) that unpacks to {largest.file_size / 1_048_576:.0f} MB; "
            f"parts over {MAX_MEMBER_BYTES // 1_048_576} MB are refused", path=path)
    markup = sum(info.file_size for info in infos if info.filename.lower().endswith((".xml", ".rels")))
    total = sum(info.file_size for info in infos)
    if markup > MAX_FILE_BYTES or total > MAX_ARCHIVE_BYTES:
        raise TranscriptError(
            f"unpacks to {max(markup, total) / 1_048_576:.0f} MB; Word transcripts over "
            f"{MAX_FILE_BYTES // 1_048_576} MB of text and markup or {MAX_ARCHIVE_BYTES // 1_048_576} MB "
            "in all are refused (a focus group is normally under 1 MB)", path=path)
    _check_paragraph_count(path)


_WORD_PARAGRAPH = re.compile(rb"<w:p[\s>/]")


def _check_paragraph_count(path: Path) -> None:
    """Count the paragraphs in the raw XML before python-docx builds an object for each."""
    try:
        with zipfile.ZipFile(path) as package:
            body = package.read("word/document.xml")
    except KeyError:
        return                                  # python-docx reports the missing part
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as exc:
        raise TranscriptError(f"is a damaged .docx file ({type(exc).__name__})", path=path) from None
    paragraphs = sum(1 for _ in _WORD_PARAGRAPH.finditer(body))
    if paragraphs > MAX_WORD_PARAGRAPHS:
        raise TranscriptError(f"has {paragraphs:,} paragraphs; Word transcripts of more than "
                              f"{MAX_WORD_PARAGRAPHS:,} are refused", path=path)


def read_docx_file(path: Path) -> RawText:
    data = check_file(path)
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise TranscriptError("is password-protected or an old Word 97-2003 file; open it in Word "
                              "and save it as .docx without a password", path=path)
    if data[:2] != b"PK":
        raise TranscriptError("is not a Word .docx file (not a zip package)", path=path)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    _check_unpacked_size(path)

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        raise TranscriptError(f"is a damaged .docx file ({type(exc).__name__})", path=path) from None
    except Exception as exc:  # lxml and zipfile raise many kinds on damaged files
        raise TranscriptError(f"is a damaged .docx file ({type(exc).__name__}: {exc})", path=path) from None
    builder = _DocxBuilder()
    try:
        _walk_docx(document, builder, 0, path)
    except TranscriptError:
        raise
    except RecursionError:
        raise TranscriptError("has tables nested too deeply to read", path=path) from None
    except Exception as exc:  # python-docx reads parts lazily: a damaged styles part fails here
        raise TranscriptError(f"is a damaged .docx file ({type(exc).__name__}: {exc})", path=path) from None
    if not builder.paragraphs:
        raise TranscriptError("has no text (an empty Word document)", path=path)
    return RawText(builder.plain_text, builder.paragraphs, "docx")


def read_raw(path: Path, starts_turn) -> RawText:
    suffix = path.suffix.lower()
    if suffix in DOCX_SUFFIXES:
        return read_docx_file(path)
    if suffix in TEXT_SUFFIXES:
        return read_text_file(path, starts_turn)
    if suffix == ".doc":
        raise TranscriptError("is an old Word 97-2003 .doc file; save it as .docx", path=path)
    raise TranscriptError(f"has an unsupported file type '{suffix or '(none)'}'; use .docx, .txt or .md",
                          path=path)
