"""Dev sets: real prose coded by two independent readers, to measure suggestions honestly.

A dev set is a folder with ``devset.yaml`` (its codebook and source texts) and
``labels.csv`` (per paragraph: a fingerprint of its text and each reader's codes).
Sources are read with focusqa's own reader, so a paragraph is a segment exactly as an
evaluator would see it. Sources may live in ``../shared`` (real public documents, which
the repository does not copy) or in the dev set's folder (text the project wrote).

``labels.csv`` columns: ``item`` (source number and segment index, ``0:17``), ``sha``
(first 10 hex digits of the SHA-1 of the segment's text), ``reader_a``, ``reader_b``
(each reader's codes, the first being the one that fits best, ``;``-separated;
``none`` when no code applies).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..codebook import Codebook, load_codebook
from ..config import PROJECT_DIR
from ..errors import FocusqaError
from ..ingest import read_transcript
from .training import TrainingDocument

NONE = "none"


def fingerprint(text: str) -> str:
    """The short fingerprint that ties a label to the exact text a reader coded."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


@dataclass
class DevItem:
    """One coded paragraph: where it is, and each reader's codes (best first)."""

    source: int
    position: int
    text: str
    readers: dict[str, tuple[str, ...]]


@dataclass
class DevSet:
    name: str
    codebook: Codebook
    documents: list[TrainingDocument]   # whole sources in order, unlabelled
    items: list[DevItem]
    kind: str                           # "prose" or "transcript"

    def labels(self, reader: str) -> dict[tuple[int, int], frozenset[str]]:
        return {(it.source, it.position): frozenset(c for c in it.readers[reader] if c != NONE)
                for it in self.items}

    def top(self, reader: str) -> dict[tuple[int, int], str]:
        return {(it.source, it.position): it.readers[reader][0] for it in self.items}


def shared_folder() -> Path:
    """``../shared`` beside the project folder (only CI and developers have it)."""
    return PROJECT_DIR.parent / "shared"


def load_devset(folder: str | Path, *, shared: Path | None = None) -> DevSet:
    """Read a dev set; a missing source or a label whose text changed is an error."""
    folder = Path(folder)
    spec_path = folder / "devset.yaml"
    try:
        spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FocusqaError(f"dev set cannot be read ({exc.strerror})", path=spec_path) from None
    codebook = load_codebook(PROJECT_DIR / spec["codebook"])
    shared = shared if shared is not None else shared_folder()
    documents = []
    for number, source in enumerate(spec["sources"]):
        path = (shared / source["shared"]) if "shared" in source else (folder / source["file"])
        if not path.exists():
            raise FocusqaError("dev-set source is missing", path=path)
        parsed = read_transcript(path)
        documents.append(TrainingDocument(f"{spec['name']}:{path.name}", parsed.segments, {},
                                          None, "devset"))
    items = []
    labels_path = folder / "labels.csv"
    with labels_path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            source, position = (int(x) for x in row["item"].split(":"))
            segment = documents[source].segments[position]
            if fingerprint(segment.text) != row["sha"]:
                raise FocusqaError(f"item {row['item']}: the text has changed since it was coded",
                                   path=labels_path)
            readers = {}
            for reader in ("reader_a", "reader_b"):
                codes = tuple(c.strip() for c in row[reader].split(";") if c.strip())
                unknown = [c for c in codes if c != NONE and c not in codebook]
                if not codes or unknown:
                    raise FocusqaError(f"item {row['item']}: {reader} has no valid code "
                                       f"({', '.join(unknown) or 'empty'})", path=labels_path)
                readers[reader[-1]] = codes
            items.append(DevItem(source, position, segment.text, readers))
    return DevSet(spec["name"], codebook, documents, items, spec.get("kind", "prose"))


def devset_folders(root: Path | None = None) -> list[Path]:
    """The project's dev sets (folders under ``devsets/`` with a ``devset.yaml``)."""
    root = root if root is not None else PROJECT_DIR / "devsets"
    return sorted(p.parent for p in root.glob("*/devset.yaml"))


def demo_devset(round_: str = "2017") -> tuple[DevSet, list[TrainingDocument]]:
    """The demo corpus as a learning-curve set: one round's transcripts with coder A as the
    evaluator, and the other rounds' reference coding as the prior the project starts with."""
    from .training import default_reference, load_reference

    codebook = load_codebook()
    reference = default_reference()
    coder_a = load_reference(reference, codebook=codebook)
    coder_b = {d.name: d for d in load_reference(reference.with_name("coder_b.jsonl"), codebook=codebook)}
    base = [d for d in coder_a if d.round != round_]
    documents, items = [], []
    for doc in (d for d in coder_a if d.round == round_):
        other = coder_b.get(doc.name)
        number = len(documents)
        documents.append(TrainingDocument(doc.name, doc.segments, {}, doc.round, "devset"))
        for pos, codes in sorted(doc.labels.items()):
            readers = {"a": _ordered(codes, doc.primary.get(pos))}
            # Coder B coded some documents only; elsewhere the second reader is A again
            # (so the demo's "other reader" and ceiling figures are not independent).
            readers["b"] = (_ordered(other.labels[pos], other.primary.get(pos))
                            if other is not None and pos in other.labels else readers["a"])
            items.append(DevItem(number, pos, doc.segments[pos].text, readers))
    return DevSet(f"demo-{round_}", codebook, documents, items, "transcript"), base


def _ordered(codes: frozenset[str], first: str | None) -> tuple[str, ...]:
    if not codes:
        return (NONE,)
    rest = sorted(c for c in codes if c != first)
    return ((first,) if first in codes else ()) + tuple(rest)
