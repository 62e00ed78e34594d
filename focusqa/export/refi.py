"""REFI-QDA exchange: the codebook as ``.qdc`` and the whole project as ``.qdpx``.

Writing is strict: exact 1.0 namespaces, the schema's child order, no empty containers,
lower-case GUIDs that are stable across exports (uuid5 of the content, or the GUID a file
brought in), UTF-8 sources without BOM and with LF line ends, and code-point offsets
(0-based, end exclusive) into exactly that text. Every file is validated against the
bundled XSDs (``focusqa/schemas``) before it is written.

Reading is lenient about what other programs write (BOM, CRLF, NVivo's UTF-16 offsets,
GUID case and braces, ``Sources`` vs ``sources``, draft namespaces) but refuses broken
input with a :class:`~focusqa.errors.ProjectFileError` naming the file, and imports a
project all-or-nothing. See docs/refi.md for the mapping in both directions.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import io
import os
import re
import tempfile
import uuid
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path, PurePosixPath

from .. import __version__
from ..codebook import GUID_NAMESPACE, Code, Codebook, codebook_from_data, default_code_guid, slugify
from ..codebook_merge import IncomingCode
from ..errors import CodebookError, FocusqaError, ProjectFileError, TranscriptError, reading
from ..limits import (MAX_ARCHIVE_BYTES, MAX_CODE_DEPTH, MAX_CODEBOOK_BYTES, MAX_CODES, MAX_MEMBER_BYTES,
                      MAX_NUMBER_DIGITS, MAX_PROJECT_XML_BYTES, MAX_TERMS)

NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"
NS_PROJECT = "urn:QDA-XML:project:1.0"
ORIGIN = f"focusqa {__version__}"
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
GUID_RE = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
DEFAULT_COLOUR = "#888888"
VARIABLE_ORDER = ("round", "district", "group", "date", "moderators")

# Labelled lines in a code's Description carry the focusqa fields other programs lack.
DESCRIPTION_FIELDS = [("question", "Spørgsmål"), ("include", "Medtag"), ("exclude", "Udelad"),
                      ("terms", "Søgeord"), ("label_en", "Engelsk"), ("number", "Nummer"), ("id", "Id")]
DESCRIPTION_KEYS = {
    "spørgsmål": "question", "question": "question", "medtag": "include", "include": "include",
    "udelad": "exclude", "exclude": "exclude", "søgeord": "terms", "terms": "terms",
    "engelsk": "label_en", "english": "label_en", "nummer": "number", "number": "number", "id": "id",
    "ankereksempel": "examples", "anchor example": "examples",
}
EXAMPLE_LABEL = "Ankereksempel"       # one labelled line per anchor example (a list, unlike the fields above)
DESCRIPTION_LINE = re.compile(r"^([A-Za-zÆØÅæøå ]{2,14}):[ \t]?(.*)$")


# ----------------------------------------------------------------------------- helpers
def stable_guid(*parts: object) -> str:
    """A deterministic lower-case GUID for a piece of content."""
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(str(p) for p in parts)))


def normalise_guid(value: str | None) -> str | None:
    """Compare GUIDs case-insensitively and without braces; non-GUID ids are kept as-is."""
    if value is None:
        return None
    value = value.strip()
    m = GUID_RE.match(value)
    return m.group(1).lower() if m else value.lower()


def _clean(text: str) -> str:
    """Remove characters XML 1.0 cannot carry (e.g. form feeds from Word)."""
    return XML_INVALID.sub("", text)


def _utc(moment: datetime | None = None) -> str:
    moment = moment or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(elem: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in elem if isinstance(c.tag, str) and _local(c.tag) == name]


def _child(elem: ET.Element, name: str) -> ET.Element | None:
    found = _children(elem, name)
    return found[0] if found else None


def _text(elem: ET.Element | None) -> str:
    return elem.text or "" if elem is not None else ""


def normalise_colour(value: str | None) -> str:
    """``#RRGGBB`` from ``#RGB``, ``#RRGGBBAA``, ``rgb(r, g, b)``; grey for anything else."""
    if not value:
        return DEFAULT_COLOUR
    value = value.strip()
    m = re.fullmatch(r"#?([0-9a-fA-F]{3})", value)
    if m:
        return "#" + "".join(ch * 2 for ch in m.group(1)).upper()
    m = re.fullmatch(r"#?([0-9a-fA-F]{6})(?:[0-9a-fA-F]{2})?", value)
    if m:
        return "#" + m.group(1).upper()
    m = re.fullmatch(r"rgba?\(\s*(\d{1,%d})\s*,\s*(\d{1,%d})\s*,\s*(\d{1,%d})\s*(?:,[^)]*)?\)"
                     % ((MAX_NUMBER_DIGITS,) * 3), value, re.I)
    if m:
        return "#" + "".join(f"{min(int(x), 255):02X}" for x in m.groups())
    return DEFAULT_COLOUR


def _unique(base: str, taken: set[str]) -> str:
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base[:56]}-{n}"
        n += 1
    taken.add(candidate)
    return candidate


@functools.lru_cache(maxsize=2)
def _schema(kind: str):
    import xmlschema

    return xmlschema.XMLSchema(str(SCHEMA_DIR / ("Codebook.xsd" if kind == "codebook" else "Project.xsd")))


def validate_xml(data: bytes, kind: str) -> list[str]:
    """Problems with ``data`` against the bundled REFI-QDA schema (``kind``: codebook|project)."""
    schema = _schema(kind)
    return [f"{e.path}: {e.reason}" for e in schema.iter_errors(io.BytesIO(data))]


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n").encode("utf-8")


def _write_atomically(path: Path, data_writer) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".focusqa-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        data_writer(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------ code descriptions
def code_description(code: Code) -> str:
    """The definition, then labelled lines for the fields REFI has no place for."""
    values = {"question": code.question, "include": code.include, "exclude": code.exclude,
              "terms": "; ".join(code.terms), "label_en": code.label_en,
              "number": str(code.number) if code.number else "", "id": code.id}
    lines = [f"{label}: {' '.join(values[key].split())}" for key, label in DESCRIPTION_FIELDS if values[key]]
    lines[-1:-1] = [f"{EXAMPLE_LABEL}: {' '.join(e.split())}" for e in code.examples]   # before the Id: line
    parts = [code.definition.strip()] if code.definition.strip() else []
    return _clean("\n\n".join(parts + ["\n".join(lines)]))


def parse_code_description(text: str) -> dict[str, str]:
    """Split a Description into the definition and any labelled focusqa fields."""
    fields: dict[str, list[str]] = {"definition": []}
    current = "definition"
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        m = DESCRIPTION_LINE.match(line.strip())
        key = DESCRIPTION_KEYS.get(m.group(1).strip().casefold()) if m else None
        if key == "examples" and current == "examples":
            fields[current].append(m.group(2))          # the next anchor example
        elif key:
            current = key
            fields[current] = [m.group(2)]
        else:
            fields.setdefault(current, []).append(line)
    return {k: "\n".join(v).strip() for k, v in fields.items()}


# ------------------------------------------------------------------------- codebook
def _code_tree(codebook: Codebook) -> tuple[list[Code], dict[str, list[Code]]]:
    ids = set(codebook.ids)
    roots = [c for c in codebook.codes if not c.parent or c.parent not in ids]
    children: dict[str, list[Code]] = {}
    for c in codebook.codes:
        if c.parent and c.parent in ids:
            children.setdefault(c.parent, []).append(c)
    return roots, children


def _code_element(code: Code, ns: str, children: dict[str, list[Code]], guids: dict[str, str],
                  note_refs: dict[str, list[str]] | None = None, mask=None) -> ET.Element:
    elem = ET.Element(f"{{{ns}}}Code", {"guid": guids[code.id], "name": _clean(code.label_da),
                                        "isCodable": "true", "color": normalise_colour(code.color)})
    description = code_description(code)       # anchor examples are often quotes: masked with the texts
    ET.SubElement(elem, f"{{{ns}}}Description").text = mask(description) if mask else description
    for note in (note_refs or {}).get(code.id, []):
        ET.SubElement(elem, f"{{{ns}}}NoteRef", {"targetGUID": note})
    for child in children.get(code.id, []):
        elem.append(_code_element(child, ns, children, guids, note_refs, mask))
    return elem


def code_guids(codebook: Codebook, stored: dict[str, str | None] | None = None) -> dict[str, str]:
    """Each code's GUID: the one stored in the database, else uuid5 of its id."""
    stored = stored or {}
    return {c.id: stored.get(c.id) or stable_guid("code", c.id) for c in codebook.codes}


