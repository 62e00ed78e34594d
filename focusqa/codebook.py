"""The codebook: the interview guide's points as codes, loaded from and saved to YAML.

Validation reports every problem with the code id and the YAML line, because the
people editing the file are evaluators, not programmers.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from .errors import CodebookError
from .limits import MAX_CODE_DEPTH, MAX_CODES, MAX_TERMS, MAX_YAML_BYTES
from .safe_yaml import load_yaml_with_nodes

# Fixed namespace of focusqa's deterministic GUIDs (uuid5): a code's GUID is stored with it,
# and a code made in focusqa starts with uuid5 of its id (what older exports derived).
GUID_NAMESPACE = uuid.UUID("6f1c5d2e-9a47-5b1e-8c3d-0f0c05a0a11d")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
REQUIRED = ("id", "label_da")
KNOWN_FIELDS = {
    "id", "number", "label_da", "label_en", "question", "definition", "include",
    "exclude", "terms", "color", "parent", "examples",
}


@dataclass
class Code:
    id: str
    label_da: str
    label_en: str = ""
    number: int | None = None
    question: str = ""
    definition: str = ""
    include: str = ""
    exclude: str = ""
    terms: list[str] = field(default_factory=list)
    color: str = "#888888"
    parent: str | None = None
    # Anchor examples (Mayring, Kuckartz): passages that typify the code, used from the first run.
    examples: list[str] = field(default_factory=list)

    def label(self, language: str = "da") -> str:
        return self.label_en if language == "en" and self.label_en else self.label_da

    def heading(self, language: str = "da") -> str:
        """'Ad. 1: Tidlig indsats', as the evaluator's memo names a guide point."""
        return f"Ad. {self.number}: {self.label(language)}" if self.number else self.label(language)


@dataclass
class Codebook:
    name: str
    codes: list[Code]
    version: int = 1
    language: str = "da"

    def __post_init__(self) -> None:
        self._by_id = {c.id: c for c in self.codes}

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.codes]

    def get(self, key: str | int) -> Code:
        """A code by id, by number, or by Danish/English label (case-insensitive)."""
        if isinstance(key, int) or (isinstance(key, str) and key.strip().isdigit()):
            for code in self.codes:
                if code.number == int(key):
                    return code
        elif key in self._by_id:
            return self._by_id[key]
        else:
            wanted = key.strip().casefold()
            for code in self.codes:
                if wanted in (code.label_da.casefold(), code.label_en.casefold()):
                    return code
        raise KeyError(f"no code {key!r} in the codebook")

    def __contains__(self, key: object) -> bool:
        try:
            self.get(key)  # type: ignore[arg-type]
        except KeyError:
            return False
        return True

    def to_dict(self) -> dict:
        codes = []
        for c in self.codes:
            d = {k: v for k, v in asdict(c).items() if v not in (None, "", [])}
            codes.append(d)
        return {"name": self.name, "version": self.version, "language": self.language, "codes": codes}

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False, width=100)


def split_examples(text: str) -> list[str]:
    """Anchor examples typed in one text box: blocks separated by a blank line."""
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
    return [" ".join(b.split()) for b in blocks if b.strip()]


def split_terms(text: str) -> list[str]:
    """Search terms typed one per line (or with ``;``), each once: a repeat in another case
    or with other spacing adds nothing, so it is dropped and the first spelling kept."""
    seen: set[str] = set()
    terms = []
    for raw in text.replace(";", "\n").splitlines():
        term = " ".join(raw.split())
        if term and term.casefold() not in seen:
            seen.add(term.casefold())
            terms.append(term)
    return terms


def slugify(text: str) -> str:
    """A code id from a name: 'Tværfaglig koordinering' -> 'tvaerfaglig-koordinering'."""
    text = text.casefold()
    for a, b in (("æ", "ae"), ("ø", "oe"), ("å", "aa"), ("ß", "ss")):
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:60].strip("-") or "kode"


def default_code_guid(code_id: str) -> str:
    """The REFI-QDA GUID a code made in focusqa gets (stored with the code from then on)."""
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(("code", code_id))))


