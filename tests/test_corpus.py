"""The demo corpus (corpora/socialraadgivere) and its reference coding stay consistent.

The corpus is fictional demo data; later analysis tests rely on it, so these checks make
sure that every transcript parses, has a realistic length, and that the reference coding
in reference/ lines up with the reader's segments offset for offset.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from focusqa.codebook import load_codebook
from focusqa.ingest import read_transcript

CORPUS = Path(__file__).resolve().parent.parent / "corpora" / "socialraadgivere"
REFERENCE = CORPUS / "reference"
TRANSCRIPT_SUFFIXES = {".txt", ".docx"}


def _manifest() -> list[dict[str, str]]:
    with open(CORPUS / "manifest.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _transcripts() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_file() and p.suffix in TRANSCRIPT_SUFFIXES)


def _reference(name: str) -> list[dict]:
    with open(REFERENCE / name, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


_parsed: dict[str, object] = {}


def _parse(name: str):
    if name not in _parsed:
        _parsed[name] = read_transcript(CORPUS / name)
    return _parsed[name]


TRANSCRIPT_NAMES = [p.name for p in _transcripts()]


def test_manifest_matches_folder():
    rows = _manifest()
    assert list(rows[0].keys()) == ["file", "round", "district", "group", "date", "participants"]
    listed = [r["file"] for r in rows]
    assert len(listed) == len(set(listed)), "a file is listed twice in manifest.csv"
    for name in listed:
        assert (CORPUS / name).is_file(), f"manifest.csv names a missing file: {name}"
    assert sorted(listed) == sorted(TRANSCRIPT_NAMES), "every transcript must be in manifest.csv"


def test_manifest_values():
    rows = _manifest()
    assert len(rows) == 10
    for r in rows:
        assert r["round"] in {"2016", "2017"}
        assert r["date"].startswith(r["round"] + "-")
        assert r["group"] in {"familiegruppe", "projektgruppe"}
        if r["group"] == "projektgruppe":
            assert r["district"] == ""
        else:
            assert r["district"] in {"Nord", "Øst", "Centrum", "Vest"}
        roles = [p.strip() for p in r["participants"].split(";")]
        assert 3 <= len(roles) <= 5 and all(roles)
    per_round = Counter((r["round"], r["district"] or "Projekt") for r in rows)
    assert all(n == 1 for n in per_round.values()) and len(per_round) == 10


def test_formats_present():
    suffixes = Counter(p.suffix for p in _transcripts())
    assert suffixes[".docx"] >= 4
    assert suffixes[".txt"] >= 1


@pytest.mark.parametrize("name", TRANSCRIPT_NAMES)
def test_transcript_parses_with_realistic_length(name):
    doc = _parse(name)
    assert doc.segments, f"{name}: no segments"
    words = sum(len(seg.text.split()) for seg in doc.segments)
    assert 1800 <= words <= 3000, f"{name}: {words} words"
    roles = {seg.role for seg in doc.segments}
    assert roles == {"moderator", "participant"}
    for seg in doc.segments:
        assert doc.plain_text[seg.start:seg.end] == seg.text


def test_exactly_one_cp1252_file_keeps_danish_letters():
    cp1252 = []
    for path in _transcripts():
        if path.suffix != ".txt":
            continue
        try:
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            cp1252.append(path)
    assert len(cp1252) == 1, f"expected exactly one Windows-1252 file, found {cp1252}"
    text = " ".join(seg.text for seg in _parse(cp1252[0].name).segments)
    for letter in "æøå":
        assert letter in text, f"{cp1252[0].name}: '{letter}' lost in decoding"


def _check_reference_against_reader(lines: list[dict], coder: str, *, complete: bool):
    ids = set(load_codebook().ids)
    by_doc: dict[str, dict[int, dict]] = {}
    for line in lines:
        assert set(line) >= {"document", "segment", "start", "end", "codes", "coder", "note"}
        assert line["coder"] == coder
        assert set(line["codes"]) <= ids, f"unknown code in {line}"
        assert len(line["codes"]) == len(set(line["codes"]))
        seen = by_doc.setdefault(line["document"], {})
        assert line["segment"] not in seen, f"segment coded twice: {line['document']} #{line['segment']}"
        seen[line["segment"]] = line
    if complete:
        assert sorted(by_doc) == sorted(TRANSCRIPT_NAMES)
    for name, coded in by_doc.items():
        assert name in TRANSCRIPT_NAMES, f"reference names an unknown document: {name}"
        doc = _parse(name)
        assert sorted(coded) == [seg.index for seg in doc.segments], f"{name}: segments missing or extra"
        for seg in doc.segments:
            line = coded[seg.index]
            assert (line["start"], line["end"]) == (seg.start, seg.end), f"{name} #{seg.index}: offsets"
            assert doc.plain_text[line["start"]:line["end"]] == seg.text
            if seg.role == "moderator":
                assert line["codes"] == [], f"{name} #{seg.index}: moderator turns stay uncoded"
    return by_doc


def test_coder_a_covers_every_segment():
    lines = _reference("coder_a.jsonl")
    _check_reference_against_reader(lines, "evaluator_a", complete=True)
    # document order: files as in the manifest, segments ascending
    order = [r["file"] for r in _manifest()]
    keys = [(order.index(line["document"]), line["segment"]) for line in lines]
    assert keys == sorted(keys)
    assert sum(1 for line in lines if line["codes"]) > len(lines) / 2


def test_coder_b_is_independent_second_coding():
    a = {(l["document"], l["segment"]): set(l["codes"]) for l in _reference("coder_a.jsonl")}
    lines = _reference("coder_b.jsonl")
    by_doc = _check_reference_against_reader(lines, "evaluator_b", complete=False)
    assert len(by_doc) >= 2
    rounds = {name[:4] for name in by_doc}
    assert rounds == {"2016", "2017"}
    differing = [l for l in lines if set(l["codes"]) != a[(l["document"], l["segment"])]]
    assert differing, "coder B must differ from coder A somewhere"
    assert len(differing) / len(lines) < 0.3


def _share(doc_name: str, code: str) -> float:
    """Share of participant segments coded ``code`` by coder A in one document."""
    doc = _parse(doc_name)
    participant = {s.index for s in doc.segments if s.role == "participant"}
    lines = [l for l in _reference("coder_a.jsonl") if l["document"] == doc_name and l["segment"] in participant]
    return sum(code in l["codes"] for l in lines) / len(lines)


def _top(doc_name: str) -> str:
    doc = _parse(doc_name)
    participant = {s.index for s in doc.segments if s.role == "participant"}
    counts = Counter(c for l in _reference("coder_a.jsonl")
                     if l["document"] == doc_name and l["segment"] in participant for c in l["codes"])
    return counts.most_common(1)[0][0]


def _file(round_: str, district: str) -> str:
    for r in _manifest():
        if r["round"] == round_ and (r["district"] or "Projekt") == district:
            return r["file"]
    raise KeyError((round_, district))


def test_story_is_visible_in_the_reference_coding():
    """The README's 'What an evaluator should find', checked on coder A."""
    f = _file
    # Nord: daycare social worker changed; early intervention and advice fall, organisation rises
    assert _top(f("2016", "Nord")) == "tidlig-indsats"
    assert _top(f("2017", "Nord")) == "organisering"
    for code in ("tidlig-indsats", "konsultativ-raadgivning"):
        assert _share(f("2017", "Nord"), code) < _share(f("2016", "Nord"), code)
    # Øst: collaboration with the family group dominates 2017
    assert _top(f("2017", "Øst")) == "samarbejde-familiegruppe"
    assert _share(f("2017", "Øst"), "samarbejde-familiegruppe") > _share(f("2016", "Øst"), "samarbejde-familiegruppe")
    # Centrum: cross-disciplinary coordination dominates both rounds
    assert _top(f("2016", "Centrum")) == _top(f("2017", "Centrum")) == "tvaerfaglig-koordinering"
    # Vest: slow start (organisation), then network meetings take off
    assert _top(f("2016", "Vest")) == "organisering"
    assert _top(f("2017", "Vest")) == "ressourcepersoner-netvaerk"
    assert _share(f("2017", "Vest"), "ressourcepersoner-netvaerk") > 3 * _share(f("2016", "Vest"), "ressourcepersoner-netvaerk")
    # Project group: uncertainty about organisation and the future grows
    assert _top(f("2016", "Projekt")) == "tidlig-indsats"
    assert _top(f("2017", "Projekt")) == "organisering"
    for code in ("organisering", "supplerende"):
        assert _share(f("2017", "Projekt"), code) > _share(f("2016", "Projekt"), code)
