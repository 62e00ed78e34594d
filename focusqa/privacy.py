"""Pseudonymisation: the one place that decides what is masked in exports and how.

Masked, with Danish replacements:

* names (``[navn]``): the documents' speaker labels that are person names, and the
  user-kept name list (:func:`names_file`: ``navne.txt`` in the focusqa data folder,
  one name per line, ``#`` starts a comment). A multi-word name is also masked by
  its parts ("Mette Holm" masks "Mette" and "Holm"), since speakers call each other
  by first name; a role label followed by a name ("Teamleder Susanne Berg") gives the
  name, and a capitalised word right after a known name is taken as its surname
  ("Mette Jensen"). Matching ignores case ("METTE", "mette"), except that a name under four letters
  written in lower case is taken as a word ("bo", "per") on whole words, with the Danish genitive
  ("Mettes" -> "[navn]s").
* CPR numbers (``[CPR-nr.]``): ``DDMMYY-NNNN``, ``DDMMYY NNNN`` or ten digits, only when
  the first six digits are a real date in the century that the seventh digit gives
  (the CPR office's rule). No modulus-11 check: numbers issued since 2007 may fail it.
* phone numbers (``[telefon]``): Danish eight-digit numbers written ``12345678``,
  ``12 34 56 78``, ``12.34.56.78``, ``12-34-56-78`` or ``1234 5678`` (optionally with ``+45``/``0045``); without the
  prefix the first digit must be 2-9, as in the Danish numbering plan, and two
  years ("2016-2017") are not a phone number.
* e-mail addresses (``[e-mail]``).

Speaker labels: a label is a *role* label (kept) when it is a moderator word
("Moderator", "I", "Interviewer"), contains a digit ("D1", "Rådgiver 2"), is an
abbreviation in capitals ("SR", "PL"), or starts with a known role word ("Rådgiver",
"Deltager", "Leder", "Pædagog", ...). Any other label is taken to be a person's name,
is masked in the text, and is shown as its role instead (:meth:`Masker.speaker`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import date
from pathlib import Path
from typing import Iterable

from .config import data_dir
from .ingest.turns import is_moderator_label

NAMES_FILE = "navne.txt"

REPLACEMENTS = {"name": "[navn]", "cpr": "[CPR-nr.]", "phone": "[telefon]", "email": "[e-mail]"}

# First words of speaker labels that describe a function, not a person.
ROLE_WORDS = {
    "rådgiver", "socialrådgiver", "skolesocialrådgiver", "myndighedsrådgiver", "sagsbehandler",
    "deltager", "deltagere", "informant", "respondent", "person", "interviewperson", "leder",
    "afdelingsleder", "teamleder", "familiegruppeleder", "projektleder", "skoleleder", "pædagog",
    "lærer", "sundhedsplejerske", "psykolog", "konsulent", "koordinator", "medarbejder",
    "moderator", "interviewer", "ordstyrer", "facilitator", "evaluator", "observatør", "referent",
    "projektmedarbejder", "projektgruppe", "familiegruppe", "flere", "alle", "ukendt", "stemme",
    "kvinde", "mand", "forælder", "mor", "far", "elev", "barn", "dagplejer", "tale", "speaker",
    "participant", "sr", "fg", "pg", "ppr",
}
# Words that look like names when capitalised at a sentence start but are not.
_NOT_NAMES = {"Og", "Men", "Der", "Det", "Den", "De", "Vi", "Jeg", "Ja", "Nej", "Så"}

_DIGIT = re.compile(r"\d\d")  # every CPR and phone pattern has two digits in a row
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_CPR = re.compile(r"(?<![\d-])(\d{2})(\d{2})(\d{2})(?:-|\s)?(\d{4})(?![\d-])")
_PHONE = re.compile(
    r"(?<![\d+])(?:(?:\+|00)45[\s.-]?)?"
    r"(?:\d{8}|\d{2}[\s.-]\d{2}[\s.-]\d{2}[\s.-]\d{2}|\d{4}[\s.-]\d{4})(?![\d])")


def _year_span(text: str) -> bool:
    """'2016-2017' or '2016 2017' is a span of years, not a phone number."""
    parts = re.split(r"[\s.-]", text)
    return len(parts) == 2 and all(len(p) == 4 and 1900 <= int(p) <= 2099 for p in parts)


@dataclass(frozen=True)
class Finding:
    """One thing the masker would replace (the app's review table shows these)."""

    kind: str  # name | cpr | phone | email
    text: str
    start: int
    end: int
    replacement: str


def names_file() -> Path:
    """Where the user's own name list lives: ``navne.txt`` in the focusqa data folder.

    That is ``$FOCUSQA_HOME/navne.txt`` when ``FOCUSQA_HOME`` is set, else e.g.
    ``~/.local/share/focusqa/navne.txt`` (see :func:`focusqa.config.data_dir`).
    """
    return data_dir() / NAMES_FILE


def load_names(path: str | Path | None = None) -> list[str]:
    """Names from a text file (one per line; blank lines and ``#`` comments ignored).

    A missing default file is an empty list; a missing explicit file is an error.
    """
    from .errors import FocusqaError

    target = Path(path) if path is not None else names_file()
    if not target.exists():
        if path is not None:
            raise FocusqaError("the name list does not exist", path=target)
        return []
    try:
        text = target.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = target.read_text(encoding="cp1252")
    names = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line)
    return names


