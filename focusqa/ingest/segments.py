"""From paragraphs to speaker turns and segments, with offsets into the plain text."""

from __future__ import annotations

import re
from collections import Counter

from ..types import DocumentMetadata, ParsedDocument, Segment
from .readers import Paragraph, RawText
from .turns import LabelMatch, is_moderator_label, leading_timestamp, match_label

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
            matches.append(LabelMatch(p.explicit_label, ts, p.body_offset + skip, True))
        else:
            matches.append(match_label(p.text))
    counts = Counter(m.label.casefold() for m in matches if m)
    accepted = [m if m and (m.strong or counts[m.label.casefold()] >= 2) else None for m in matches]
    labelled = sum(1 for m in accepted if m)
    candidates = sum(1 for m in matches if m)
    explicit = any(p.explicit_label for p in paragraphs)
    transcript = (explicit or (labelled >= 2 and labelled >= MIN_LABELLED_SHARE * len(paragraphs))
                  or (labelled >= 1 and candidates >= 0.5 * len(paragraphs)))
    if not transcript:
        return [None] * len(paragraphs)
    return [a if a else (m if m and _plausible_single_use(m.label) else None)
            for a, m in zip(accepted, matches)]


def _span(plain: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) to exclude surrounding white space."""
    while start < end and plain[start].isspace():
        start += 1
    while end > start and plain[end - 1].isspace():
        end -= 1
    return start, end


def build_document(raw: RawText, name: str, metadata: DocumentMetadata) -> ParsedDocument:
    plain = raw.plain_text
    labels = _labels(raw.paragraphs)
    segments: list[Segment] = []
    preamble: list[str] = []
    transcript = any(labels)
    speaker: str | None = None
    role = "participant"
    timestamp: str | None = None
    turn = -1
    for paragraph, label in zip(raw.paragraphs, labels):
        body_start = paragraph.start
        if label is not None:
            speaker = label.label
            role = "moderator" if is_moderator_label(speaker, metadata.moderators) else "participant"
            timestamp = label.timestamp
            turn += 1
            body_start = paragraph.start + label.body_start
        elif transcript and speaker is None:
            preamble.append(paragraph.text.strip())
            continue
        elif not transcript:
            turn += 1
            timestamp = None
        start, end = _span(plain, body_start, paragraph.start + len(paragraph.text))
        if paragraph.text.lstrip().startswith("#") and not transcript:
            start, end = _span(plain, start + len(re.match(r"\s*#+", plain[start:end]).group()), end)
        if start >= end:
            continue
        segments.append(Segment(index=len(segments), turn=turn, speaker=speaker if transcript else None,
                                role=role if transcript else "participant", text=plain[start:end],
                                start=start, end=end, timestamp=timestamp))
    return ParsedDocument(name=name, plain_text=plain, segments=segments, metadata=metadata,
                          source_format=raw.source_format, preamble="\n".join(preamble))