def codebook_xml(codebook: Codebook, guids: dict[str, str] | None = None) -> bytes:
    ET.register_namespace("", NS_CODEBOOK)
    guids = code_guids(codebook, guids)
    root = ET.Element(f"{{{NS_CODEBOOK}}}CodeBook", {"origin": ORIGIN})
    codes = ET.SubElement(root, f"{{{NS_CODEBOOK}}}Codes")
    roots, children = _code_tree(codebook)
    for code in roots:
        codes.append(_code_element(code, NS_CODEBOOK, children, guids))
    return _serialise(root)


def write_qdc(codebook: Codebook, path: str | Path, *, guids: dict[str, str] | None = None) -> Path:
    """Write the codebook as a REFI-QDA Codebook Exchange file (validated before writing)."""
    if not codebook.codes:
        raise FocusqaError("the codebook has no codes to export")
    data = codebook_xml(codebook, guids)
    problems = validate_xml(data, "codebook")
    if problems:
        raise FocusqaError("internal error: the codebook XML does not follow the REFI-QDA schema: "
                           + "; ".join(problems[:3]))
    path = Path(path)
    _write_atomically(path, lambda tmp: tmp.write_bytes(data))
    return path


def _parse_xml(data: bytes, path: Path, what: str) -> ET.Element:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            data = data.decode("utf-16").encode("utf-8")
            data = re.sub(rb"^<\?xml[^>]*\?>", b'<?xml version="1.0" encoding="utf-8"?>', data)
        except UnicodeDecodeError:
            raise ProjectFileError(f"{what} is not readable text", path=path) from None
    if not data.strip():
        raise ProjectFileError(f"{what} is empty", path=path)
    try:
        parser = ET.XMLParser()
        parser.feed(data)
        return parser.close()
    except ET.ParseError as exc:
        # the line number belongs to the file itself only for a .qdc (a .qde sits inside the zip)
        line = exc.position[0] if getattr(exc, "position", None) and what == "the codebook" else None
        raise ProjectFileError(f"{what} is not well-formed XML ({exc})", path=path, line=line) from None


@dataclass
class _FileCode:
    guid: str
    name: str
    codable: bool
    colour: str
    description: str
    parent: str | None
    notes: list[str] = field(default_factory=list)
    colour_given: bool = True


def _read_codes(codes_elem: ET.Element | None, path: Path) -> list[_FileCode]:
    """The codes in the order of the file, parents first; refuses more codes, or codes
    nested deeper, than the limits allow (checked as the tree is walked)."""
    out: list[_FileCode] = []

    def walk(elem: ET.Element, parent: str | None, depth: int) -> None:
        if depth > MAX_CODE_DEPTH:
            raise ProjectFileError(f"has codes nested more than {MAX_CODE_DEPTH} levels deep; refused", path=path)
        if len(out) >= MAX_CODES:
            raise ProjectFileError(f"has more than {MAX_CODES:,} codes; refused", path=path)
        guid = normalise_guid(elem.get("guid"))
        name = (elem.get("name") or "").strip()
        if not guid:
            raise ProjectFileError(f"a code ('{name or '?'}') has no guid", path=path)
        code = _FileCode(guid, name or guid, (elem.get("isCodable") or "true").strip().lower() in ("true", "1"),
                         normalise_colour(elem.get("color")), _text(_child(elem, "Description")).strip(), parent,
                         [normalise_guid(n.get("targetGUID")) for n in _children(elem, "NoteRef")],
                         elem.get("color") is not None)
        out.append(code)
        for child in _children(elem, "Code"):
            walk(child, guid, depth + 1)

    if codes_elem is not None:
        for top in _children(codes_elem, "Code"):
            walk(top, None, 1)
    return out


def _codes_to_codebook(file_codes: list[_FileCode], name: str, path: Path,
                       existing: dict[str, str] | None = None) -> tuple[Codebook, dict[str, str]]:
    """focusqa codes for file codes; returns the codebook and file guid -> code id.

    ``existing`` maps a file GUID to an id already in the database (kept as is).
    """
    existing = existing or {}
    taken: set[str] = set(existing.values())
    numbers: set[int] = set()
    ids: dict[str, str] = {}
    codes: list[Code] = []
    described = [parse_code_description(fc.description) for fc in file_codes]
    terms_in_all = sum(len(re.findall(r"[^;\n]+", fields.get("terms", ""))) for fields in described)
    if terms_in_all > MAX_TERMS:
        raise ProjectFileError(f"its codes have {terms_in_all:,} search terms; codebooks with more than "
                               f"{MAX_TERMS:,} are refused", path=path)
    for fc, fields in zip(file_codes, described):
        wanted = fields.get("id", "")
        if fc.guid in existing:
            code_id = existing[fc.guid]
        elif re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", wanted) and wanted not in taken:
            code_id = wanted
            taken.add(code_id)
        else:
            code_id = _unique(slugify(fc.name), taken)
        ids[fc.guid] = code_id
        number = None
        if len(fields.get("number", "")) > MAX_NUMBER_DIGITS:
            raise ProjectFileError(f"code '{fc.name[:60]}' has a Nummer of {len(fields['number']):,} characters; "
                                   f"numbers of more than {MAX_NUMBER_DIGITS} digits are refused", path=path)
        if fields.get("number", "").isdigit() and int(fields["number"]) > 0 and int(fields["number"]) not in numbers:
            number = int(fields["number"])
            numbers.add(number)
        terms = [t.strip() for t in re.split(r"[;\n]", fields.get("terms", "")) if t.strip()]
        codes.append(Code(id=code_id, label_da=fc.name[:255], label_en=fields.get("label_en", "")[:255], number=number,
                          question=fields.get("question", ""), definition=fields.get("definition", ""),
                          include=fields.get("include", ""), exclude=fields.get("exclude", ""), terms=terms,
                          examples=[e.strip() for e in fields.get("examples", "").split("\n") if e.strip()],
                          color=fc.colour, parent=None))
    for code, fc in zip(codes, file_codes):
        code.parent = ids.get(fc.parent) if fc.parent else None
    codebook = Codebook(name=name, codes=codes)
    try:
        checked = codebook_from_data(codebook.to_dict(), source=path)
    except CodebookError as exc:
        raise ProjectFileError(f"its codes do not make a valid codebook: {exc.message}"
                               + (f" (code '{exc.code}')" if exc.code else ""), path=path) from None
    return checked, ids


def read_qdc(path: str | Path) -> Codebook:
    """Read a REFI-QDA ``.qdc`` (or the codebook inside a ``.qde``) as a focusqa codebook."""
    return _read_qdc(Path(path))[0]


def read_qdc_for_merge(path: str | Path) -> tuple[list[IncomingCode], list[str]]:
    """A ``.qdc``'s codes with their GUIDs, for a merge; and one line per kind of thing not taken."""
    codebook, file_codes, root = _read_qdc(Path(path))
    incoming = [IncomingCode(code.id, code, fc.guid if GUID_RE.match(fc.guid) else None, fc.colour_given)
                for code, fc in zip(codebook.codes, file_codes)]
    not_taken = []
    sets = [s for sets_el in _children(root, "Sets") for s in _children(sets_el, "Set")]
    if sets:
        not_taken.append(f"{len(sets)} code sets ({', '.join(s.get('name') or '?' for s in sets[:5])}): "
                         "focusqa has no code groups; their codes are imported")
    return incoming, not_taken