def save_names(names: Iterable[str], path: str | Path | None = None) -> Path:
    """Write the user's name list (the app's privacy page edits it)."""
    target = Path(path) if path is not None else names_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    unique = sorted({n.strip() for n in names if n and n.strip()}, key=str.casefold)
    target.write_text("# Navne der maskeres i eksporter, ét pr. linje\n" + "\n".join(unique) + "\n",
                      encoding="utf-8")
    return target


@lru_cache(maxsize=4096)
def is_role_label(label: str | None) -> bool:
    """True when a speaker label names a function ("Rådgiver 1", "Moderator", "D2"), not a person."""
    if not label or not label.strip():
        return True
    label = label.strip()
    if is_moderator_label(label) or any(ch.isdigit() for ch in label):
        return True
    core = re.sub(r"\(.*?\)|\[.*?\]", " ", label)  # "Mette (leder)": the name is outside the brackets
    words = re.findall(r"[^\W\d_]+", core) or re.findall(r"[^\W\d_]+", label)
    if not words:
        return True
    if words[0].casefold() in ROLE_WORDS:
        return True
    if all(w.isupper() for w in words) and len("".join(words)) <= 4:
        return True  # abbreviations such as "SR", "PL", "FGL"
    return not all(w[0].isupper() for w in words)


def name_parts(label: str) -> list[str]:
    """The name(s) in a speaker label: "Mette Holm (leder)" -> ["Mette Holm", "Mette", "Holm"]."""
    core = re.sub(r"\(.*?\)|\[.*?\]", " ", label)
    words = [w for w in re.findall(r"[^\W\d_][\w'’-]*", core) if w[0].isupper()]
    if not words:
        return []
    parts = [" ".join(words)] if len(words) > 1 else []
    parts += [w for w in words if len(w) >= 2 and w not in _NOT_NAMES]
    return parts


def names_in_label(label: str) -> list[str]:
    """The person names in a speaker label, also after a role word: "Teamleder Susanne
    Berg" -> ["Susanne Berg", "Susanne", "Berg"]; "Rådgiver 2" -> []."""
    if not is_role_label(label):
        return name_parts(label)
    core = re.sub(r"\(.*?\)|\[.*?\]", " ", label)
    words = re.findall(r"[^\W\d_][\w'’-]*", core)
    if len(words) < 2 or words[0].casefold() not in ROLE_WORDS:
        return []
    rest = [w for w in words[1:] if w[0].isupper() and not w.isupper() and w.casefold() not in ROLE_WORDS]
    return name_parts(" ".join(rest)) if rest else []


def _valid_cpr_date(dd: str, mm: str, yy: str, serial: str) -> bool:
    """The CPR office's century rule from the seventh digit, then a real calendar date."""
    year, digit = int(yy), int(serial[0])
    if digit <= 3:
        century = 1900
    elif digit in (4, 9):
        century = 2000 if year <= 36 else 1900
    else:
        century = 2000 if year <= 57 else 1800
    try:
        date(century + year, int(mm), int(dd))
    except ValueError:
        return False
    return True


