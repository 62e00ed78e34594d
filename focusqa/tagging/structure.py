"""The interview-structure signal.

A moderator asks the guide's questions roughly in order and then follows up.
The participant turns after a guide question are most likely about that point,
so the question becomes a prior over them until the next guide question. A
moderator turn is recognised as a new guide question by its similarity to the
codebook's questions, labels, definitions and terms (and by explicit references
such as "spørgsmål 4" or "punkt fire"); otherwise it is a follow-up and the
prior stays. In prose without speakers, headings ("Ad. 2. Tværfaglig
koordinering") play the moderator's part.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

_ORDINALS = {"første": 1, "anden": 2, "andet": 2, "tredje": 3, "fjerde": 4, "femte": 5,
             "sjette": 6, "syvende": 7, "ottende": 8, "niende": 9, "en": 1, "et": 1, "to": 2,
             "tre": 3, "fire": 4, "fem": 5, "seks": 6, "syv": 7, "otte": 8, "ni": 9}
_NUMBERED = re.compile(
    r"\b(?:spørgsmål|punkt|punkter|tema|ad\.?|question|point)\s*(?:nr\.?\s*|nummer\s*)?(\d{1,2}|"
    + "|".join(_ORDINALS) + r")\b", re.IGNORECASE)
_ORDINAL_FIRST = re.compile(
    r"\b(" + "|".join(k for k in _ORDINALS if len(k) > 3) + r")\s+(?:spørgsmål|punkt|tema)\b",
    re.IGNORECASE)
_REFERENCE_WORDS = ("spørgsmål", "punkt", "tema", "ad", "question", "point")
_REFERENCE_GATE = re.compile(r"(?<!\w)(?:" + "|".join(_REFERENCE_WORDS) + ")", re.IGNORECASE)
# Words a moderator uses to move on to a new guide point ("Så til…", "Næste punkt…").
_TRANSITION = re.compile(
    r"^\W*(?:så\s+(?:til|går\s+vi|springer|tager|kommer|vil\s+jeg)|så\s+\w+(?:en|et|ne)?[.,]|"
    r"lad\s+os|næste|videre|nu\s+(?:vil|skal)|det\s+næste|vi\s+går|hvis\s+vi\s+(?:går|tager|starter|bare)|"
    r"første|andet|tredje|fjerde|femte|sjette|sidste|til\s+sidst|afslutningsvis)"
    r"|\b(?:næste\s+(?:punkt|spørgsmål|tema)|videre\s+til|sidste\s+punkt|over\s+til)\b",
    re.IGNORECASE)
# A moderator's opening words: welcoming the group and presenting the evaluation and
# the guide as a whole. Such a turn names several points in passing and asks none.
_OPENING = re.compile(r"\b(?:velkommen|tak\s+fordi\s+(?:i|du)|tak\s+for\s+at\s+(?:i|du))\b",
                      re.IGNORECASE)
# In prose, a heading's point is a prior for at most this many paragraphs: a
# document's sections are rarely longer, and a stray heading must not colour it all.
HEADING_SPAN = 8
_HEADING_FORM = re.compile(r"^\s*(?:ad\.?\s*\d|\d{1,2}\s*[.):]\s|[A-ZÆØÅ][^.!?]{0,80}:\s*$)",
                           re.IGNORECASE)


def referenced_number(text: str) -> int | None:
    """A guide point named explicitly: "spørgsmål 4", "Ad. 2", "det fjerde punkt"."""
    # Both patterns need one of these words at a word start; most turns have none.
    if not _REFERENCE_GATE.search(text):
        return None
    for pattern in (_NUMBERED, _ORDINAL_FIRST):
        m = pattern.search(text)
        if m:
            token = m.group(1).lower()
            return int(token) if token.isdigit() else _ORDINALS.get(token)
    return None


def looks_like_heading(text: str) -> bool:
    """A short paragraph without a closing full stop, or one that starts "Ad. 3"/"3." ."""
    stripped = text.strip()
    if not stripped:
        return False
    if _HEADING_FORM.match(stripped) and len(stripped.split()) <= 14:
        return True
    return len(stripped.split()) <= 10 and not stripped.endswith((".", ",", ";", "!"))


class QuestionRecognizer(BaseEstimator):
    """Which guide point a question (or heading) is about, by weighted lemma overlap.

    Each code is one "document" made of its label, question, definition, include
    text and terms (plus, when given, moderator questions seen in training). Words
    shared by every code's document get no weight, so the common frame of the
    guide questions ("Hvad er jeres erfaringer i forhold til…") does not count.

    Parameters
    ----------
    threshold : float, default=0.22
        Minimum score for a new guide question.
    margin : float, default=0.03
        Minimum lead of the best code over the second best.
    term_weight : float, default=0.25
        Weight of the codebook-term score of the turn, added to the similarity.
    transition_bonus : float, default=0.08
        Added when the turn opens like a move to a new point ("Så til…", "Næste punkt").
    order_bonus : float, default=0.05
        Added to points after the current one and taken from points before it,
        because a moderator works through the guide roughly in order.
    """

    def __init__(self, *, threshold: float = 0.22, margin: float = 0.03, term_weight: float = 0.25,
                 transition_bonus: float = 0.08, order_bonus: float = 0.05) -> None:
        self.threshold = threshold
        self.margin = margin
        self.term_weight = term_weight
        self.transition_bonus = transition_bonus
        self.order_bonus = order_bonus

    def fit(self, X: Sequence[Sequence[str]], y: Sequence[int]) -> "QuestionRecognizer":
        """X: lemma lists; y: the code index each belongs to (codebook texts and examples)."""
        k = int(max(y)) + 1 if len(y) else 0
        words: list[dict[str, float]] = [dict() for _ in range(k)]
        for lemmas, code in zip(X, y):
            for lemma in set(lemmas):
                words[code][lemma] = words[code].get(lemma, 0.0) + 1.0
        df: dict[str, int] = {}
        for bag in words:
            for lemma in bag:
                df[lemma] = df.get(lemma, 0) + 1
        self.idf_ = {w: math.log(k / n) for w, n in df.items() if n < k}
        self.vocabulary_ = {w: i for i, w in enumerate(sorted(self.idf_))}
        centroids = np.zeros((k, len(self.vocabulary_)))
        for code, bag in enumerate(words):
            for lemma, count in bag.items():
                col = self.vocabulary_.get(lemma)
                if col is not None:
                    centroids[code, col] = (1.0 + math.log(count)) * self.idf_[lemma]
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        self.centroids_ = centroids / np.where(norms == 0, 1.0, norms)
        return self

    def similarity(self, X: Sequence[Sequence[str]]) -> np.ndarray:
        """Cosine similarity of each lemma list to each code, shape (n, n_codes)."""
        check_is_fitted(self, "centroids_")
        rows, cols, vals = [], [], []
        vocabulary, idf = self.vocabulary_, self.idf_
        for i, lemmas in enumerate(X):
            for w in set(lemmas):
                col = vocabulary.get(w)
                if col is not None:
                    rows.append(i)
                    cols.append(col)
                    vals.append(idf[w])
        query = sp.csr_matrix((vals, (rows, cols)), shape=(len(X), len(vocabulary)))
        norms = np.sqrt(np.asarray(query.multiply(query).sum(axis=1)).ravel())
        query = sp.diags(1.0 / np.where(norms == 0, 1.0, norms)) @ query
        return np.asarray(query @ self.centroids_.T)

    def recognise(self, lemmas: Sequence[str], text: str, numbers: dict[int, int], *,
                  terms: np.ndarray | None = None, current: int | None = None,
                  similarity: np.ndarray | None = None) -> tuple[int | None, float]:
        """(code index, score) if the text asks a guide question, else (None, best score).

        terms: the turn's codebook-term score per code; current: the point asked last;
        similarity: this text's row of :meth:`similarity`, if already computed.
        """
        number = referenced_number(text)
        if number is not None and number in numbers:
            return numbers[number], 1.0
        row = similarity if similarity is not None else self.similarity([lemmas])[0]
        if len(row) == 0:
            return None, 0.0
        # Plain lists: this runs once per moderator turn, on a handful of codes.
        sims = row.tolist()
        if terms is not None:
            sims = [s + self.term_weight * t for s, t in zip(sims, terms.tolist())]
        if _TRANSITION.search(text):
            sims = [s + self.transition_bonus for s in sims]
        if current is not None:
            sims = [s + (self.order_bonus if j > current else -2 * self.order_bonus if j < current else 0.0)
                    for j, s in enumerate(sims)]
        best = max(sims)
        top = sims.index(best)  # the first of equal scores, as a stable ranking would give
        second = max(sims[:top] + sims[top + 1:]) if len(sims) > 1 else 0.0
        if best >= self.threshold and best - second >= self.margin:
            return top, best
        return None, best


@dataclass(frozen=True)
class Prior:
    """The structure prior of one segment.

    code: index of the guide point asked last (None before the first question or
    outside any recognised section); structured: the text has moderator turns or
    headings, so the absence of a prior means something; kind: what this segment
    itself is ("question", "follow-up", "heading", or "content").
    """

    code: int | None
    structured: bool
    kind: str = "content"
    similarity: float = 0.0


_CONTENT_PRIORS: dict[tuple[int | None, bool], Prior] = {}


def _content_prior(code: int | None, structured: bool) -> Prior:
    """The (immutable, so shared) prior of a content segment; most segments have one."""
    prior = _CONTENT_PRIORS.get((code, structured))
    if prior is None:
        prior = _CONTENT_PRIORS[(code, structured)] = Prior(code, structured, "content")
    return prior


def find_moderators(speakers: Sequence[str | None], texts: Sequence[str],
                    hits: Sequence[bool]) -> set[str]:
    """Speakers who ask the guide questions, when no turn was labelled as a moderator's.

    hits[i] tells whether turn i looks like a guide question. The speaker with the
    most such turns (at least two, mostly questions) is taken as the moderator.
    """
    counts: dict[str, list[int]] = {}
    for speaker, text, hit in zip(speakers, texts, hits):
        if speaker is None:
            continue
        c = counts.setdefault(speaker, [0, 0, 0])
        c[0] += 1
        c[1] += int(hit)
        c[2] += int("?" in text)
    ranked = sorted(((c[1], c[2] / c[0], s) for s, c in counts.items() if c[1] >= 2), reverse=True)
    if len(counts) >= 2 and ranked and ranked[0][1] >= 0.4:
        return {ranked[0][2]}
    return set()


def recognition_candidates(roles: Sequence[str], speakers: Sequence[str | None],
                           texts: Sequence[str]) -> list[int]:
    """Positions of one document's segments that may ask a guide question or be a heading."""
    has_speakers = any(s is not None for s in speakers)
    detect = has_speakers and "moderator" not in roles
    return [i for i, (r, t) in enumerate(zip(roles, texts))
            if detect or r == "moderator" or (not has_speakers and looks_like_heading(t))]


