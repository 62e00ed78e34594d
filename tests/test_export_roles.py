"""Masked exports never pair a role only one person holds with the district (issue 15/18, item 8).

An individual interview with the team leader of Vest and a focus group in Nord with its
team leader and two numbered social workers are imported and coded; the Word source lines
and the spreadsheet's speaker column are read back, masked and unmasked.
"""

from __future__ import annotations

import io

import docx
import openpyxl

from focusqa.export.docx import to_bytes
from focusqa.export.tables import xlsx_bytes
from focusqa.ingest import parse_text
from focusqa.store import Store
from focusqa.types import DocumentMetadata

INTERVIEW = ("I: Hvordan har samarbejdet været?\n\n"
             "Teamleder: Vi holdt netværksmøder hver uge, og det hjalp.\n")
FOCUS_GROUP = ("I: Hvordan har samarbejdet været?\n\n"
               "Teamleder: Vi fik en fast kontakt på skolen.\n\n"
               "Rådgiver 1: Underretningerne blev bedre.\n\n"
               "Rådgiver 2: Og forældrene kom tidligere.\n")


def _project(db_url: str) -> Store:
    store = Store(db_url)
    for text, name, meta in [
        (INTERVIEW, "2017_vest_teamleder.txt", DocumentMetadata(round="2017", district="Vest", group="teamleder")),
        (FOCUS_GROUP, "2017_nord_familiegruppe.txt",
         DocumentMetadata(round="2017", district="Nord", group="familiegruppe")),
    ]:
        _, doc_id = store.import_document(parse_text(text, name, meta))
        code = store.codebook().ids[0]
        for seg in store.segments(doc_id):
            if seg.role == "participant":
                store.set_coding(seg.id, code, "anna")
    return store


def _source_lines(data: bytes) -> list[str]:
    return [p.text for p in docx.Document(io.BytesIO(data)).paragraphs if p.style.name == "Kildeangivelse"]


def _speakers(data: bytes) -> dict[str, str]:
    """Excerpt text -> the speaker column of the first sheet."""
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    return {row[header.index("tekst")]: row[header.index("taler")] for row in rows[1:]}


def test_masked_source_lines_leave_out_a_district_that_names_the_one_speaker(db_url):
    store = _project(db_url)
    masked = _source_lines(to_bytes(store, layout="code-district", names=[]))
    assert "Teamleder, 2017, tur 2" in masked            # the team leader of Vest is not "Teamleder Vest"
    assert not any("Teamleder Vest" in line or "Vest" in line for line in masked)
    assert "Familiegruppe Nord, 2017, tur 2" in masked   # a group of several keeps its district
    unmasked = _source_lines(to_bytes(store, layout="code-district", masking=False))
    assert "Teamleder Vest, 2017, tur 2" in unmasked
    store.dispose()


def test_masked_spreadsheet_shows_a_unique_role_in_a_district_as_participant(db_url):
    store = _project(db_url)
    masked = _speakers(xlsx_bytes(store, names=[]))
    assert masked["Vi fik en fast kontakt på skolen."] == "Deltager"      # the one team leader of Nord
    assert masked["Underretningerne blev bedre."] == "Rådgiver 1"         # one of several, numbered
    assert masked["Vi holdt netværksmøder hver uge, og det hjalp."] == "Deltager"
    unmasked = _speakers(xlsx_bytes(store, masking=False))
    assert unmasked["Vi fik en fast kontakt på skolen."] == "Teamleder"
    store.dispose()


def _headings(data: bytes) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in docx.Document(io.BytesIO(data)).paragraphs
            if p.style.name.startswith("Heading")]


def test_masked_word_headings_do_not_pair_the_lone_role_with_its_district(db_url):
    store = _project(db_url)
    by_code = _headings(to_bytes(store, layout="code-district", names=[]))
    after_leader = by_code[by_code.index(("Heading 2", "Teamleder")) + 1:]
    assert not any(style == "Heading 3" and "Vest" in text for style, text in after_leader[:3])
    assert ("Heading 3", "Nord") in by_code                     # the focus group keeps its district
    by_district = _headings(to_bytes(store, layout="district-code", names=[]))
    assert ("Heading 1", "Teamleder") in by_district and not any("Teamleder Vest" in t for _s, t in by_district)
    assert ("Heading 1", "Teamleder Vest") in _headings(to_bytes(store, layout="district-code", masking=False))
    store.dispose()
