"""Auto-coding: suggestions an evaluator confirms instead of finding codes by hand.

Three signals are combined per segment and code: the interview structure (which
guide question the moderator asked last, ``StructureSignal``), the codebook's terms
(matched inside Danish compounds, ``TermSignal``), and a model learned from human
codings (``ProjectModelSignal``); the ``Combiner`` turns them into suggestions, each
with its score and the evidence behind it. ``Tagger`` (tagger.py) runs them in that
order; docs/tagging.md walks through the files.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..codebook import Codebook, load_codebook
from ..config import MACHINE_CODER
from ..errors import FocusqaError
from ..types import CodeSuggestion
from .tagger import Tagger
from .training import (TrainingDocument, codebook_documents, default_reference, load_examples,
                       load_reference, merge_documents, store_documents)

logger = logging.getLogger(__name__)


def shipped_documents(codebook: Codebook) -> list[TrainingDocument]:
    """The demo corpus's reference coding, or nothing if it is not installed."""
    path = default_reference()
    if not path.exists():
        return []
    try:
        return load_reference(path, codebook=codebook)
    except FocusqaError as exc:
        logger.warning("shipped reference coding not used: %s", exc)
        return []


def build_tagger(codebook: Codebook | None = None, *, store=None,
                 examples_path: str | Path | None = None, threshold: float | None = None) -> Tagger:
    """A tagger trained on the shipped reference, the store's human codings and examples.

    Without any of them it still works from the codebook alone (terms,
    definitions, questions).
    """
    if codebook is None:
        codebook = store.codebook() if store is not None else load_codebook()
    base = shipped_documents(codebook)
    if examples_path is not None:
        base = base + load_examples(examples_path, codebook)
    documents = merge_documents(base, store_documents(store)) if store is not None else base
    tagger = Tagger(codebook, threshold=threshold)
    tagger.base_documents = base
    return tagger.fit(documents)


def autocode(store, tagger: Tagger | None = None) -> int:
    """Write suggestions for every imported segment; human codings are never changed.

    Codes a person has already decided on for a segment are not suggested again.
    Returns the number of suggestions written.
    """
    tagger = tagger if tagger is not None else build_tagger(store=store)
    segments = store.segments()
    if not segments:
        return 0
    decided = {(c.segment_id, c.code_id) for c in store.codings(origin="human")
               if c.coder != MACHINE_CODER}
    suggestions = tagger.suggest(segments)
    planned = {seg.id: [s for s in items if (seg.id, s.code_id) not in decided]
               for seg, items in zip(segments, suggestions)}
    return store.replace_suggestions(planned)


def _number(value: float, language: str) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if language == "da" else text


def describe(suggestion: CodeSuggestion, codebook: Codebook, language: str = "da", *, named: bool = True) -> str:
    """The suggestion in plain words for the app.

    "forslag: Samarbejdet i forhold til familiegruppe (sikkerhed 0,82) – ord: underretning; spørgsmål 4";
    without the code's name (``named=False``: beside a chip that shows it) "forslag (sikkerhed 0,82) – …".
    """
    try:
        label = codebook.get(suggestion.code_id).label(language)
    except KeyError:
        label = suggestion.label
    words = {"da": ("forslag", "ord", "spørgsmål", "ligner tidligere kodninger", "fra søgningen", "sikkerhed"),
             "en": ("suggested", "words", "question", "like earlier codings", "from the search", "confidence")}[
        language if language == "en" else "da"]
    evidence = suggestion.evidence or {}
    # A suggestion made from a search (the Søg page) has no score: it names the query instead.
    head = f"{words[0]}: {label}" if named else words[0]
    if evidence.get("search"):
        text = f"{head} {words[4]} »{evidence['search']}«"
    else:
        # the score named, so that "0,44" is not read as a count or a share of the turn
        text = f"{head} ({words[5]} {_number(suggestion.score, language)})"
    reasons = []
    if evidence.get("terms"):
        reasons.append(f"{words[1]}: {', '.join(evidence['terms'])}")
    if evidence.get("question") is not None and evidence.get("prior"):
        reasons.append(f"{words[2]} {evidence['question']}")
    if not reasons and evidence.get("model") is not None:
        # No word or question behind it: the learned model's own probability, said as what it is.
        reasons.append(f"{words[3]} ({_number(float(evidence['model']), language)})")
    return text + (" – " + "; ".join(reasons) if reasons else "")


__all__ = ["Tagger", "build_tagger", "autocode", "describe", "TrainingDocument", "load_reference",
           "load_examples", "store_documents", "codebook_documents", "merge_documents",
           "shipped_documents", "default_reference"]
