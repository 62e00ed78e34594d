"""From paragraphs to speaker turns and segments, with offsets into the plain text."""

from __future__ import annotations

import re
from collections import Counter

from ..errors import TranscriptError
from ..limits import MAX_TRANSCRIPT_CHARS, MAX_TRANSCRIPT_LINES, MAX_TURN_CHARS, MAX_TURNS
from ..types import DocumentMetadata, ParsedDocument, Segment
from .readers import Paragraph, RawText
from .turns import END_TIMESTAMP, END_TIMESTAMP_SPAN, LabelMatch, is_moderator_label, leading_timestamp, match_label

MIN_LABELLED_SHARE = 0.3


def _plausible_single_use(label: str) -> bool:
    """A label used once is accepted in a transcript only if it looks like a name or role."""
    words = label.split()
    return bool(words) and words[0][0].isupper() and all(
        w[0].isupper() or w[0].isdigit() or w.startswith("(") or w.endswith(")") for w in words[1:])


def _labels(paragraphs: list[Paragraph]) -> list[LabelMatch | None]:
    matches: list[LabelMatch | None] = []
    for p in paragraphs:
        if p.explicit_label:
            ts, skip = leading_timestamp(p.text[p.body_offset:])
            # a bold label may carry its time mark, "**Deltager 1 (00:00:31):**": read it as a .txt is read
            inner = match_label(f"{p.explicit_label}: x")
            label = p.explicit_label
            if inner is not None and inner.timestamp and inner.label != label:
                label, ts = inner.label, ts or inner.timestamp
            matches.append(LabelMatch(label, ts, p.body_offset + skip, True))
        else:
            matches.append(match_label(p.text))
    counts = Counter(m.label.casefold() for m in matches if m)
    accepted = [m if m and (m.strong or counts[m.label.casefold()] >= 2) else None for m in matches]
    # A lone word above a paragraph is a speaker only in a document that writes its
    # labels that way, with at least two of them; otherwise it is a heading.
    alone = {m.label.casefold() for m in accepted if m and m.own_line}
    if len(alone) < 2:
        accepted = [None if m and m.name_only else m for m in accepted]
    # A label alone on its line labels the paragraph below it too.
    labelled = sum(1 + (m.own_line and not p.text[m.body_start:].strip())
                   for m, p in zip(accepted, paragraphs) if m)
    candidates = sum(1 for m in matches if m)
    explicit = any(p.explicit_label for p in paragraphs)
    transcript = (explicit or (labelled >= 2 and labelled >= MIN_LABELLED_SHARE * len(paragraphs))
                  or (labelled >= 1 and candidates >= 0.5 * len(paragraphs)))
    if not transcript:
        return [None] * len(paragraphs)
    # A label used once counts in a transcript when it looks like a name, but not
    # alone on its line: there it looks just like a heading.
    return [a if a else (m if m and not m.own_line and _plausible_single_use(m.label) else None)
            for a, m in zip(accepted, matches)]


def _span(plain: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) to exclude surrounding white space."""
    while start < end and plain[start].isspace():
        start += 1
    while end > start and plain[end - 1].isspace():
        end -= 1
    return start, end


def _heading_level(paragraph: Paragraph) -> int:
    """A Word heading's level, or the number of #s of a Markdown heading; 0 otherwise."""
    if paragraph.heading_level:
        return paragraph.heading_level
    marks = re.match(r"\s*(#+)\s", paragraph.text)
    return len(marks.group(1)) if marks else 0


def _section_headings(paragraphs: list[Paragraph], labels: list[LabelMatch | None]) -> set[int]:
    """Headings that divide a transcript into sections ("## Spørgsmål 3", a Word heading).

    Those after the first speaker label, and the one right before it when it has the
    level of such a later heading; a heading further up, or of another level, is the
    document's title (preamble).
    """
    first = next((i for i, label in enumerate(labels) if label is not None), None)
    if first is None:
        return set()
    levels = {i: _heading_level(paragraphs[i]) for i in range(first + 1, len(paragraphs)) if labels[i] is None}
    later = {i for i, level in levels.items() if level}
    if first > 0 and _heading_level(paragraphs[first - 1]) in {levels[i] for i in later}:
        later.add(first - 1)
    return later


