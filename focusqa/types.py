"""Plain dataclasses at the boundaries between ingest, tagging, store and export."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Literal

Role = Literal["moderator", "participant"]


@dataclass
class DocumentMetadata:
    """What the evaluator knows about a transcript. Missing values stay ``None``."""

    round: str | None = None
    district: str | None = None
    group: str | None = None
    date: str | None = None
    moderators: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)

    def merged(self, other: "DocumentMetadata") -> "DocumentMetadata":
        """Values from ``other`` win where they are set."""
        return DocumentMetadata(
            round=other.round or self.round,
            district=other.district or self.district,
            group=other.group or self.group,
            date=other.date or self.date,
            moderators=other.moderators or self.moderators,
            attributes={**self.attributes, **other.attributes},
        )


def turn_number(turn: int) -> int:
    """A turn as every page, export and command shows it: counted from 1 (stored from 0)."""
    return turn + 1


@dataclass(frozen=True)
class Segment:
    """One unit of coding: a speaker turn or one paragraph of a turn.

    ``start``/``end`` are character offsets into the document's plain text, so
    ``document.plain_text[start:end] == text``.
    """

    index: int
    turn: int
    speaker: str | None
    role: Role
    text: str
    start: int
    end: int
    timestamp: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ParsedDocument:
    """A transcript read from a file: its normalised plain text and its segments."""

    name: str
    plain_text: str
    segments: list[Segment]
    metadata: DocumentMetadata = field(default_factory=DocumentMetadata)
    source_format: str = "txt"
    preamble: str = ""

    @property
    def content_hash(self) -> str:
        """Identity of the content: the same text imported twice is one document."""
        return hashlib.sha256(self.plain_text.encode("utf-8")).hexdigest()

    @property
    def word_count(self) -> int:
        return sum(len(s.text.split()) for s in self.segments)


@dataclass(frozen=True)
class CodeSuggestion:
    """A code proposed for a segment, with the score and the evidence behind it."""

    code_id: str
    number: int | None
    label: str
    score: float
    evidence: dict
