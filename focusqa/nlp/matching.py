"""Term matching that copes with Danish compounds and inflections.

A codebook term is a word stem ("underretning") or a short phrase of stems
("åben rådgivning"). A word matches a stem when it is the stem or its lemma, the
stem plus an inflectional ending ("underretningerne"), a compound that starts with
the stem ("familiegruppelederen"), or a compound that ends with it
("skoleunderretning"). Short stems only match whole words and inflections, so
"sag" finds "sagerne" but not "sagsbehandler" or "sagde".
"""

from __future__ import annotations

from dataclasses import dataclass

# Danish inflectional endings (nouns, adjectives, verbs), longest first.
INFLECTIONS: tuple[str, ...] = (
    "ernes", "enes", "erne", "ende", "ede", "ene", "ens", "ets", "ers", "ere", "est",
    "en", "et", "er", "es", "te", "ne", "re", "ns", "e", "s", "t", "r", "n",
)
# Linking letters between the parts of a compound ("netværk-s-møde").
LINKS: tuple[str, ...] = ("s", "e", "")

# Words in which a term stem occurs by accident; the match is suppressed when the
# stem lies inside one of these and the blocked word is not itself part of the stem.
BLOCKED_WORDS: tuple[str, ...] = (
    "socialrådgiv", "tidligere", "rådgiver", "voldsom", "forventeligt", "sagde", "sagt",
    "ledelsesmæssig", "kvalitativ", "bemærkelsesværdig", "modtage", "strategisk",
)


@dataclass(frozen=True)
class MatchRules:
    """How strict compound matching is.

    min_prefix: shortest stem that may start a longer compound.
    min_suffix: shortest stem that may end a compound (the head word).
    min_infix: shortest stem that may sit in the middle of a compound.
    min_modifier: shortest first part before a stem at the end or in the middle.
    """

    min_prefix: int = 5
    min_suffix: int = 5
    min_infix: int = 7
    min_modifier: int = 3


def _is_ending(rest: str) -> bool:
    return rest == "" or rest in INFLECTIONS


def _blocked(word: str, start: int, end: int, stem: str) -> bool:
    for blocked in BLOCKED_WORDS:
        if blocked in stem:
            continue
        pos = word.find(blocked)
        while pos >= 0:
            if pos < end and start < pos + len(blocked):
                return True
            pos = word.find(blocked, pos + 1)
    return False


def stem_matches(word: str, lemma: str, stem: str, rules: MatchRules = MatchRules()) -> bool:
    """Whether a lower-cased word (with its lemma) contains the term stem.

    >>> stem_matches("underretningerne", "underretning", "underretning")
    True
    >>> stem_matches("sagsbehandler", "sagsbehandler", "sag")
    False
    """
    if word == stem or lemma == stem:
        return True
    n = len(stem)
    if n < 2:
        return False
    pos = word.find(stem)
    while pos >= 0:
        rest = word[pos + n:]
        if pos == 0:
            ok = (n >= 3 and _is_ending(rest)) or (n >= rules.min_prefix and len(rest) >= 3)
        elif pos >= rules.min_modifier:
            ok = (n >= rules.min_suffix and _is_ending(rest)) or (
                n >= rules.min_infix and len(rest) >= 3)
        else:
            ok = False
        if ok and not _blocked(word, pos, pos + n, stem):
            return True
        pos = word.find(stem, pos + 1)
    return False