class Masker:
    """Finds and replaces personal data in text.

    Args:
        names: names to mask (e.g. :func:`load_names`).
        speakers: speaker labels from the documents; those that are person names
            (see :func:`is_role_label`) are masked too.
    """

    def __init__(self, names: Iterable[str] = (), speakers: Iterable[str] = ()):
        self.speakers = sorted({s.strip() for s in speakers if s and s.strip()})
        self.name_speakers = [s for s in self.speakers if names_in_label(s)]
        found: set[str] = set()
        for raw in names:
            raw = raw.strip()
            if raw:
                found.add(raw)
                found.update(name_parts(raw))
        for label in self.name_speakers:
            found.update(names_in_label(label))
            if not is_role_label(label):
                found.add(label)
        self.names = sorted(found, key=lambda n: (-len(n), n))
        self._name_re = None
        if self.names:
            alternatives = "|".join(re.escape(n) for n in self.names)
            not_names = "|".join(_NOT_NAMES)
            # any case ("METTE", "mette"); a capitalised word right after a known name is
            # taken as a surname nobody spoke under ("Mette Jensen")
            self._name_re = re.compile(
                rf"(?<![\w@.])(?:{alternatives})"
                rf"(?-i:(?P<surname>[ \t]+(?!(?:{not_names})\b)[A-ZÆØÅ][a-zæøåäöüé'’-]+))?"
                rf"(?P<gen>s|'s|’s)?(?![\w@])", re.IGNORECASE)

    @classmethod
    def from_store(cls, store, *, names: Iterable[str] | None = None) -> "Masker":
        """A masker for everything in ``store``: its speaker labels plus the user's name list.

        ``names=None`` reads the default name list (:func:`names_file`).
        """
        from .store.models import SegmentRow

        with store.session() as s:
            speakers = [row[0] for row in s.query(SegmentRow.speaker).distinct() if row[0]]
        return cls(load_names() if names is None else names, speakers)

    def findings(self, text: str) -> list[Finding]:
        """Everything that :meth:`mask` would replace, in text order, without overlaps.

        Where matches overlap, the earlier kind in the order e-mail, CPR, phone, name wins.
        """
        candidates: list[Finding] = []
        if "@" in text:
            for m in _EMAIL.finditer(text):
                candidates.append(Finding("email", m.group(), m.start(), m.end(), REPLACEMENTS["email"]))
        has_digits = _DIGIT.search(text) is not None
        for m in _CPR.finditer(text) if has_digits else ():
            if _valid_cpr_date(*m.groups()):
                candidates.append(Finding("cpr", m.group(), m.start(), m.end(), REPLACEMENTS["cpr"]))
        for m in _PHONE.finditer(text) if has_digits else ():
            digits = re.sub(r"\D", "", m.group())
            prefixed = len(digits) > 8
            if not prefixed and _year_span(m.group()):
                continue
            if prefixed or digits[0] in "23456789":
                candidates.append(Finding("phone", m.group(), m.start(), m.end(), REPLACEMENTS["phone"]))
        if self._name_re is not None:
            for m in self._name_re.finditer(text):
                if m.group().islower() and len(m.group()) < 4:
                    continue          # "bo", "per": short names written small are usually words
                replacement = REPLACEMENTS["name"] + ("s" if m.group("gen") else "")
                candidates.append(Finding("name", m.group(), m.start(), m.end(), replacement))
        taken: list[Finding] = []
        for f in candidates:  # candidates are in priority order
            if all(f.end <= t.start or f.start >= t.end for t in taken):
                taken.append(f)
        return sorted(taken, key=lambda f: f.start)

    def mask(self, text: str) -> str:
        """``text`` with every finding replaced."""
        if not text:
            return text
        parts, last = [], 0
        for f in self.findings(text):
            parts.append(text[last:f.start])
            parts.append(f.replacement)
            last = f.end
        parts.append(text[last:])
        return "".join(parts)

    def speaker(self, label: str | None, role: str = "participant") -> str:
        """How a speaker is shown when masking: role labels as they are, names as the role
        ("Teamleder Susanne Berg" as "Teamleder")."""
        if label and is_role_label(label):
            return label.split()[0] if names_in_label(label) else label
        return "Moderator" if role == "moderator" else "Deltager"


__all__ = ["Masker", "Finding", "names_file", "load_names", "save_names", "is_role_label", "names_in_label",
           "REPLACEMENTS"]
