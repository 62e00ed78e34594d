"""Signal 1, the interview structure (:class:`StructureSignal`, at the end of this file).

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
from typing import Callable, NamedTuple, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .fastpaths import Lazy, column_table, lemma_positions

_ORDINALS = {"første": 1, "anden": 2, "andet": 2, "tredje": 3, "fjerde": 4, "femte": 5,
             "sjette": 6, "syvende": 7, "ottende": 8, "niende": 9, "en": 1, "et": 1, "to": 2,
             "tre": 3, "fire": 4, "fem": 5, "seks": 6, "syv": 7, "otte": 8, "ni": 9}
# Patterns on this page are written for lower-cased text: case-insensitive matching
# scans several times slower.
_NUMBERED = re.compile(
    r"\b(?:spørgsmål|punkt|punkter|tema|ad\.?|question|point)\s*(?:nr\.?\s*|nummer\s*)?(\d{1,2}|"
    + "|".join(_ORDINALS) + r")\b")
_ORDINAL_FIRST = re.compile(
    r"\b(" + "|".join(k for k in _ORDINALS if len(k) > 3) + r")\s+(?:spørgsmål|punkt|tema)\b")
# Both patterns need one of these words at a word start; most turns have none.
_REFERENCE_WORD = re.compile("spørgsmål|punkt|tema|ad|question|point")
# Words a moderator uses to move on to a new guide point: at the start of the turn
# ("Så til…", "Næste…", also after a short acknowledgement: "Dejligt. Lad os …") or anywhere ("… videre til …", "næste punkt"). Both are
# written for lower-cased text.
_TRANSITION_START = re.compile(
    r"\W*(?:(?:dejligt|godt|fint|tak|okay|ok|ja|super|fedt|spændende|mange\s+tak)\W+)?"   # "Dejligt. Lad os …"
    r"(?:så\s+(?:til|går\s+vi|springer|tager|kommer|vil\s+jeg)|så\s+\w+(?:en|et|ne)?[.,]|"
    r"lad\s+os|næste|videre|nu\s+(?:vil|skal)|det\s+næste|vi\s+går|hvis\s+vi\s+(?:går|tager|starter|bare)|"
    r"første|andet|tredje|fjerde|femte|sjette|sidste|til\s+sidst|afslutningsvis)")
_TRANSITION_PHRASE = re.compile(r"(?:næste\s+(?:punkt|spørgsmål|tema)|videre\s+til|sidste\s+punkt|over\s+til)\b")
# A moderator's opening words: welcoming the group and presenting the evaluation and
# the guide as a whole. Such a turn names several points in passing and asks none.
_OPENING = re.compile(r"(?:velkommen|tak\s+fordi\s+(?:i|du)|tak\s+for\s+at\s+(?:i|du))\b")
# A moderator's closing question in everyday words ("Har I noget andet på hjerte?",
# "… noget, vi ikke har fået talt om?", "Er der noget, I gerne vil tilføje?"): it opens
# the guide's catch-all point whatever else it names in passing ("… noget, I gerne vil
# have, styregruppen hører?"). Written for lower-cased text.
_CLOSING = re.compile(
    r"andet\s+på\s+hjerte|"
    r"(?:vi|jeg)\s+ikke\s+har\s+(?:fået\s+)?(?:talt|snakket|spurgt|været|berørt|nævnt)|"
    r"(?:noget|andet)\s*,?\s*(?:i|du)\s+(?:gerne\s+)?(?:vil|har\s+lyst\s+til)\s+(?:gerne\s+)?(?:at\s+)?"
    r"tilføje\s*(?:\?|$|,|\.|–|til\s+sidst|inden|før|som)|"
    r"(?:andre|yderligere|supplerende)\s+(?:bemærkninger|kommentarer)")
# Every match of _CLOSING holds one of these.
_CLOSING_WORDS = re.compile(r"hjerte|ikke\s+har|tilføje|bemærkninger|kommentarer")
# "Inden vi slutter" closes too ("Er der mere, I gerne vil nå at sige, inden vi
# slutter?"), unless the moderator goes back to an earlier point before the end ("Der er
# noget, jeg gerne lige vil tilbage til, inden vi runder af"): then the point is the one
# named, not the catch-all.
_CLOSING_TIME = re.compile(r"(?:inden|før)\s+vi\s+(?:slutter|runder|stopper|afslutter)")
_GOING_BACK = re.compile(r"\b(?:tilbage\s+til|vende\s+tilbage)\b")
# A guide's catch-all point, by its label ("Supplerende bemærkninger", "Andet", "Øvrige
# forhold") or its definition ("Alt andet …").
_CATCH_ALL_LABEL = re.compile(r"^\s*(?:supplerende|øvrig\w*|andet|andre\s+bemærkninger|afsluttende|diverse|"
                              r"additional|other|miscellaneous)\b")
_CATCH_ALL_DEFINITION = re.compile(r"^\s*(?:alt\s+andet|anything\s+else)\b")


def catch_all_point(labels: Sequence[str], definitions: Sequence[str]) -> int | None:
    """The index of the guide's catch-all point (the last one, if several), or None."""
    found = [i for i, (label, definition) in enumerate(zip(labels, definitions))
             if _CATCH_ALL_LABEL.match(label.lower()) or _CATCH_ALL_DEFINITION.match(definition.lower())]
    return found[-1] if found else None


