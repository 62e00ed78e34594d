"""Importing another codebook into the project's without destroying anything.

A code in the incoming file is matched with the project's by GUID, then by focusqa id
(a focusqa file or the ``Id:`` line of a focusqa ``.qdc``), then by its Danish label
(exactly, then ignoring case); a code that matches nothing is offered as new. A matched
code takes only what the file adds: an empty incoming field never blanks a filled one,
a missing colour (Taguette writes none) keeps ours, lists (terms, anchor examples) are
united, and a label, number or parent that would clash with another code is left as it
is and said. No code is ever removed, and no label is ever added twice. The plan is
computed first (:func:`plan_merge`), shown as a preview, and written only when applied
(:meth:`focusqa.store.Store.apply_codebook_merge`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .codebook import Code, Codebook, codebook_from_data
from .errors import CodebookError

DEFAULT_COLOUR = "#888888"
TEXT_FIELDS = ("label_da", "label_en", "question", "definition", "include", "exclude")
LIST_FIELDS = ("terms", "examples")
FIELD_NAMES = {"label_da": "label", "label_en": "English label", "question": "question", "definition": "definition",
               "include": "include", "exclude": "exclude", "terms": "terms", "examples": "anchor examples",
               "color": "colour", "number": "number", "parent": "parent"}


@dataclass
class IncomingCode:
    """A code as another file describes it; ``parent`` is the incoming parent's ``key``."""

    key: str
    code: Code
    guid: str | None = None
    colour_given: bool = True


@dataclass
class CodeChange:
    kind: str                     # added | changed | unchanged
    code: Code                    # the code as it will be
    matched_by: str | None        # guid | id | label | None (added)
    incoming_label: str
    fields: list[str] = field(default_factory=list)
    guid: str | None = None


@dataclass
class CodebookMerge:
    """What importing a codebook file would do; nothing is written until it is applied."""

    source: str
    codebook: Codebook            # the project's codebook after the merge
    changes: list[CodeChange]
    kept: int                     # project codes the file does not mention (left alone)
    not_taken: list[str] = field(default_factory=list)   # one line per kind of thing not taken

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    @property
    def writes(self) -> bool:
        return any(c.kind != "unchanged" for c in self.changes)

    @property
    def new_guids(self) -> dict[str, str]:
        return {c.code.id: c.guid for c in self.changes if c.kind == "added" and c.guid}

    def summary(self) -> str:
        return (f"{self.source}: {self.count('added')} codes to add, {self.count('changed')} to change, "
                f"{self.count('unchanged')} unchanged, {self.kept} of the project's codes not in the file (kept)")

    def lines(self) -> list[str]:
        """The preview: one line per added or changed code, then what is not taken."""
        out = [self.summary()]
        for c in self.changes:
            if c.kind == "added":
                out.append(f"  add     {c.code.label_da} (id {c.code.id})")
            elif c.kind == "changed":
                out.append(f"  change  {c.code.label_da}: {', '.join(FIELD_NAMES[f] for f in c.fields)} "
                           f"(matched by {c.matched_by})")
        out += [f"  not taken: {line}" for line in self.not_taken]
        return out


def _key(label: str) -> str:
    return " ".join(label.split()).casefold()


def _match(incoming: IncomingCode, current: Codebook, by_guid: dict[str, str]) -> tuple[str | None, str | None]:
    if incoming.guid and incoming.guid.lower() in by_guid:
        return by_guid[incoming.guid.lower()], "guid"
    if incoming.code.id in current.ids:
        # a focusqa id only counts when the label agrees too (an id is also derived from a name)
        if _key(current.get(incoming.code.id).label_da) == _key(incoming.code.label_da) or incoming.guid is None:
            return incoming.code.id, "id"
    exact = [c.id for c in current.codes if c.label_da.strip() == incoming.code.label_da.strip()]
    if exact:
        return exact[0], "label"
    loose = [c.id for c in current.codes if _key(c.label_da) == _key(incoming.code.label_da)]
    return (loose[0], "label") if loose else (None, None)


def _merged(ours: Code, theirs: Code, colour_given: bool) -> tuple[Code, list[str]]:
    """Our code with what theirs adds (never an empty value over a filled one)."""
    updates: dict = {}
    for name in TEXT_FIELDS:
        value = getattr(theirs, name).strip()
        if value and value != getattr(ours, name):
            if name == "label_da" and _key(value) == _key(ours.label_da):
                continue                        # 'organisering' is no rename of 'Organisering'
            updates[name] = value
    for name in LIST_FIELDS:
        extra = [v for v in getattr(theirs, name) if v not in getattr(ours, name)]
        if extra:
            updates[name] = [*getattr(ours, name), *extra]
    if colour_given and theirs.color.upper() != ours.color.upper() and theirs.color.upper() != DEFAULT_COLOUR:
        updates["color"] = theirs.color
    if theirs.number is not None and theirs.number != ours.number:
        updates["number"] = theirs.number
    return replace(ours, **updates), list(updates)


