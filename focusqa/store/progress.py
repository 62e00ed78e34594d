"""Coding progress on the participants' turns, for the app's overview.

``Store.progress()`` counts every turn, the moderator's questions included; those are
never coded or suggested, so an overview built on it could never reach 100 %.
"""

from __future__ import annotations

from sqlalchemy import select

from .models import Coding, SegmentRow

EMPTY = {"suggested": 0, "accepted": 0, "rejected": 0, "uncoded": 0}


def participant_progress(store) -> dict[int, dict[str, int]]:
    """Per document id: participant turns accepted / suggested / rejected / uncoded.

    A turn counts once, by its most advanced state: accepted (by anyone) before an
    open suggestion before rejected before uncoded.
    """
    with store.session() as s:
        turns = s.execute(select(SegmentRow.id, SegmentRow.document_id)
                          .where(SegmentRow.role == "participant")).all()
        states = s.execute(select(Coding.segment_id, Coding.status)
                           .join(SegmentRow, Coding.segment_id == SegmentRow.id)
                           .where(SegmentRow.role == "participant")).all()
    by_turn: dict[int, set[str]] = {}
    for segment_id, status in states:
        by_turn.setdefault(segment_id, set()).add(status)
    out: dict[int, dict[str, int]] = {}
    for segment_id, document_id in turns:
        counts = out.setdefault(document_id, dict(EMPTY))
        seen = by_turn.get(segment_id, set())
        state = next((k for k in ("accepted", "suggested", "rejected") if k in seen), "uncoded")
        counts[state] += 1
    return out