# In prose, a heading's point is a prior for at most this many paragraphs: a
# document's sections are rarely longer, and a stray heading must not colour it all.
HEADING_SPAN = 8
_HEADING_FORM = re.compile(r"^\s*(?:ad\.?\s*\d|\d{1,2}\s*[.):]\s|[A-ZÆØÅ][^.!?]{0,80}:\s*$)",
                           re.IGNORECASE)


def referenced_number(text: str) -> int | None:
    """A guide point named explicitly: "spørgsmål 4", "Ad. 2", "det fjerde punkt"."""
    return referenced_numbers([text])[0]


def is_transition(text: str) -> bool:
    """Whether a moderator turn opens like a move to a new guide point."""
    return transition_flags([text])[0]


# Texts are joined with this separator for one regex pass over many turns: the
# digit stops ``\W*`` and ``\s+`` from running from one text into the next.
_JOIN = "\n0\n"


class _JoinedTexts:
    """Many turns, lower-cased and joined, for one regex pass over all of them.

    A moderator asks thousands of questions in a large corpus; one ``finditer``
    over the joined text replaces a case-insensitive ``search`` per turn.
    """

    def __init__(self, texts: Sequence[str]) -> None:
        cleaned = [t.replace("\n", " ") for t in texts]
        joined = _JOIN.join(cleaned)
        lowered = joined.lower()
        if len(lowered) != len(joined):  # a letter whose lower case is longer
            cleaned = [t.lower() for t in cleaned]
            lowered = _JOIN.join(cleaned)
        self.text = lowered
        lengths = np.array([len(t) for t in cleaned], dtype=np.int64)
        self.starts = np.cumsum(lengths + len(_JOIN)) - lengths - len(_JOIN)
        self.ends = self.starts + lengths

    def owners(self, pattern: re.Pattern, *, word_start: bool = False, needs: re.Pattern | None = None) -> set[int]:
        """Which texts ``pattern`` finds something in (``word_start``: only at a word start;
        patterns that start with a plain word list scan fastest, so that is checked here).

        ``needs``: a pattern of words of which every match of ``pattern`` holds one; only
        the texts it finds are searched (a long alternation scans slowly), each on its
        own, so ``$`` is the end of the text."""
        text = self.text
        if needs is None:
            positions = [m.start() for m in pattern.finditer(text)
                         if not word_start or _word_start(text, m.start())]
            return set((np.searchsorted(self.starts, positions, side="right") - 1).tolist())
        found = set()
        for i in sorted(self.owners(needs)):
            start, end = int(self.starts[i]), int(self.ends[i])
            if any(not word_start or _word_start(text, m.start()) for m in pattern.finditer(text, start, end)):
                found.add(i)
        return found

    def search(self, pattern: re.Pattern, i: int) -> re.Match | None:
        """``pattern.search`` in text i alone."""
        return pattern.search(self.text, int(self.starts[i]), int(self.ends[i]))

    def match_start(self, pattern: re.Pattern) -> list[bool]:
        """Whether ``pattern`` matches at the start of each text."""
        text = self.text
        return [pattern.match(text, start, end) is not None
                for start, end in zip(self.starts.tolist(), self.ends.tolist())]


