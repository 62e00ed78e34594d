"""Analyses over the coded segments: themes per district, rounds compared, co-occurrence.

This package's ``__init__`` holds the few rules every analysis and export shares, so
that the Temaer page, ``focusqa summary`` and the Word/xlsx exports agree on them:

* which row (district or group) a document belongs to (:func:`row_label`), including
  the project group, whose documents usually have no district;
* the order rows are shown in (:func:`row_order`, Danish alphabetical order);
* that one segment coded with the same code by several coders is *one* excerpt
  (:func:`merge_excerpts`), so a confirmed machine suggestion (which leaves both the
  machine's row and the coder's row ``accepted``) is not counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal, Sequence

from ..config import MACHINE_CODER
from ..store.repository import CodingInfo, Excerpt, SegmentInfo

By = Literal["district", "group"]

PROJECT_GROUP = "projektgruppe"
PROJECT_GROUP_ROW = "Projektgruppe"
NO_DISTRICT_ROW = "Uden distrikt"
NO_GROUP_ROW = "Uden gruppe"
SPECIAL_ROWS = (PROJECT_GROUP_ROW, NO_DISTRICT_ROW, NO_GROUP_ROW)

_DANISH = {"æ": "{", "ø": "|", "å": "}", "ä": "{", "ö": "|", "ü": "y", "é": "e"}


def danish_key(text: str) -> str:
    """Sort key that puts æ, ø, å after z, as a Danish reader expects (Øst after Vest)."""
    return "".join(_DANISH.get(ch, ch) for ch in text.casefold())


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def row_label(district: str | None, group: str | None, by: By = "district") -> str:
    """The matrix row a document belongs to.

    ``by="district"``: the document's district. The project group's documents form
    their own row "Projektgruppe" whatever district they carry, because the project
    group is a different respondent group that spans the districts (its talk would
    otherwise be lost, having no district, or be mixed into one family group's row).
    A document without district outside the project group goes under its group's name,
    else "Uden distrikt". ``by="group"``: the respondent group, capitalised
    ("Familiegruppe", "Projektgruppe"), else "Uden gruppe".
    """
    group = (group or "").strip()
    district = (district or "").strip()
    if by == "group":
        return _capitalised(group) if group else NO_GROUP_ROW
    if by != "district":
        raise ValueError(f"by must be 'district' or 'group', not {by!r}")
    if group.casefold() == PROJECT_GROUP:
        return PROJECT_GROUP_ROW
    if district:
        return district
    return _capitalised(group) if group else NO_DISTRICT_ROW


def row_order(labels: Iterable[str]) -> list[str]:
    """Distinct row labels in Danish alphabetical order, special rows last."""
    distinct = set(labels)
    ordinary = sorted((r for r in distinct if r not in SPECIAL_ROWS), key=danish_key)
    return ordinary + [r for r in SPECIAL_ROWS if r in distinct]


def round_order(rounds: Iterable[str | None]) -> list[str]:
    """Distinct rounds, oldest first (rounds are years or year-like labels)."""
    return sorted({r for r in rounds if r}, key=lambda r: (len(r), r))



def _rounds_with_codes(rounds: Sequence[str], coded: Iterable[str]) -> list[str]:
    coded = set(coded)
    return [r for r in rounds if r in coded]


def opening_round(rounds: Sequence[str], coded: Iterable[str]) -> str | None:
    """The round a page opens on: the newest one with codings, else the newest of all.

    An evaluator who has coded 2016 so far and opens the themes should see their codes,
    not an empty 2017. ``rounds`` as :func:`round_order` gives them (oldest first).
    """
    with_codes = _rounds_with_codes(rounds, coded)
    return with_codes[-1] if with_codes else (rounds[-1] if rounds else None)


def opening_comparison(rounds: Sequence[str], coded: Iterable[str]) -> tuple[str, str]:
    """The two rounds a comparison opens on: the two newest with codings, else the oldest
    and the newest (``rounds`` oldest first, at least two). A 2018 interview imported but
    not coded yet does not turn the comparison of 2016 and 2017 into an empty one."""
    with_codes = _rounds_with_codes(rounds, coded)
    if len(with_codes) >= 2:
        return with_codes[-2], with_codes[-1]
    return rounds[0], rounds[-1]

@dataclass
class CodedExcerpt:
    """One segment carrying one code, with every coding (coder) behind it.

    The unit of the matrices and the exports: counts are distinct segments, and an
    export shows each segment × code once, naming all its coders.
    """

    segment: SegmentInfo
    code_id: str
    codings: list[CodingInfo]
    memos: list[str] = field(default_factory=list)

    @property
    def excerpt(self) -> Excerpt:
        """A store :class:`Excerpt` for this segment × code (a person's coding preferred)."""
        best = sorted(self.codings, key=lambda c: (c.origin != "human", c.status != "accepted", c.id))[0]
        return Excerpt(self.segment, best, list(self.memos))

    @property
    def span(self) -> tuple[int, int]:
        """Document offsets of the coded text: the part every coder coded, joined.

        When coders coded different parts of the turn, the span covering all of them
        is shown, so nobody's coded words are cut off.
        """
        s = self.segment
        starts, ends = [], []
        for c in self.codings:
            if c.start is not None and c.end is not None and s.start <= c.start < c.end <= s.end:
                starts.append(c.start)
                ends.append(c.end)
            else:
                return s.start, s.end
        return min(starts), max(ends)

    @property
    def text(self) -> str:
        start, end = self.span
        return self.segment.text[start - self.segment.start:end - self.segment.start]

    @property
    def confirmed(self) -> bool:
        """True when a coding is accepted (by a person, or a reviewed suggestion)."""
        return any(c.status == "accepted" for c in self.codings)

    @property
    def from_suggestion(self) -> bool:
        return any(c.origin == "auto" or c.score is not None for c in self.codings)

    @property
    def score(self) -> float | None:
        scores = [c.score for c in self.codings if c.score is not None]
        return max(scores) if scores else None

    @property
    def coders(self) -> list[str]:
        """The people who coded it; the machine only when no person has."""
        people = sorted({c.coder for c in self.codings if c.coder != MACHINE_CODER}, key=danish_key)
        return people or [MACHINE_CODER]


def merge_excerpts(excerpts: Iterable[Excerpt]) -> list[CodedExcerpt]:
    """Group the store's excerpts (one per coding) into one per segment × code, in order."""
    merged: dict[tuple[int, str], CodedExcerpt] = {}
    for e in excerpts:
        key = (e.segment.id, e.coding.code_id)
        item = merged.get(key)
        if item is None:
            merged[key] = CodedExcerpt(e.segment, e.coding.code_id, [e.coding], list(e.memos))
        else:
            item.codings.append(e.coding)
    return list(merged.values())


__all__ = ["row_label", "row_order", "round_order", "opening_round", "opening_comparison", "danish_key",
           "merge_excerpts", "CodedExcerpt",
           "PROJECT_GROUP", "PROJECT_GROUP_ROW", "NO_DISTRICT_ROW", "NO_GROUP_ROW", "By"]
