"""The Word export, read back with python-docx as an evaluator's Word would show it."""

from __future__ import annotations

import io
import re
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import docx
import pytest
from conftest import require_program

from focusqa.cli import main
from focusqa.export.docx import export_docx, to_bytes
from test_themes_data import O, PRIVATE_VALUES, T, USER_NAMES, build_project, count

TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("docx")
    url = f"sqlite:///{folder / 'p.db'}"
    store = build_project(url)
    yield url, store, folder
    store.dispose()


def blocks(document):
    """Body paragraphs and tables in order: ("p", style, text, paragraph) or ("table", table)."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    out = []
    for child in document.element.body.iterchildren():
        if child.tag.endswith("}p"):
            p = Paragraph(child, document)
            out.append(("p", p.style.name, p.text, p))
        elif child.tag.endswith("}tbl"):
            out.append(("table", Table(child, document)))
    return out


def headings(document, level=None):
    return [(int(s.split()[-1]), t) for kind, *rest in blocks(document) if kind == "p"
            for s, t, _ in [rest] if s.startswith("Heading") and (level is None or s == f"Heading {level}")]


def quote_counts(document) -> dict[tuple[str, str, str], int]:
    """Quote paragraphs per (Heading 1, Heading 2, Heading 3) section."""
    counts: dict[tuple[str, str, str], int] = {}
    h = ["", "", ""]
    for kind, *rest in blocks(document):
        if kind != "p":
            continue
        style, text, _ = rest
        if style.startswith("Heading"):
            level = int(style.split()[-1])
            h[level - 1] = text
            for i in range(level, 3):
                h[i] = ""
        elif style == "Quote":
            key = tuple(h)
            counts[key] = counts.get(key, 0) + 1
    return counts


def all_text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                parts.append(cell.text)
    return "\n".join(parts)


@pytest.fixture(scope="module")
def default_doc(project):
    url, store, folder = project
    path = folder / "uddrag.docx"
    report = export_docx(store, path, layout="code-district", names=USER_NAMES, evaluation_name="Evaluering af socialrådgivere",
                         today=TODAY)
    return docx.Document(str(path)), report, path


def test_export_docx_title_page(default_doc):
    document, report, _ = default_doc
    first = [b for b in blocks(document)[:3] if b[0] == "p"]
    assert (first[0][1], first[0][2]) == ("Title", "Kodede uddrag")
    assert (first[1][1], first[1][2]) == ("Subtitle", "Evaluering af socialrådgivere")
    facts = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert facts["Runder"] == "2016, 2017"
    assert facts["Dato"] == "25. november 2026"
    assert facts["Kodere"] == "Anna, Bo"
    assert facts["Kodninger"] == "kun bekræftede"
    assert facts["Antal"] == f"{report.excerpts} uddrag fra 6 dokumenter, 5 koder"
    assert facts["Maskering"].startswith("navne, institutioner, CPR-numre")


def test_export_docx_heading_order_is_the_guide(default_doc, project):
    document, _, _ = default_doc
    codebook = project[1].codebook()
    assert [t for _, t in headings(document, 1)] == ["Oversigt"] + [c.heading() for c in codebook.codes]
    assert "Ad. 1: Tidlig indsats" in [t for _, t in headings(document, 1)]
    ad1 = []
    inside = False
    for level, text in headings(document):
        if level == 1:
            inside = text == "Ad. 1: Tidlig indsats"
        elif inside:
            ad1.append((level, text))
    assert ad1 == [(2, "Familiegruppe"), (3, "Nord, runde 2016"), (3, "Nord, runde 2017"), (3, "Øst, runde 2017"),
                   (2, "Projektgruppe"), (3, "Runde 2016"), (3, "Runde 2017")]
    # the guide question follows its heading, in italics
    items = blocks(document)
    at = next(i for i, b in enumerate(items) if b[0] == "p" and b[2] == "Ad. 1: Tidlig indsats")
    question = items[at + 1][3]
    assert question.text.startswith("Hvad er jeres erfaringer") and all(r.italic for r in question.runs)


def test_export_docx_excerpts_per_section_equal_the_database(default_doc, project):
    document, report, _ = default_doc
    store = project[1]
    by_heading = {c.heading(): c.id for c in store.codebook().codes}
    sections = quote_counts(document)
    assert sum(sections.values()) == count(store) == report.excerpts
    checked = 0
    for (h1, h2, h3), n in sections.items():
        code = by_heading[h1]
        if h2 == "Projektgruppe":
            expected = count(store, codes=[code], groups=["projektgruppe"], rounds=[h3.split()[-1]])
        else:
            district, round_ = h3.split(", runde ")
            expected = count(store, codes=[code], groups=[h2.lower()], districts=[district], rounds=[round_])
        assert n == expected, (h1, h2, h3)
        checked += 1
    assert checked == len([v for v in report.sections.values() if v])
    assert sorted(v for v in report.sections.values() if v) == sorted(sections.values())


def test_export_docx_empty_codes_say_so_in_one_line(default_doc):
    document, report, _ = default_doc
    items = blocks(document)
    at = next(i for i, b in enumerate(items) if b[0] == "p" and b[2] == "Ad. 2: Tværfaglig koordinering")
    assert items[at + 2][2] == "Ingen uddrag."
    assert items[at + 3][2].startswith("Ad. 3")
    assert report.sections["Ad. 2: Tværfaglig koordinering"] == 0


def test_export_docx_attribution_after_every_excerpt(default_doc):
    document, _, _ = default_doc
    items = [b for b in blocks(document) if b[0] == "p"]
    quotes = [i for i, b in enumerate(items) if b[1] == "Quote"]
    for i in quotes:
        style, line = items[i + 1][1], items[i + 1][2]
        assert style == "Kildeangivelse"
        assert re.fullmatch(r"(Familiegruppe \w+|Projektgruppe), 20\d\d, tur \d+( · forslag, score \d,\d\d)?", line), line
    lines = [items[i + 1][2] for i in quotes]
    assert "Familiegruppe Nord, 2016, tur 2" in lines    # no document, speaker, coder or status: plain words
    assert not any("segment" in line or "kodet af" in line or "bekræftet" in line for line in lines)
    memo = next(b for b in items if b[1] == "Memo")
    assert memo[2] == "Memo: Tydelig forskel fra 2016 – brug som citat i notatet."
    at = items.index(memo)
    assert items[at - 1][1] == "Kildeangivelse" and items[at - 1][2].startswith("Familiegruppe Nord, 2017")


def test_export_docx_masks_personal_data(default_doc, project):
    document, _, _ = default_doc
    text = all_text(document)
    for value in PRIVATE_VALUES + ["Mette", "Holm", "Karen"]:
        assert value not in text
    for replacement in ("[navn]", "[telefon]", "[e-mail]", "[CPR-nr.]"):
        assert replacement in text
    unmasked = docx.Document(io.BytesIO(to_bytes(project[1], layout="code-district", masking=False, today=TODAY)))
    raw = all_text(unmasked)
    assert all(value in raw for value in PRIVATE_VALUES if value != "Mette Holm")  # a speaker, never named
    facts = {row.cells[0].text: row.cells[1].text for row in unmasked.tables[0].rows}
    assert facts["Maskering"].startswith("ingen maskering")


def test_export_docx_suggestions_only_when_asked_and_marked(project):
    store = project[1]
    accepted = all_text(docx.Document(io.BytesIO(to_bytes(store, layout="code-district", names=USER_NAMES))))
    assert "forslag, sikkerhed 0,82" not in accepted
    report_buffer = io.BytesIO()
    report = export_docx(store, report_buffer, layout="code-district", statuses="all", names=USER_NAMES)
    text = all_text(docx.Document(report_buffer))
    assert "· forslag, sikkerhed 0,82" in text
    assert report.suggestions == 1 and report.excerpts == count(store) + 1
    above = export_docx(store, io.BytesIO(), layout="code-district", statuses="all", min_score=0.85)
    assert above.suggestions == 0


def test_export_docx_filters(project):
    store = project[1]
    buffer = io.BytesIO()
    report = export_docx(store, buffer, layout="code-district", rounds=["2017"], codes=["1", "Organisering"], districts=["Nord"])
    document = docx.Document(buffer)
    assert [t for _, t in headings(document, 1)] == ["Oversigt", "Ad. 1: Tidlig indsats", "Ad. 6: Organisering"]
    assert report.excerpts == count(store, rounds=["2017"], codes=[T, O], districts=["Nord"]) == 11
    assert "Runde 2016" not in all_text(document)


def test_export_docx_overview_table_counts_codes_by_district_per_round(default_doc, project):
    document, _, _ = default_doc
    store = project[1]
    tables = [t for t in document.tables if t.rows[0].cells[0].text.startswith("Runde ")]
    assert [t.rows[0].cells[0].text for t in tables] == ["Runde 2016", "Runde 2017"]
    t16 = tables[0]
    header = [c.text for c in t16.rows[0].cells]
    assert header == ["Runde 2016", "Nord", "Øst", "Projektgruppe", "I alt"]
    ad1 = next(r for r in t16.rows if r.cells[0].text == "Ad. 1: Tidlig indsats")
    assert [c.text for c in ad1.cells[1:]] == ["2", "–", "2", "4"]
    assert int(ad1.cells[-1].text) == count(store, rounds=["2016"], codes=[T])


def test_export_docx_real_heading_styles_and_page_numbers(default_doc):
    document, _, _ = default_doc
    h1 = document.styles["Heading 1"]
    assert h1.type == 1 and h1.style_id == "Heading1"
    footer_xml = document.sections[0].footer._element.xml
    assert 'w:instr=" PAGE "' in footer_xml and "NUMPAGES" in footer_xml
    assert round(document.sections[0].page_width.cm, 1) == 21.0  # A4


def test_export_docx_district_code_layout(project):
    store = project[1]
    buffer = io.BytesIO()
    export_docx(store, buffer, layout="district-code", names=USER_NAMES)
    document = docx.Document(buffer)
    assert [t for _, t in headings(document, 1)] == ["Oversigt", "Familiegruppe Nord", "Familiegruppe Øst",
                                                       "Projektgruppe"]
    assert len(headings(document, 2)) == 3 * 7
    assert sum(quote_counts(document).values()) == count(store)
    nord_ad1 = sum(n for (h1, h2, _), n in quote_counts(document).items()
                   if (h1, h2) == ("Familiegruppe Nord", "Ad. 1: Tidlig indsats"))
    assert nord_ad1 == count(store, districts=["Nord"], codes=[T])


def test_export_docx_rounds_layout_puts_rounds_side_by_side(project):
    store = project[1]
    buffer = io.BytesIO()
    report = export_docx(store, buffer, layout="rounds", names=USER_NAMES)
    document = docx.Document(buffer)
    tables = [t for t in document.tables if [c.text for c in t.rows[0].cells] == ["2016", "2017"]]
    assert len(tables) == len([k for k in report.sections if k.endswith("/ 2016")])
    nord_ad1 = tables[0]
    quotes = [[sum(1 for p in cell.paragraphs if p.style.name == "Quote") for cell in row.cells]
              for row in nord_ad1.rows[1:]]
    assert sum(q[0] for q in quotes) == count(store, districts=["Nord"], codes=[T], rounds=["2016"]) == 2
    assert sum(q[1] for q in quotes) == count(store, districts=["Nord"], codes=[T], rounds=["2017"]) == 10
    assert report.sections["Ad. 6: Organisering / Projektgruppe / 2016"] == 0
    assert report.sections["Ad. 6: Organisering / Projektgruppe / 2017"] == 2
    empty_cells = [cell for t in tables for cell in t.rows[1].cells if cell.text == "Ingen uddrag."]
    assert len(empty_cells) == sum(1 for v in report.sections.values() if v == 0) - 2  # minus Ad. 2 and Ad. 7


def test_export_docx_in_english(project):
    buffer = io.BytesIO()
    export_docx(project[1], buffer, layout="code-district", language="en", codes=[T])
    document = docx.Document(buffer)
    assert document.paragraphs[0].text == "Coded excerpts"
    assert [t for _, t in headings(document, 1)] == ["Overview", "Ad. 1: Early intervention"]


def test_export_docx_command_line(project, tmp_path, capsys, monkeypatch):
    url = project[0]
    monkeypatch.setenv("FOCUSQA_HOME", str(tmp_path))
    (tmp_path / "navne.txt").write_text("Karen Jensen\n", encoding="utf-8")
    out = tmp_path / "notat.docx"
    assert main(["export", "docx", str(out), "--db", url, "--round", "2016", "--layout", "district-code",
                 "--title", "Opfølgning"]) == 0
    assert "excerpts" in capsys.readouterr().out
    document = docx.Document(str(out))
    assert document.paragraphs[1].text == "Opfølgning"
    assert "Karen" not in all_text(document)
    assert main(["export", "docx", str(out), "--db", url, "--code", "99"]) == 2
    assert "not a code" in capsys.readouterr().err


def _libreoffice() -> str:
    return require_program("libreoffice", "soffice", package="libreoffice-writer-nogui")


def test_export_docx_renders_to_pdf_with_libreoffice(default_doc, tmp_path):
    _, _, path = default_doc
    profile = tmp_path / "lo-profile"
    result = subprocess.run([_libreoffice(), f"-env:UserInstallation=file://{profile}", "--headless",
                             "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                            capture_output=True, text=True, timeout=180,
                            env={**os.environ, "HOME": str(tmp_path)})
    pdf = tmp_path / (Path(path).stem + ".pdf")
    assert pdf.exists(), result.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    pdfinfo = require_program("pdfinfo", package="poppler-utils")
    info = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages >= 9  # title page, overview, and each guide point starts a page


def test_export_docx_masks_names_in_document_names(db_url):
    from focusqa.ingest import parse_text
    from focusqa.store import Store

    store = Store(db_url)
    _, doc_id = store.import_document(parse_text("Moderator: Hvordan gik det?\n\nMette Holm: Det gik godt.\n",
                                                 "Interview med Mette Holm.txt"))
    seg = [s for s in store.segments(doc_id) if s.role == "participant"][0]
    store.set_coding(seg.id, T, "Anna")
    text = all_text(docx.Document(io.BytesIO(to_bytes(store, layout="code-district"))))
    assert "Mette" not in text