def _word_start(text: str, position: int) -> bool:
    return position == 0 or not (text[position - 1].isalnum() or text[position - 1] == "_")


def referenced_numbers(texts: Sequence[str] | _JoinedTexts) -> list[int | None]:
    """:func:`referenced_number` of many texts (most name no guide point)."""
    joined = texts if isinstance(texts, _JoinedTexts) else _JoinedTexts(texts)
    out: list[int | None] = [None] * len(joined.starts)
    # Both patterns need one of the reference words at a word start; most turns have none.
    for i in joined.owners(_REFERENCE_WORD, word_start=True):
        for pattern in (_NUMBERED, _ORDINAL_FIRST):
            m = joined.search(pattern, i)
            if m:
                token = m.group(1)
                out[i] = int(token) if token.isdigit() else _ORDINALS.get(token)
                break
    return out


def transition_flags(texts: Sequence[str] | _JoinedTexts) -> list[bool]:
    """:func:`is_transition` of many texts."""
    joined = texts if isinstance(texts, _JoinedTexts) else _JoinedTexts(texts)
    found = joined.owners(_TRANSITION_PHRASE, word_start=True)
    return [i in found or start for i, start in enumerate(joined.match_start(_TRANSITION_START))]


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
        rows, cols = [], []
        vocabulary = self.vocabulary_
        for i, lemmas in enumerate(X):
            for w in lemmas:
                col = vocabulary.get(w)
                if col is not None:
                    rows.append(i)
                    cols.append(col)
        return self.similarity_of_columns(np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), len(X))

    def columns(self, words: Sequence[str]) -> np.ndarray:
        """The vocabulary column of each word, -1 for words the recogniser ignores.

        With :meth:`similarity_of_columns`, a caller that numbers its word types
        itself (a tagger keeps lemma ids) works on id arrays without strings.
        """
        check_is_fitted(self, "centroids_")
        vocabulary = self.vocabulary_
        return np.fromiter((vocabulary.get(w, -1) for w in words), dtype=np.int64, count=len(words))

    def similarity_of_columns(self, rows: np.ndarray, columns: np.ndarray, n: int) -> np.ndarray:
        """:meth:`similarity` of ``n`` texts given as (text, vocabulary column) pairs of their
        words (repeats count once)."""
        check_is_fitted(self, "centroids_")
        keep = columns >= 0
        rows, columns = rows[keep], columns[keep]
        query = sp.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(n, len(self.vocabulary_)))
        query.sum_duplicates()
        query.data = self._column_idf()[query.indices]
        norms = np.sqrt(np.asarray(query.multiply(query).sum(axis=1)).ravel())
        query = sp.diags(1.0 / np.where(norms == 0, 1.0, norms)) @ query
        return np.asarray(query @ self.centroids_.T)

    def _column_idf(self) -> np.ndarray:
        idf = getattr(self, "_idf_by_column", None)
        if idf is None or len(idf) != len(self.vocabulary_):
            idf = np.zeros(len(self.vocabulary_))
            for w, col in self.vocabulary_.items():
                idf[col] = self.idf_[w]
            self._idf_by_column = idf
        return idf

    def base_scores(self, similarity: np.ndarray, terms: np.ndarray | None,
                    transitions: Sequence[bool]) -> np.ndarray:
        """Similarity plus the weighted term scores and the transition bonus, per turn and code."""
        scores = np.array(similarity, dtype=float)
        if terms is not None:
            scores += self.term_weight * terms
        scores[np.asarray(transitions, bool)] += self.transition_bonus
        return scores

    def decisions(self, scores: np.ndarray, referenced: Sequence[int | None],
                  numbers: dict[int, int]) -> tuple[list[list[int]], list[list[float]]]:
        """Every turn's recognition for every point that may have been asked last.

        scores: :meth:`base_scores`, shape (n, n_codes); referenced: the guide point
        each turn names explicitly, if any. Returns (codes, scores), each n lists of
        n_codes + 1 values: column 0 for no point asked yet, column c + 1 when point c
        was asked last; code -1 means "not a new guide question". An explicit
        reference wins; otherwise the best code, with the order bonus (a moderator
        works through the guide roughly in order), must clear the threshold and lead
        the second best by the margin. Working out all columns at once leaves only a
        lookup per turn for the sequential walk through a document.
        """
        n, k = scores.shape
        codes = np.full((n, k + 1), -1, dtype=np.int64)
        best_scores = np.zeros((n, k + 1))
        rows = np.arange(n)
        positions = np.arange(k)
        for column, current in enumerate([None, *range(k)]):
            if k == 0 or n == 0:
                break
            shifted = scores
            if current is not None:
                shifted = scores + np.where(positions > current, self.order_bonus,
                                            np.where(positions < current, -2 * self.order_bonus, 0.0))
            top = shifted.argmax(axis=1)  # the first of equal scores, as a stable ranking would give
            best = shifted[rows, top]
            second = np.zeros(n)
            if k > 1:
                others = shifted.copy()
                others[rows, top] = -np.inf
                second = others.max(axis=1)
            clear = (best >= self.threshold) & (best - second >= self.margin)
            codes[:, column] = np.where(clear, top, -1)
            best_scores[:, column] = best
        for i, number in enumerate(referenced):
            if number is not None and number in numbers:
                codes[i] = numbers[number]
                best_scores[i] = 1.0
        return codes.tolist(), best_scores.tolist()


