"""Reconciling double coding: the team's final decision per segment and code.

The final coding is stored as the codings of a separate coder (``final`` by default), so
the two coders' own codings stay untouched and agreement can still be computed on them.
Each decision is its own audit entry (action ``reconcile``) naming who decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import select

from ..config import MACHINE_CODER
from ..errors import FocusqaError
from .coders import FINAL_CODER, require_reviewer
from .models import AuditEntry, CodeRow, Coding, SegmentRow, utcnow

__all__ = ["FINAL_CODER", "Decision", "reconcile", "decisions", "visible_codings"]


@dataclass(frozen=True)
class Decision:
    segment_id: int
    code_id: str
    present: bool
    decided_by: str
    coder: str


def _state(c: Coding | None) -> dict | None:
    if c is None:
        return None
    return {"segment_id": c.segment_id, "code_id": c.code_id, "coder": c.coder, "origin": c.origin,
            "status": c.status, "score": c.score, "evidence": c.evidence, "start": c.start, "end": c.end}


def reconcile(store, segment_id: int, code_id: str, *, present: bool, decided_by: str,
              final_coder: str = FINAL_CODER, start: int | None = None, end: int | None = None) -> Decision:
    """Record the final coding of ``code_id`` on a segment.

    ``present=True`` stores an accepted coding by ``final_coder``; ``present=False`` stores
    a rejected one, so "decided: not this code" differs from "not decided yet". The audit
    entry's actor is ``decided_by`` (the person who settled it), not the final coder.
    Only a reviewer may decide: the final version overrides every coder's own codings,
    so it is the team lead's call, not any one coder's.
    """
    if not decided_by or not decided_by.strip():
        raise FocusqaError("say who decided (decided_by) before reconciling")
    if final_coder == MACHINE_CODER:
        raise FocusqaError(f"'{MACHINE_CODER}' is the machine; choose another name for the final coding")
    with store.session() as s:
        require_reviewer(s, decided_by, "reconcile (decide the final coding)")
        if s.get(CodeRow, code_id) is None:
            raise FocusqaError(f"'{code_id}' is not a code in the codebook")
        seg = s.get(SegmentRow, segment_id)
        if seg is None:
            raise FocusqaError(f"no segment with id {segment_id}")
        if start is not None and end is not None and not (seg.start <= start < end <= seg.end):
            raise FocusqaError("the coded part must lie inside the segment")
        row = s.scalar(select(Coding).where(Coding.segment_id == segment_id, Coding.code_id == code_id,
                                            Coding.coder == final_coder))
        before = _state(row)
        if row is None:
            row = Coding(segment_id=segment_id, code_id=code_id, coder=final_coder, origin="human")
            s.add(row)
        row.origin = "human"
        row.status = "accepted" if present else "rejected"
        row.start, row.end = (start, end) if present else (None, None)
        row.updated_at = utcnow()
        s.flush()
        after = _state(row) | {"decided_by": decided_by}
        s.add(AuditEntry(actor=decided_by, action="reconcile", entity="coding", entity_id=str(row.id),
                         before=before, after=after))
    return Decision(segment_id, code_id, present, decided_by, final_coder)


def decisions(store, segment_ids: Iterable[int] | None = None,
              final_coder: str = FINAL_CODER) -> dict[tuple[int, str], bool]:
    """The decisions made so far: (segment id, code) -> present."""
    with store.session() as s:
        q = select(Coding.segment_id, Coding.code_id, Coding.status).where(Coding.coder == final_coder)
        if segment_ids is not None:
            q = q.where(Coding.segment_id.in_(list(segment_ids)))
        return {(seg, code): status == "accepted" for seg, code, status in s.execute(q)}


def visible_codings(store, segment_ids: Iterable[int], coder: str, blind: bool, *,
                    show_machine: bool = True):
    """The codings a coder may see while coding these segments.

    Blind mode hides every other person's codings (and the reconciled ``final`` ones),
    so double coding stays independent; the coder's own codings and, unless
    ``show_machine`` is False, the machine's suggestions stay visible.
    """
    rows = store.codings(segment_ids=list(segment_ids))
    if not blind:
        return rows
    return [c for c in rows if c.coder == coder or (show_machine and c.coder == MACHINE_CODER)]