def _read_qdc(path: Path) -> tuple[Codebook, list[_FileCode], ET.Element]:
    """Read a REFI-QDA ``.qdc`` (or the codebook inside a ``.qde``) as a focusqa codebook.

    Ids come from focusqa's own ``Id:`` line when present, else from the code's name;
    sub-codes keep their parent; the other focusqa fields come back from the
    Description's labelled lines. Codes that are folders in other programs
    (``isCodable="false"``) become ordinary parent codes.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_CODEBOOK_BYTES:
            raise ProjectFileError(f"is {size / 1_048_576:.1f} MB; codebooks over "
                                   f"{MAX_CODEBOOK_BYTES // 1_048_576} MB are refused", path=path)
        data = path.read_bytes()
    except FileNotFoundError:
        raise ProjectFileError("file not found", path=path) from None
    except IsADirectoryError:
        raise ProjectFileError("is a folder, not a codebook file", path=path) from None
    except OSError as exc:
        raise ProjectFileError(f"cannot be read ({exc.strerror})", path=path) from None
    root = _parse_xml(data, path, "the codebook")
    if _local(root.tag) == "Project":
        root = _child(root, "CodeBook")
        if root is None:
            raise ProjectFileError("the project has no CodeBook", path=path)
    if _local(root.tag) != "CodeBook":
        raise ProjectFileError(f"expected a REFI-QDA CodeBook, found <{_local(root.tag)}>", path=path)
    file_codes = _read_codes(_child(root, "Codes"), path)
    if not file_codes:
        raise ProjectFileError("the codebook has no codes", path=path)
    seen: set[str] = set()
    for fc in file_codes:
        if fc.guid in seen:
            raise ProjectFileError(f"code guid {fc.guid} is used twice", path=path)
        seen.add(fc.guid)
    codebook, _ids = _codes_to_codebook(file_codes, path.stem, path)
    return codebook, file_codes, root


# ------------------------------------------------------------------------- project export
def _variable_type(values: list[str]) -> str:
    if values and all(re.fullmatch(r"-?\d{1,18}", v) for v in values):
        return "Integer"
    if values and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) for v in values):
        try:
            for v in values:
                date.fromisoformat(v)
            return "Date"
        except ValueError:
            return "Text"
    return "Text"


def _document_variables(doc) -> dict[str, str]:
    values = {"round": doc.round, "district": doc.district, "group": doc.group, "date": doc.date,
              "moderators": "; ".join(doc.moderators or [])}
    out = {k: str(v) for k, v in values.items() if v not in (None, "")}
    for key, value in sorted((doc.attributes or {}).items()):
        if key not in out and value not in (None, ""):
            out[str(key)] = str(value)
    return out


def export_qdpx(store, path: str | Path, *, name: str | None = None, masking: bool = True,
                names: list[str] | None = None) -> str:
    """Write the whole project as a REFI-QDA ``.qdpx``; returns a one-line summary.

    Exported: every document (as a UTF-8 text source), the codebook, every accepted human
    coding (each coder is a user; the reconciled ``final`` coding is a user too), the
    documents' round/district/group/date/moderators and free attributes as variables on
    the sources, and memos as notes. Not exported (said in the summary): the machine's
    suggestions and rejected codings, which other programs have no place for.

    ``masking`` (the default, for a file that leaves the team) masks as the Word export
    does (:mod:`focusqa.privacy`, ``names`` replaces the user's name list): names, CPR and
    phone numbers and e-mails in the texts, document names, memos, code descriptions and
    variable values; speaker labels in the texts become their role. Codings keep pointing
    at the same words. Coders' names stay: they are the evaluation team. A masked file
    imported again becomes new documents; ``masking=False`` is for the team's own exchange.
    """
    from sqlalchemy import select

    from ..privacy import Masker, RoleCensus, mask_document
    from ..store.models import CodeRow, Coding

    path = Path(path)
    ET.register_namespace("", NS_PROJECT)
    ns = NS_PROJECT
    docs = store.documents()
    if not docs:
        raise FocusqaError("the project has no documents to export")
    codebook = store.codebook()
    with store.session() as s:
        stored_code_guids = dict(tuple(r) for r in s.execute(select(CodeRow.id, CodeRow.guid)).all())
        coding_guids = dict(tuple(r) for r in s.execute(select(Coding.id, Coding.guid)).all())
    guids = code_guids(codebook, stored_code_guids)
    all_codings = store.codings()
    codings = [c for c in all_codings if c.origin == "human" and c.status == "accepted"]
    left_out = len(all_codings) - len(codings)
    memos = store.memos()
    segments = store.segments()
    seg_by_id = {s.id: s for s in segments}
    originals = {d.id: store.document_text(d.id) for d in docs}
    masker = Masker.from_store(store, names=names) if masking else None
    census = RoleCensus.from_store(store, masker) if masker is not None else None

    def mask(value: str) -> str:
        return masker.mask(value) if masker is not None and value else value

    masked = {d.id: mask_document(originals[d.id], [sg for sg in segments if sg.document_id == d.id], masker, census,
                                  d.district) for d in docs} if masker is not None else {}

    def position(doc_id: int, offset: int, *, end: bool = False) -> int:
        return masked[doc_id].position(offset, end=end) if masker is not None else offset

    texts = {d.id: masked[d.id].text for d in docs} if masker is not None else originals
    hashes = {d.id: hashlib.sha256(texts[d.id].encode("utf-8")).hexdigest() for d in docs}

    users = sorted({c.coder for c in codings} | {m.author for m in memos})
    user_guid = {u: stable_guid("user", u) for u in users}
    now = _utc()
    root = ET.Element(f"{{{ns}}}Project", {"name": _clean(mask(name or path.stem)), "origin": ORIGIN,
                                           "creationDateTime": now, "modifiedDateTime": now})
    if users:
        users_el = ET.SubElement(root, f"{{{ns}}}Users")
        for u in users:
            ET.SubElement(users_el, f"{{{ns}}}User", {"guid": user_guid[u], "name": _clean(u)})

    # memos -> notes, with the references each target carries
    note_of_memo: dict[int, str] = {}
    memo_text: dict[str, str] = {}
    seen_note_keys: dict[str, int] = {}
    code_notes: dict[str, list[str]] = {}
    source_notes: dict[int, list[str]] = {}
    segment_notes: dict[int, list[str]] = {}
    project_notes: list[str] = []
    for memo in memos:
        seg = seg_by_id.get(memo.segment_id) if memo.segment_id else None
        anchor = (hashes.get(seg.document_id), seg.index) if seg else None
        key = "\x1f".join(map(str, ("memo", anchor, hashes.get(memo.document_id), memo.code_id,
                                    memo.author, memo.text)))
        seen_note_keys[key] = seen_note_keys.get(key, 0) + 1
        guid = stable_guid(key, seen_note_keys[key])
        note_of_memo[memo.id] = guid
        memo_text[guid] = _clean(mask(memo.text.replace("\r\n", "\n").replace("\r", "\n")))
        targeted = False
        if seg is not None:
            segment_notes.setdefault(seg.id, []).append(guid)
            targeted = True
        if memo.document_id is not None and memo.document_id in texts:
            source_notes.setdefault(memo.document_id, []).append(guid)
            targeted = True
        if memo.code_id and memo.code_id in guids:
            code_notes.setdefault(memo.code_id, []).append(guid)
            targeted = True
        if not targeted:
            project_notes.append(guid)

    cb_el = ET.SubElement(root, f"{{{ns}}}CodeBook")
    codes_el = ET.SubElement(cb_el, f"{{{ns}}}Codes")
    roots, children = _code_tree(codebook)
    for code in roots:
        codes_el.append(_code_element(code, ns, children, guids, code_notes, mask if masker is not None else None))

    doc_vars = {d.id: {k: mask(v) for k, v in _document_variables(d).items()} for d in docs}
    var_names = [v for v in VARIABLE_ORDER if any(v in dv for dv in doc_vars.values())]
    var_names += sorted({k for dv in doc_vars.values() for k in dv} - set(var_names))
    var_types = {v: _variable_type([dv[v] for dv in doc_vars.values() if v in dv]) for v in var_names}
    var_guid = {v: stable_guid("variable", v) for v in var_names}
    if var_names:
        vars_el = ET.SubElement(root, f"{{{ns}}}Variables")
        for v in var_names:
            ET.SubElement(vars_el, f"{{{ns}}}Variable", {"guid": var_guid[v], "name": _clean(v),
                                                         "typeOfVariable": var_types[v]})

    codings_by_doc: dict[int, list] = {}
    for c in codings:
        seg = seg_by_id[c.segment_id]
        codings_by_doc.setdefault(seg.document_id, []).append((seg, c))
    sources_el = ET.SubElement(root, f"{{{ns}}}Sources")
    files: dict[str, bytes] = {}
    n_selections = 0
    resegmented = 0
    for doc in docs:
        text, digest = texts[doc.id], hashes[doc.id]
        stored_spans = [(sg.start, sg.end, sg.speaker, sg.role) for sg in segments if sg.document_id == doc.id]
        if [(sg.start, sg.end, sg.speaker, sg.role) for sg in
                _segment(originals[doc.id], doc.name, _document_variables(doc)).segments] != stored_spans:
            resegmented += 1
        source_guid = stable_guid("source", digest)
        file_name = f"{source_guid}.txt"
        files[file_name] = text.encode("utf-8")
        attrs = {"guid": source_guid, "name": _clean(mask(doc.name)), "plainTextPath": f"internal://{file_name}"}
        if doc.imported_at:
            attrs["creationDateTime"] = _utc(doc.imported_at)
        src = ET.SubElement(sources_el, f"{{{ns}}}TextSource", attrs)
        doc_memo_texts = [memo_text[g] for g in source_notes.get(doc.id, [])]
        if doc_memo_texts:      # QualCoder reads a document memo only here
            ET.SubElement(src, f"{{{ns}}}Description").text = _clean(MEMO_JOIN.join(doc_memo_texts))
        selections = _selections(codings_by_doc.get(doc.id, []),
                                 [(s, segment_notes[s.id]) for s in segments
                                  if s.document_id == doc.id and s.id in segment_notes],
                                 lambda offset, end=False, doc_id=doc.id: position(doc_id, offset, end=end))
        for (start, end, coder), sel in sorted(selections.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")):
            sel_attrs = {"guid": stable_guid("selection", digest, start, end, *([coder] if coder else [])),
                         "name": _clean(" ".join(text[start:end].split())[:100]),
                         "startPosition": str(start), "endPosition": str(end)}
            if coder:
                sel_attrs["creatingUser"] = user_guid[coder]
            sel_el = ET.SubElement(src, f"{{{ns}}}PlainTextSelection", sel_attrs)
            n_selections += 1
            for seg, c in sorted(sel["codings"], key=lambda sc: (sc[1].code_id, sc[1].coder)):
                c_attrs = {"guid": coding_guids.get(c.id) or stable_guid("coding", digest, seg.index, c.code_id, c.coder),
                           "creatingUser": user_guid[c.coder]}
                if c.created_at:
                    c_attrs["creationDateTime"] = _utc(c.created_at)
                coding_el = ET.SubElement(sel_el, f"{{{ns}}}Coding", c_attrs)
                ET.SubElement(coding_el, f"{{{ns}}}CodeRef", {"targetGUID": guids[c.code_id]})
            for note in sel["notes"]:
                ET.SubElement(sel_el, f"{{{ns}}}NoteRef", {"targetGUID": note})
        for note in source_notes.get(doc.id, []):
            ET.SubElement(src, f"{{{ns}}}NoteRef", {"targetGUID": note})
        for v in var_names:
            if v in doc_vars[doc.id]:
                vv = ET.SubElement(src, f"{{{ns}}}VariableValue")
                ET.SubElement(vv, f"{{{ns}}}VariableRef", {"targetGUID": var_guid[v]})
                ET.SubElement(vv, f"{{{ns}}}{var_types[v]}Value").text = _clean(doc_vars[doc.id][v])

    if memos:
        # Each memo is a Note whose text is a file (plainTextPath): QualCoder reads those as
        # journals, and needs a date and a name unique in the project on each.
        notes_el = ET.SubElement(root, f"{{{ns}}}Notes")
        for number, memo in enumerate(memos, start=1):
            guid = note_of_memo[memo.id]
            attrs = {"guid": guid, "name": _clean(note_name(number, memo.author)),
                     "plainTextPath": f"internal://{guid}.txt", "creatingUser": user_guid[memo.author],
                     "creationDateTime": _utc(memo.updated_at) if memo.updated_at else now}
            ET.SubElement(notes_el, f"{{{ns}}}Note", attrs)
            files[f"{guid}.txt"] = memo_text[guid].encode("utf-8")
    if project_notes:       # QualCoder reads the project memo only here
        ET.SubElement(root, f"{{{ns}}}Description").text = MEMO_JOIN.join(memo_text[g] for g in project_notes)
    for note in project_notes:
        ET.SubElement(root, f"{{{ns}}}NoteRef", {"targetGUID": note})

    data = _serialise(root)
    problems = validate_xml(data, "project")
    if problems:
        raise FocusqaError("internal error: project.qde does not follow the REFI-QDA schema: "
                           + "; ".join(problems[:3]))

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("project.qde", data)
            for file_name, content in files.items():
                zf.writestr(f"sources/{file_name}", content)

    _write_atomically(path, write)
    summary = (f"{len(docs)} documents, {len(codebook.codes)} codes, {len(codings)} codings by "
               f"{len({c.coder for c in codings})} coders in {n_selections} selections, {len(memos)} memos, "
               + ("masked" if masker is not None else "NOT masked (for the team only)"))
    if left_out:
        summary += f"; not exported: {left_out} machine suggestions or rejected codings"
    if resegmented:
        summary += (f"; note: {resegmented} documents will be split into segments differently when this file "
                    "is imported again (their speaker labels exist only as Word formatting)")
    return summary


MEMO_JOIN = "\n\n"
NOTE_NAME = re.compile(r"^Memo (\d+) – (.+)$")


def note_name(number: int, author: str) -> str:
    """'Memo 3 – Anna': unique per export (QualCoder refuses two journals of one name), author readable."""
    return f"Memo {number} – {author}"


def _selections(codings: list, segment_notes: list, position=None) -> dict[tuple[int, int, str | None], dict]:
    """One selection per span and coder (QualCoder keeps one coding per span + code + coder,
    and reads the coder from the selection); a turn's memos go on a selection of that turn.

    ``position(offset, end=False)`` maps stored offsets into the exported (masked) text.
    """
    def span_of(start: int, end: int) -> tuple[int, int]:
        return (position(start), position(end, end=True)) if position else (start, end)

    selections: dict[tuple[int, int, str | None], dict] = {}
    for seg, c in codings:
        span = span_of(c.start, c.end) if c.start is not None and c.end is not None else span_of(seg.start, seg.end)
        selections.setdefault((*span, c.coder), {"codings": [], "notes": []})["codings"].append((seg, c))
    for seg, notes in segment_notes:
        span = span_of(seg.start, seg.end)
        key = next((k for k in sorted(selections, key=lambda k: k[2] or "") if k[:2] == span), (*span, None))
        selections.setdefault(key, {"codings": [], "notes": []})["notes"] += notes
    return selections


# ------------------------------------------------------------------------- project import
@dataclass
class _Selection:
    guid: str
    name: str
    start: int
    end: int
    creating_user: str | None
    codings: list[tuple[str | None, str, str | None]]   # (coding guid, code guid, user guid)
    notes: list[str]
    description: str
    coding_notes: list[tuple[str, str]] = field(default_factory=list)   # (note guid, code guid)


@dataclass
class _Source:
    guid: str
    name: str
    raw: str                                  # decoded text, BOM removed, line ends as in the file
    selections: list[_Selection]
    notes: list[str]
    variables: dict[str, str]
    description: str
    creating_user: str | None
    whole_codings: int
    docx: object | None = None                # the RawText of a source that exists only as .docx


@dataclass
class _Note:
    guid: str
    text: str
    user: str | None
    name: str = ""
    span: tuple[int, int] | None = None      # QualCoder's annotation: a range of the source that refers to it


def _annotated_segment(note: "_Note | None", located: tuple) -> tuple[int, bool] | None:
    """The segment a QualCoder annotation's range starts in, and whether it is exactly that segment."""
    if note is None or note.span is None:
        return None
    convert, spans, starts = located
    start, end = convert(note.span[0]), convert(note.span[1])
    if start is None or end is None or not spans:
        return None
    index, s_start, s_end = spans[max(bisect.bisect_right(starts, start) - 1, 0)]
    return index, (start, end) == (s_start, s_end)


def _repeats_notes(description: str, note_guids: list[str], notes: dict[str, "_Note"]) -> bool:
    """True when a Description only repeats the notes' texts (focusqa writes memos in both places)."""
    texts = [notes[g].text for g in note_guids if g in notes and notes[g].text]
    return bool(texts) and description.replace("\r\n", "\n").strip() == MEMO_JOIN.join(texts).strip()


def _find_entry(names: list[str], wanted: str) -> str | None:
    """A zip entry by path, ignoring case and the name of the sources folder."""
    wanted_l = wanted.replace("\\", "/").lstrip("/").lower()
    lowered = {n.lower(): n for n in names}
    for candidate in (wanted_l, f"sources/{wanted_l}"):
        if candidate in lowered:
            return lowered[candidate]
    base = PurePosixPath(wanted_l).name
    matches = [n for n in names if PurePosixPath(n.lower()).name == base and not n.endswith("/")]
    return matches[0] if len(matches) == 1 else None


def _read_entry(zf: zipfile.ZipFile, name: str, path: Path, limit: int = MAX_MEMBER_BYTES) -> bytes:
    """A zip entry's bytes, refusing absurd sizes before inflating them (zipfile stops at
    the size the entry declares, so a lying header cannot inflate past the check)."""
    size = zf.getinfo(name).file_size
    if size > limit:
        raise ProjectFileError(f"{name} would unpack to {size / 1_048_576:.0f} MB; parts over "
                               f"{limit // 1_048_576} MB are refused", path=path)
    try:
        return zf.read(name)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise ProjectFileError(f"{name} cannot be unpacked ({exc})", path=path) from None


def _decode_source(data: bytes, path: Path, name: str, warnings: list[str]) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16").lstrip("\ufeff")
        except UnicodeDecodeError:
            raise ProjectFileError(f"the text of source '{name}' is not valid UTF-16", path=path) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        warnings.append(f"source '{name}' is not UTF-8; read as Windows-1252")
        return data.decode("cp1252", errors="replace")


def _read_beside(rest: str, ref: str, path: Path, what: str) -> bytes:
    """A ``relative://`` file, only when it is a regular file in the .qdpx's own folder
    (the file's ``basePath`` is not trusted: it could point anywhere)."""
    folder = path.resolve().parent
    disk = (folder / rest).resolve()
    if not disk.is_relative_to(folder) or not disk.is_file():
        raise ProjectFileError(f"{what} refers to {ref}, which is not a file in the project's own "
                               "folder; refused", path=path)
    if disk.stat().st_size > MAX_MEMBER_BYTES:
        raise ProjectFileError(f"{what} refers to {ref}, which is over {MAX_MEMBER_BYTES // 1_048_576} MB; "
                               "refused", path=path)
    try:
        return disk.read_bytes()
    except OSError:
        raise ProjectFileError(f"{what} refers to {ref}, which cannot be read", path=path) from None


def _split_ref(ref: str, path: Path, what: str, allow_relative: bool) -> tuple[str, str]:
    """(scheme, rest) of a source path; anything outside the archive is refused unless
    the user allowed ``relative://`` files beside the project."""
    m = re.match(r"^(internal|relative|absolute):/*(.*)$", ref, re.I)
    scheme, rest = (m.group(1).lower(), m.group(2)) if m else ("internal", ref)
    if scheme == "absolute" or (scheme == "relative" and not allow_relative):
        raise ProjectFileError(
            f"{what} refers to {ref}, a file outside the .qdpx; only files inside the project "
            "file are read" + ("" if scheme == "absolute" else
                               " (allow files in the project's own folder with --allow-relative)"),
            path=path)
    return scheme, rest


def _read_text(elem: ET.Element, zf: zipfile.ZipFile, path: Path, what: str, warnings: list[str],
               allow_relative: bool) -> str:
    """The plain text of a TextSource or Note: inline, or via plainTextPath."""
    inline = _child(elem, "PlainTextContent")
    rich = (elem.get("richTextPath") or "").strip()
    if rich:                                  # never read, but a path outside is refused all the same
        _split_ref(rich, path, what, allow_relative)
    ref = (elem.get("plainTextPath") or "").strip()
    if not ref:
        if inline is None:
            raise ProjectFileError(f"{what} has neither PlainTextContent nor plainTextPath", path=path)
        return _text(inline).lstrip("\ufeff")
    scheme, rest = _split_ref(ref, path, what, allow_relative)
    if scheme == "internal":
        entry = _find_entry(zf.namelist(), rest)
        if entry is None:
            raise ProjectFileError(f"{what} refers to {ref}, which is not in the file", path=path)
        data = _read_entry(zf, entry, path)
    else:
        data = _read_beside(rest, ref, path, what)
    return _decode_source(data, path, what, warnings)


def _only_docx(src: ET.Element) -> bool:
    return (not (src.get("plainTextPath") or "").strip() and _child(src, "PlainTextContent") is None
            and (src.get("richTextPath") or "").strip().lower().endswith(".docx"))


def _read_docx_source(src: ET.Element, zf: zipfile.ZipFile, path: Path, name: str):
    """A source held only as .docx (``richTextPath``), read with focusqa's own Word reader;
    offsets then count in the text that reader gives."""
    from ..ingest.readers import read_docx_file

    ref = src.get("richTextPath").strip()
    m = re.match(r"^internal:/*(.*)$", ref, re.I)
    entry = _find_entry(zf.namelist(), m.group(1)) if m else None
    if entry is None:
        raise ProjectFileError(f"source '{name}' refers to {ref}, which is not in the file", path=path)
    with tempfile.TemporaryDirectory(prefix="focusqa-docx-") as folder:
        docx_path = Path(folder) / "source.docx"
        docx_path.write_bytes(_read_entry(zf, entry, path))
        try:
            return read_docx_file(docx_path)
        except TranscriptError as exc:
            raise ProjectFileError(f"the Word text of source '{name}' cannot be read: {exc.message}",
                                   path=path) from None


def _variable_value(vv: ET.Element, variables: dict[str, str]) -> tuple[str, str] | None:
    ref = _child(vv, "VariableRef")
    name = variables.get(normalise_guid(ref.get("targetGUID"))) if ref is not None else None
    if name is None:
        return None
    for child in vv:
        if isinstance(child.tag, str) and _local(child.tag).endswith("Value"):
            value = (child.text or "").strip()
            return (name, value) if value else None
    return None


def _int_attr(elem: ET.Element, attr: str, path: Path, what: str) -> int:
    raw = (elem.get(attr) or "").strip()
    if len(raw) > MAX_NUMBER_DIGITS:
        raise ProjectFileError(f"{what} has a {attr} of {len(raw):,} characters; numbers of more than "
                               f"{MAX_NUMBER_DIGITS} digits are refused", path=path)
    try:
        return int(raw)
    except ValueError:
        raise ProjectFileError(f"{what} has {attr}={raw!r}, which is not a whole number", path=path) from None


def _parse_project(zf: zipfile.ZipFile, path: Path, warnings: list[str], allow_relative: bool):
    names = zf.namelist()
    qde = [n for n in names if "/" not in n.strip("/") and n.lower().endswith(".qde")]
    if not qde:
        raise ProjectFileError("contains no project.qde (is it a REFI-QDA project?)", path=path)
    entry = next((n for n in qde if n.lower() == "project.qde"), qde[0])
    unpacked = sum(info.file_size for info in zf.infolist())
    if unpacked > MAX_ARCHIVE_BYTES:
        raise ProjectFileError(f"unpacks to {unpacked / 1_048_576:.0f} MB; projects over "
                               f"{MAX_ARCHIVE_BYTES // 1_048_576} MB unpacked are refused", path=path)
    root = _parse_xml(_read_entry(zf, entry, path, MAX_PROJECT_XML_BYTES), path, entry)
    if _local(root.tag) != "Project":
        raise ProjectFileError(f"{entry} holds <{_local(root.tag)}>, not a REFI-QDA Project", path=path)
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if ns != NS_PROJECT:
        warnings.append(f"namespace '{ns or 'none'}' is not {NS_PROJECT}; read anyway")
    origin = root.get("origin") or ""
    users = {}
    users_el = _child(root, "Users")
    for u in _children(users_el, "User") if users_el is not None else []:
        users[normalise_guid(u.get("guid"))] = (u.get("name") or u.get("id") or "").strip()
    cb_el = _child(root, "CodeBook")
    file_codes = _read_codes(_child(cb_el, "Codes") if cb_el is not None else None, path)
    variables = {}
    vars_el = _child(root, "Variables")
    for v in _children(vars_el, "Variable") if vars_el is not None else []:
        name = (v.get("name") or "").strip()
        if ":" in name and name.split(":", 1)[0].strip().casefold() in ("cases", "case", "sources", "files"):
            name = name.split(":", 1)[1].strip()      # classification prefix, e.g. "Cases:district"
        variables[normalise_guid(v.get("guid"))] = name
    dropped: dict[str, int] = {}
    case_vars, group_memos = _cases_and_sets(root, variables, dropped)
    sources: list[_Source] = []
    sources_el = _child(root, "Sources")
    for src in list(sources_el) if sources_el is not None else []:
        if not isinstance(src.tag, str):
            continue
        kind = _local(src.tag)
        if kind != "TextSource":
            dropped[f"{kind} (only text sources are imported)"] = dropped.get(
                f"{kind} (only text sources are imported)", 0) + 1
            continue
        guid = normalise_guid(src.get("guid")) or stable_guid("anonymous source", len(sources))
        name = (src.get("name") or "").strip() or f"source-{guid[:8]}"
        docx = _read_docx_source(src, zf, path, name) if _only_docx(src) else None
        raw = docx.plain_text if docx is not None else _read_text(src, zf, path, f"source '{name}'", warnings,
                                                                  allow_relative)
        selections = []
        for sel in _children(src, "PlainTextSelection"):
            what = f"a selection in source '{name}'"
            codings, coding_notes = [], []
            for coding in _children(sel, "Coding"):
                ref = _child(coding, "CodeRef")
                if ref is None:
                    raise ProjectFileError(f"{what} has a Coding without CodeRef", path=path)
                code_guid = normalise_guid(ref.get("targetGUID"))
                codings.append((normalise_guid(coding.get("guid")), code_guid,
                                normalise_guid(coding.get("creatingUser"))))
                coding_notes += [(normalise_guid(n.get("targetGUID")), code_guid) for n in _children(coding, "NoteRef")]
            selections.append(_Selection(
                normalise_guid(sel.get("guid")) or "", sel.get("name") or "",
                _int_attr(sel, "startPosition", path, what), _int_attr(sel, "endPosition", path, what),
                normalise_guid(sel.get("creatingUser")), codings,
                [normalise_guid(n.get("targetGUID")) for n in _children(sel, "NoteRef")],
                _text(_child(sel, "Description")).strip(), coding_notes))
        values = dict(case_vars.get(guid, {}))
        values.update(dict(filter(None, (_variable_value(vv, variables) for vv in _children(src, "VariableValue")))))
        sources.append(_Source(guid, name, raw, selections,
                               [normalise_guid(n.get("targetGUID")) for n in _children(src, "NoteRef")],
                               values, _text(_child(src, "Description")).strip(),
                               normalise_guid(src.get("creatingUser")), len(_children(src, "Coding")), docx))
    notes: dict[str, _Note] = {}
    notes_el = _child(root, "Notes")
    for note in _children(notes_el, "Note") if notes_el is not None else []:
        guid = normalise_guid(note.get("guid"))
        text = _read_text(note, zf, path, f"note '{note.get('name') or guid}'", warnings, allow_relative) \
            if (note.get("plainTextPath") or _child(note, "PlainTextContent") is not None) \
            else _text(_child(note, "Description"))
        inner = _child(note, "PlainTextSelection")
        span = (_int_attr(inner, "startPosition", path, f"note '{guid}'"),
                _int_attr(inner, "endPosition", path, f"note '{guid}'")) if inner is not None else None
        notes[guid] = _Note(guid, text.replace("\r\n", "\n").strip(), normalise_guid(note.get("creatingUser")),
                            (note.get("name") or "").strip(), span)
    links = []
    links_el = _child(root, "Links")
    for link in _children(links_el, "Link") if links_el is not None else []:
        links.append((normalise_guid(link.get("originGUID")), normalise_guid(link.get("targetGUID"))))
    project_notes = [normalise_guid(n.get("targetGUID")) for n in _children(root, "NoteRef")]
    project_description = _text(_child(root, "Description")).strip()
    creator = normalise_guid(root.get("creatingUserGUID"))
    graphs = _child(root, "Graphs")
    if graphs is not None and len(_children(graphs, "Graph")):
        dropped["graphs (focusqa has no network views)"] = len(_children(graphs, "Graph"))
    return dict(origin=origin, users=users, codes=file_codes, sources=sources, notes=notes, links=links,
                project_notes=project_notes, project_description=project_description, dropped=dropped,
                creator=creator, group_memos=group_memos)


def _cases_and_sets(root: ET.Element, variables: dict[str, str], dropped: dict[str, int]):
    """Cases and sets as document attributes; returns (source guid -> attributes, memos).

    A case's variables become attributes of its sources, and its name the attribute
    ``case``; a set of sources becomes the attribute ``sets``. Their descriptions become
    memos ``(text, source guids)``: on the document when there is one, else on the project.
    Cases that hold only parts of sources, and sets of codes or notes, are counted in
    ``dropped`` (focusqa has no case segments and no code groups).
    """
    attributes: dict[str, dict[str, str]] = {}
    memos: list[tuple[str, list[str]]] = []

    def add(source: str, key: str, value: str) -> None:
        current = attributes.setdefault(source, {})
        names = [v for v in current.get(key, "").split("; ") if v]
        current[key] = "; ".join(names + [value] if value not in names else names)

    cases_el = _child(root, "Cases")
    for case in _children(cases_el, "Case") if cases_el is not None else []:
        values = dict(filter(None, (_variable_value(vv, variables) for vv in _children(case, "VariableValue"))))
        refs = [normalise_guid(r.get("targetGUID")) for r in _children(case, "SourceRef")]
        name = (case.get("name") or "").strip()
        for ref in refs:
            attributes.setdefault(ref, {}).update(values)
            if name:
                add(ref, "case", name)
        if _children(case, "SelectionRef"):
            dropped["cases' parts of sources (focusqa links cases to whole documents)"] = dropped.get(
                "cases' parts of sources (focusqa links cases to whole documents)", 0) + 1
        elif not refs:
            dropped["cases without sources"] = dropped.get("cases without sources", 0) + 1
        memo = _text(_child(case, "Description")).strip()
        if memo and refs:
            memos.append((f"Case {name}: {memo}" if name else memo, refs))
    sets_el = _child(root, "Sets")
    for group in _children(sets_el, "Set") if sets_el is not None else []:
        name = (group.get("name") or "").strip() or "?"
        members = [normalise_guid(m.get("targetGUID")) for m in _children(group, "MemberSource")]
        for ref in members:
            add(ref, "sets", name)
        for kind, what in (("MemberCode", "sets of codes (focusqa has no code groups)"),
                           ("MemberNote", "sets of notes")):
            if _children(group, kind):
                dropped[what] = dropped.get(what, 0) + 1
        memo = _text(_child(group, "Description")).strip()
        if memo:
            memos.append((f"Set {name}: {memo}", members))
    return attributes, memos


# ------------------------------------------------------------ offsets and segmentation
def _normalise_newlines(raw: str) -> tuple[str, list[int]]:
    """LF-only text, and where each CRLF of ``raw`` starts: a position ``i`` of ``raw``
    is ``i - bisect_left(crlf, i)`` in the LF-only text (no list as long as the text)."""
    crlf = [m.start() for m in re.finditer("\r\n", raw)]
    return raw.replace("\r\n", "\n").replace("\r", "\n"), crlf


_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


def _utf16_index(text: str):
    """A function: UTF-16 offset -> index of the code point it falls in (NVivo's offsets),
    or None past the end; from the positions of the characters outside the BMP."""
    astral = [m.start() for m in _ASTRAL.finditer(text)]
    total = len(text) + len(astral)

    def index(offset: int) -> int | None:
        if offset < 0 or offset > total:
            return None
        lo, hi = 0, min(offset, len(text))    # the largest i whose UTF-16 offset is <= offset
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if mid + bisect.bisect_left(astral, mid) <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo

    return index


@dataclass(frozen=True)
class _Convention:
    utf16: bool
    crlf_as_one: bool

    def describe(self) -> str:
        return ("UTF-16 units" if self.utf16 else "code points") + (", CRLF as 1" if self.crlf_as_one else "")


def _converter(raw: str, convention: _Convention):
    """A function: file offset -> position in the LF-only text, or None when out of range."""
    norm, crlf = _normalise_newlines(raw)
    base = norm if convention.crlf_as_one else raw
    utf16 = _utf16_index(base) if convention.utf16 else None

    def convert(offset: int) -> int | None:
        if utf16 is not None:
            index = utf16(offset)
            if index is None:
                return None
        else:
            if offset < 0 or offset > len(base):
                return None
            index = offset
        return index if convention.crlf_as_one else index - bisect.bisect_left(crlf, index)

    return convert, norm


def _choose_convention(source: _Source, origin: str) -> _Convention:
    """Code points (the standard) unless the file's producer or the selection names say otherwise."""
    astral = any(ord(ch) > 0xFFFF for ch in source.raw)
    crlf = "\r\n" in source.raw
    default = _Convention(utf16="nvivo" in origin.lower() and astral, crlf_as_one=False)
    if not astral and not crlf:
        return _Convention(False, False)
    named = [s for s in source.selections if s.name.strip().rstrip("…").strip()]
    if not named:
        return default
    candidates = [default] + [_Convention(u, c) for u in (False, True) for c in (False, True)
                              if (u, c) != (default.utf16, default.crlf_as_one)]

    def score(conv: _Convention) -> int:
        convert, norm = _converter(source.raw, conv)
        hits = 0
        for s in named:
            a, b = convert(s.start), convert(s.end)
            if a is None or b is None:
                continue
            want = " ".join(s.name.rstrip("…").split())
            if want and " ".join(norm[a:b].split()).startswith(want[:40]):
                hits += 1
        return hits

    scores = [score(c) for c in candidates]
    return candidates[scores.index(max(scores))]


def _segment(norm: str, name: str, variables: dict[str, str], docx=None):
    """Segments for an imported text, exactly as focusqa segments a .txt file (or the .docx itself);
    a text over the transcript limits raises :class:`TranscriptError`."""
    from ..ingest.metadata import metadata_from_mapping
    from ..ingest.readers import RawText, check_text_size, text_paragraphs
    from ..ingest.segments import build_document
    from ..ingest.turns import starts_turn

    meta = metadata_from_mapping(variables)
    if docx is None:
        check_text_size(norm, name)
    raw = docx if docx is not None else RawText(norm, text_paragraphs(norm, starts_turn), _source_format(name), {})
    return build_document(raw, name, meta)


def _cut(value: str | None, width: int) -> str | None:
    return value[:width] if value else value


def _source_format(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return {".docx": "docx", ".md": "md", ".markdown": "md"}.get(suffix, "txt")


# ------------------------------------------------------------------------ import writer
def import_qdpx(store, path: str | Path, actor: str = "import", *, allow_relative: bool = False) -> str:
    """Import a REFI-QDA project (see :func:`_import_qdpx`); anything unexpected that reading
    the file raises is a one-line :class:`ProjectFileError` naming it."""
    with reading(path, ProjectFileError):
        return _import_qdpx(store, Path(path), actor, allow_relative=allow_relative)


def _import_qdpx(store, path: Path, actor: str = "import", *, allow_relative: bool = False) -> str:
    """Import a REFI-QDA project; returns a one-line report of what came in and what did not.

    Each text source becomes a document segmented as focusqa segments a .txt transcript
    (a source whose text is already in the database is not duplicated: its codings are
    added to the existing document). A coded selection becomes a coding of the segment
    that contains it (only part of the segment coded: the coding keeps that part); a
    selection spanning several segments codes each of them. Users become coders, source
    and case variables become round/district/group/attributes, notes become memos.
    Everything is checked first and written in one transaction: a bad file changes nothing.
    Only text inside the .qdpx is read; ``allow_relative`` also reads ``relative://`` files
    in the .qdpx's own folder (never ``absolute://`` ones, devices or anything outside).
    """
    from sqlalchemy import func, select

    from ..store.models import (AuditEntry, CodebookVersion, CodeRow, Coding, Document, FinishedDocument, Memo,
                                SegmentRow)
    from ..store.coders import register_names
    from ..store.repository import CODE_FIELDS

    path = Path(path)
    if not path.exists():
        raise ProjectFileError("file not found", path=path)
    if not zipfile.is_zipfile(path):
        raise ProjectFileError("is not a REFI-QDA project: a .qdpx file is a zip archive", path=path)
    warnings: list[str] = []
    try:
        with zipfile.ZipFile(path) as zf:
            project = _parse_project(zf, path, warnings, allow_relative)
    except zipfile.BadZipFile as exc:
        raise ProjectFileError(f"is a damaged zip archive ({exc})", path=path) from None
    users: dict[str, str] = project["users"]

    def user_name(guid: str | None, fallback: str) -> str:
        if guid and users.get(guid):
            return users[guid][:128]
        if guid:
            return f"user-{guid[:8]}"
        return fallback

    default_user = user_name(project["creator"], actor) if project["creator"] in users else actor

    # --- codes: match the file's codes with the database's -----------------------------
    file_codes: list[_FileCode] = project["codes"]
    with store.session() as s:
        rows = {r.id: {"guid": r.guid, "label_da": r.label_da, "position": r.position,
                       **{f: getattr(r, f) for f in CODE_FIELDS}} for r in s.scalars(select(CodeRow))}
        empty_project = not s.scalar(select(func.count()).select_from(Document))
        known_hashes = dict(tuple(r) for r in s.execute(select(Document.content_hash, Document.id)).all())
    by_guid = {}
    for code_id, row in rows.items():
        by_guid[stable_guid("code", code_id)] = code_id
        if row["guid"]:
            by_guid[normalise_guid(row["guid"])] = code_id
    by_label: dict[str, list[str]] = {}
    for code_id, row in rows.items():
        by_label.setdefault(row["label_da"].casefold(), []).append(code_id)
    existing: dict[str, str] = {}
    same_code: set[str] = set()     # matched by GUID or focusqa id: the file describes this very code
    for fc in file_codes:
        wanted = parse_code_description(fc.description).get("id", "")
        if fc.guid in by_guid:
            existing[fc.guid] = by_guid[fc.guid]
            same_code.add(fc.guid)
        elif wanted in rows:
            existing[fc.guid] = wanted
            same_code.add(fc.guid)
        elif len(by_label.get(fc.name.casefold(), [])) == 1:
            existing[fc.guid] = by_label[fc.name.casefold()][0]
    if len(set(existing.values())) < len(existing):
        raise ProjectFileError("two codes in the file match the same code in the database", path=path)
    file_cb, code_ids = _codes_to_codebook(file_codes, path.stem, path, existing) if file_codes \
        else (Codebook(path.stem, []), {})
    file_code_by_id = {c.id: c for c in file_cb.codes}

    # --- documents, segments and codings, all planned before anything is written ------
    origin = project["origin"]
    notes: dict[str, _Note] = project["notes"]
    dropped: dict[str, int] = dict(project["dropped"])

    def drop(reason: str, n: int = 1) -> None:
        dropped[reason] = dropped.get(reason, 0) + n

    planned_docs = []           # (source, parsed, existing doc id or None)
    selection_targets: dict[str, list[tuple[int, int | None, int | None]]] = {}   # sel guid -> [(plan idx, seg index)]
    planned_codings: dict[tuple[int, int, str, str], list] = {}                   # (plan, seg idx, code, coder)
    existing_segments: dict[int, list] = {}
    hashes_in_file: dict[str, int] = {}
    memo_plans: list[dict] = []
    source_plans: list[tuple[_Source, int]] = []
    located: dict[int, tuple] = {}          # plan index -> (offset converter, segment spans, their starts)
    for source in project["sources"]:
        conv = _choose_convention(source, origin)
        convert, norm = _converter(source.raw, conv)
        if conv.utf16 or conv.crlf_as_one:
            warnings.append(f"source '{source.name}': offsets read as {conv.describe()}")
        try:
            parsed = _segment(norm, source.name, source.variables, source.docx)
        except TranscriptError as exc:
            raise ProjectFileError(f"source '{source.name[:80]}' {exc.message}", path=path) from None
        digest = parsed.content_hash
        if digest in hashes_in_file:
            plan_index = hashes_in_file[digest]
        else:
            doc_id = known_hashes.get(digest)
            plan_index = len(planned_docs)
            hashes_in_file[digest] = plan_index
            planned_docs.append((source, parsed, doc_id))
            if doc_id is not None and doc_id not in existing_segments:
                existing_segments[doc_id] = [(sg.index, sg.start, sg.end) for sg in store.segments(doc_id)]
        source_plans.append((source, plan_index))
        doc_id = planned_docs[plan_index][2]
        spans = existing_segments[doc_id] if doc_id is not None else \
            [(sg.index, sg.start, sg.end) for sg in parsed.segments]
        starts = [sp[1] for sp in spans]
        located[plan_index] = (convert, spans, starts)
        for sel in source.selections:
            a, b = convert(sel.start), convert(sel.end)
            if a is None or b is None or sel.start > sel.end:
                raise ProjectFileError(
                    f"selection {sel.guid or '?'} in source '{source.name}' has offsets "
                    f"{sel.start}-{sel.end}, outside its text ({len(norm)} characters)", path=path)
            if a == b:
                drop("empty selections")
                continue
            hits = []
            i = max(bisect.bisect_right(starts, a) - 1, 0)
            while i < len(spans) and spans[i][1] < b:
                index, s_start, s_end = spans[i]
                lo, hi = max(a, s_start), min(b, s_end)
                if lo < hi and norm[lo:hi].strip():
                    while lo < hi and norm[lo].isspace():
                        lo += 1
                    while hi > lo and norm[hi - 1].isspace():
                        hi -= 1
                    whole = lo <= s_start and hi >= s_end
                    hits.append((plan_index, index, None if whole else lo, None if whole else hi))
                i += 1
            if not hits:
                if sel.codings:
                    drop("codings outside any segment", len(sel.codings))
                continue
            if sel.guid:
                selection_targets[sel.guid] = [(p, idx, None) for p, idx, _lo, _hi in hits]
            for coding_guid, code_guid, coding_user in sel.codings:
                if code_guid not in code_ids:
                    raise ProjectFileError(f"a coding in source '{source.name}' refers to code {code_guid}, "
                                           "which the codebook does not define", path=path)
                coder = user_name(coding_user or sel.creating_user, default_user)
                for p, idx, lo, hi in hits:
                    planned_codings.setdefault((p, idx, code_ids[code_guid], coder), []).append(
                        (lo, hi, coding_guid))
            if sel.description and not sel.codings and (hits[0][2] is not None or len(hits) > 1):
                drop("annotation ranges (the memo is kept on the turn where the range starts)")
            if sel.description:
                memo_plans.append({"author": user_name(sel.creating_user, default_user), "text": sel.description,
                                   "segment": (hits[0][0], hits[0][1]), "document": None, "code": None})
        if source.whole_codings:
            drop("codings of whole sources", source.whole_codings)
        if source.description and not _repeats_notes(source.description, source.notes, notes):
            memo_plans.append({"author": user_name(source.creating_user, default_user), "text": source.description,
                               "segment": None, "document": plan_index, "code": None})

    # --- notes -> memos -----------------------------------------------------------------
    note_targets: dict[str, dict] = {}
    for source, plan_index in source_plans:
        for guid in source.notes:
            segment = _annotated_segment(notes.get(guid), located[plan_index])
            if segment is None:
                note_targets.setdefault(guid, {})["document"] = plan_index
                continue
            note_targets.setdefault(guid, {})["segment"] = (plan_index, segment[0])
            if not segment[1]:
                drop("annotation ranges (the memo is kept on the turn where the range starts)")
        for sel in source.selections:
            targets = selection_targets.get(sel.guid)
            if not targets:
                continue
            for guid in sel.notes:
                note_targets.setdefault(guid, {})["segment"] = targets[0][:2]
            for guid, code_guid in sel.coding_notes:
                note_targets.setdefault(guid, {}).update(segment=targets[0][:2], code=code_ids.get(code_guid))
    for fc in file_codes:
        for guid in fc.notes:
            note_targets.setdefault(guid, {})["code"] = code_ids.get(fc.guid)
    for origin_guid, target_guid in project["links"]:
        if origin_guid in notes and target_guid in selection_targets:
            note_targets.setdefault(origin_guid, {})["segment"] = selection_targets[target_guid][0][:2]
    for guid in project["project_notes"]:
        note_targets.setdefault(guid, {})
    for guid, note in notes.items():
        if not note.text:
            drop("empty notes")
            continue
        target = note_targets.get(guid, {})
        named = NOTE_NAME.match(note.name)
        author = user_name(note.user, named.group(2) if named and not users.get(note.user or "") else default_user)
        memo_plans.append({"author": author[:128], "text": note.text,
                           "segment": target.get("segment"), "document": target.get("document"),
                           "code": target.get("code")})
    plan_of_source = {source.guid: plan_index for source, plan_index in source_plans}
    for text, members in project["group_memos"]:
        known = [plan_of_source[m] for m in members if m in plan_of_source]
        memo_plans.append({"author": default_user, "text": text, "segment": None,
                           "document": known[0] if len(known) == 1 else None, "code": None})
    untargeted = [guid for guid in notes if all(v is None for v in note_targets.get(guid, {}).values())]
    if project["project_description"] and not _repeats_notes(project["project_description"], untargeted, notes):
        memo_plans.append({"author": default_user, "text": project["project_description"],
                           "segment": None, "document": None, "code": None})

    # --- write everything in one transaction -------------------------------------------
    new_docs = present_docs = added_codings = already = new_codes = changed_codes = added_memos = 0
    with store.session() as s:
        # codebook
        code_rows = {r.id: r for r in s.scalars(select(CodeRow))}
        next_position = max((r.position for r in code_rows.values()), default=-1) + 1
        for fc in file_codes:
            code = file_code_by_id[code_ids[fc.guid]]
            values = {f: getattr(code, f) for f in CODE_FIELDS}
            row = code_rows.get(code.id)
            if row is None:
                if values["number"] is not None and any(r.number == values["number"] for r in code_rows.values()):
                    values["number"] = None
                row = CodeRow(id=code.id, position=next_position, **values)
                next_position += 1
                s.add(row)
                code_rows[code.id] = row
                new_codes += 1
            elif empty_project and fc.guid in same_code and any(getattr(row, f) != v for f, v in values.items()):
                for f, v in values.items():
                    setattr(row, f, v)
                changed_codes += 1
            if not row.guid:
                row.guid = fc.guid if GUID_RE.match(fc.guid) else default_code_guid(code.id)
        if new_codes or changed_codes:
            s.flush()
            all_rows = sorted(code_rows.values(), key=lambda r: (r.position, r.id))
            cb = Codebook(name=path.stem, codes=[Code(id=r.id, **{f: getattr(r, f) for f in CODE_FIELDS})
                                                 for r in all_rows])
            try:
                codebook_from_data(cb.to_dict(), source=path)
            except CodebookError as exc:
                raise ProjectFileError(f"its codes cannot join the codebook: {exc}", path=path) from None
            latest = s.scalar(select(func.max(CodebookVersion.version))) or 0
            latest_name = s.scalar(select(CodebookVersion.name).where(CodebookVersion.version == latest))
            s.add(CodebookVersion(version=latest + 1, name=latest_name or path.stem, content=cb.to_yaml(),
                                  created_by=actor))
            s.add(AuditEntry(actor=actor, action="codebook-version", entity="codebook", entity_id=str(latest + 1),
                             after={"version": latest + 1, "from": path.name}))
        # documents and segments
        segment_ids: dict[tuple[int, int], int] = {}
        doc_ids: dict[int, int] = {}
        for plan_index, (source, parsed, doc_id) in enumerate(planned_docs):
            if doc_id is None:
                meta = parsed.metadata
                # column widths of the documents table (PostgreSQL enforces them)
                doc = Document(name=parsed.name[:255], content_hash=parsed.content_hash,
                               source_format=parsed.source_format, round=_cut(meta.round, 32),
                               district=_cut(meta.district, 128), respondent_group=_cut(meta.group, 128),
                               date=_cut(meta.date, 32),
                               moderators=list(meta.moderators), attributes=dict(meta.attributes),
                               plain_text=parsed.plain_text, preamble=parsed.preamble, imported_by=actor)
                s.add(doc)
                s.flush()
                rows_ = [SegmentRow(document_id=doc.id, index=sg.index, turn=sg.turn, speaker=sg.speaker,
                                    role=sg.role, text=sg.text, start=sg.start, end=sg.end, timestamp=sg.timestamp)
                         for sg in parsed.segments]
                s.add_all(rows_)
                s.flush()
                s.add(AuditEntry(actor=actor, action="import", entity="document", entity_id=str(doc.id),
                                 after={"name": parsed.name, "segments": len(rows_), "from": path.name,
                                        "round": meta.round, "district": meta.district, "group": meta.group}))
                doc_id = doc.id
                new_docs += 1
                for r in rows_:
                    segment_ids[(plan_index, r.index)] = r.id
            else:
                present_docs += 1
                for seg_id, index in s.execute(select(SegmentRow.id, SegmentRow.index)
                                               .where(SegmentRow.document_id == doc_id)):
                    segment_ids[(plan_index, index)] = seg_id
            doc_ids[plan_index] = doc_id
        # codings
        present = {tuple(r) for r in s.execute(select(Coding.segment_id, Coding.code_id, Coding.coder)
                                               .where(Coding.segment_id.in_(list(segment_ids.values()))))} \
            if segment_ids else set()
        coders = set()
        for (plan_index, index, code_id, coder), parts in planned_codings.items():
            seg_id = segment_ids[(plan_index, index)]
            if (seg_id, code_id, coder) in present:
                already += 1
                continue
            if any(lo is None for lo, _hi, _g in parts):
                start = end = None
            else:
                start, end = min(lo for lo, _h, _g in parts), max(hi for _l, hi, _g in parts)
            guid = next((g for _l, _h, g in parts if g and GUID_RE.match(g)), None)
            s.add(Coding(segment_id=seg_id, code_id=code_id, coder=coder, origin="human", status="accepted",
                         start=start, end=end, guid=guid, evidence={}))
            coders.add(coder)
            added_codings += 1
        # a project's coders coded the documents they have codings in (agreement counts them there)
        finished = {tuple(r) for r in s.execute(select(FinishedDocument.document_id, FinishedDocument.coder))}
        for pair in sorted({(doc_ids[plan_index], coder) for plan_index, _i, _c, coder in planned_codings}
                           - finished):
            s.add(FinishedDocument(document_id=pair[0], coder=pair[1]))
        # memos
        existing_memos = {tuple(r) for r in s.execute(select(Memo.author, Memo.text, Memo.segment_id,
                                                             Memo.document_id, Memo.code_id))}
        for plan in memo_plans:
            seg_id = segment_ids.get(tuple(plan["segment"])) if plan["segment"] else None
            doc_id = doc_ids.get(plan["document"]) if plan["document"] is not None else None
            code_id = plan["code"]
            key = (plan["author"], plan["text"], seg_id, doc_id, code_id)
            if key in existing_memos:
                continue
            existing_memos.add(key)
            s.add(Memo(author=plan["author"], text=plan["text"], segment_id=seg_id, document_id=doc_id,
                       code_id=code_id))
            added_memos += 1
        register_names(s, coders | {plan["author"] for plan in memo_plans}, actor)
        s.add(AuditEntry(actor=actor, action="import-qdpx", entity="project", entity_id=None,
                         after={"file": path.name, "origin": origin, "documents": new_docs,
                                "documents_present": present_docs, "codings": added_codings,
                                "codes": new_codes, "memos": added_memos, "dropped": dropped,
                                "warnings": warnings}))

    report = (f"{new_docs} documents imported" + (f" ({present_docs} already present)" if present_docs else "")
              + f", {added_codings} codings by {len(coders)} coders"
              + (f" ({already} already there)" if already else "")
              + f", {new_codes} new codes, {added_memos} memos")
    if warnings:
        report += "; note: " + "; ".join(warnings[:3]) + (" …" if len(warnings) > 3 else "")
    # one line per kind of thing not taken (the standard asks importers to say what is lost)
    return "\n".join([report] + [f"not imported: {n} {what}" for what, n in sorted(dropped.items())])