def plan_merge(current: Codebook, incoming: list[IncomingCode], *, guids: dict[str, str],
               source: str, not_taken: list[str] | None = None, leave_out: frozenset[str] = frozenset()
               ) -> CodebookMerge:
    """The merge of ``incoming`` into ``current`` (``guids``: our code id -> stored GUID).

    ``leave_out``: labels of incoming codes the user chose not to take (e.g. Taguette's
    default tag 'interesting').
    """
    leave_out = frozenset(_key(label) for label in leave_out)
    by_guid = {g.lower(): i for i, g in guids.items() if g}
    codes = {c.id: c for c in current.codes}
    order = list(current.ids)
    changes: list[CodeChange] = []
    skipped: dict[str, list[str]] = {}
    id_of_key: dict[str, str] = {}
    touched: set[str] = set()
    for item in incoming:
        if _key(item.code.label_da) in leave_out:
            skipped.setdefault("codes you left out", []).append(item.code.label_da)
            continue
        target, how = _match(item, current, by_guid)
        if target is not None and target in touched:
            skipped.setdefault("codes that match a code the file already matched", []).append(item.code.label_da)
            continue
        if target is not None:
            merged, fields = _merged(codes[target], item.code, item.colour_given)
            codes[target] = merged
            touched.add(target)
            id_of_key[item.key] = target
            changes.append(CodeChange("changed" if fields else "unchanged", merged, how, item.code.label_da,
                                      fields, item.guid))
            continue
        if any(_key(c.label_da) == _key(item.code.label_da) for c in codes.values()):
            skipped.setdefault("codes whose label the file uses twice", []).append(item.code.label_da)
            continue
        code_id = _unique_id(item.code.id, set(codes))
        new = replace(item.code, id=code_id, parent=None)
        codes[code_id] = new
        order.append(code_id)
        touched.add(code_id)
        id_of_key[item.key] = code_id
        changes.append(CodeChange("added", new, None, item.code.label_da, [], item.guid))
    _settle_parents(incoming, id_of_key, codes, changes)
    _settle_clashes(codes, changes, current, skipped)
    merged_cb = Codebook(name=current.name, codes=[codes[i] for i in order], version=current.version,
                         language=current.language)
    try:
        codebook_from_data(merged_cb.to_dict(), source=source)
    except CodebookError as exc:
        raise CodebookError(f"the merged codebook would not be valid: {exc.message}", path=source,
                            code=exc.code) from None
    lines = list(not_taken or [])
    lines += [f"{len(labels)} {what} ({', '.join(labels[:5])}{' …' if len(labels) > 5 else ''})"
              for what, labels in skipped.items()]
    kept = sum(1 for i in current.ids if i not in touched)
    return CodebookMerge(source, merged_cb, changes, kept, lines)


def _unique_id(wanted: str, taken: set[str]) -> str:
    candidate, n = wanted, 2
    while candidate in taken:
        candidate = f"{wanted[:60]}-{n}"
        n += 1
    return candidate


def _settle_parents(incoming: list[IncomingCode], id_of_key: dict[str, str], codes: dict[str, Code],
                    changes: list[CodeChange]) -> None:
    """An incoming parent is taken when our code has none (or is new) and it makes no loop."""
    by_id = {c.code.id: c for c in changes}
    for item in incoming:
        code_id, parent = id_of_key.get(item.key), id_of_key.get(item.code.parent or "")
        if code_id is None or parent is None or parent == code_id or codes[code_id].parent is not None:
            continue
        chain, seen = parent, {code_id}
        while chain is not None and chain not in seen:
            seen.add(chain)
            chain = codes[chain].parent
        if chain is not None:
            continue                                     # would loop: keep ours
        codes[code_id] = replace(codes[code_id], parent=parent)
        change = by_id.get(code_id)
        if change is not None:
            change.code = codes[code_id]
            if change.kind != "added":
                change.kind = "changed"
                change.fields.append("parent")


def _settle_clashes(codes: dict[str, Code], changes: list[CodeChange], current: Codebook,
                    skipped: dict[str, list[str]]) -> None:
    """A renamed label or a number another code already has is not taken."""
    for change in changes:
        code = codes[change.code.id]
        others = [c for i, c in codes.items() if i != code.id]
        before = current.get(code.id) if code.id in current.ids else None
        if "label_da" in change.fields and any(_key(o.label_da) == _key(code.label_da) for o in others):
            code = replace(code, label_da=before.label_da)
            change.fields.remove("label_da")
            skipped.setdefault("renames to a label another code has", []).append(change.incoming_label)
        if code.number is not None and any(o.number == code.number for o in others):
            code = replace(code, number=before.number if before else None)
            if "number" in change.fields:
                change.fields.remove("number")
            skipped.setdefault("numbers another code already has", []).append(change.incoming_label)
        codes[code.id] = code
        change.code = code
        if change.kind == "changed" and not change.fields:
            change.kind = "unchanged"