def _line_of(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _code_nodes(root: yaml.Node | None) -> list[yaml.Node | None]:
    """The YAML nodes of the code entries, to tell the user which line is wrong."""
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if getattr(key, "value", None) == "codes" and isinstance(value, yaml.SequenceNode):
                return list(value.value)
    return []


def _field_line(node: yaml.Node | None, name: str) -> int | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == name:
                return _line_of(value)
    return _line_of(node)


def parse_codebook(text: str, *, source: str | Path = "<codebook>") -> Codebook:
    """Parse and validate codebook YAML; raise :class:`CodebookError` on the first problem."""
    try:
        root_node, data = load_yaml_with_nodes(text)
    except RecursionError:
        raise CodebookError("not valid YAML: nested too deeply", path=source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise CodebookError(f"not valid YAML: {problem}", path=source, line=line) from None
    return codebook_from_data(data, source=source, root_node=root_node)


def codebook_from_data(data, *, source: str | Path = "<codebook>", root_node: yaml.Node | None = None) -> Codebook:
    """Validate a codebook already in memory (``Codebook.to_dict()``, or parsed YAML whose
    ``root_node`` gives line numbers); raise :class:`CodebookError` on the first problem."""
    if not isinstance(data, dict) or not isinstance(data.get("codes"), list) or not data["codes"]:
        raise CodebookError("expected a mapping with a non-empty list 'codes'", path=source,
                            line=_line_of(root_node))
    _check_size(data["codes"], source)
    nodes = _code_nodes(root_node)
    codes: list[Code] = []
    seen_ids: dict[str, int | None] = {}
    seen_numbers: dict[int, str] = {}
    for i, entry in enumerate(data["codes"]):
        node = nodes[i] if i < len(nodes) else None
        line = _line_of(node)
        if not isinstance(entry, dict):
            raise CodebookError(f"code entry {i + 1} is not a mapping", path=source, line=line)
        code_id = str(entry.get("id", "") or "")
        for required in REQUIRED:
            if not entry.get(required):
                raise CodebookError(f"missing required field '{required}'", path=source, line=line,
                                    code=code_id or None)
        unknown = set(entry) - KNOWN_FIELDS
        if unknown:
            raise CodebookError(f"unknown field(s) {', '.join(sorted(map(str, unknown)))}", path=source,
                                line=line, code=code_id)
        if not SLUG.match(code_id):
            raise CodebookError("id must be lower-case letters, digits and hyphens (a slug of at most 64 characters)",
                                path=source, line=_field_line(node, "id"), code=code_id)
        if code_id in seen_ids:
            raise CodebookError(f"duplicate id (first used on line {seen_ids[code_id]})",
                                path=source, line=line, code=code_id)
        seen_ids[code_id] = line
        number = entry.get("number")
        if number is not None:
            if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 999_999:
                raise CodebookError("number must be a whole number from 1 to 999999", path=source,
                                    line=_field_line(node, "number"), code=code_id)
            if number in seen_numbers:
                raise CodebookError(f"number {number} is already used by '{seen_numbers[number]}'",
                                    path=source, line=_field_line(node, "number"), code=code_id)
            seen_numbers[number] = code_id
        color = str(entry.get("color", "#888888"))
        if not COLOUR.match(color):
            raise CodebookError(f"colour {color!r} is not #RRGGBB", path=source,
                                line=_field_line(node, "color"), code=code_id)
        terms = entry.get("terms", []) or []
        if not isinstance(terms, list) or not all(isinstance(t, (str, int, float)) for t in terms):
            raise CodebookError("terms must be a list of words or phrases", path=source,
                                line=_field_line(node, "terms"), code=code_id)
        examples = entry.get("examples", []) or []
        if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
            raise CodebookError("examples must be a list of passages (text)", path=source,
                                line=_field_line(node, "examples"), code=code_id)
        if not isinstance(entry.get("parent") or "", str):
            raise CodebookError("parent must be the id of another code", path=source,
                                line=_field_line(node, "parent"), code=code_id)
        text_fields = {k: str(entry.get(k) or "").strip()
                       for k in ("label_da", "label_en", "question", "definition", "include", "exclude")}
        codes.append(Code(id=code_id, number=number, color=color,
                          terms=[str(t).strip() for t in terms if str(t).strip()],
                          parent=entry.get("parent") or None,
                          examples=[e.strip() for e in examples if e.strip()], **text_fields))
    for i, code in enumerate(codes):
        if code.parent is not None and code.parent not in seen_ids:
            raise CodebookError(f"parent '{code.parent}' is not a code in this codebook",
                                path=source, line=_field_line(nodes[i] if i < len(nodes) else None, "parent"),
                                code=code.id)
    _check_no_cycles(codes, source)
    version = data.get("version", 1)
    if not isinstance(version, int):
        raise CodebookError("version must be a whole number", path=source)
    return Codebook(name=str(data.get("name") or Path(str(source)).stem), codes=codes,
                    version=version, language=str(data.get("language") or "da"))


def _check_size(entries: list, source) -> None:
    """Refuse more codes or search terms than the limits allow, before validating each code."""
    if len(entries) > MAX_CODES:
        raise CodebookError(f"has {len(entries):,} codes; codebooks of more than {MAX_CODES:,} are refused",
                            path=source)
    terms = sum(len(e["terms"]) for e in entries
                if isinstance(e, dict) and isinstance(e.get("terms"), list))
    if terms > MAX_TERMS:
        raise CodebookError(f"has {terms:,} search terms; codebooks with more than {MAX_TERMS:,} are refused",
                            path=source)


def _check_no_cycles(codes: list[Code], source) -> None:
    """No code is its own ancestor, and no code sits deeper than the limit (pages, exports
    and REFI files walk the tree recursively)."""
    parents = {c.id: c.parent for c in codes}
    depth: dict[str, int] = {}
    for code in codes:
        chain = [code.id]
        parent = code.parent
        while parent is not None and parent not in depth:
            if parent in chain:
                raise CodebookError("parent chain loops back on itself", path=source, code=code.id)
            chain.append(parent)
            parent = parents.get(parent)
        level = depth.get(parent, 0) if parent is not None else 0
        for code_id in reversed(chain):
            level += 1
            depth[code_id] = level
        if depth[code.id] > MAX_CODE_DEPTH:
            raise CodebookError(f"is nested {depth[code.id]} levels deep; codes more than {MAX_CODE_DEPTH} "
                                "levels deep are refused", path=source, code=code.id)


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Load a codebook file (the bundled interview guide when ``path`` is None)."""
    from .config import DEFAULT_CODEBOOK

    path = Path(path) if path is not None else DEFAULT_CODEBOOK
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise CodebookError(f"is {size / 1024:,.0f} KB; YAML codebooks over {MAX_YAML_BYTES // 1024} KB "
                                "are refused", path=path)
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CodebookError("file not found", path=path) from None
    except IsADirectoryError:
        raise CodebookError("is a folder, not a codebook file", path=path) from None
    except OSError as exc:
        raise CodebookError(f"cannot be read ({exc.strerror})", path=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CodebookError("is not UTF-8 text", path=path) from None
    return parse_codebook(text, source=path)
