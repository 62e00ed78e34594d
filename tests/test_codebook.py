"""The interview-guide codebook and the messages a malformed codebook gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from focusqa.codebook import load_codebook, parse_codebook
from focusqa.errors import CodebookError


def test_bundled_codebook_has_the_seven_guide_points() -> None:
    cb = load_codebook()
    assert [c.number for c in cb.codes] == [1, 2, 3, 4, 5, 6, 7]
    assert cb.get(1).label_da == "Tidlig indsats"
    assert cb.get("Organisering").number == 6
    assert cb.get(4).heading() == "Ad. 4: Samarbejdet i forhold til familiegruppe"
    for code in cb.codes:
        assert code.question.endswith("?") and code.definition and code.terms and code.label_en


def test_round_trip_through_yaml() -> None:
    cb = load_codebook()
    again = parse_codebook(cb.to_yaml())
    assert again.codes == cb.codes


GOOD = """name: test
codes:
  - id: a
    number: 1
    label_da: A
  - id: b
    number: 2
    label_da: B
"""


@pytest.mark.parametrize("text, message, line, code", [
    ("codes: [", "not valid YAML", 1, None),
    ("name: x\n", "non-empty list 'codes'", 1, None),
    (GOOD.replace("id: b", "id: a"), "duplicate id", 6, "a"),
    (GOOD.replace("number: 2", "number: 1"), "number 1 is already used", 7, "b"),
    (GOOD.replace("    label_da: B\n", ""), "missing required field 'label_da'", 6, "b"),
    (GOOD.replace("id: b", "id: Bad Id"), "slug", 6, "Bad Id"),
    (GOOD + "    color: red\n", "colour 'red'", 9, "b"),
    (GOOD + "    parent: nowhere\n", "parent 'nowhere'", 9, "b"),
    (GOOD + "    colour: '#fff'\n", "unknown field", 6, "b"),
    (GOOD + "    terms: word\n", "terms must be a list", 9, "b"),
])
def test_validation_names_line_and_code(tmp_path: Path, text, message, line, code) -> None:
    path = tmp_path / "cb.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CodebookError, match=message) as info:
        load_codebook(path)
    assert info.value.line == line
    assert info.value.code == code
    assert str(path) in str(info.value)


def test_parent_cycle_is_reported() -> None:
    text = GOOD + "    parent: a\n"
    text = text.replace("    label_da: A\n", "    label_da: A\n    parent: b\n")
    with pytest.raises(CodebookError, match="loops"):
        parse_codebook(text)


def test_missing_and_non_utf8_codebook(tmp_path: Path) -> None:
    with pytest.raises(CodebookError, match="not found"):
        load_codebook(tmp_path / "none.yaml")
    bad = tmp_path / "latin.yaml"
    bad.write_bytes("name: æ\ncodes: []\n".encode("cp1252"))
    with pytest.raises(CodebookError, match="not UTF-8"):
        load_codebook(bad)
