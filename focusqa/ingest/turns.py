"""Speaker labels and timestamps at the start of a paragraph.

Recognised: ``Navn:``, ``I:``, ``D1:``, ``Interviewer:``, ``[Navn]``, ``**Navn:**``,
upper-case names followed by a tab or a dash, and an optional timestamp
(``[00:12:31]``, ``00:12:31``, ``(12:31)``) before or after the label. A label may
also stand alone on its line, without a colon, above what the speaker says
(``INTERVIEWER``, ``DELTAGER 2``, ``Interviewer``, ``Deltager 2``), as many
transcription services write it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TS = r"(?:\[\s*\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\s*\]|\(\s*\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\s*\)|\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?)"
TIMESTAMP = re.compile(rf"\s*(?P<ts>{_TS})\s*")
_NAME = r"[A-ZÆØÅÄÖÜÉa-zæøåäöüé0-9][\wÆØÅæøåÄÖÜäöüÉé'’()/&., -]{0,40}?"
_LABEL = re.compile(
    rf"""^(?P<lead>\s*(?:(?P<ts1>{_TS})\s*[-–]?\s*)?)
    (?:
        \*\*(?P<mdlabel>{_NAME})\s*(?::\s*\*\*|\*\*\s*:)
      | \[(?P<blabel>[^\]\d\[][^\]\[]{{0,40}})\](?:\s*:)?
      | (?P<label>{_NAME})\s*(?:(?P<ts2>{_TS})\s*)?:(?=\s|$)
      | (?P<ulabel>[A-ZÆØÅ][A-ZÆØÅ0-9]*(?:\ [A-ZÆØÅ0-9]+){{0,3}})(?:\t|\s+[-–]\s+)
    )""",
    re.X,
)

# A label alone on its line: upper case (up to four words), a role word with a number
# ("Deltager 2", "R1"), or a single word that is checked against MODERATOR_WORDS.
_OWN_LINE = re.compile(
    rf"""^(?P<lead>\s*(?:(?P<ts1>{_TS})\s*[-–]?\s*)?)
    (?P<olabel>[A-ZÆØÅ][A-ZÆØÅ0-9]*(?:\ [A-ZÆØÅ0-9]+){{0,3}}
      | [A-ZÆØÅ][a-zæøåé]*\ ?\d{{1,2}}
      | [A-ZÆØÅ][a-zæøåé]+)
    [ \t]*(?:(?P<ts2>{_TS})[ \t]*)?(?:\n|$)""",
    re.X,
)

MODERATOR_WORDS = {
    "i", "int", "interviewer", "intervieweren", "interviewer1", "moderator", "moderatoren", "mod",
    "facilitator", "ordstyrer", "evaluator", "evaluatoren", "m", "spørger", "interviewperson",
    "mødeleder", "samtaleleder", "fokusgruppeleder", "forsker", "forskeren",
}

# The time mark f4/f5 transcription software puts at the end of a turn: "#00:01:23-5#".
END_TIMESTAMP = re.compile(r"\s*#(?P<ts>\d{1,2}:\d{2}:\d{2})(?:[-.,]\d+)?#\s*$")
END_TIMESTAMP_SPAN = 40   # characters at the end of a turn that can hold that mark


@dataclass(frozen=True)
class LabelMatch:
    label: str
    timestamp: str | None
    body_start: int
    strong: bool
    own_line: bool = False
    name_only: bool = False


def _clean_ts(ts: str | None) -> str | None:
    return ts.strip("[]() \t") if ts else None


def match_label(text: str) -> LabelMatch | None:
    """The speaker label at the start of ``text``, if it has one.

    ``strong`` labels are unambiguous by their form (bracketed, a known moderator
    word, a label with a number such as ``D1`` or ``Rådgiver 2``); other labels
    count only when a document uses them as labels more than once.
    """
    m = _LABEL.match(text)
    if not m:
        return _own_line_label(text)
    label = m.group("mdlabel") or m.group("blabel") or m.group("label") or m.group("ulabel")
    label = label.strip().rstrip(":").strip()
    if not label or len(label.split()) > 5 or re.search(r"[.!?,;]\s", label + " ") and not label.endswith(")"):
        return None
    if not any(ch.isalpha() for ch in label):
        return None
    if m.group("label") and not (label[0].isupper() or is_moderator_label(label)):
        return None
    body_start = m.end()
    timestamp = _clean_ts(m.group("ts1") or m.group("ts2"))
    ts_after = TIMESTAMP.match(text, body_start)
    if ts_after and timestamp is None:
        timestamp = _clean_ts(ts_after.group("ts"))
        body_start = ts_after.end()
    strong = bool(m.group("blabel") or m.group("mdlabel") or is_moderator_label(label)
                  or re.search(r"\d", label) or m.group("ulabel"))
    return LabelMatch(label, timestamp, body_start, strong)


def _own_line_label(text: str) -> LabelMatch | None:
    """A label alone on the first line (no colon).

    A lone title-case word ("Mette") is ``name_only``: a one-word heading looks the
    same, so the document decides (see ``ingest.segments``).
    """
    m = _OWN_LINE.match(text)
    if not m:
        return None
    label = m.group("olabel")
    moderator = is_moderator_label(label)
    return LabelMatch(label, _clean_ts(m.group("ts1") or m.group("ts2")), m.end(),
                      moderator or any(ch.isdigit() for ch in label), own_line=True,
                      name_only=label.isalpha() and not label.isupper() and not moderator)


def starts_turn(line: str) -> bool:
    """Whether a line starts a new paragraph; a lone word ("Mette") does not, since a
    hard-wrapped line can be one word too (those labels need a blank line before them)."""
    label = match_label(line)
    return label is not None and not label.name_only


def leading_timestamp(text: str) -> tuple[str | None, int]:
    """A timestamp at the start of a body (after an explicit label), and where the text starts."""
    m = TIMESTAMP.match(text)
    if m and m.start("ts") == len(text[: m.start("ts")]) and not text[: m.start("ts")].strip():
        return _clean_ts(m.group("ts")), m.end()
    return None, 0


def _label_key(label: str) -> str:
    return re.sub(r"[\s\d().:_-]+", "", label.casefold())


def is_moderator_label(label: str, configured: list[str] | tuple[str, ...] = ()) -> bool:
    """Moderators by common names (I, Interviewer, Moderator, …) or as configured per document."""
    key = _label_key(label)
    if any(_label_key(c) == key or c.casefold() == label.casefold() for c in configured):
        return True
    first = re.split(r"[\s(]", label.strip().casefold(), maxsplit=1)[0]
    return key in MODERATOR_WORDS or first.rstrip(":.") in MODERATOR_WORDS - {"i", "m"}
