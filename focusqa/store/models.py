"""SQLAlchemy tables. Change them only together with a new Alembic migration."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (JSON, Float, ForeignKey, Index, Integer, MetaData, String, Text,
                        UniqueConstraint, DateTime)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source_format: Mapped[str] = mapped_column(String(16), default="txt")
    round: Mapped[str | None] = mapped_column(Text, index=True)
    district: Mapped[str | None] = mapped_column(Text, index=True)
    respondent_group: Mapped[str | None] = mapped_column(Text)
    date: Mapped[str | None] = mapped_column(Text)
    moderators: Mapped[list] = mapped_column(JSON, default=list)
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    plain_text: Mapped[str] = mapped_column(Text)
    word_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    preamble: Mapped[str] = mapped_column(Text, default="")
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    imported_by: Mapped[str | None] = mapped_column(Text)

    segments: Mapped[list["SegmentRow"]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="SegmentRow.index")


class SegmentRow(Base):
    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("document_id", "index", name="uq_segments_document_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    turn: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    timestamp: Mapped[str | None] = mapped_column(Text)

    document: Mapped[Document] = relationship(back_populates="segments")


class CodeRow(Base):
    """The current state of each code; every edit also writes a CodebookVersion."""

    __tablename__ = "codes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[int | None] = mapped_column(Integer)
    label_da: Mapped[str] = mapped_column(Text)
    label_en: Mapped[str] = mapped_column(Text, default="")
    question: Mapped[str] = mapped_column(Text, default="")
    definition: Mapped[str] = mapped_column(Text, default="")
    include: Mapped[str] = mapped_column(Text, default="")
    exclude: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[list] = mapped_column(JSON, default=list)
    examples: Mapped[list | None] = mapped_column(JSON, default=list)  # anchor examples
    color: Mapped[str] = mapped_column(String(16), default="#888888")
    parent: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    guid: Mapped[str | None] = mapped_column(String(40))


class CodebookVersion(Base):
    __tablename__ = "codebook_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)  # the codebook as YAML
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(Text)


class Coding(Base):
    """A code on a segment by one coder (a person, or the machine ``focusqa``).

    ``start``/``end`` are set when only part of the segment is coded (document offsets).
    ``version`` guards against lost updates when two coders edit at once.
    """

    __tablename__ = "codings"
    __table_args__ = (
        UniqueConstraint("segment_id", "code_id", "coder", name="uq_codings_segment_code_coder"),
        Index("ix_codings_code_status", "code_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), index=True)
    code_id: Mapped[str] = mapped_column(ForeignKey("codes.id", ondelete="CASCADE"))
    coder: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(16))  # human | auto | search
    status: Mapped[str] = mapped_column(String(16))  # suggested | accepted | rejected
    score: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    start: Mapped[int | None] = mapped_column(Integer)
    end: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    guid: Mapped[str | None] = mapped_column(String(40))

    __mapper_args__ = {"version_id_col": version}


class Memo(Base):
    __tablename__ = "memos"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), index=True)
    code_id: Mapped[str | None] = mapped_column(ForeignKey("codes.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class SavedSearch(Base):
    """A named search (query and filters) that can be rerun or turned into seed terms."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    query: Mapped[str] = mapped_column(Text)
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Synthesis(Base):
    """The evaluator's synthesis of one guide point for a respondent group ("" district: the
    whole group), the text that goes under "Ad. N" in the memo draft."""

    __tablename__ = "syntheses"
    __table_args__ = (UniqueConstraint("code_id", "respondent_group", "district", name="uq_syntheses_cell"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_id: Mapped[str] = mapped_column(ForeignKey("codes.id", ondelete="CASCADE"))
    respondent_group: Mapped[str] = mapped_column(Text)
    district: Mapped[str] = mapped_column(Text, default="", server_default="")
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class MemoQuote(Base):
    """A segment x code the evaluator marked "til notatet": quoted in the memo draft."""

    __tablename__ = "memo_quotes"
    __table_args__ = (UniqueConstraint("segment_id", "code_id", name="uq_memo_quotes_segment_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"))
    code_id: Mapped[str] = mapped_column(ForeignKey("codes.id", ondelete="CASCADE"))
    marked_by: Mapped[str] = mapped_column(Text)
    marked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FinishedDocument(Base):
    """A coder has coded this whole document: agreement counts them on all its turns."""

    __tablename__ = "finished_documents"
    __table_args__ = (UniqueConstraint("document_id", "coder", name="uq_finished_documents_document_coder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    coder: Mapped[str] = mapped_column(Text)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """Append-only: who changed what, when, from what to what."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


class CoderRow(Base):
    """A person who codes in the project: the name on their codings, memos and audit entries.

    ``role`` is ``coder`` (changes only their own work) or ``reviewer`` (may also change
    others' work and reconcile). ``password_hash`` is a salted scrypt hash, never the password.
    """

    __tablename__ = "coders"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    role: Mapped[str] = mapped_column(String(16), default="coder")
    password_hash: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