@dataclass(frozen=True)
class Prior:
    """The structure prior of one segment.

    code: index of the guide point asked last (None before the first question or
    outside any recognised section); structured: the text has moderator turns or
    headings, so the absence of a prior means something; kind: what this segment
    itself is ("question", "follow-up", "heading", "content", or "opening": a
    participant's turn before the moderator's first guide question).
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


def _labelled_moderator(roles: Sequence[str], speakers: Sequence[str | None]) -> bool:
    """Whether a speaker is labelled as the moderator (a section heading has the
    moderator's role but no speaker, and says nothing about who asks)."""
    return any(r == "moderator" and s is not None for r, s in zip(roles, speakers))


def recognition_candidates(roles: Sequence[str], speakers: Sequence[str | None],
                           texts: Sequence[str]) -> list[int]:
    """Positions of one document's segments that may ask a guide question or be a heading."""
    has_speakers = any(s is not None for s in speakers)
    detect = has_speakers and not _labelled_moderator(roles, speakers)
    return [i for i, (r, t) in enumerate(zip(roles, texts))
            if detect or r == "moderator" or (not has_speakers and looks_like_heading(t))]


class QuestionCue(NamedTuple):
    """A candidate turn's recognition for every point that may have been asked last
    (see :meth:`QuestionRecognizer.decisions`)."""

    codes: list[int]
    scores: list[float]
    welcome_below: float = 0.0

    def decide(self, current: int | None = None, asked: bool = True) -> tuple[int | None, float]:
        """(code index or None, score) when ``current`` was the point asked last.

        Before any guide question has been ``asked``, a welcome ("Velkommen", "Tak
        fordi I…") that names no point explicitly is not a question unless its score
        reaches ``welcome_below``: an opening presents the evaluation and the guide as
        a whole and mentions several points in passing.
        """
        column = 0 if current is None else current + 1
        code, score = self.codes[column], self.scores[column]
        if code < 0 or (not asked and score < self.welcome_below):
            return None, score
        return code, score


def question_cues(recognizer: QuestionRecognizer, texts: Sequence[str], lemmas: Sequence[Sequence[str]] | None,
                  numbers: dict[int, int], terms: np.ndarray | None = None,
                  similarity: np.ndarray | None = None, catch_all: int | None = None) -> list[QuestionCue]:
    """The cues of many candidate turns (of any number of documents) at once.

    numbers: guide point number -> code index; terms: the turns' codebook-term
    scores, shape (n, n_codes); similarity: the recogniser's similarity of the
    turns, if already computed (then ``lemmas`` is not read); catch_all: the code
    index of the guide's "anything else" point, which a closing question opens.
    """
    k = len(recognizer.centroids_)
    sims = (recognizer.similarity(lemmas) if similarity is None else similarity).reshape(-1, k)
    term_rows = None if terms is None else np.asarray(terms).reshape(-1, k)
    joined = _JoinedTexts(texts)
    base = recognizer.base_scores(sims, term_rows, transition_flags(joined))
    referenced = referenced_numbers(joined)
    codes, scores = recognizer.decisions(base, referenced, numbers)
    if catch_all is not None:
        # A closing question is an explicit reference to the catch-all point (a numbered
        # reference, "spørgsmål 4", still wins).
        closing = joined.owners(_CLOSING, word_start=True, needs=_CLOSING_WORDS)
        closing |= {i for i in joined.owners(_CLOSING_TIME, word_start=True) if not joined.search(_GOING_BACK, i)}
        for i in sorted(closing):
            if referenced[i] is None:
                codes[i], scores[i] = [catch_all] * len(codes[i]), [1.0] * len(scores[i])
                referenced[i] = -1
    openings = joined.owners(_OPENING, word_start=True)
    limit = 2 * recognizer.threshold
    return [QuestionCue(c, s, limit if i in openings and referenced[i] is None else 0.0)
            for i, (c, s) in enumerate(zip(codes, scores))]


def assign_priors(roles: Sequence[str], speakers: Sequence[str | None], texts: Sequence[str],
                  lemmas: Sequence[Sequence[str]], recognizer: QuestionRecognizer,
                  numbers: dict[int, int], terms: np.ndarray | None = None,
                  cues: dict[int, QuestionCue] | None = None) -> tuple[list[Prior], list[str]]:
    """Structure priors for one document's segments (in order), and the effective roles.

    Roles can change: if no turn is labelled as the moderator's, the speaker who
    asks the guide questions is recognised as the moderator. ``cues`` may hold the
    :func:`question_cues` of the :func:`recognition_candidates`, computed for many
    documents at once; otherwise ``lemmas`` and ``terms`` are read at those
    candidates only (``lemmas`` may be a lazy sequence).
    """
    roles = list(roles)
    has_speakers = any(s is not None for s in speakers)
    detect = has_speakers and not _labelled_moderator(roles, speakers)
    if cues is None:
        candidates = recognition_candidates(roles, speakers, texts)
        cues = dict(zip(candidates, question_cues(
            recognizer, [texts[i] for i in candidates], [lemmas[i] for i in candidates], numbers,
            None if terms is None else np.asarray(terms)[candidates])))
    if detect:
        hits = [cues[i].codes[0] >= 0 and "?" in texts[i]
                for i in range(len(texts))]
        moderators = find_moderators(speakers, texts, hits)
        roles = ["moderator" if s in moderators else r for s, r in zip(speakers, roles)]
    if has_speakers:
        return _turn_priors(roles, cues), roles
    priors: list[Prior] = []
    current: int | None = None
    asked = False  # whether a guide question has been asked yet
    since_heading = 0
    structured = "moderator" in roles
    for i, (role, text) in enumerate(zip(roles, texts)):
        if role == "moderator":  # a moderator turn without a speaker label (from a store)
            prior, current, asked = _moderator_turn(cues[i], current, asked)
            priors.append(prior)
            continue
        if looks_like_heading(text):
            code, sim = cues[i].decide()
            # Any other heading (or table header) ends the previous section.
            current, since_heading = code, 0
            if code is not None:
                structured = True
                priors.append(Prior(current, True, "heading", sim))
                continue
        elif current is not None:
            since_heading += 1
            if since_heading > HEADING_SPAN:
                current = None
        priors.append(_content_prior(current, structured))
    if not structured:
        priors = [Prior(None, False, p.kind, p.similarity) for p in priors]
    return priors, roles


def _turn_priors(roles: Sequence[str], cues: dict[int, QuestionCue]) -> list[Prior]:
    """The priors of a transcript with speakers: each moderator turn is a new guide
    question or a follow-up, and the turns up to the next moderator turn share a prior."""
    moderators = [i for i, role in enumerate(roles) if role == "moderator"]
    structured = bool(moderators)
    priors: list[Prior] = [_content_prior(None, structured)] * len(roles)
    current: int | None = None
    asked = False  # whether a guide question has been asked yet
    for position, i in enumerate(moderators):
        priors[i], current, asked = _moderator_turn(cues[i], current, asked)
        end = moderators[position + 1] if position + 1 < len(moderators) else len(roles)
        if end > i + 1:
            priors[i + 1:end] = [_content_prior(current, structured) if asked else _OPENING_ROUND] * (end - i - 1)
    return priors


# Before the first guide question a focus group welcomes and introduces itself ("Skal vi
# tage en runde, hvor I siger, hvem I er?"): those answers are under no guide point, and
# coders leave them uncoded (33 of the demo's 35, all 11 of the dev transcripts').
_OPENING_ROUND = Prior(None, True, "opening")


def _moderator_turn(cue: QuestionCue, current: int | None, asked: bool) -> tuple[Prior, int | None, bool]:
    """A moderator turn's prior, and the point asked last and whether any was asked, after it:
    a new guide question moves the prior; anything else is a follow-up and keeps it."""
    code, sim = cue.decide(current, asked)
    if code is not None and code != current:
        return Prior(code, True, "question", sim), code, True
    return Prior(current, True, "follow-up", sim), current, asked or code is not None


# Neighbouring turns count as context only under the same guide question: a block number
# is document number × this + the number of the guide question within the document.
BLOCKS_PER_DOCUMENT = 100_000
# Content words at which a segment counts as fully substantive for the prior.
SUBSTANCE_LEMMAS = 6


def document_groups(segments: Sequence) -> list[range]:
    """Positions of ``segments`` grouped by document (document_id, or index restarts), as
    the contiguous range of each document."""
    if not segments:
        return []
    doc_ids = [getattr(seg, "document_id", None) for seg in segments]
    indexes = [getattr(seg, "index", None) for seg in segments]
    starts = [0, *(i for i, (doc_id, last_id, index, last_index)
                   in enumerate(zip(doc_ids[1:], doc_ids, indexes[1:], indexes), start=1)
                   if doc_id != last_id or (doc_id is None and index is not None and last_index is not None
                                            and index <= last_index)),
              len(segments)]
    return [range(a, b) for a, b in zip(starts, starts[1:])]


def block_numbers(priors: Sequence[Prior]) -> list[int]:
    """Number of the guide question (or heading) each segment falls under, counting from 0."""
    out, block = [], 0
    for prior in priors:
        if prior.kind in ("question", "heading"):
            block += 1
        out.append(block)
    return out


@dataclass
class StructureReading:
    """What :meth:`StructureSignal.predict` read from a batch of segments.

    priors: per segment, the guide point asked last (see :class:`Prior`); roles: the
    effective roles (a recognised moderator's turns become "moderator"); strength:
    shape (n_segments, n_codes), the prior as a score, weighted by how much the
    segment says (a backchannel "Ja, præcis." under a question is not about it).
    """

    priors: list[Prior]
    roles: list[str]
    strength: np.ndarray

    @property
    def content(self) -> np.ndarray:
        """Participant turns (everything but the moderator's): the segments to code."""
        return np.array([r != "moderator" for r in self.roles], bool)

    @property
    def in_section(self) -> np.ndarray:
        """Segments read in the structured regime: under a recognised guide question or
        heading, or in a transcript's opening round (no point asked yet, which is itself
        evidence). Outside any, a segment is read as plain content: in prose, a table
        header or an expired heading says nothing about what follows."""
        return np.array([p.structured and (p.code is not None or p.kind == "opening") for p in self.priors],
                        bool)

    def blocks(self, documents: Sequence[range]) -> np.ndarray:
        """Per segment, its guide-question block, numbered apart across ``documents`` (the
        ranges of :func:`document_groups`, see :data:`BLOCKS_PER_DOCUMENT`): the turns that
        share a question."""
        out = np.zeros(len(self.priors), dtype=int)
        for number, group in enumerate(documents):
            out[group.start:group.stop] = (number * BLOCKS_PER_DOCUMENT
                                           + np.array(block_numbers(self.priors[group.start:group.stop])))
        return out


class StructureSignal(BaseEstimator):
    """Signal 1: the guide point asked last, from moderator turns and headings.

    Parameters
    ----------
    numbers : dict of int to int, default=None
        Guide point number -> code index, for explicit references ("spørgsmål 4").
    catch_all : int, default=None
        Code index of the guide's "anything else" point (:func:`catch_all_point`),
        opened by a closing question in everyday words.

    Attributes
    ----------
    recognizer_ : QuestionRecognizer
        Which guide point a moderator turn or heading is about.
    """

    def __init__(self, *, numbers: dict[int, int] | None = None, catch_all: int | None = None) -> None:
        self.numbers = numbers
        self.catch_all = catch_all

    def fit(self, X: Sequence[Sequence[str]], y: Sequence[int]) -> "StructureSignal":
        """X: lemma lists of the codebook's texts, y: the code index of each."""
        self.recognizer_ = QuestionRecognizer().fit(X, y)
        self._columns = column_table(self.recognizer_.columns)  # lemma id -> recogniser column
        return self

    def predict(self, X: Sequence, *, lemmas: Sequence[Sequence[str]], sizes: np.ndarray, terms: np.ndarray,
                documents: Sequence[range] | None = None,
                similarity: Callable[[list[int]], np.ndarray] | None = None) -> StructureReading:
        """Read the structure of segments X (in text order, any number of documents).

        ``lemmas`` (may be lazy: only the question candidates are read) and ``sizes``
        (content words per segment) come from the analysis; ``terms`` are the codebook
        term scores (n, n_codes) with the codebook's own weights; ``documents`` groups
        the positions by document (default :func:`document_groups`). ``similarity``
        may give the recogniser's similarity for some positions faster than from
        ``lemmas`` (see :meth:`similarity_of_ids`).
        """
        check_is_fitted(self, "recognizer_")
        recognizer, numbers = self.recognizer_, self.numbers or {}
        priors: list[Prior] = [Prior(None, False)] * len(X)
        roles = [getattr(s, "role", "participant") or "participant" for s in X]
        groups = document_groups(X) if documents is None else documents
        speakers = [getattr(s, "speaker", None) for s in X]
        texts = [s.text for s in X]
        # The recogniser's inputs for the candidate questions of every document at once.
        spans = [(group.start, group.stop) for group in groups]
        local = [recognition_candidates(roles[a:b], speakers[a:b], texts[a:b]) for a, b in spans]
        flat = [a + j for (a, _), js in zip(spans, local) for j in js]
        sims = (recognizer.similarity([lemmas[i] for i in flat]) if similarity is None
                else similarity(flat))
        found = iter(question_cues(recognizer, [texts[i] for i in flat], None, numbers, terms[flat], sims,
                                   catch_all=self.catch_all))
        for group, (a, b), js in zip(groups, spans, local):
            cues = {j: next(found) for j in js}
            priors[a:b], roles[a:b] = assign_priors(roles[a:b], speakers[a:b], texts[a:b],
                                                    Lazy(lemmas.__getitem__, group), recognizer, numbers,
                                                    terms[a:b], cues)
        strength = np.zeros((len(X), len(recognizer.centroids_)))
        codes = np.array([-1 if p.code is None else p.code for p in priors], dtype=np.int64)
        rows = np.flatnonzero(codes >= 0)
        if len(rows):
            strength[rows, codes[rows]] = np.minimum(1.0, np.asarray(sizes)[rows] / SUBSTANCE_LEMMAS)
        return StructureReading(priors, roles, strength)

    def similarity_of_ids(self, lemma_ids: np.ndarray, bounds: np.ndarray, words: list[str],
                          positions: list[int]) -> np.ndarray:
        """The recogniser's similarity of some segments of a batch, from its flat lemma ids
        (``lemma_ids``/``bounds`` as in ``BatchAnalysis``, ``words`` the lemma table)."""
        columns = self._columns.upto(words)
        where, rows = lemma_positions(bounds, np.asarray(positions, dtype=np.int64))
        return self.recognizer_.similarity_of_columns(rows, columns[lemma_ids[where]], len(positions))

