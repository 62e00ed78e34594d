"""Where the tagger learns from: the shipped reference coding, the codings
evaluators accepted in the database, ``--examples`` files, and the codebook itself.

Every source becomes a list of :class:`TrainingDocument`: whole documents in
order (so the interview structure can be computed) with labels on the segments
a person has coded. Unlabelled segments carry no label and are not used as
negatives, except in the reference coding, where the coder read the whole text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from ..codebook import Codebook
from ..config import DEMO_CORPUS, MACHINE_CODER
from ..errors import FocusqaError, ManifestError
from ..types import DocumentMetadata, Segment

REFERENCE_FILE = "coder_a.jsonl"


@dataclass
class TrainingDocument:
    """A document's segments in order and the codes of its labelled segments.

    labels maps a position in ``segments`` to the set of code ids (possibly empty:
    "none of the codes"); positions without an entry are unlabelled.
    """

    name: str
    segments: Sequence
    labels: dict[int, frozenset[str]] = field(default_factory=dict)
    round: str | None = None
    source: str = "reference"
    primary: dict[int, str] = field(default_factory=dict)


def default_reference() -> Path:
    """The demo corpus's reference coding shipped with focusqa."""
    return DEMO_CORPUS / "reference" / REFERENCE_FILE


def _corpus_metadata(corpus_dir: Path) -> dict[str, DocumentMetadata]:
    from ..ingest import read_manifest

    manifest = corpus_dir / "manifest.csv"
    return read_manifest(manifest) if manifest.exists() else {}