def _check_turns(segments: list[Segment], source) -> None:
    """Refuse more turns, or longer ones, than a transcript has: every turn is tagged and
    shown as one unit (the tagger's language model reads at most a million characters)."""
    if segments and segments[-1].turn + 1 > MAX_TURNS:
        raise TranscriptError(f"has {segments[-1].turn + 1:,} speaker turns; transcripts of more than "
                              f"{MAX_TURNS:,} are refused", path=source)
    lengths: Counter[int] = Counter()
    for seg in segments:
        lengths[seg.turn] += seg.end - seg.start
    turn, longest = max(lengths.items(), key=lambda item: item[1], default=(0, 0))
    if longest > MAX_TURN_CHARS:
        raise TranscriptError(f"has a turn of {longest:,} characters (turn {turn + 1}); turns of more than "
                              f"{MAX_TURN_CHARS:,} characters are refused", path=source)


def build_document(raw: RawText, name: str, metadata: DocumentMetadata, *, source=None) -> ParsedDocument:
    """Segments from paragraphs: a speaker label starts a turn, and an unlabelled
    paragraph continues it. In a transcript, a section heading is a turn of its own
    with the moderator's role and no speaker: it announces the next guide point, and
    what follows it is no longer the previous speaker's.

    Raises :class:`TranscriptError` naming ``source`` (default ``name``) when the
    document has more or longer turns than the limits allow."""
    if len(raw.plain_text) > MAX_TRANSCRIPT_CHARS:
        raise TranscriptError(f"has {len(raw.plain_text):,} characters of text; transcripts of more than "
                              f"{MAX_TRANSCRIPT_CHARS:,} are refused", path=source or name)
    if len(raw.paragraphs) > MAX_TRANSCRIPT_LINES:
        raise TranscriptError(f"has {len(raw.paragraphs):,} paragraphs; transcripts of more than "
                              f"{MAX_TRANSCRIPT_LINES:,} are refused", path=source or name)
    plain = raw.plain_text
    labels = _labels(raw.paragraphs)
    sections = _section_headings(raw.paragraphs, labels)
    segments: list[Segment] = []
    preamble: list[str] = []
    transcript = any(labels)
    started = False
    speaker: str | None = None
    role = "participant"
    timestamp: str | None = None
    turn = -1
    for number, (paragraph, label) in enumerate(zip(raw.paragraphs, labels)):
        body_start = paragraph.start
        if label is not None:
            speaker = label.label
            role = "moderator" if is_moderator_label(speaker, metadata.moderators) else "participant"
            timestamp = label.timestamp
            turn += 1
            body_start = paragraph.start + label.body_start
        elif number in sections:
            turn += 1
            speaker, timestamp = None, None
        elif transcript and not started:
            preamble.append(paragraph.text.strip())
            continue
        elif not transcript:
            turn += 1
            timestamp = None
        started = True
        start, end = _span(plain, body_start, paragraph.start + len(paragraph.text))
        if label is None and (number in sections or not transcript) and plain[start:end].startswith("#"):
            start, end = _span(plain, start + len(re.match(r"#+", plain[start:end]).group()), end)
        # the mark is short and ends the (stripped) turn: search only its tail, or a turn of
        # spaces makes the leading \s* try every position (quadratic)
        mark = END_TIMESTAMP.search(plain, max(start, end - END_TIMESTAMP_SPAN), end)
        if mark and mark.end() == end:
            end = _span(plain, start, mark.start())[1]
            timestamp = timestamp or mark.group("ts")
        if start >= end:
            continue
        segment_role = "moderator" if number in sections else role if transcript and speaker else "participant"
        segments.append(Segment(index=len(segments), turn=turn, speaker=speaker if transcript else None,
                                role=segment_role, text=plain[start:end],
                                start=start, end=end, timestamp=timestamp))
    _check_turns(segments, source or name)
    return ParsedDocument(name=name, plain_text=plain, segments=segments, metadata=metadata,
                          source_format=raw.source_format, preamble="\n".join(preamble))
