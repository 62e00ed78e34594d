"""The memo draft: what the Word export's "memo" layout needs besides the excerpts.

An evaluation memo has, per respondent group and guide point ("Ad. N"), the evaluator's
synthesis, a few quotes, and remarks where a district or round stands apart. This module
gathers those pieces from the store (syntheses, quotes marked "til notatet", memos,
the round comparison's flags) and decides which quotes a section shows, so that the
Word writer only lays them out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from ..analysis import PROJECT_GROUP_ROW, CodedExcerpt, danish_key, round_order, row_label
from ..store import MemoInfo, SegmentInfo, Store, SynthesisInfo

QUOTES_PER_DISTRICT = 2


@dataclass
class Remark:
    """A district (or the project group) that stands apart on a guide point between two rounds."""

    code_id: str
    row: str
    round_a: str
    round_b: str
    prev_a: float
    prev_b: float


@dataclass
class MemoDraft:
    """Everything of the memo draft that is not an excerpt."""

    syntheses: list[SynthesisInfo] = field(default_factory=list)
    marked: set[tuple[int, str]] = field(default_factory=set)
    project_memos: list[MemoInfo] = field(default_factory=list)
    turn_memos: list[tuple[SegmentInfo, MemoInfo]] = field(default_factory=list)
    remarks: list[Remark] = field(default_factory=list)

    def synthesis(self, code_id: str, group: str | None, district: str = "") -> str:
        key = (group or "").casefold()
        for s in self.syntheses:
            if s.code_id == code_id and s.group.casefold() == key and s.district == district:
                return s.text
        return ""

    def district_syntheses(self, code_id: str, group: str | None) -> list[tuple[str, str]]:
        key = (group or "").casefold()
        found = [(s.district, s.text) for s in self.syntheses
                 if s.code_id == code_id and s.group.casefold() == key and s.district]
        return sorted(found, key=lambda d: danish_key(d[0]))


def opening_line(text: str) -> str:
    """The synthesis' first sentence (or first line), for "Resultaterne i hovedtræk"."""
    first = text.strip().split("\n", 1)[0].strip()
    match = re.match(r"(.+?[.!?])(\s|$)", first)
    return match.group(1) if match else first


def memo_quotes(items: list[CodedExcerpt], marked: set[tuple[int, str]],
                per_district: int = QUOTES_PER_DISTRICT, quoted: AbstractSet[int] = frozenset()) -> list[CodedExcerpt]:
    """The quotes a section shows: the ones marked "til notatet", or, when none is marked,
    the representative ones the Temaer page shows, ``per_district`` per district, chosen among
    the turns not in ``quoted`` (turns the same respondent group's section quotes already)."""
    from ..analysis.themes import representative_excerpts

    chosen = [i for i in items if (i.segment.id, i.code_id) in marked]
    if chosen:
        return chosen
    by_district: dict[str, list[CodedExcerpt]] = {}
    for item in items:
        if item.segment.id not in quoted:
            by_district.setdefault(item.segment.district or "", []).append(item)
    picked: set[tuple[int, str]] = set()
    for district in sorted(by_district, key=danish_key):
        picked.update((i.segment.id, i.code_id) for i in representative_excerpts(by_district[district],
                                                                                  per_district))
    return [i for i in items if (i.segment.id, i.code_id) in picked]  # reading order


def group_quotes(plan: list[tuple[str | None, str, list[CodedExcerpt]]], marked: set[tuple[int, str]],
                 ) -> list[list[CodedExcerpt]]:
    """The quotes of each (group, code, excerpts) section in ``plan``: a turn is quoted once per
    respondent group, where the evaluator marked it, else under its first guide point in the plan."""
    quoted_in: dict[str, set[int]] = {}
    for group, _code_id, items in plan:
        quoted_in.setdefault((group or "").casefold(), set()).update(
            i.segment.id for i in items if (i.segment.id, i.code_id) in marked)
    out = []
    for group, _code_id, items in plan:
        quoted = quoted_in[(group or "").casefold()]
        chosen = memo_quotes(items, marked, quoted=quoted)
        if not any((i.segment.id, i.code_id) in marked for i in chosen):
            quoted.update(i.segment.id for i in chosen)
        out.append(chosen)
    return out


def attribution(segment: SegmentInfo, *, district: bool = True) -> str:
    """'Familiegruppe Vest, 2017, tur 24': who said it, where, when (no speaker, no ids).

    ``district=False`` leaves the district out ('Teamleder, 2017, tur 3'), for a masked
    export where group and district together would name the one person who spoke.
    """
    who = row_label(None, segment.group, "group") if segment.group else ""
    place = " ".join(x for x in (who, segment.district if district else "") if x) or segment.document
    return ", ".join(x for x in (place, segment.round or "", f"tur {segment.turn_number}") if x)


def synthesis_cell(row: str, by: str, segments: list[SegmentInfo]) -> tuple[str, str]:
    """The (respondent group, district) a Temaer cell's synthesis belongs to.

    Rows by group: the group itself. Rows by district: the group most of the cell's
    turns come from, and the district (none for the project group's own row).
    """
    groups = Counter(s.group for s in segments if s.group)
    group = groups.most_common(1)[0][0] if groups else row.casefold()
    if by == "group" or row == PROJECT_GROUP_ROW:
        return group, ""
    return group, row


def _remarks(store: Store, rounds: list[str]) -> list[Remark]:
    """The round comparison's flags between the two latest rounds."""
    if len(rounds) < 2:
        return []
    from ..analysis.rounds import compare_rounds

    round_a, round_b = rounds[-2], rounds[-1]
    frame = compare_rounds(store, round_a, round_b)
    return [Remark(r.code_id, r.row, round_a, round_b, float(r.prev_a), float(r.prev_b))
            for r in frame.itertuples() if bool(r.flagged)]


def memo_draft(store: Store, excerpts: list[CodedExcerpt], rounds: list[str] | None = None) -> MemoDraft:
    """Read the memo draft's pieces. Every memo on a turn is kept with its turn (``excerpts``
    give the turns already read): the Word writer puts the ones no printed quote shows under
    "Noter", so a thought on a coded turn that is not quoted still reaches the memo."""
    memos = store.memos()
    on_turns = [m for m in memos if m.segment_id is not None]
    segments = {e.segment.id: e.segment for e in excerpts}
    missing = [m.segment_id for m in on_turns if m.segment_id not in segments]
    if missing:
        segments.update({s.id: s for s in store.segments(ids=missing)})
    turn_memos = [(segments[m.segment_id], m) for m in on_turns if m.segment_id in segments]
    turn_memos.sort(key=lambda pair: (danish_key(pair[0].document), pair[0].index))
    project = [m for m in memos if m.segment_id is None]
    all_rounds = rounds if rounds is not None else round_order(d.round for d in store.documents())
    return MemoDraft(store.syntheses(), store.memo_quotes(), project, turn_memos, _remarks(store, all_rounds))


__all__ = ["MemoDraft", "Remark", "memo_draft", "memo_quotes", "group_quotes", "opening_line", "attribution", "synthesis_cell",
           "QUOTES_PER_DISTRICT"]
