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
* common Danish first names (``[navn]``) from the list shipped with focusqa
  (``focusqa/data/danish_first_names.txt``), written with a capital ("Mette", "METTE"; a
  following capitalised word is taken as the surname). A name that is also an ordinary
  Danish word ("Bo", "Per", "Hans", "Tage", "Liv": :data:`COMMON_WORD_NAMES`) is masked only
  mid-sentence, where Danish writes ordinary words small; at a sentence start it is left
  and flagged by :func:`masking_preview`.
* institutions (``[institution]``): "Mellervangskolen", "Farstrup skole", "Herningvejens
  Skole", "Børnehaven Solsikken", "Vuggestuen Mariehønen" (a capitalised name joined to or
  next to a school or daycare word, and names listed with one: "Farstrup og Filstedvejens skole"; "Folkeskolen", "Den skole" and the like are words, not names).
  A name once recognised in this form is masked wherever it stands alone too ("Underretningerne
  fra Farstrup"): :meth:`Masker.from_store` learns them from the whole corpus, its memos and
  syntheses (:func:`institution_names`; district names excepted, source lines show them).
  Institutions the corpus only ever names alone ("Tornhøj") belong on the name list.
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

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date
from pathlib import Path
from typing import Iterable

from .config import data_dir
from .ingest.turns import is_moderator_label

NAMES_FILE = "navne.txt"

REPLACEMENTS = {"name": "[navn]", "institution": "[institution]", "cpr": "[CPR-nr.]", "phone": "[telefon]",
                "email": "[e-mail]"}
FIRST_NAMES_FILE = Path(__file__).resolve().parent / "data" / "danish_first_names.txt"

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

# First names that are also ordinary Danish words: "Bo" (live), "Per" (per), "Hans" (his),
# "Tage" (take), "Kaj" (quay), "Liv" (life), "Tom" (empty), "Mark" (field), "Sten" (stone),
# "Storm", "Lykke" (luck), ... A sentence may start with the word, so these are masked only
# when capitalised mid-sentence (where Danish writes ordinary words small).
COMMON_WORD_NAMES = frozenset({
    "Bo", "Per", "Hans", "Tage", "Kaj", "Liv", "Tom", "Mark", "Sten", "Storm", "Lykke", "Lærke", "Rose",
    "Sol", "Vilde", "Birk", "Ask", "Aske", "Ebbe", "Bjørn", "Svend", "Karl", "Stig", "Tor", "Ture", "Rune",
    "August", "Gry", "Viola", "Frank", "Mimi", "Uno", "Orla",
})
# Words before "skole", "børnehave" ... that make an ordinary noun phrase, not a name.
_INSTITUTION_STOP = {
    "den", "denne", "dette", "det", "en", "et", "min", "mit", "din", "vores", "jeres", "deres", "hans", "hendes",
    "sin", "hver", "samme", "anden", "andre", "ny", "nye", "nyt", "gamle", "gammel", "hele", "første", "næste",
    "sidste", "egen", "egne", "god", "gode", "stor", "store", "lille", "små", "ingen", "nogen", "alle", "enhver",
    "hvilken", "hvilket", "som", "og", "men", "på", "i", "til", "fra", "om", "ved", "for", "med", "af", "at",
    "der", "de", "vi", "jeg", "du", "han", "hun", "man", "så", "når", "hvis", "også", "ja", "nej", "både", "enten",
    "hverken",
}
# Compound school words that are common nouns ("folkeskolen", "efterskolen"), not names.
_GENERIC_SCHOOL_PREFIXES = {
    "folke", "fri", "special", "privat", "efter", "høj", "real", "grund", "ungdoms", "musik", "sprog",
    "produktions", "dag", "heldags", "modtage", "kommune", "basis", "aften", "sommer", "fag", "erhvervs",
    "handels", "social", "pædagog", "lands", "kost", "friluft", "skov", "natur", "forældre", "nabo",
    "distrikts", "storbørns", "børne", "små", "friskole", "idræts", "kunst", "køre", "skøjte", "dans",
    "lille", "mellem", "over", "under", "udskolings", "indskolings", "kommunal", "central", "område",
}
_INSTITUTION_COMPOUND = re.compile(
    r"(?<![\w@.])(?P<prefix>[A-ZÆØÅ][a-zæøåäöüé]+?)"
    r"(?:skolen|skole|børnehaven|børnehave|vuggestuen|vuggestue|gymnasiet|gymnasium|fritidshjemmet)s?(?![\w])")
# the indefinite form only: "Farstrup skole" names a school, "Fordi skolen" does not
_INSTITUTION_WORDS = ("skole|Skole|friskole|Friskole|privatskole|Privatskole|efterskole|Efterskole|"
                      "børnehave|Børnehave|vuggestue|Vuggestue|SFO|fritidshjem|Fritidshjem|Gymnasium|gymnasium")
_INSTITUTION_AFTER = re.compile(
    rf"(?<![\w@.])(?P<name>[A-ZÆØÅ][\wæøå'’-]+)[ \t]+(?:{_INSTITUTION_WORDS})s?(?![\w])")
_INSTITUTION_LISTED = re.compile(r"(?<![\w@.])(?P<name>[A-ZÆØÅ][\wæøå'’-]+)(?:,[ \t]*|[ \t]+(?:og|eller)[ \t]+)$")
_LISTED_REACH = 80   # how far back a listed name is looked for: a word and "og", not the whole text
_INSTITUTION_BEFORE = re.compile(
    r"(?<![\w@.])(?:[Bb]ørnehaven|[Bb]ørnehuset|[Vv]uggestuen|[Ii]nstitutionen|[Dd]aginstitutionen|"
    r"[Ff]ritidshjemmet|[Ff]ritidsklubben|[Kk]lubben|[Ff]riskolen|[Pp]rivatskolen|[Ee]fterskolen)"
    r"[ \t]+(?P<name>[A-ZÆØÅ][\wæøå'’-]+(?:[ \t]+[A-ZÆØÅ][\wæøå'’-]+)?)")
# A word written with a capital: "Mette", "Anne-Grethe", "METTE"; with the genitive "'s".
_CAPITALISED = re.compile(
    r"(?<![\w@.'’-])(?P<word>[A-ZÆØÅÉÄÖÜ](?:[a-zæøåéèäöüáí]+|[A-ZÆØÅÉÄÖÜ]+)"
    r"(?:-[A-ZÆØÅÉÄÖÜ][a-zæøåéèäöüáí]+)*)(?P<gen>'s|’s|'|’)?(?![\w@'’-])")
_SURNAME = re.compile(r"[ \t]+(?P<word>[A-ZÆØÅ][a-zæøåäöüé'’-]+)")
_SENTENCE_END = ".!?:;…\n>"        # ">": the end of an HTML tag ("<p>Ordningen") in pasted text
_OPENERS = " \t\"'“”„«»()[]–—-*•#"

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


def at_sentence_start(text: str, pos: int) -> bool:
    """True when ``pos`` begins a sentence: only quotes, dashes or spaces after a full stop,
    question mark, colon, line break or the start of the text."""
    i = pos - 1
    while i >= 0 and text[i] in _OPENERS:
        i -= 1
    return i < 0 or text[i] in _SENTENCE_END


@lru_cache(maxsize=1)
def danish_first_names() -> frozenset[str]:
    """The common Danish first names shipped with focusqa (``focusqa/data/danish_first_names.txt``)."""
    lines = FIRST_NAMES_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _listed_first_name(word: str) -> tuple[str, bool] | None:
    """The shipped first name ``word`` is, and whether it is in the genitive: "Mettes" -> ("Mette", True)."""
    names = danish_first_names()
    if word.isupper():
        word = "-".join(part.capitalize() for part in word.split("-"))
    for candidate, genitive in ((word, False), (word[:-1] if word.endswith("s") else "", True)):
        if candidate and (candidate in names or ("-" in candidate and all(p in names for p in candidate.split("-")))):
            return candidate, genitive
    return None


@dataclass(frozen=True)
class Finding:
    """One thing the masker would replace (the app's review table shows these)."""

    kind: str  # name | institution | cpr | phone | email
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


def _without_overlaps(candidates: list[Finding]) -> list[Finding]:
    """The candidates (in priority order) that overlap no earlier one, in text order.

    Characters already taken are marked in a byte map, so each candidate costs the length
    of its own span (a text full of names must not take quadratic time).
    """
    occupied = bytearray(max((f.end for f in candidates), default=0))
    taken: list[Finding] = []
    for f in candidates:
        if occupied.find(1, f.start, f.end) != -1:
            continue
        occupied[f.start:f.end] = b"\x01" * (f.end - f.start)
        taken.append(f)
    return sorted(taken, key=lambda f: f.start)


def _institution(text: str, start: int, end: int, genitive: bool = False) -> Finding:
    return Finding("institution", text[start:end], start, end, REPLACEMENTS["institution"] + ("s" if genitive else ""))


def _institution_matches(text: str) -> list[tuple[Finding, str | None]]:
    """Schools and daycare institutions by their form (see the module docstring), each with the
    word that is the institution's own name ("Farstrup" in "Farstrup skole"; none for a compound)."""
    if not any(w in text for w in ("skole", "Skole", "børne", "Børne", "vugge", "Vugge", "SFO", "ymnasi",
                                   "nstitution", "ritids", "lubben")):
        return []
    found: list[tuple[Finding, str | None]] = []
    for m in _INSTITUTION_COMPOUND.finditer(text):
        if m.group("prefix").casefold() not in _GENERIC_SCHOOL_PREFIXES:
            found.append((_institution(text, m.start(), m.end(), m.group().endswith("s")), None))
    for m in _INSTITUTION_AFTER.finditer(text):
        name = m.group("name")
        if name.casefold() not in _INSTITUTION_STOP and name.casefold() not in ROLE_WORDS:
            found.append((_institution(text, m.start(), m.end(), m.group().endswith("s")), name))
            start = m.start()
            # "Farstrup og Filstedvejens skole", "Farstrup, Lindholm og Filstedvejens skole"
            while (before := _INSTITUTION_LISTED.search(text, max(0, start - _LISTED_REACH), start)) is not None \
                    and before.group("name").casefold() not in _INSTITUTION_STOP:
                listed = before.group("name")
                found.append((_institution(text, before.start(), before.start() + len(listed)), listed))
                start = before.start()
    for m in _INSTITUTION_BEFORE.finditer(text):
        if m.group("name").split()[0].casefold() not in _INSTITUTION_STOP:
            found.append((_institution(text, m.start(), m.end()), m.group("name")))
    return found


def _institutions(text: str) -> list[Finding]:
    return [finding for finding, _name in _institution_matches(text)]


def institution_names(texts: Iterable[str]) -> set[str]:
    """The words ``texts`` show to be an institution's own name: "Farstrup" once "Farstrup og
    Filstedvejens skole" is written, "Solsikken" from "børnehaven Solsikken". A masker given
    them masks the name also where it stands alone ("Underretningerne fra Farstrup")."""
    names: set[str] = set()
    for text in texts:
        if text:
            names.update(name for _finding, name in _institution_matches(text) if name)
    return names


def _first_names(text: str) -> list[Finding]:
    """Shipped first names written with a capital, each with a capitalised surname after it."""
    found = []
    for m in _CAPITALISED.finditer(text):
        word = m.group("word")
        listed = _listed_first_name(word)
        if listed is None or (listed[0] in COMMON_WORD_NAMES
                              and (word.isupper() or at_sentence_start(text, m.start()))):
            continue
        end, genitive = m.end(), bool(m.group("gen")) or listed[1]
        for _ in range(0 if genitive else 2):   # "Karen Møller Vestergaard"; a genitive is masked with the surname
            surname = _SURNAME.match(text, end)
            if not surname or surname.group("word") in _NOT_NAMES or surname.group("word").casefold() in ROLE_WORDS:
                break
            end = surname.end()
        replacement = REPLACEMENTS["name"] + ("s" if genitive else "")
        found.append(Finding("name", text[m.start():end], m.start(), end, replacement))
    return found


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
        first_names: also mask the shipped common Danish first names.
        institutions: also mask school and daycare names found by their form.
    """

    def __init__(self, names: Iterable[str] = (), speakers: Iterable[str] = (), *, first_names: bool = True,
                 institutions: bool = True, institution_names: Iterable[str] = ()):
        self.first_names = first_names
        self.institutions = institutions
        # capitalised as written: "Farstrup", not the word "farstrup"; longest first ("Børnehaven Solsikken")
        self.institution_names = sorted({n.strip() for n in institution_names if n and n.strip()},
                                        key=lambda n: (-len(n), n)) if institutions else []
        self._institution_re = re.compile(
            rf"(?<![\w@.])(?:{'|'.join(re.escape(n) for n in self.institution_names)})(?P<gen>s|'s|’s)?(?![\w@])"
        ) if self.institution_names else None
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
        """A masker for everything in ``store``: its speaker labels and moderators plus the user's name list,
        and every institution name the corpus, its memos and syntheses show (:func:`institution_names`),
        so a school recognised once is masked in every export wherever it is named.

        ``names=None`` reads the default name list (:func:`names_file`).
        """
        from .store.models import Document, Memo, SegmentRow, Synthesis

        with store.session() as s:
            speakers = [row[0] for row in s.query(SegmentRow.speaker).distinct() if row[0]]
            moderators = [m for (listed,) in s.query(Document.moderators) for m in (listed or [])
                          if m and names_in_label(m)]        # "Lise Bech", not "I" or "Interviewer"
            places = {v.casefold() for row in s.query(Document.district, Document.respondent_group).distinct()
                      for v in row if v}
            found = institution_names(row[0] for query in (s.query(SegmentRow.text), s.query(Memo.text),
                                                           s.query(Synthesis.text))
                                      for row in query.yield_per(2000))
        # a district is shown in every source line by design ("Familiegruppe Vest"), so it is no school's name here
        return cls([*(load_names() if names is None else names), *moderators], speakers,
                   institution_names=[n for n in found if n.casefold() not in places])

    def findings(self, text: str) -> list[Finding]:
        """Everything that :meth:`mask` would replace, in text order, without overlaps.

        Where matches overlap, the earlier kind in the order e-mail, CPR, phone, listed or
        spoken name, institution, shipped first name wins.
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
        if self.institutions:
            candidates += _institutions(text)
        if self._institution_re is not None:
            for m in self._institution_re.finditer(text):
                candidates.append(_institution(text, m.start(), m.end(), bool(m.group("gen"))))
        if self.first_names:
            candidates += _first_names(text)
        return _without_overlaps(candidates)

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


# Speaker roles many people in a district hold: shown next to a district they point at nobody.
GENERIC_ROLE_WORDS = {
    "deltager", "deltagere", "informant", "respondent", "person", "interviewperson", "flere", "alle", "ukendt",
    "stemme", "kvinde", "mand", "speaker", "participant", "tale", "forælder", "mor", "far", "elev", "barn",
    "pædagog", "lærer", "medarbejder", "dagplejer", "rådgiver", "socialrådgiver", "myndighedsrådgiver",
    "sagsbehandler",
}


def _role_key(label: str) -> str:
    """A shown label without its number: "Rådgiver 2" -> "rådgiver", "Rådgiver (modtagegruppen)" kept."""
    return " ".join(re.sub(r"\d+", " ", label).split()).casefold()


class RoleCensus:
    """Which speakers a district would give away when masked exports show role and district together.

    A *unique role* is a role label (its number aside) only one speaker per document holds in
    a district ("Teamleder" in Vest, "Rådgiver (modtagegruppen)" in Nord) and that is not a
    bare word many people hold (:data:`GENERIC_ROLE_WORDS`: "Rådgiver", "Pædagog"): next to
    "Vest" it names a person, so masked exports show
    such a speaker as "Deltager". A *lone place* is a (respondent group, district) whose every
    document has a single participant speaker with a unique role (an individual interview with
    the team leader of Vest): a source line "Teamleder Vest" would name that person, so it
    leaves out the district.

    Args:
        rows: ``(document_id, group, district, speaker label, role)`` for every turn.
        masker: how labels are shown when masking (names as their role).
    """

    def __init__(self, rows: Iterable[tuple], masker: Masker):
        labels_per_doc: dict[tuple[str, str], dict[int, set[str]]] = {}
        speakers_per_doc: dict[tuple[str, str], dict[int, set[str]]] = {}
        for document_id, group, district, speaker, role in rows:
            if role == "moderator" or not district:
                continue
            shown = masker.speaker(speaker, role)
            place = ((group or "").casefold(), district)
            key = (district, _role_key(shown))
            speakers_per_doc.setdefault(place, {}).setdefault(document_id, set()).add((speaker or "", key))
            labels_per_doc.setdefault(key, {}).setdefault(document_id, set()).add(shown)
        self.unique_roles = {key for key, docs in labels_per_doc.items()
                             if key[1] and key[1] not in GENERIC_ROLE_WORDS and max(map(len, docs.values())) == 1}
        self.lone_places = {place for place, docs in speakers_per_doc.items()
                            if place[0] and all(len(speakers) == 1 and next(iter(speakers))[1] in self.unique_roles
                                                for speakers in docs.values())}

    @classmethod
    def from_store(cls, store, masker: Masker) -> "RoleCensus":
        from .store.models import Document, SegmentRow

        with store.session() as s:
            rows = s.query(SegmentRow.document_id, Document.respondent_group, Document.district, SegmentRow.speaker,
                           SegmentRow.role).join(Document, Document.id == SegmentRow.document_id).distinct().all()
        return cls([tuple(r) for r in rows], masker)

    def unique_role(self, shown_label: str, district: str | None) -> bool:
        """True when ``shown_label`` next to ``district`` points at one person."""
        return bool(district) and (district, _role_key(shown_label)) in self.unique_roles

    def lone_place(self, group: str | None, district: str | None) -> bool:
        """True when the group and district of a source line together point at one person."""
        return bool(group and district) and (group.casefold(), district) in self.lone_places


@dataclass
class MaskedText:
    """A text with its personal data replaced, and where each original offset lands in it."""

    text: str
    spans: list[tuple[int, int, int, int]] = field(default_factory=list)  # (old start, old end, new start, new end)

    def position(self, offset: int, *, end: bool = False) -> int:
        """The offset in :attr:`text` of ``offset`` in the original; inside a replaced span, its
        start (or, for the end of a range, its end), so a coded range keeps covering the replacement."""
        i = bisect.bisect_left([span[0] for span in self.spans], offset) - 1
        if i < 0:
            return offset
        old_start, old_end, new_start, new_end = self.spans[i]
        if offset >= old_end:
            return offset + new_end - old_end
        return new_end if end else new_start


def mask_document(text: str, segments: Iterable, masker: Masker, census: RoleCensus | None = None,
                  district: str | None = None) -> MaskedText:
    """A whole transcript masked as an export shows it: every finding replaced, and each speaker
    label in front of a turn ("Mette Holm:") replaced by how the speaker is shown ("Deltager:").

    ``segments`` are the document's turns in order (``start``, ``end``, ``speaker``, ``role``);
    a label is looked for in the text between one turn and the next.
    """
    labels: list[tuple[int, int, str]] = []
    previous_end = 0
    for seg in segments:
        label = seg.speaker
        if label:
            at = text.rfind(label, previous_end, seg.start)
            shown = masker.speaker(label, seg.role)
            if seg.role != "moderator" and census is not None and census.unique_role(shown, district):
                shown = "Deltager"
            if at >= 0 and shown != label:
                labels.append((at, at + len(label), shown))
        previous_end = max(previous_end, seg.end)
    replacements = list(labels)
    for f in masker.findings(text):
        if all(f.end <= start or f.start >= end for start, end, _ in labels):
            replacements.append((f.start, f.end, f.replacement))
    parts: list[str] = []
    spans: list[tuple[int, int, int, int]] = []
    last = length = 0
    for start, end, replacement in sorted(replacements):
        parts.append(text[last:start])
        length += start - last
        parts.append(replacement)
        spans.append((start, end, length, length + len(replacement)))
        length += len(replacement)
        last = end
    parts.append(text[last:])
    return MaskedText("".join(parts), spans)


@dataclass
class MaskingPreview:
    """What an export will mask, and the words it is unsure of (the export page lists both)."""

    found: list[tuple[str, str, int]]      # (kind, text as written, how often), most frequent first
    unsure: list[tuple[str, int, str]]     # (word, how often, an example with context)
    speakers: list[str]                    # speaker labels shown by role instead of their name

    @property
    def total(self) -> int:
        return sum(n for _kind, _text, n in self.found)


# Capitalised mid-sentence in Danish without being names: the polite pronouns, abbreviations.
_NOT_NAMES_MID = {"De", "Dem", "Deres", "Jer", "Jeres", "Nr", "Dvs", "Evt", "Kr", "Ad", "Fx", "Bl", "Ca", "Jf",
                  "Mv", "Osv", "Pga", "Ift", "Iflg", "Inkl", "Ekskl"}
_DANISH_ENDINGS = ("ernes", "erne", "ens", "ets", "en", "et", "ne", "s")


def _known(word: str, known_words: set[str]) -> bool:
    """``word`` or its stem without a Danish definite/genitive ending is a known word ("Familiegruppen")."""
    folded = word.casefold()
    return folded in known_words or any(folded.endswith(e) and folded[:-len(e)] in known_words
                                        for e in _DANISH_ENDINGS)


def masking_preview(masker: Masker, texts: Iterable[str], known: Iterable[str] = (), context: int = 40,
                    speakers: Iterable[str] | None = None) -> MaskingPreview:
    """Count what ``masker`` replaces in ``texts``, and flag the words that may be names it misses.

    Unsure are words written with a capital mid-sentence (Danish writes ordinary words
    small, so these are names of people, places or institutions) and common-word names at
    a sentence start ("Bo", "Hans"), unless masked already or ``known`` (district, group and
    code names; role words). The evaluator adds the real names to the name list.
    ``speakers``: the speaker labels of the texts; only those of them the masker shows by
    role are listed (all of the masker's when not given).
    """
    known_words = {w.casefold() for k in known if k for w in re.findall(r"[^\W\d_]+", k)}
    known_words |= ROLE_WORDS | {w.casefold() for w in _NOT_NAMES}
    found: dict[tuple[str, str], int] = {}
    unsure: dict[str, int] = {}
    examples: dict[str, str] = {}
    for text in texts:
        if not text:
            continue
        findings = masker.findings(text)
        for f in findings:
            key = (f.kind, " ".join(f.text.split()))
            found[key] = found.get(key, 0) + 1
        starts = [f.start for f in findings]        # findings are sorted and disjoint
        for m in _CAPITALISED.finditer(text):
            word = m.group("word")
            if word.isupper() or word in _NOT_NAMES_MID or _known(word, known_words):
                continue
            i = bisect.bisect_right(starts, m.start()) - 1
            if i >= 0 and m.start() < findings[i].end:
                continue                                # masked already
            listed = _listed_first_name(word)
            if at_sentence_start(text, m.start()) and not (listed and listed[0] in COMMON_WORD_NAMES):
                continue
            unsure[word] = unsure.get(word, 0) + 1
            if word not in examples:
                before = text[max(0, m.start() - context):m.start()].lstrip()
                after = text[m.end():m.end() + context].rstrip()
                examples[word] = " ".join(f"…{before}[{word}]{after}…".split())
    found_list = sorted(((k, t, n) for (k, t), n in found.items()), key=lambda x: (-x[2], x[0], x[1].casefold()))
    unsure_list = sorted(((w, n, examples[w]) for w, n in unsure.items()), key=lambda x: (-x[1], x[0].casefold()))
    shown_by_role = masker.name_speakers
    if speakers is not None:
        present = {s.strip() for s in speakers if s}
        shown_by_role = [s for s in shown_by_role if s in present]
    return MaskingPreview(found_list, unsure_list, list(shown_by_role))


__all__ = ["Masker", "Finding", "MaskingPreview", "RoleCensus", "MaskedText", "mask_document", "masking_preview",
           "institution_names", "danish_first_names", "COMMON_WORD_NAMES", "names_file", "load_names", "save_names", "is_role_label", "names_in_label",
           "REPLACEMENTS"]