def load_reference(path: str | Path | None = None, *, corpus_dir: str | Path | None = None,
                   codebook: Codebook | None = None) -> list[TrainingDocument]:
    """Reference codings (JSONL lines with document, segment, codes) joined to their transcripts.

    The transcripts are read from ``corpus_dir`` (default: the folder above the
    reference file). Codes on moderator turns are ignored.
    """
    from ..ingest import read_transcript

    path = Path(path) if path is not None else default_reference()
    corpus_dir = Path(corpus_dir) if corpus_dir is not None else path.parent.parent
    if not path.exists():
        raise ManifestError("reference coding not found", path=path)
    wanted: dict[str, dict[int, set[str]]] = {}
    first: dict[tuple[str, int], str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            codes = row.get("codes", [])
            entry = wanted.setdefault(str(row["document"]), {}).setdefault(int(row["segment"]), set())
            for code in codes:
                if codebook is not None and code not in codebook:
                    raise ManifestError(f"unknown code '{code}'", path=path, line=number)
                code_id = codebook.get(code).id if codebook is not None else str(code)
                entry.add(code_id)
                first.setdefault((str(row["document"]), int(row["segment"])), code_id)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            if isinstance(exc, FocusqaError):
                raise
            raise ManifestError(f"malformed reference line ({exc})", path=path, line=number) from None
    metadata = _corpus_metadata(corpus_dir)
    documents = []
    for name in sorted(wanted):
        parsed = read_transcript(corpus_dir / name, metadata.get(name))
        coded = wanted[name]
        labels = {i: frozenset(coded.get(seg.index, ())) for i, seg in enumerate(parsed.segments)
                  if seg.role != "moderator"}
        primary = {i: first[(name, seg.index)] for i, seg in enumerate(parsed.segments)
                   if i in labels and (name, seg.index) in first}
        documents.append(TrainingDocument(name, parsed.segments, labels, parsed.metadata.round,
                                          "reference", primary))
    return documents


def store_documents(store, *, exclude_documents: Iterable[str] = ()) -> list[TrainingDocument]:
    """Documents in the database with the codings people made (accepted ones are positives).

    A segment with any human coding is labelled with its accepted codes (an
    empty set when the person only rejected suggestions).
    """
    excluded = set(exclude_documents)
    coded: dict[int, set[str]] = {}
    for coding in store.codings(origin="human"):
        if coding.coder == MACHINE_CODER:
            continue
        codes = coded.setdefault(coding.segment_id, set())
        if coding.status == "accepted":
            codes.add(coding.code_id)
    if not coded:
        return []
    documents: dict[int, TrainingDocument] = {}
    for seg in store.segments():
        if seg.document in excluded:
            continue
        doc = documents.get(seg.document_id)
        if doc is None:
            doc = documents[seg.document_id] = TrainingDocument(seg.document, [], {}, seg.round, "store")
        if seg.id in coded and seg.role != "moderator":
            doc.labels[len(doc.segments)] = frozenset(coded[seg.id])
        doc.segments.append(seg)
    return [d for d in documents.values() if d.labels]


def example_segment(text: str) -> Segment:
    """A text on its own (an example, a codebook text) as a one-segment document's segment."""
    return Segment(index=0, turn=0, speaker=None, role="participant", text=text, start=0, end=len(text))


def load_examples(path: str | Path, codebook: Codebook) -> list[TrainingDocument]:
    """``{"text": ..., "code": id-or-number}`` lines, each a labelled one-segment document."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise FocusqaError("examples file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FocusqaError(f"examples file cannot be read ({exc})", path=path) from None
    by_text: dict[str, set[str]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text = str(row["text"]).strip()
            codes = row["code"] if isinstance(row["code"], list) else [row["code"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise FocusqaError(f"expected {{\"text\": ..., \"code\": ...}} ({exc})", path=path,
                               line=number) from None
        if not text:
            raise FocusqaError("empty text", path=path, line=number)
        for code in codes:
            try:
                by_text.setdefault(text, set()).add(codebook.get(code).id)
            except KeyError:
                raise FocusqaError(f"unknown code {code!r}", path=path, line=number) from None
    return [TrainingDocument(f"{path.name}:{i + 1}", [example_segment(text)], {0: frozenset(codes)},
                             None, "examples")
            for i, (text, codes) in enumerate(by_text.items())]


_CODE_REFERENCE = re.compile(r"\b(?:kode|code|punkt)\s+(\d+)", re.IGNORECASE)


_WORDS = re.compile(r"\w+", re.UNICODE)


def _distinguishing_words(note: str, code) -> str:
    """The words of an exclusion note that are not the code's own (label, terms, definition).

    "Netværk af fagpersoner (kode 2)" under the network code excludes *professional*
    networks: "fagpersoner" counts against the code, "netværk" (its own term) does not.
    """
    own = " ".join([code.label_da, code.definition, code.include, *code.terms]).lower()
    stems = {w[:5] for w in _WORDS.findall(own) if len(w) >= 4}
    kept = [w for w in _WORDS.findall(note) if not w.isdigit() and w.lower() not in ("kode", "code")
            and w.lower()[:5] not in stems]
    return " ".join(kept)


def codebook_documents(codebook: Codebook) -> list[TrainingDocument]:
    """The codebook's own texts as labelled seed texts, and its anchor examples.

    Definition, inclusion note, question and terms are examples of their code; they let
    the model start from the codebook when no coding exists yet. An exclusion note is
    an example *against* its code (and for the codes it names, "kode 4"). Anchor
    examples are the project's own evidence (source ``"anchor"``), weighted like
    confirmed codings.
    """
    numbers = {c.number: c.id for c in codebook.codes if c.number is not None}
    docs = []
    for code in codebook.codes:
        texts = [t for t in (code.definition, code.include, f"{code.label_da}. {code.question}",
                             " ".join(code.terms)) if t.strip()]
        segments = [example_segment(t) for t in texts]
        labels = {i: frozenset({code.id}) for i in range(len(segments))}
        if code.exclude.strip():
            named = {numbers[int(n)] for n in _CODE_REFERENCE.findall(code.exclude)
                     if int(n) in numbers and numbers[int(n)] != code.id}
            distinct = _distinguishing_words(code.exclude, code)
            if distinct:
                labels[len(segments)] = frozenset(named)
                segments.append(example_segment(distinct))
        docs.append(TrainingDocument(f"codebook:{code.id}", segments, labels, None, "codebook"))
        if code.examples:
            docs.append(TrainingDocument(f"anchor:{code.id}", [example_segment(t) for t in code.examples],
                                         {i: frozenset({code.id}) for i in range(len(code.examples))},
                                         None, "anchor"))
    return docs


def merge_documents(*sources: Iterable[TrainingDocument]) -> list[TrainingDocument]:
    """Combine sources; for a document in several, later labels win segment by segment.

    So an evaluator's decision in the database overrides the shipped reference for
    that segment, while the reference still labels the segments nobody reviewed.
    """
    merged: dict[str, TrainingDocument] = {}
    for source in sources:
        for doc in source:
            earlier = merged.get(doc.name)
            if earlier is not None and len(earlier.segments) == len(doc.segments):
                doc = TrainingDocument(doc.name, doc.segments, {**earlier.labels, **doc.labels},
                                       doc.round or earlier.round, doc.source)
            merged[doc.name] = doc
    return list(merged.values())
