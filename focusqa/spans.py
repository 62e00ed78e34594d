"""Coding part of a speaker turn: a mouse selection becomes a coded span.

The Kodning page sends the selection as code-point offsets into the turn's text (0-based,
end exclusive, as Python indexes ``str``). The span is widened to whole words, so a
drag that starts or ends inside a word codes the whole word, and stored with document
offsets through ``Store.set_coding(start=, end=)``, the same form the sentence coding
and the REFI-QDA export (``PlainTextSelection``) use. A span that covers the whole turn
is stored as a whole-turn coding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from focusqa.errors import FocusqaError


@dataclass(frozen=True)
class Run:
    """A stretch of a turn's text (turn offsets) and the keys of the spans covering it."""

    start: int
    end: int
    keys: tuple[Any, ...]


def _is_word(char: str) -> bool:
    return char.isalnum() or char in "-_'’"


def word_span(text: str, start: int, end: int) -> tuple[int, int]:
    """``text[start:end]`` widened to whole words and trimmed of spaces and punctuation around it.

    Raises FocusqaError when the offsets lie outside the text or nothing but spaces and
    punctuation is selected.
    """
    if not (0 <= start < end <= len(text)):
        raise FocusqaError(f"the selection {start}–{end} lies outside the turn (0–{len(text)})")
    while start < end and not _is_word(text[start]):
        start += 1
    while end > start and not _is_word(text[end - 1]):
        end -= 1
    if start == end:
        raise FocusqaError("the selection holds no words")
    while start > 0 and _is_word(text[start - 1]):
        start -= 1
    while end < len(text) and _is_word(text[end]):
        end += 1
    return start, end


def document_span(segment: Any, start: int, end: int) -> tuple[int | None, int | None]:
    """The document offsets to store for a selection in ``segment`` (turn offsets).

    ``(None, None)`` when the words cover the whole turn: that is a whole-turn coding.
    """
    start, end = word_span(segment.text, start, end)
    if (start, end) == word_span(segment.text, 0, len(segment.text)):
        return None, None
    return segment.start + start, segment.start + end


def code_selection(store: Any, segment: Any, code_id: str, coder: str, start: int, end: int, *,
                   expected_version: int | None = None) -> Any:
    """Code the words selected in ``segment`` (turn offsets) with ``code_id`` for ``coder``.

    One coding per coder, code and turn (the store's rule): a selection with a code the
    coder already has on the turn moves that coding to the new words. Audited and
    version-checked like every ``set_coding``; returns its ``CodingInfo``.
    """
    doc_start, doc_end = document_span(segment, start, end)
    return store.set_coding(segment.id, code_id, coder, start=doc_start, end=doc_end,
                            expected_version=expected_version)


def runs(length: int, spans: Iterable[tuple[int, int, Any]]) -> list[Run]:
    """The turn's text cut where a span starts or ends: every stretch with the spans over it.

    ``spans`` are (start, end, key) in turn offsets; spans outside ``0..length`` or empty
    are left out. The runs cover the whole text in order, uncovered ones with no keys.
    """
    kept = [(max(0, a), min(length, b), key) for a, b, key in spans if min(length, b) > max(0, a)]
    cuts = sorted({0, length} | {a for a, _, _ in kept} | {b for _, b, _ in kept})
    return [Run(a, b, tuple(key for s, e, key in kept if s <= a and b <= e))
            for a, b in zip(cuts, cuts[1:])]


def turn_spans(segment: Any, codings: Sequence[Any]) -> list[tuple[int, int, Any]]:
    """(start, end, coding) in turn offsets for the codings of ``segment`` that cover part of it."""
    return [(c.start - segment.start, c.end - segment.start, c) for c in codings
            if c.start is not None and c.end is not None and segment.start <= c.start < c.end <= segment.end]
