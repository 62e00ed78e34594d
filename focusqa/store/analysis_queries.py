"""Light read queries for the theme matrix and the round comparison.

The matrix only needs *which* participant segments carry *which* code, and each
row's participant segments and words. Reading those as plain columns is much
cheaper than building an ``Excerpt`` (segment, coding, memos) for every coding of
a project of a million words; the excerpts are read per code when a cell is opened.
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import select

from .models import Coding, Document, SegmentRow
from .repository import Store


def participant_texts(store: Store, round: str | None) -> list[tuple[str | None, str | None, str]]:
    """(district, respondent group, text) of every participant segment of ``round`` (all: ``None``).

    In document order, like :meth:`Store.segments`.
    """
    q = (select(Document.district, Document.respondent_group, SegmentRow.text)
         .join(Document, SegmentRow.document_id == Document.id)
         .where(SegmentRow.role == "participant")
         .order_by(Document.id, SegmentRow.index))
    if round is not None:
        q = q.where(Document.round == round)
    with store.session() as s:
        return [tuple(row) for row in s.execute(q)]


def coded_participant_segments(store: Store, *, round: str | None, statuses: Iterable[str],
                               coders: Iterable[str] | None = None
                               ) -> list[tuple[int, str, str | None, str | None]]:
    """Distinct (segment id, code id, district, respondent group) of coded participant segments.

    The same selection as :meth:`Store.excerpts` with ``rounds``, ``statuses`` and
    ``coders`` (rejected codings never count), restricted to participant segments;
    a segment given the same code by several coders appears once.
    """
    q = (select(Coding.segment_id, Coding.code_id, Document.district, Document.respondent_group).distinct()
         .join(SegmentRow, Coding.segment_id == SegmentRow.id)
         .join(Document, SegmentRow.document_id == Document.id)
         .where(SegmentRow.role == "participant")
         .where(Coding.status.in_([st for st in statuses if st != "rejected"])))
    if round is not None:
        q = q.where(Document.round == round)
    if coders is not None:
        q = q.where(Coding.coder.in_(list(coders)))
    with store.session() as s:
        return [tuple(row) for row in s.execute(q)]


__all__ = ["participant_texts", "coded_participant_segments"]
