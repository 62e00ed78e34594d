"""The one module that reads and writes the database.

Every change goes through :class:`Store`, runs in one transaction, and writes an
audit entry in the same transaction, so the log and the data cannot disagree.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.exc import StaleDataError

from ..codebook import Code, Codebook, default_code_guid, parse_codebook
from ..config import MACHINE_CODER, database_url
from ..errors import ConflictError, FocusqaError
from ..types import CodeSuggestion, DocumentMetadata, ParsedDocument, turn_number
from . import coders as coder_rules
from .coders import CoderInfo, NotAllowedError, coder_info, password_matches
from .db import make_engine, migrate, session_factory, transaction
from .models import (AuditEntry, CodebookVersion, CoderRow, CodeRow, Coding, Document, FinishedDocument, Memo,
                     MemoQuote, SavedSearch, SegmentRow, Synthesis, utcnow)

STATUSES = ("suggested", "accepted", "rejected")
def _code_of(row) -> Code:
    values = {f: getattr(row, f) for f in CODE_FIELDS}
    values["examples"] = values["examples"] or []   # rows from before anchor examples
    return Code(id=row.id, **values)


CODE_FIELDS = ("number", "label_da", "label_en", "question", "definition", "include", "exclude",
               "terms", "color", "parent", "examples")


@dataclass
class DocumentInfo:
    id: int
    name: str
    round: str | None
    district: str | None
    group: str | None
    date: str | None
    source_format: str
    segments: int
    words: int
    attributes: dict = field(default_factory=dict)
    moderators: list = field(default_factory=list)
    imported_at: datetime | None = None

    @property
    def metadata(self) -> DocumentMetadata:
        """What the evaluator gave at import (or corrected since)."""
        return DocumentMetadata(round=self.round, district=self.district, group=self.group, date=self.date,
                                moderators=list(self.moderators), attributes=dict(self.attributes))

    def as_dict(self) -> dict:
        d = asdict(self)
        d["imported_at"] = self.imported_at.isoformat() if self.imported_at else None
        return d


@dataclass
class SegmentInfo:
    id: int
    document_id: int
    document: str
    index: int
    turn: int
    speaker: str | None
    role: str
    text: str
    start: int
    end: int
    timestamp: str | None
    round: str | None
    district: str | None
    group: str | None

    @property
    def turn_number(self) -> int:
        """The turn number every page and export shows ("tur 24"), see :func:`focusqa.types.turn_number`."""
        return turn_number(self.turn)


@dataclass
class CodingInfo:
    id: int
    segment_id: int
    code_id: str
    coder: str
    origin: str
    status: str
    score: float | None
    evidence: dict
    start: int | None
    end: int | None
    version: int
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class Excerpt:
    """A coded segment with everything an export or a table needs about it."""

    segment: SegmentInfo
    coding: CodingInfo
    memos: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The coded text: the coded part when only part of the turn was coded."""
        c, s = self.coding, self.segment
        if c.start is not None and c.end is not None and s.start <= c.start < c.end <= s.end:
            return s.text[c.start - s.start:c.end - s.start]
        return s.text


@dataclass
class MemoInfo:
    id: int
    document_id: int | None
    segment_id: int | None
    code_id: str | None
    author: str
    text: str
    version: int
    updated_at: datetime | None


@dataclass
class SavedSearchInfo:
    id: int
    name: str
    query: str
    filters: dict
    created_by: str | None
    updated_at: datetime | None


@dataclass
class SynthesisInfo:
    """The evaluator's text for one guide point x respondent group (district "" = the group)."""

    id: int
    code_id: str
    group: str
    district: str
    text: str
    author: str
    version: int
    updated_at: datetime | None


@dataclass
class AuditInfo:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    before: dict | None
    after: dict | None


def _doc_info(doc: Document, segments: int, words: int) -> DocumentInfo:
    return DocumentInfo(doc.id, doc.name, doc.round, doc.district, doc.respondent_group, doc.date,
                        doc.source_format, segments, words, dict(doc.attributes or {}),
                        list(doc.moderators or []), doc.imported_at)


def _segment_info(seg: SegmentRow, doc: Document) -> SegmentInfo:
    return SegmentInfo(seg.id, doc.id, doc.name, seg.index, seg.turn, seg.speaker, seg.role, seg.text,
                       seg.start, seg.end, seg.timestamp, doc.round, doc.district, doc.respondent_group)


def _coding_info(c: Coding) -> CodingInfo:
    return CodingInfo(c.id, c.segment_id, c.code_id, c.coder, c.origin, c.status, c.score,
                      dict(c.evidence or {}), c.start, c.end, c.version, c.created_at, c.updated_at)


def _saved_search_info(r: SavedSearch) -> SavedSearchInfo:
    return SavedSearchInfo(r.id, r.name, r.query, dict(r.filters or {}), r.created_by, r.updated_at)


def _coding_state(c: Coding | None) -> dict | None:
    """What the audit log keeps of a coding, enough to restore it."""
    if c is None:
        return None
    return {"segment_id": c.segment_id, "code_id": c.code_id, "coder": c.coder, "origin": c.origin,
            "status": c.status, "score": c.score, "evidence": c.evidence, "start": c.start, "end": c.end}


@contextmanager
def _races_as_conflicts() -> Iterator[None]:
    """Two sessions writing the same coding at once: the loser is told, in words, and the
    page then shows the current state."""
    try:
        yield
    except StaleDataError:
        raise ConflictError("This coding was changed by someone else at the same moment; "
                            "the page now shows the current state") from None
    except IntegrityError:
        raise ConflictError("This code was added by another session at the same moment; "
                            "the page now shows the current state") from None


