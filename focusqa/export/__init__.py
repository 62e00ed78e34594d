"""Exports of coded excerpts: Word (:mod:`.docx`), xlsx/csv (:mod:`.tables`), REFI-QDA (:mod:`.refi`).

This module holds what the Word and spreadsheet exports share: the filters, turned
into one :class:`Selection` of excerpts (one per segment × code), and the Danish
wording of a coding's status. It imports no heavy libraries, so ``focusqa.export.refi``
stays cheap to import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

from ..analysis import CodedExcerpt, danish_key, merge_excerpts, round_order, row_label, row_order
from ..codebook import Codebook
from ..errors import FocusqaError
from ..privacy import Masker, MaskingPreview, RoleCensus, masking_preview
from ..store import DocumentInfo, SegmentInfo, Store

DANISH_MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
                 "september", "oktober", "november", "december")


def danish_date(day: date) -> str:
    """'25. november 2026'."""
    return f"{day.day}. {DANISH_MONTHS[day.month - 1]} {day.year}"


def decimal(value: float, digits: int = 2, language: str = "da") -> str:
    """0.82 -> '0,82' in Danish."""
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if language == "da" else text


def status_text(item: CodedExcerpt, language: str = "da") -> str:
    """How an excerpt's coding is described: 'bekræftet', 'bekræftet forslag, sikkerhed 0,82',
    'forslag, sikkerhed 0,82' (the app's word for a suggestion's score)."""
    score = item.score
    word = "confidence" if language == "en" else "sikkerhed"
    score_text = f", {word} {decimal(score, 2, language)}" if score is not None else ""
    if language == "en":
        if not item.confirmed:
            return f"suggestion{score_text}"
        return f"confirmed suggestion{score_text}" if item.from_suggestion else "confirmed"
    if not item.confirmed:
        return f"forslag{score_text}"
    return f"bekræftet forslag{score_text}" if item.from_suggestion else "bekræftet"


def parse_statuses(value: str | Iterable[str]) -> tuple[str, ...]:
    """'accepted' -> ('accepted',); 'all' -> accepted and open suggestions."""
    if isinstance(value, str):
        if value == "all":
            return ("accepted", "suggested")
        return (value,)
    return tuple(value)


@dataclass
class Selection:
    """The excerpts an export writes, with what the title page and attributions need."""

    codebook: Codebook
    excerpts: list[CodedExcerpt]
    documents: dict[int, DocumentInfo]
    masker: Masker | None
    rounds: list[str]
    code_ids: list[str]
    filters: dict = field(default_factory=dict)
    census: RoleCensus | None = None

    @property
    def coders(self) -> list[str]:
        return sorted({c for e in self.excerpts for c in e.coders}, key=danish_key)

    def text(self, value: str) -> str:
        return self.masker.mask(value) if self.masker is not None and value else value

    def speaker(self, item: CodedExcerpt) -> str:
        """The speaker as shown; when masking by role, and as "Deltager" where the role next
        to the district would name the one person holding it."""
        seg = item.segment
        if self.masker is not None:
            shown = self.masker.speaker(seg.speaker, seg.role)
            if seg.role != "moderator" and self.census is not None and self.census.unique_role(shown, seg.district):
                return "Deltager"
            return shown
        return seg.speaker or ("Moderator" if seg.role == "moderator" else "Deltager")

    def masking_preview(self) -> MaskingPreview | None:
        """What masking replaces in the chosen excerpts and their memos, the capitalised words
        it leaves that may be names (district, group and code names are not flagged), and the
        excerpts' speakers whose names their attributions leave out."""
        if self.masker is None:
            return None
        texts = [e.text for e in self.excerpts] + [memo for e in self.excerpts for memo in e.memos]
        known = [v for d in self.documents.values() for v in (d.district, d.group) if v]
        known += [label for c in self.codebook.codes for label in (c.label_da, c.label_en) if label]
        return masking_preview(self.masker, texts, known, speakers=[e.segment.speaker for e in self.excerpts])

    def attribution(self, segment: SegmentInfo) -> str:
        """The source line under a quote, masked, without a district that would name the speaker."""
        from .memo import attribution

        lone = self.census is not None and self.census.lone_place(segment.group, segment.district)
        return self.text(attribution(segment, district=not lone))


def resolve_codes(codebook: Codebook, codes: Iterable[str] | None) -> list[str]:
    """Code ids for ids, numbers or labels given by a user; unknown ones are an error."""
    if codes is None:
        return list(codebook.ids)
    resolved = []
    for key in codes:
        try:
            code = codebook.get(key)
        except KeyError:
            raise FocusqaError(f"'{key}' is not a code in the codebook "
                               f"(codes: {', '.join(codebook.ids)})") from None
        if code.id not in resolved:
            resolved.append(code.id)
    order = {c: i for i, c in enumerate(codebook.ids)}
    return sorted(resolved, key=order.__getitem__)


def select(store: Store, *, rounds: Iterable[str] | None = None, districts: Iterable[str] | None = None,
           groups: Iterable[str] | None = None, codes: Iterable[str] | None = None,
           coders: Iterable[str] | None = None, statuses: str | Iterable[str] = ("accepted",),
           min_score: float | None = None, masking: bool = True,
           names: Iterable[str] | None = None) -> Selection:
    """Read the excerpts matching the filters (the same filters for every export format).

    ``statuses``: ("accepted",) by default; "all" or ("accepted", "suggested") adds the
    machine's open suggestions, which exports mark as suggestions. ``masking`` builds a
    :class:`~focusqa.privacy.Masker` from the documents' speakers and the user's name
    list (``names`` replaces that list).
    """
    codebook = store.codebook()
    code_ids = resolve_codes(codebook, codes)
    status_tuple = parse_statuses(statuses)
    def listed(values: Iterable[str] | None) -> list[str] | None:
        return [v for v in values if v] if values is not None else None

    raw = store.excerpts(rounds=listed(rounds), districts=listed(districts), groups=listed(groups),
                         codes=code_ids, coders=listed(coders), statuses=status_tuple, min_score=min_score)
    excerpts = merge_excerpts(raw)
    documents = {d.id: d for d in store.documents()}
    rows = row_order(row_label(e.segment.district, e.segment.group) for e in excerpts)
    row_pos = {r: i for i, r in enumerate(rows)}
    round_pos = {r: i for i, r in enumerate(round_order(e.segment.round for e in excerpts))}
    code_pos = {c: i for i, c in enumerate(codebook.ids)}
    excerpts.sort(key=lambda e: (round_pos.get(e.segment.round, len(round_pos)),
                                 row_pos[row_label(e.segment.district, e.segment.group)],
                                 danish_key(e.segment.document), e.segment.index, code_pos.get(e.code_id, 0)))
    if rounds is not None and listed(rounds):
        round_list = round_order(listed(rounds))
    else:
        round_list = round_order(d.round for d in documents.values())
    filters = {"rounds": listed(rounds), "districts": listed(districts), "groups": listed(groups),
               "codes": list(codes) if codes is not None else None, "coders": listed(coders),
               "statuses": status_tuple, "min_score": min_score, "masking": masking}
    masker = Masker.from_store(store, names=names) if masking else None
    census = RoleCensus.from_store(store, masker) if masker is not None else None
    return Selection(codebook, excerpts, documents, masker, round_list, code_ids, filters, census)


__all__ = ["select", "Selection", "danish_date", "decimal", "status_text", "parse_statuses",
           "resolve_codes"]