def assign_priors(roles: Sequence[str], speakers: Sequence[str | None], texts: Sequence[str],
                  lemmas: Sequence[Sequence[str]], recognizer: QuestionRecognizer,
                  numbers: dict[int, int], terms: Sequence[np.ndarray] | None = None,
                  similarity: dict[int, np.ndarray] | None = None) -> tuple[list[Prior], list[str]]:
    """Structure priors for one document's segments (in order), and the effective roles.

    Roles can change: if no turn is labelled as the moderator's, the speaker who
    asks the guide questions is recognised as the moderator. ``similarity`` may
    hold the recogniser's rows for :func:`recognition_candidates`, computed for
    many documents at once.
    """
    roles = list(roles)
    has_speakers = any(s is not None for s in speakers)
    detect = has_speakers and "moderator" not in roles
    sims = similarity
    if sims is None:
        candidates = recognition_candidates(roles, speakers, texts)
        sims = dict(zip(candidates, recognizer.similarity([lemmas[i] for i in candidates])))
    if detect:
        hits = [recognizer.recognise(lem, t, numbers, terms=None if terms is None else terms[i],
                                     similarity=sims[i])[0] is not None
                and "?" in t for i, (lem, t) in enumerate(zip(lemmas, texts))]
        moderators = find_moderators(speakers, texts, hits)
        roles = ["moderator" if s in moderators else r for s, r in zip(speakers, roles)]
    priors: list[Prior] = []
    current: int | None = None
    asked = False  # whether a guide question has been asked yet
    since_heading = 0
    structured = "moderator" in roles
    for i, (role, text, lem) in enumerate(zip(roles, texts, lemmas)):
        term_scores = None if terms is None else terms[i]
        if role == "moderator":
            code, sim = recognizer.recognise(lem, text, numbers, terms=term_scores, current=current,
                                             similarity=sims[i])
            if (code is not None and not asked and _OPENING.search(text)
                    and referenced_number(text) is None and sim < 2 * recognizer.threshold):
                code = None  # the welcome, not a guide question
            asked = asked or code is not None
            if code is not None and code != current:
                current = code
                priors.append(Prior(current, True, "question", sim))
            else:
                priors.append(Prior(current, True, "follow-up", sim))
            continue
        if not has_speakers and looks_like_heading(text):
            code, sim = recognizer.recognise(lem, text, numbers, terms=term_scores, similarity=sims[i])
            # Any other heading (or table header) ends the previous section.
            current, since_heading = code, 0
            if code is not None:
                structured = True
                priors.append(Prior(current, True, "heading", sim))
                continue
        elif not has_speakers and current is not None:
            since_heading += 1
            if since_heading > HEADING_SPAN:
                current = None
        priors.append(_content_prior(current, structured))
    if not structured:
        priors = [Prior(None, False, p.kind, p.similarity) for p in priors]
    return priors, roles