class Store:
    """A focusqa project database. ``Store()`` opens the default SQLite file."""

    def __init__(self, url: str | None = None, *, upgrade: bool = True):
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        if upgrade:
            migrate(self.engine)
        self._factory = session_factory(self.engine)
        if upgrade:
            self._seed_codebook()

    def _seed_codebook(self) -> None:
        """A new database starts with the bundled interview-guide codebook."""
        with self.session() as s:
            if s.scalar(select(func.count()).select_from(CodeRow)):
                return
        from ..codebook import load_codebook

        self.sync_codebook(load_codebook(), actor="system")

    def session(self):
        return transaction(self._factory)

    def dispose(self) -> None:
        self.engine.dispose()

    # --------------------------------------------------------------- coders
    def project_coders(self) -> list[CoderInfo]:
        """The project's coder list (people, not the machine), by name."""
        with self.session() as s:
            return [coder_info(r) for r in s.scalars(select(CoderRow).order_by(CoderRow.name))]

    def project_coder(self, name: str) -> CoderInfo | None:
        with self.session() as s:
            row = coder_rules.find(s, name)
            return coder_info(row) if row is not None else None

    def project_is_open(self) -> bool:
        """True while no coder has a password: anyone may add themselves (see ``store.coders``)."""
        with self.session() as s:
            return coder_rules.project_is_open(s)

    def add_coder(self, name: str, *, role: str = "coder", password: str | None = None,
                  actor: str = "admin") -> CoderInfo:
        """Put a coder on the list (a team lead's command; ``password`` is stored hashed)."""
        with self.session() as s:
            return coder_info(coder_rules.add(s, name, actor, role=role, password=password))

    def enroll(self, name: str, password: str | None = None, *, verified: bool = False) -> CoderInfo:
        """A person adds themselves from the app, and is signed in as that coder.

        Allowed in an open project (or with ``verified``: a name from the OIDC login,
        whose identity the organisation's login vouches for). The first coder of a
        project without a reviewer becomes its reviewer (the person who starts it).
        """
        name = coder_rules.clean_name(name)
        with self.session() as s:
            if not verified and not coder_rules.project_is_open(s):
                raise NotAllowedError("coders in this project are added by the team lead "
                                      "('focusqa coders add'); ask them to add you")
            row = coder_rules.find(s, name) if verified else None
            if row is not None:
                return coder_info(row)
            role = "coder" if coder_rules.has_reviewer(s) else "reviewer"
            return coder_info(coder_rules.add(s, name, name, role=role, password=password))

    def authenticate(self, name: str, password: str = "") -> CoderInfo:
        """The coder ``name`` if ``password`` is theirs (or they have none); else refused.

        The app signs a person in only through this, so the name every later write carries
        (and the audit log records) is one that proved itself.
        """
        with self.session() as s:
            row = coder_rules.find(s, name)
            if row is None:
                raise NotAllowedError(f"'{name}' is not a coder in this project")
            if row.password_hash is not None and not password_matches(password or "", row.password_hash):
                raise NotAllowedError(f"wrong password for {name}")
            return coder_info(row)

    def set_coder_password(self, name: str, password: str | None, *, actor: str = "admin") -> CoderInfo:
        """Set (or, with ``None``/empty, remove) a coder's password; only the hash is stored."""
        with self.session() as s:
            row = self._listed(s, name)
            row.password_hash = coder_rules.hash_password(password) if password else None
            self._audit(s, actor, "coder-password", "coder", name[:64], None, {"password": bool(password)})
            return coder_info(row)

    def set_coder_role(self, name: str, role: str, *, actor: str = "admin") -> CoderInfo:
        if role not in coder_rules.ROLES:
            raise FocusqaError(f"a role is one of {', '.join(coder_rules.ROLES)}")
        with self.session() as s:
            row = self._listed(s, name)
            before, row.role = row.role, role
            self._audit(s, actor, "coder-role", "coder", name[:64], {"role": before}, {"role": role})
            return coder_info(row)

    @staticmethod
    def _listed(s: Session, name: str) -> CoderRow:
        row = coder_rules.find(s, name)
        if row is None:
            raise FocusqaError(f"'{name}' is not a coder in this project ('focusqa coders list' shows them)")
        return row

    # ---------------------------------------------------------------- audit
    @staticmethod
    def _audit(s: Session, actor: str, action: str, entity: str, entity_id, before=None, after=None) -> None:
        s.add(AuditEntry(actor=actor, action=action, entity=entity,
                         entity_id=str(entity_id) if entity_id is not None else None,
                         before=before, after=after))

    def audit_log(self, *, actor: str | None = None, entity: str | None = None,
                  limit: int = 200) -> list[AuditInfo]:
        with self.session() as s:
            q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
            if actor:
                q = q.where(AuditEntry.actor == actor)
            if entity:
                q = q.where(AuditEntry.entity == entity)
            return [AuditInfo(a.id, a.at, a.actor, a.action, a.entity, a.entity_id, a.before, a.after)
                    for a in s.scalars(q)]

    # ------------------------------------------------------------ documents
    def find_document(self, content_hash: str) -> int | None:
        with self.session() as s:
            return s.scalar(select(Document.id).where(Document.content_hash == content_hash))

    def import_document(self, parsed: ParsedDocument, actor: str = "import") -> tuple[str, int]:
        """Store a parsed transcript in one transaction.

        Returns ``("imported", id)``, or ``("present", id)`` when the same content is
        already in the database (nothing is changed then).
        """
        existing = self.find_document(parsed.content_hash)
        if existing is not None:
            return "present", existing
        meta = parsed.metadata
        try:
            with self.session() as s:
                doc = Document(name=parsed.name, content_hash=parsed.content_hash,
                               source_format=parsed.source_format, round=meta.round,
                               district=meta.district, respondent_group=meta.group, date=meta.date,
                               moderators=list(meta.moderators), attributes=dict(meta.attributes),
                               plain_text=parsed.plain_text, preamble=parsed.preamble, imported_by=actor,
                               word_count=parsed.word_count)
                s.add(doc)
                s.flush()
                s.add_all(SegmentRow(document_id=doc.id, index=seg.index, turn=seg.turn, speaker=seg.speaker,
                                     role=seg.role, text=seg.text, start=seg.start, end=seg.end,
                                     timestamp=seg.timestamp) for seg in parsed.segments)
                self._audit(s, actor, "import", "document", doc.id, None,
                            {"name": parsed.name, "segments": len(parsed.segments),
                             "round": meta.round, "district": meta.district, "group": meta.group})
                s.flush()
                return "imported", doc.id
        except IntegrityError:
            existing = self.find_document(parsed.content_hash)
            if existing is not None:  # a concurrent import of the same file won
                return "present", existing
            raise

    def documents(self) -> list[DocumentInfo]:
        with self.session() as s:
            counts = dict(s.execute(select(SegmentRow.document_id, func.count(SegmentRow.id))
                                    .group_by(SegmentRow.document_id)).all())
            docs = s.scalars(select(Document).options(defer(Document.plain_text), defer(Document.preamble))
                             .order_by(Document.round, Document.district, Document.respondent_group,
                                       Document.name))
            return [_doc_info(d, counts.get(d.id, 0), d.word_count) for d in docs]

    def document(self, document_id: int) -> DocumentInfo:
        for d in self.documents():
            if d.id == document_id:
                return d
        raise FocusqaError(f"no document with id {document_id}")

    def document_text(self, document_id: int) -> str:
        with self.session() as s:
            doc = s.get(Document, document_id)
            if doc is None:
                raise FocusqaError(f"no document with id {document_id}")
            return doc.plain_text

    def update_document_metadata(self, document_id: int, metadata: DocumentMetadata, actor: str) -> None:
        with self.session() as s:
            doc = s.get(Document, document_id)
            if doc is None:
                raise FocusqaError(f"there is no interview with id {document_id} (deleted meanwhile?)")
            before = {"round": doc.round, "district": doc.district, "group": doc.respondent_group,
                      "date": doc.date, "attributes": doc.attributes}
            doc.round, doc.district = metadata.round, metadata.district
            doc.respondent_group, doc.date = metadata.group, metadata.date
            doc.attributes = dict(metadata.attributes)
            self._audit(s, actor, "edit-metadata", "document", document_id, before,
                        {"round": doc.round, "district": doc.district, "group": doc.respondent_group,
                         "date": doc.date, "attributes": doc.attributes})

    def document_work(self, document_id: int) -> dict[str, int]:
        """Per coder, the confirmed codings and memos on an interview: what deleting it loses."""
        with self.session() as s:
            codings = s.execute(select(Coding.coder, func.count(Coding.id)).join(SegmentRow)
                                .where(SegmentRow.document_id == document_id, Coding.status == "accepted",
                                       Coding.coder != MACHINE_CODER).group_by(Coding.coder))
            work = dict(codings.all())
            memo_ids = select(SegmentRow.id).where(SegmentRow.document_id == document_id)
            memos = s.execute(select(Memo.author, func.count(Memo.id))
                              .where((Memo.document_id == document_id) | Memo.segment_id.in_(memo_ids))
                              .group_by(Memo.author))
            for author, n in memos:
                work[author] = work.get(author, 0) + n
            return work

    def delete_document(self, document_id: int, actor: str, *, as_coder: bool = False) -> None:
        """Delete an interview with its turns, codings and memos.

        ``as_coder``: ``actor`` is a coder in the app, who may delete an interview holding
        others' codings or memos only as a reviewer (the command line is the administrator's).
        """
        others = [c for c in self.document_work(document_id) if c != actor] if as_coder else []
        with self.session() as s:
            if as_coder:
                row = coder_rules.acting(s, actor)
                if others and row.role != "reviewer":
                    raise NotAllowedError(f"the interview holds codings or memos by {', '.join(sorted(others))}; "
                                          "only a reviewer can delete it")
            doc = s.get(Document, document_id)
            if doc is None:
                return
            self._audit(s, actor, "delete", "document", document_id, {"name": doc.name}, None)
            s.delete(doc)

    def segments(self, document_id: int | None = None, *, role: str | None = None,
                 ids: Iterable[int] | None = None) -> list[SegmentInfo]:
        with self.session() as s:
            q = select(SegmentRow, Document).join(Document).order_by(Document.id, SegmentRow.index)
            if document_id is not None:
                q = q.where(SegmentRow.document_id == document_id)
            if role:
                q = q.where(SegmentRow.role == role)
            if ids is not None:
                q = q.where(SegmentRow.id.in_(list(ids)))
            return [_segment_info(seg, doc) for seg, doc in s.execute(q)]

    # ------------------------------------------------------------- codebook
    def sync_codebook(self, codebook: Codebook, actor: str = "system", *,
                      guids: dict[str, str] | None = None, audit: dict | None = None) -> int:
        """Make the stored codes equal ``codebook``; a new version is written only on change.

        Codes that disappear from the file are kept while codings use them. A new code
        gets its GUID from ``guids`` (the file it came from), else focusqa's own;
        ``audit`` is added to the version's audit entry (e.g. which file was imported).
        """
        guids = guids or {}
        with self.session() as s:
            rows = {r.id: r for r in s.scalars(select(CodeRow))}
            changed = False
            for position, code in enumerate(codebook.codes):
                row = rows.get(code.id)
                values = {f: getattr(code, f) for f in CODE_FIELDS}
                if row is None:
                    s.add(CodeRow(id=code.id, position=position, guid=guids.get(code.id) or default_code_guid(code.id),
                                  **values))
                    changed = True
                elif any(getattr(row, f) != v for f, v in values.items()) or row.position != position:
                    for f, v in values.items():
                        setattr(row, f, v)
                    row.position = position
                    changed = True
            latest = s.scalar(select(func.max(CodebookVersion.version))) or 0
            if changed or latest == 0:
                s.flush()
                version = latest + 1
                s.add(CodebookVersion(version=version, name=codebook.name, content=self._codebook_yaml(s, codebook.name),
                                      created_by=actor))
                self._audit(s, actor, "codebook-version", "codebook", version, None,
                            {"version": version, **(audit or {})})
                return version
            return latest

    @staticmethod
    def _codebook_yaml(s: Session, name: str) -> str:
        rows = s.scalars(select(CodeRow).order_by(CodeRow.position, CodeRow.id)).all()
        cb = Codebook(name=name, codes=[_code_of(r) for r in rows])
        return cb.to_yaml()

    def codebook(self) -> Codebook:
        """The current codebook, as stored (see :meth:`sync_codebook`)."""
        with self.session() as s:
            rows = s.scalars(select(CodeRow).order_by(CodeRow.position, CodeRow.id)).all()
            latest = s.scalars(select(CodebookVersion).order_by(CodebookVersion.version.desc()).limit(1)).first()
        name = latest.name if latest else "codebook"
        return Codebook(name=name, version=latest.version if latest else 1,
                        codes=[_code_of(r) for r in rows])

    def add_anchor_example(self, code_id: str, text: str, actor: str) -> int:
        """Make a passage an anchor example of a code (a new codebook version); returns the version.

        The same passage is not added twice; an empty one is refused.
        """
        text = " ".join(text.split())
        if not text:
            raise FocusqaError("an anchor example needs some text")
        current = self.codebook()
        code = current.get(code_id)
        if text in code.examples:
            return current.version
        return self.save_code(replace(code, examples=[*code.examples, text]), actor)

    def apply_codebook_merge(self, merge, actor: str) -> int:
        """Write a previewed :class:`~focusqa.codebook_merge.CodebookMerge`; returns the version."""
        if not merge.writes:
            return self.codebook().version
        return self.sync_codebook(merge.codebook, actor, guids=merge.new_guids, audit={
            "file": merge.source, "added": merge.count("added"), "changed": merge.count("changed"),
            "unchanged": merge.count("unchanged"), "not_taken": merge.not_taken})

    def code_guids(self) -> dict[str, str]:
        """Each code's stored REFI-QDA GUID (kept across exports, so re-imports match by it)."""
        with self.session() as s:
            return {i: g or default_code_guid(i) for i, g in s.execute(select(CodeRow.id, CodeRow.guid)).all()}

    def save_code(self, code: Code, actor: str) -> int:
        """Add or edit one code (validated like a codebook file); returns the new version."""
        current = self.codebook()
        codes = [code if c.id == code.id else c for c in current.codes]
        if code.id not in current.ids:
            codes.append(code)
        candidate = Codebook(name=current.name, codes=codes, version=current.version)
        parse_codebook(candidate.to_yaml(), source="kodebog")  # raises CodebookError
        return self.sync_codebook(candidate, actor)

    def codebook_versions(self) -> list[tuple[int, datetime, str | None]]:
        with self.session() as s:
            return [(v.version, v.created_at, v.created_by)
                    for v in s.scalars(select(CodebookVersion).order_by(CodebookVersion.version))]

    # -------------------------------------------------------------- codings
    def codings(self, *, document_id: int | None = None, segment_ids: Iterable[int] | None = None,
                coder: str | None = None, origin: str | None = None, status: str | None = None,
                code_id: str | None = None) -> list[CodingInfo]:
        with self.session() as s:
            q = select(Coding).order_by(Coding.segment_id, Coding.id)
            if document_id is not None:
                q = q.join(SegmentRow).where(SegmentRow.document_id == document_id)
            if segment_ids is not None:
                q = q.where(Coding.segment_id.in_(list(segment_ids)))
            for column, value in ((Coding.coder, coder), (Coding.origin, origin),
                                  (Coding.status, status), (Coding.code_id, code_id)):
                if value is not None:
                    q = q.where(column == value)
            return [_coding_info(c) for c in s.scalars(q)]

    def coders(self) -> list[str]:
        with self.session() as s:
            return sorted(s.scalars(select(Coding.coder).where(Coding.origin == "human").distinct()))

    def _check_code(self, s: Session, code_id: str) -> None:
        if s.get(CodeRow, code_id) is None:
            raise FocusqaError(f"'{code_id}' is not a code in the codebook")

    @staticmethod
    def _expect(row: Coding | None, expected_version: int | None, what: str) -> None:
        if expected_version is None:
            return
        current = row.version if row is not None else 0
        if current != expected_version:
            who = f" by {row.coder}" if row is not None else ""
            raise ConflictError(f"{what} was changed{who} since you loaded it; the page now shows "
                                f"the current state")

    def set_coding(self, segment_id: int, code_id: str, coder: str, status: str = "accepted", *,
                   origin: str = "human", score: float | None = None, evidence: dict | None = None,
                   start: int | None = None, end: int | None = None,
                   expected_version: int | None = None) -> CodingInfo:
        """Add or change ``coder``'s coding of a segment (audited; version-checked if asked)."""
        if status not in STATUSES:
            raise FocusqaError(f"status must be one of {', '.join(STATUSES)}")
        if not coder or not coder.strip():
            raise FocusqaError("a coder name is required before coding")
        with _races_as_conflicts(), self.session() as s:
            if coder != MACHINE_CODER:
                coder_rules.acting(s, coder)
            self._check_code(s, code_id)
            seg = s.get(SegmentRow, segment_id)
            if seg is None:
                raise FocusqaError(f"no segment with id {segment_id}")
            if start is not None and end is not None and not (seg.start <= start < end <= seg.end):
                raise FocusqaError("the coded part must lie inside the segment")
            row = s.scalar(select(Coding).where(Coding.segment_id == segment_id,
                                                Coding.code_id == code_id, Coding.coder == coder))
            self._expect(row, expected_version, "This coding")
            before = _coding_state(row)
            if row is None:
                row = Coding(segment_id=segment_id, code_id=code_id, coder=coder, origin=origin)
                s.add(row)
            row.status, row.origin, row.updated_at = status, origin, utcnow()
            if score is not None:
                row.score = score
            if evidence is not None:
                row.evidence = evidence
            row.start, row.end = start, end
            s.flush()
            self._audit(s, coder, "code" if before is None else "recode", "coding", row.id,
                        before, _coding_state(row))
            return _coding_info(row)

    def remove_coding(self, coding_id: int, actor: str, *, expected_version: int | None = None) -> None:
        """Remove a coding: the actor's own, or anyone's when the actor is a reviewer."""
        try:
            with self.session() as s:
                row = s.get(Coding, coding_id)
                if row is None:
                    coder_rules.acting(s, actor)
                    if expected_version is not None:
                        raise ConflictError("This coding was already removed by someone else")
                    return
                coder_rules.require_owner_or_reviewer(s, actor, row.coder, "This coding")
                self._expect(row, expected_version, "This coding")
                self._audit(s, actor, "uncode", "coding", coding_id, _coding_state(row), None)
                s.delete(row)
        except StaleDataError:
            raise ConflictError("This coding was changed by someone else at the same moment") from None

    def review(self, segment_id: int, code_id: str, coder: str, decision: str, *,
               expected_version: int | None = None) -> CodingInfo:
        """Accept or reject the machine's suggestion of ``code_id`` for a segment.

        The decision becomes the coder's own (human) coding, carrying the suggestion's
        score and evidence; the machine's row keeps its score and records the outcome.
        ``expected_version`` is the version of the machine's row the coder saw.
        """
        if decision not in ("accepted", "rejected"):
            raise FocusqaError("decision must be 'accepted' or 'rejected'")
        try:
            with self.session() as s:
                coder_rules.acting(s, coder)
                auto = s.scalar(select(Coding).where(Coding.segment_id == segment_id,
                                                     Coding.code_id == code_id,
                                                     Coding.coder == MACHINE_CODER))
                if auto is not None:
                    self._expect(auto, expected_version, "This suggestion")
                    before = _coding_state(auto)
                    auto.status, auto.updated_at = decision, utcnow()
                    s.flush()
                    self._audit(s, coder, "review", "coding", auto.id, before, _coding_state(auto))
        except StaleDataError:
            raise ConflictError("This suggestion was reviewed by someone else at the same moment") from None
        return self.set_coding(segment_id, code_id, coder, decision,
                               score=auto.score if auto is not None else None,
                               evidence=dict(auto.evidence or {}) if auto is not None else None)

    def save_turn_codes(self, segment_id: int, coder: str, *, add: Iterable[str] = (),
                        remove: Iterable[str] = (), seen: dict[tuple[str, str], int] | None = None) -> int:
        """Add and remove ``coder``'s whole-turn codes of one segment as one step (one undo).

        A code added that the machine suggests is accepted as :meth:`review` accepts it (the
        coder's coding carries the suggestion's score and evidence; the suggestion records the
        outcome). ``seen`` maps (owner, code id) to the version of the row the coder saw (the
        machine's suggestion, or the coder's own coding); a row changed meanwhile refuses the
        whole step. Returns the number of rows changed.
        """
        seen = seen or {}
        befores: list[dict | None] = []
        afters: list[dict | None] = []

        def row_of(s: Session, code_id: str, owner: str) -> Coding | None:
            return s.scalar(select(Coding).where(Coding.segment_id == segment_id, Coding.code_id == code_id,
                                                 Coding.coder == owner))

        with _races_as_conflicts(), self.session() as s:
            coder_rules.acting(s, coder)
            if s.get(SegmentRow, segment_id) is None:
                raise FocusqaError(f"no segment with id {segment_id}")
            for code_id in dict.fromkeys(add):
                self._check_code(s, code_id)
                auto = row_of(s, code_id, MACHINE_CODER)
                if auto is not None:
                    self._expect(auto, seen.get((MACHINE_CODER, code_id)), "This suggestion")
                    befores.append(_coding_state(auto))
                    auto.status, auto.updated_at = "accepted", utcnow()
                    s.flush()
                    afters.append(_coding_state(auto))
                row = row_of(s, code_id, coder)
                self._expect(row, seen.get((coder, code_id)), "This coding")
                befores.append(_coding_state(row))
                if row is None:
                    row = Coding(segment_id=segment_id, code_id=code_id, coder=coder, origin="human")
                    s.add(row)
                row.status, row.origin, row.updated_at, row.start, row.end = "accepted", "human", utcnow(), None, None
                if auto is not None:
                    row.score, row.evidence = auto.score, dict(auto.evidence or {})
                s.flush()
                afters.append(_coding_state(row))
            for code_id in dict.fromkeys(remove):
                row = row_of(s, code_id, coder)
                self._expect(row, seen.get((coder, code_id)), "This coding")
                if row is None or row.start is not None:
                    continue                     # gone already, or a coded part (not the whole turn)
                befores.append(_coding_state(row))
                afters.append(None)
                s.delete(row)
                s.flush()
            if afters:
                self._audit(s, coder, "code-turn", "coding", segment_id, {"codings": befores},
                            {"codings": afters})
        return len(afters)

    def replace_suggestions(self, suggestions: dict[int, list[CodeSuggestion]],
                            actor: str = MACHINE_CODER) -> int:
        """Write the machine's suggestions for these segments.

        Suggestions still waiting for review are replaced; reviewed ones, suggestions
        made from a search (origin ``search``) and every human coding are left alone. Returns the number of suggestions written.
        """
        written = 0
        with self.session() as s:
            segment_ids = list(suggestions)
            reviewed: set[tuple[int, str]] = set()
            for chunk_start in range(0, len(segment_ids), 500):
                chunk = segment_ids[chunk_start:chunk_start + 500]
                s.execute(delete(Coding).where(Coding.segment_id.in_(chunk), Coding.coder == MACHINE_CODER,
                                               Coding.status == "suggested", Coding.origin == "auto"))
                reviewed.update(tuple(r) for r in s.execute(select(Coding.segment_id, Coding.code_id).where(
                    Coding.segment_id.in_(chunk), Coding.coder == MACHINE_CODER)).all())
            known = set(s.scalars(select(CodeRow.id)))
            for segment_id, items in suggestions.items():
                for item in items:
                    if (segment_id, item.code_id) in reviewed or item.code_id not in known:
                        continue
                    s.add(Coding(segment_id=segment_id, code_id=item.code_id, coder=MACHINE_CODER,
                                 origin="auto", status="suggested", score=round(float(item.score), 4),
                                 evidence=item.evidence))
                    written += 1
            self._audit(s, actor, "autocode", "coding", None, None,
                        {"segments": len(suggestions), "suggestions": written})
        return written

    def undo_last(self, actor: str, *, of: str | None = None) -> AuditInfo | None:
        """Undo the most recent coding change of ``of`` (default: ``actor``) not undone yet.

        A coder undoes only their own changes; a reviewer may undo another coder's
        (``of=``), and the undo is logged under the reviewer's name. Accepting or
        rejecting a suggestion is one change to the user, though it writes two entries
        (the suggestion's outcome and the coder's coding): both go.
        """
        whose = of or actor
        with self.session() as s:
            if whose == actor:
                coder_rules.acting(s, actor)
            else:
                coder_rules.require_owner_or_reviewer(s, actor, whose, f"{whose}'s last change")
            undone = {int(e) for e in s.scalars(select(AuditEntry.entity_id).where(
                AuditEntry.action == "undo", AuditEntry.entity == "audit")) if e}
            entries = [e for e in s.scalars(select(AuditEntry).where(
                AuditEntry.actor == whose, AuditEntry.entity == "coding",
                AuditEntry.action.in_(("code", "recode", "uncode", "review", "code-hits", "code-turn")))
                .order_by(AuditEntry.id.desc()).limit(200)) if e.id not in undone]
            if not entries:
                return None
            target = entries[0]
            if target.action in ("code-hits", "code-turn"):
                self._restore_hits(s, target, actor)
                return AuditInfo(target.id, target.at, target.actor, target.action, target.entity,
                                 target.entity_id, target.before, target.after)
            self._restore(s, target, actor)
            key = target.before or target.after
            if len(entries) > 1 and entries[1].action == "review":
                previous = entries[1].before or entries[1].after
                if (previous["segment_id"], previous["code_id"]) == (key["segment_id"], key["code_id"]):
                    self._restore(s, entries[1], actor)
            return AuditInfo(target.id, target.at, target.actor, target.action, target.entity,
                             target.entity_id, target.before, target.after)

    def _restore(self, s: Session, entry: AuditEntry, actor: str) -> None:
        self._restore_state(s, entry.before, entry.after)
        self._audit(s, actor, "undo", "audit", entry.id, entry.after, entry.before)

    def _restore_hits(self, s: Session, entry: AuditEntry, actor: str) -> None:
        """Undo a step of several codings (:meth:`code_hits`, :meth:`save_turn_codes`): every
        coding goes back to its state before."""
        for before, after in zip(entry.before["codings"], entry.after["codings"]):
            self._restore_state(s, before, after)
        self._audit(s, actor, "undo", "audit", entry.id, entry.after, entry.before)

    @staticmethod
    def _restore_state(s: Session, state: dict | None, after: dict | None) -> None:
        key = state or after
        row = s.scalar(select(Coding).where(Coding.segment_id == key["segment_id"],
                                            Coding.code_id == key["code_id"], Coding.coder == key["coder"]))
        if state is None:
            if row is not None:
                s.delete(row)
        else:
            if row is None:
                row = Coding(segment_id=state["segment_id"], code_id=state["code_id"], coder=state["coder"],
                             origin=state["origin"])
                s.add(row)
            for f in ("origin", "status", "score", "evidence", "start", "end"):
                setattr(row, f, state[f])
            row.updated_at = utcnow()
        s.flush()

    # ------------------------------------------------------- search support
    def code_hits(self, segment_ids: Iterable[int], code_id: str, coder: str, *,
                  as_suggestions: bool = False, evidence: dict[int, dict] | None = None,
                  query: str = "") -> tuple[int, int]:
        """Code many segments (a search's hits) in one transaction, undone as one step.

        Accepted codings are ``coder``'s own; suggestions are the machine's rows with
        origin ``search``, reviewed on the Kodning page like any suggestion (a refit
        keeps them). A segment already coded with the code (by ``coder``, or suggested
        or decided for the machine's row) is left alone. Returns (written, skipped).
        """
        if not coder or not coder.strip():
            raise FocusqaError("a coder name is required before coding")
        ids = list(dict.fromkeys(int(i) for i in segment_ids))
        owner = MACHINE_CODER if as_suggestions else coder
        befores: list[dict | None] = []
        afters: list[dict] = []
        with self.session() as s:
            coder_rules.acting(s, coder)
            self._check_code(s, code_id)
            known = set()
            existing: dict[int, Coding] = {}
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                known.update(s.scalars(select(SegmentRow.id).where(SegmentRow.id.in_(chunk))))
                existing.update((c.segment_id, c) for c in s.scalars(select(Coding).where(
                    Coding.segment_id.in_(chunk), Coding.code_id == code_id, Coding.coder == owner)))
            missing = [i for i in ids if i not in known]
            if missing:
                raise FocusqaError(f"no segment with id {missing[0]}")
            for segment_id in ids:
                row = existing.get(segment_id)
                if row is not None and (as_suggestions or row.status == "accepted"):
                    continue
                befores.append(_coding_state(row))
                if row is None:
                    row = Coding(segment_id=segment_id, code_id=code_id, coder=owner)
                    s.add(row)
                row.origin = "search" if as_suggestions else "human"
                row.status = "suggested" if as_suggestions else "accepted"
                row.evidence = {**(evidence or {}).get(segment_id, {}), "search": query,
                                **({"by": coder} if as_suggestions else {})}
                row.start = row.end = None
                row.updated_at = utcnow()
                s.flush()
                afters.append(_coding_state(row))
            if afters:
                self._audit(s, coder, "code-hits", "coding", None, {"codings": befores},
                            {"codings": afters, "code_id": code_id, "query": query})
        return len(afters), len(ids) - len(afters)

    def search_signature(self) -> tuple[tuple[int, str], ...]:
        """(document id, content hash) of every document: a search index built for one
        signature is valid while no document is imported or deleted."""
        with self.session() as s:
            return tuple(tuple(r) for r in s.execute(
                select(Document.id, Document.content_hash).order_by(Document.id)))

    def search_metadata(self) -> dict[int, tuple[str, str | None, str | None, str | None]]:
        """Per document id: (name, round, district, group), read fresh for every search."""
        with self.session() as s:
            return {r[0]: tuple(r[1:]) for r in s.execute(
                select(Document.id, Document.name, Document.round, Document.district,
                       Document.respondent_group))}

    def search_segments(self) -> list[tuple[int, int, int, str | None, str, str, int]]:
        """(segment id, document id, turn, speaker, role, text, start) in document order,
        the plain rows a search index is built from."""
        with self.session() as s:
            return [tuple(r) for r in s.execute(
                select(SegmentRow.id, SegmentRow.document_id, SegmentRow.turn, SegmentRow.speaker,
                       SegmentRow.role, SegmentRow.text, SegmentRow.start)
                .order_by(SegmentRow.document_id, SegmentRow.index))]

    def coding_states(self, *, code_ids: Iterable[str] | None = None,
                      segment_ids: Iterable[int] | None = None) -> list[tuple[int, str, str, str]]:
        """(segment id, code id, coder, status) of codings, optionally of some codes or segments."""
        with self.session() as s:
            q = select(Coding.segment_id, Coding.code_id, Coding.coder, Coding.status)
            if code_ids is not None:
                q = q.where(Coding.code_id.in_(list(code_ids)))
            if segment_ids is None:
                return [tuple(r) for r in s.execute(q)]
            ids = list(segment_ids)
            out: list[tuple[int, str, str, str]] = []
            for start in range(0, len(ids), 500):
                out += [tuple(r) for r in s.execute(q.where(Coding.segment_id.in_(ids[start:start + 500])))]
            return out

    def save_search(self, name: str, query: str, filters: dict, actor: str) -> SavedSearchInfo:
        """Save (or overwrite, by name) a search and its filters."""
        name = name.strip()
        if not name:
            raise FocusqaError("a saved search needs a name")
        if not query.strip():
            raise FocusqaError("a saved search needs a query")
        with self.session() as s:
            row = s.scalar(select(SavedSearch).where(SavedSearch.name == name))
            before = {"query": row.query, "filters": row.filters} if row is not None else None
            if row is None:
                row = SavedSearch(name=name, created_by=actor)
                s.add(row)
            row.query, row.filters, row.updated_at = query, dict(filters), utcnow()
            s.flush()
            self._audit(s, actor, "save-search", "search", row.id, before,
                        {"name": name, "query": query, "filters": dict(filters)})
            return _saved_search_info(row)

    def saved_searches(self) -> list[SavedSearchInfo]:
        with self.session() as s:
            return [_saved_search_info(r) for r in s.scalars(select(SavedSearch).order_by(SavedSearch.name))]

    def saved_search(self, name: str) -> SavedSearchInfo:
        for found in self.saved_searches():
            if found.name == name:
                return found
        raise FocusqaError(f"no saved search named '{name}'")

    def delete_saved_search(self, name: str, actor: str) -> None:
        with self.session() as s:
            row = s.scalar(select(SavedSearch).where(SavedSearch.name == name))
            if row is not None:
                self._audit(s, actor, "delete-search", "search", row.id,
                            {"name": row.name, "query": row.query, "filters": row.filters}, None)
                s.delete(row)

    def add_seed_terms(self, code_id: str, terms: Iterable[str], actor: str) -> int:
        """Add terms to a code's seed terms (a new codebook version); returns the version."""
        code = self.codebook().get(code_id)
        new = [t for t in dict.fromkeys(t.strip() for t in terms) if t and t not in code.terms]
        if not new:
            return self.codebook().version
        return self.save_code(replace(code, terms=list(code.terms) + new), actor)

    # ---------------------------------------------------------------- memos
    def add_memo(self, author: str, text: str, *, segment_id: int | None = None,
                 document_id: int | None = None, code_id: str | None = None) -> MemoInfo:
        if not author or not author.strip():
            raise FocusqaError("a coder name is required before writing memos")
        with self.session() as s:
            coder_rules.acting(s, author)
            memo = Memo(author=author, text=text, segment_id=segment_id, document_id=document_id,
                        code_id=code_id)
            s.add(memo)
            s.flush()
            self._audit(s, author, "memo", "memo", memo.id, None, {"text": text})
            return self._memo_info(memo)

    def update_memo(self, memo_id: int, text: str, actor: str, *, expected_version: int | None = None) -> MemoInfo:
        try:
            with self.session() as s:
                memo = s.get(Memo, memo_id)
                if memo is None:
                    raise ConflictError("This memo was deleted by someone else")
                coder_rules.require_owner_or_reviewer(s, actor, memo.author, "This memo")
                if expected_version is not None and memo.version != expected_version:
                    raise ConflictError(f"This memo was changed by {memo.author} since you opened it; "
                                        "the page now shows the current text")
                before = {"text": memo.text}
                memo.text, memo.updated_at = text, utcnow()
                s.flush()
                self._audit(s, actor, "edit-memo", "memo", memo_id, before, {"text": text})
                return self._memo_info(memo)
        except StaleDataError:
            raise ConflictError("This memo was changed by someone else at the same moment") from None

    def delete_memo(self, memo_id: int, actor: str) -> None:
        with self.session() as s:
            memo = s.get(Memo, memo_id)
            if memo is not None:
                coder_rules.require_owner_or_reviewer(s, actor, memo.author, "This memo")
                self._audit(s, actor, "delete-memo", "memo", memo_id, {"text": memo.text}, None)
                s.delete(memo)

    def memos(self, *, segment_ids: Iterable[int] | None = None, document_id: int | None = None) -> list[MemoInfo]:
        with self.session() as s:
            q = select(Memo).order_by(Memo.id)
            if segment_ids is not None:
                q = q.where(Memo.segment_id.in_(list(segment_ids)))
            if document_id is not None:
                q = q.outerjoin(SegmentRow, Memo.segment_id == SegmentRow.id).where(
                    (Memo.document_id == document_id) | (SegmentRow.document_id == document_id))
            return [self._memo_info(m) for m in s.scalars(q)]

    @staticmethod
    def _memo_info(m: Memo) -> MemoInfo:
        return MemoInfo(m.id, m.document_id, m.segment_id, m.code_id, m.author, m.text, m.version, m.updated_at)

    # ---------------------------------------------------------- memo draft
    def save_synthesis(self, code_id: str, group: str, text: str, actor: str, *, district: str = "",
                       expected_version: int | None = None) -> SynthesisInfo | None:
        """Write (or, with empty text, remove) the synthesis of a guide point for a group.

        ``expected_version`` is the version the writer saw (0: none existed); a different
        one means someone else saved in between, and nothing is changed.
        """
        if not actor or not actor.strip():
            raise FocusqaError("a coder name is required before writing a synthesis")
        if not group or not group.strip():
            raise FocusqaError("a synthesis belongs to a respondent group")
        try:
            with self.session() as s:
                coder_rules.acting(s, actor)
                self._check_code(s, code_id)
                row = s.scalar(select(Synthesis).where(Synthesis.code_id == code_id,
                                                       Synthesis.respondent_group == group,
                                                       Synthesis.district == district))
                current = row.version if row is not None else 0
                if expected_version is not None and current != expected_version:
                    raise ConflictError(f"This synthesis was changed by {row.author if row else 'someone'} "
                                        "since you opened it; the page now shows the current text")
                before = {"text": row.text} if row is not None else None
                key = f"{code_id}/{group}/{district}"
                if not text.strip():
                    if row is not None:
                        self._audit(s, actor, "delete-synthesis", "synthesis", key, before, None)
                        s.delete(row)
                    return None
                if row is None:
                    row = Synthesis(code_id=code_id, respondent_group=group, district=district, text=text,
                                    author=actor)
                    s.add(row)
                row.text, row.author, row.updated_at = text, actor, utcnow()
                s.flush()
                self._audit(s, actor, "synthesis", "synthesis", key, before, {"text": text})
                return self._synthesis_info(row)
        except StaleDataError:
            raise ConflictError("This synthesis was changed by someone else at the same moment") from None
        except IntegrityError:
            raise ConflictError("This synthesis was written by another session at the same moment; "
                                "the page now shows the current text") from None

    def syntheses(self) -> list[SynthesisInfo]:
        with self.session() as s:
            return [self._synthesis_info(r) for r in s.scalars(select(Synthesis).order_by(Synthesis.id))]

    @staticmethod
    def _synthesis_info(r: Synthesis) -> SynthesisInfo:
        return SynthesisInfo(r.id, r.code_id, r.respondent_group, r.district, r.text, r.author, r.version,
                             r.updated_at)

    def mark_for_memo(self, segment_id: int, code_id: str, marked: bool, actor: str) -> None:
        """Mark (or unmark) a segment's coding with ``code_id`` "til notatet"."""
        if not actor or not actor.strip():
            raise FocusqaError("a coder name is required before marking quotes")
        with self.session() as s:
            coder_rules.acting(s, actor)
            self._check_code(s, code_id)
            if s.get(SegmentRow, segment_id) is None:
                raise FocusqaError(f"no segment with id {segment_id}")
            row = s.scalar(select(MemoQuote).where(MemoQuote.segment_id == segment_id,
                                                   MemoQuote.code_id == code_id))
            key = f"{segment_id}/{code_id}"
            if marked and row is None:
                s.add(MemoQuote(segment_id=segment_id, code_id=code_id, marked_by=actor))
                self._audit(s, actor, "memo-quote", "memo_quote", key, None, {"marked": True})
            elif not marked and row is not None:
                s.delete(row)
                self._audit(s, actor, "memo-quote", "memo_quote", key, {"marked": True}, None)

    def memo_quotes(self) -> set[tuple[int, str]]:
        """(segment id, code) pairs marked "til notatet"."""
        with self.session() as s:
            return {(seg, code) for seg, code in s.execute(select(MemoQuote.segment_id, MemoQuote.code_id))}

    # ----------------------------------------------------- finished coding
    def set_finished(self, document_id: int, coder: str, finished: bool = True) -> None:
        """Record that ``coder`` has (or has not) coded all of a document.

        Agreement counts a coder on every turn of a finished document, and elsewhere only
        on the turns the coder coded or reviewed.
        """
        if not coder or not coder.strip():
            raise FocusqaError("a coder name is required")
        with self.session() as s:
            coder_rules.acting(s, coder)
            if s.get(Document, document_id) is None:
                raise FocusqaError(f"no document with id {document_id}")
            row = s.scalar(select(FinishedDocument).where(FinishedDocument.document_id == document_id,
                                                          FinishedDocument.coder == coder))
            if finished and row is None:
                s.add(FinishedDocument(document_id=document_id, coder=coder))
                self._audit(s, coder, "finished", "document", document_id, None, {"coder": coder})
            elif not finished and row is not None:
                s.delete(row)
                self._audit(s, coder, "unfinished", "document", document_id, {"coder": coder}, None)

    def finished_documents(self) -> dict[str, set[int]]:
        """coder -> the documents that coder marked as finished."""
        with self.session() as s:
            out: dict[str, set[int]] = {}
            for coder, doc in s.execute(select(FinishedDocument.coder, FinishedDocument.document_id)):
                out.setdefault(coder, set()).add(doc)
            return out

    def coded_rounds(self) -> set[str]:
        """The rounds with at least one accepted coding (by anyone), so a page can open on a
        round that has codes rather than on an empty newest one."""
        with self.session() as s:
            return set(s.scalars(select(Document.round).distinct()
                                 .join(SegmentRow, SegmentRow.document_id == Document.id)
                                 .join(Coding, Coding.segment_id == SegmentRow.id)
                                 .where(Coding.status == "accepted", Document.round.is_not(None))))

    # ------------------------------------------------------------- excerpts
    def excerpts(self, *, rounds: Iterable[str] | None = None, districts: Iterable[str] | None = None,
                 groups: Iterable[str] | None = None, codes: Iterable[str] | None = None,
                 coders: Iterable[str] | None = None, statuses: Iterable[str] = ("accepted",),
                 origins: Iterable[str] | None = None, min_score: float | None = None,
                 document_ids: Iterable[int] | None = None) -> list[Excerpt]:
        """Coded segments with their document's metadata, in document order.

        Rejected codings are never excerpts. ``statuses=("accepted", "suggested")``
        includes the machine's open suggestions.
        """
        with self.session() as s:
            q = (select(Coding, SegmentRow, Document).join(SegmentRow, Coding.segment_id == SegmentRow.id)
                 .join(Document, SegmentRow.document_id == Document.id)
                 .where(Coding.status.in_([st for st in statuses if st != "rejected"]))
                 .order_by(Document.round, Document.district, Document.id, SegmentRow.index, Coding.code_id)
                 .options(defer(Document.plain_text), defer(Document.preamble)))
            filters = ((Document.round, rounds), (Document.district, districts),
                       (Document.respondent_group, groups), (Coding.code_id, codes), (Coding.coder, coders),
                       (Coding.origin, origins), (Document.id, document_ids))
            for column, values in filters:
                if values is not None:
                    q = q.where(column.in_(list(values)))
            if min_score is not None:
                q = q.where((Coding.score >= min_score) | (Coding.origin == "human") & Coding.score.is_(None))
            rows = s.execute(q).all()
            memo_rows = s.execute(select(Memo.segment_id, Memo.text).where(Memo.segment_id.is_not(None))).all()
        memos: dict[int, list[str]] = {}
        for segment_id, text in memo_rows:
            memos.setdefault(segment_id, []).append(text)
        return [Excerpt(_segment_info(seg, doc), _coding_info(c), memos.get(seg.id, [])) for c, seg, doc in rows]

    # ------------------------------------------------------ reference codes
    def import_reference(self, path: Path, actor: str = "import") -> tuple[int, int]:
        """Load a reference coding (JSONL) as accepted human codings.

        Lines name the document by file name and the segment by index; offsets must
        match the stored segment. Returns (codings written, lines skipped because the
        document is not imported). All-or-nothing for the file.
        """
        from ..errors import ManifestError

        docs = {d.name: d.id for d in self.documents()}
        segment_ids: dict[tuple[int, int], tuple[int, int, int]] = {}
        with self.session() as s:
            for seg_id, doc_id, index, start, end in s.execute(
                    select(SegmentRow.id, SegmentRow.document_id, SegmentRow.index, SegmentRow.start, SegmentRow.end)):
                segment_ids[(doc_id, index)] = (seg_id, start, end)
        planned: list[tuple[int, str, str]] = []
        skipped = 0
        known = set(self.codebook().ids)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                doc_id = docs.get(row["document"])
                if doc_id is None:
                    skipped += 1
                    continue
                seg_id, start, end = segment_ids[(doc_id, int(row["segment"]))]
                if (row.get("start"), row.get("end")) != (start, end):
                    raise ManifestError(f"offsets {row.get('start')}-{row.get('end')} do not match segment "
                                        f"{row['segment']} of {row['document']} ({start}-{end})", path=path, line=number)
                for code in row.get("codes", []):
                    if code not in known:
                        raise ManifestError(f"unknown code '{code}'", path=path, line=number)
                    planned.append((seg_id, code, row["coder"]))
            except (KeyError, ValueError, TypeError) as exc:
                if isinstance(exc, ManifestError):
                    raise
                raise ManifestError(f"malformed reference line ({exc})", path=path, line=number) from None
        with self.session() as s:
            existing = {tuple(r) for r in s.execute(select(Coding.segment_id, Coding.code_id, Coding.coder))}
            added = 0
            for seg_id, code, coder in planned:
                if (seg_id, code, coder) in existing:
                    continue
                existing.add((seg_id, code, coder))
                s.add(Coding(segment_id=seg_id, code_id=code, coder=coder, origin="human", status="accepted"))
                added += 1
            coder_rules.register_names(s, {coder for _seg, _code, coder in planned}, actor)
            finished = {tuple(r) for r in s.execute(select(FinishedDocument.document_id, FinishedDocument.coder))}
            doc_of = {seg_id: doc_id for (doc_id, _index), (seg_id, _s, _e) in segment_ids.items()}
            for pair in sorted({(doc_of[seg_id], coder) for seg_id, _code, coder in planned}):
                if pair not in finished:  # a reference coding covers its whole document
                    s.add(FinishedDocument(document_id=pair[0], coder=pair[1]))
            self._audit(s, actor, "import-reference", "coding", None, None,
                        {"file": path.name, "codings": added})
        return added, skipped

    # ------------------------------------------------------------ summaries
    def progress(self) -> dict[int, dict[str, int]]:
        """Per document: participant turns suggested / accepted / rejected / uncoded.

        Moderator turns are left out: they are never coded, so counting them would keep
        a finished document from ever reaching 100 %. A turn counts once, by what it
        needs next: a machine suggestion nobody has decided on (even beside an accepted
        code, so no waiting suggestion hides), then accepted (by anyone), then rejected.
        """
        with self.session() as s:
            turns = s.execute(select(SegmentRow.id, SegmentRow.document_id)
                              .where(SegmentRow.role == "participant")).all()
            states = s.execute(select(Coding.segment_id, Coding.code_id, Coding.coder, Coding.status)
                               .join(SegmentRow, Coding.segment_id == SegmentRow.id)
                               .where(SegmentRow.role == "participant")).all()
        decided = {(segment_id, code_id) for segment_id, code_id, coder, _ in states if coder != MACHINE_CODER}
        by_turn: dict[int, set[str]] = {}
        for segment_id, code_id, coder, status in states:
            if status == "suggested" and (coder != MACHINE_CODER or (segment_id, code_id) in decided):
                continue   # only the machine's undecided suggestions wait for a coder
            by_turn.setdefault(segment_id, set()).add(status)
        out: dict[int, dict[str, int]] = {}
        for segment_id, document_id in turns:
            counts = out.setdefault(document_id, {"suggested": 0, "accepted": 0, "rejected": 0, "uncoded": 0})
            seen = by_turn.get(segment_id, set())
            counts[next((k for k in ("suggested", "accepted", "rejected") if k in seen), "uncoded")] += 1
        return out

