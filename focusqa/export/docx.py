"""Word export: the coded excerpts laid out as the first draft of an evaluation memo.

Layout "memo" (the default), a draft the evaluator edits::

    Title page      Evalueringsnotat – udkast / evaluation / rounds, filters, date, coders, counts
    Heading 1       Indhold             a table-of-contents field (Word refreshes it on opening)
    Heading 1       Resultaterne i hovedtræk   the first sentence of every synthesis
    Heading 1       Oversigt            one table per round: codes × districts
    Heading 1       Familiegruppe       (respondent group; the project group last)
      Heading 2     Ad. 1: Tidlig indsats
        italic        the guide question
        text          the evaluator's synthesis, then district remarks and round flags
        Quote         the quotes marked "til notatet" (else the representative ones, two per district;
                      a turn is quoted once per respondent group)
        small line    "Familiegruppe Vest, 2017, tur 24"
    Heading 1       Noter               project memos, memos on turns no quote shows
    Heading 1       Bilag               (optional) every excerpt as in "code-district"

"code-district" lists every excerpt: Heading 1 per guide point, Heading 2 per respondent
group, Heading 3 per district; "district-code" turns it around, and "rounds" shows each
code × district as a table with one column per round.

python-docx's ``add_paragraph`` looks for the section properties by scanning the body,
which makes 30,000 paragraphs take minutes; the body is therefore written as WordprocessingML
text and parsed once, while styles, footer and page setup use python-docx.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO, Iterable, Literal
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, RGBColor

from ..analysis import CodedExcerpt, PROJECT_GROUP_ROW, danish_key, row_label, row_order
from ..privacy import RoleCensus
from ..store import MemoInfo, SegmentInfo, Store
from ..store.reconcile import FINAL_CODER
from . import Selection, danish_date, decimal, select, status_text
from .memo import MemoDraft, group_quotes, memo_draft, opening_line

Layout = Literal["memo", "code-district", "district-code", "rounds"]
LAYOUTS = ("memo", "code-district", "district-code", "rounds")

TEXTS = {
    "da": {
        "title": "Kodede uddrag", "overview": "Oversigt", "rounds": "Runder", "round": "Runde",
        "districts": "Distrikter", "groups": "Respondentgrupper", "codes": "Koder", "coders": "Kodere",
        "status": "Kodninger", "accepted_only": "kun bekræftede",
        "with_suggestions": "bekræftede og maskinens forslag (markeret som forslag)",
        "min_score": "Mindste score", "date": "Dato", "counts": "Antal", "all": "alle",
        "masking": "Maskering",
        "masked": "navne, institutioner, CPR-numre, telefonnumre og e-mailadresser er maskeret; "
                  "ved citaterne står ikke, hvem der talte",
        "unmasked": "ingen maskering – kun til intern brug",
        "count_text": "{excerpts} uddrag fra {documents} dokumenter, {codes} koder",
        "none": "Ingen uddrag.", "total": "I alt", "no_round": "Uden runde", "no_group": "Uden gruppe",
        "document": "Dokument", "speaker": "Taler", "district": "Distrikt", "segment": "segment",
        "coded_by": "kodet af", "memo": "Memo", "page": "Side", "of": "af", "layout": "Opstilling",
        "overview_note": "Antal uddrag pr. kode og distrikt. Projektgruppen har sin egen kolonne.",
        "layout_names": {"memo": "notatudkast", "code-district": "kode → distrikt",
                         "district-code": "distrikt → kode", "rounds": "runderne side om side"},
        "memo_title": "Evalueringsnotat – udkast", "contents": "Indhold",
        "contents_note": "Opdater indholdsfortegnelsen i Word (højreklik → Opdater felt) for sidetal.",
        "main_results": "Resultaterne i hovedtræk",
        "no_syntheses": "Der er ikke skrevet nogen synteser endnu. Skriv dem på siden Temaer i focusqa; "
                        "den første sætning af hver samles her.",
        "write_here": "[Syntese mangler – skriv den på siden Temaer, eller her.]",
        "quotes": "Udsagn", "no_quotes": "Ingen kodede udsagn for dette punkt.",
        "quoted_elsewhere": "De kodede udsagn til dette punkt er citeret under et andet punkt.",
        "remark": "{row} berører punktet {direction} i {b} end i {a} ({pa} → {pb} af deltagernes taleture).",
        "more": "oftere", "less": "sjældnere",
        "notes": "Noter", "project_notes": "Projektnoter", "turn_notes": "Noter til taleture uden udsagn i notatet",
        "appendix": "Bilag: alle kodede uddrag", "reconciliation": "Afstemning",
        "reconciled": "uddragene omfatter teamets afstemte version (den endelige kodning)", "group_section": "{group}",
        "suggestion": "forslag",
    },
    "en": {
        "title": "Coded excerpts", "overview": "Overview", "rounds": "Rounds", "round": "Round",
        "districts": "Districts", "groups": "Respondent groups", "codes": "Codes", "coders": "Coders",
        "status": "Codings", "accepted_only": "confirmed only",
        "with_suggestions": "confirmed and machine suggestions (marked as suggestions)",
        "min_score": "Minimum score", "date": "Date", "counts": "Counts", "all": "all",
        "masking": "Masking",
        "masked": "names, institutions, CPR numbers, phone numbers and e-mail addresses are masked; "
                  "quotes do not say who spoke",
        "unmasked": "no masking – internal use only",
        "count_text": "{excerpts} excerpts from {documents} documents, {codes} codes",
        "none": "No excerpts.", "total": "Total", "no_round": "No round", "no_group": "No group",
        "document": "Document", "speaker": "Speaker", "district": "District", "segment": "segment",
        "coded_by": "coded by", "memo": "Memo", "page": "Page", "of": "of", "layout": "Layout",
        "overview_note": "Excerpts per code and district. The project group has its own column.",
        "layout_names": {"memo": "memo draft", "code-district": "code → district",
                         "district-code": "district → code", "rounds": "rounds side by side"},
        "memo_title": "Evaluation memo – draft", "contents": "Contents",
        "contents_note": "Update the table of contents in Word (right-click → Update field) for page numbers.",
        "main_results": "Main results",
        "no_syntheses": "No syntheses have been written yet. Write them on the Themes page in focusqa; "
                        "the first sentence of each is gathered here.",
        "write_here": "[Synthesis missing – write it on the Themes page, or here.]",
        "quotes": "Statements", "no_quotes": "No coded statements for this point.",
        "quoted_elsewhere": "The coded statements on this point are quoted under another point.",
        "remark": "{row} touches the point {direction} in {b} than in {a} ({pa} → {pb} of participant turns).",
        "more": "more often", "less": "less often",
        "notes": "Notes", "project_notes": "Project notes", "turn_notes": "Notes on turns not quoted in the memo",
        "appendix": "Appendix: every coded excerpt", "reconciliation": "Reconciliation",
        "reconciled": "the excerpts include the team's reconciled version (the final coding)", "group_section": "{group}",
        "suggestion": "suggestion",
    },
}

_INVALID_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
ATTRIBUTION_STYLE = "Kildeangivelse"
MEMO_STYLE = "Memo"
TABLE_TEXT_STYLE = "Tabeltekst"
FONT = "Calibri"
SUGGESTION_COLOUR = "B45309"


@dataclass
class ExportReport:
    """What an export wrote: excerpts in total and per section (heading path)."""

    path: str | None
    layout: str
    excerpts: int
    documents: int
    codes: int
    sections: dict[str, int] = field(default_factory=dict)
    suggestions: int = 0
    masked: bool = True

    def __str__(self) -> str:
        return (f"{self.excerpts} excerpts from {self.documents} documents in {len(self.sections)} "
                f"sections ({self.layout}" + (", masked" if self.masked else ", NOT masked") + ")")


# ------------------------------------------------------------------ XML text
def _clean(text: str) -> str:
    return _INVALID_XML.sub("", text)


def _run(text: str, *, italic: bool = False, bold: bool = False, colour: str | None = None,
         size: float | None = None) -> str:
    props = ""
    if bold:
        props += "<w:b/>"
    if italic:
        props += "<w:i/>"
    if colour:
        props += f'<w:color w:val="{colour}"/>'
    if size:
        props += f'<w:sz w:val="{int(size * 2)}"/>'
    rpr = f"<w:rPr>{props}</w:rPr>" if props else ""
    pieces = []
    for i, line in enumerate(_clean(text).split("\n")):
        if i:
            pieces.append("<w:br/>")
        for j, chunk in enumerate(line.split("\t")):
            if j:
                pieces.append("<w:tab/>")
            for k, piece in enumerate(chunk.split("\u00ad")):  # soft hyphen: Word's optional break
                if k:
                    pieces.append("<w:softHyphen/>")
                if piece:
                    pieces.append(f'<w:t xml:space="preserve">{escape(piece)}</w:t>')
    return f"<w:r>{rpr}{''.join(pieces)}</w:r>"


def _breakable(label: str) -> str:
    """'Projektgruppe' -> 'Projekt' + soft hyphen + 'gruppe', so narrow table columns break it well."""
    for suffix in ("gruppe", "distrikt"):
        if label.casefold().endswith(suffix) and len(label) > len(suffix) + 3:
            return label[:-len(suffix)] + "\u00ad" + label[-len(suffix):]
    return label


def _para(style: str | None, *runs: str, keep_next: bool = False, page_break_before: bool = False,
          in_table: bool = False) -> str:
    ppr = ""
    if style:
        ppr += f'<w:pStyle w:val="{style}"/>'
    if keep_next:
        ppr += "<w:keepNext/>"
    elif in_table:
        # "keep with next" inside table rows chains the rows together, and a table
        # longer than a page is then pushed off the page instead of flowing on.
        ppr += '<w:keepNext w:val="0"/>'
    if page_break_before:
        ppr += "<w:pageBreakBefore/>"
    if in_table:
        ppr += '<w:ind w:left="0" w:right="0"/>'  # no quote indent inside a narrow cell
    return f"<w:p>{f'<w:pPr>{ppr}</w:pPr>' if ppr else ''}{''.join(runs)}</w:p>"


def _cell(content: str, width: int, *, shade: str | None = None) -> str:
    shading = f'<w:shd w:val="clear" w:color="auto" w:fill="{shade}"/>' if shade else ""
    return (f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{shading}</w:tcPr>'
            f"{content or _para(None)}</w:tc>")


def _table(rows: list[list[str]], widths: list[int], *, style: str | None, header: bool = True,
           borders: bool = True, cell_margin: int | None = None) -> str:
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    tblpr = f'<w:tblStyle w:val="{style}"/>' if style else ""
    tblpr += f'<w:tblW w:w="{sum(widths)}" w:type="dxa"/>'  # children in the schema's order
    if not borders:
        tblpr += ("<w:tblBorders>" + "".join(f'<w:{b} w:val="nil"/>' for b in
                                            ("top", "left", "bottom", "right", "insideH", "insideV"))
                  + "</w:tblBorders>")
    tblpr += '<w:tblLayout w:type="fixed"/>'
    if cell_margin is not None:
        tblpr += (f'<w:tblCellMar><w:left w:w="{cell_margin}" w:type="dxa"/>'
                  f'<w:right w:w="{cell_margin}" w:type="dxa"/></w:tblCellMar>')
    body = []
    for i, cells in enumerate(rows):
        trpr = "<w:trPr><w:tblHeader/><w:cantSplit/></w:trPr>" if header and i == 0 else ""
        shade = "E7EEF5" if header and i == 0 else None
        body.append(f"<w:tr>{trpr}" + "".join(_cell(c, w, shade=shade) for c, w in zip(cells, widths))
                    + "</w:tr>")
    return f"<w:tbl><w:tblPr>{tblpr}</w:tblPr><w:tblGrid>{grid}</w:tblGrid>{''.join(body)}</w:tbl>"


class _Body:
    """Collects body XML and appends it before the section properties in one parse."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, xml: str) -> None:
        self.parts.append(xml)

    def flush_into(self, document) -> None:
        body = document.element.body
        fragment = parse_xml(f"<w:body {nsdecls('w')}>{''.join(self.parts)}</w:body>")
        sect = body.find(qn("w:sectPr"))
        for child in list(fragment):
            if sect is not None:
                sect.addprevious(child)
            else:
                body.append(child)
        self.parts = []


# ----------------------------------------------------------------- document
def _setup(document, language: str) -> None:
    """A4 page, Danish proofing language, the attribution and memo styles, a page-number footer."""
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin, section.bottom_margin = Cm(2.2), Cm(2.2)
    styles = document.styles
    rpr = styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang)
    lang.set(qn("w:val"), "da-DK" if language == "da" else "en-GB")
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)
    for name in ("Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3"):
        styles[name].font.name = FONT
    normal = styles["Normal"]
    normal.font.size = Pt(11)
    quote = styles["Quote"]
    quote.font.size = Pt(11)
    quote.font.color.rgb = RGBColor(0x1F, 0x29, 0x37)
    quote.paragraph_format.left_indent = Cm(0.8)
    quote.paragraph_format.right_indent = Cm(0.8)
    quote.paragraph_format.space_before = Pt(6)
    quote.paragraph_format.space_after = Pt(1)
    quote.paragraph_format.keep_with_next = True
    attribution = styles.add_style(ATTRIBUTION_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    attribution.base_style = normal
    attribution.font.size = Pt(8.5)
    attribution.font.color.rgb = RGBColor(0x5B, 0x64, 0x70)
    attribution.paragraph_format.left_indent = Cm(0.8)
    attribution.paragraph_format.space_after = Pt(8)
    memo = styles.add_style(MEMO_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    memo.base_style = normal
    memo.font.size = Pt(10)
    memo.font.color.rgb = RGBColor(0x1E, 0x3A, 0x8A)
    memo.paragraph_format.left_indent = Cm(1.6)
    memo.paragraph_format.space_after = Pt(8)
    table_text = styles.add_style(TABLE_TEXT_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    table_text.base_style = normal
    table_text.font.size = Pt(9)
    table_text.paragraph_format.space_after = Pt(0)
    texts = TEXTS[language]
    footer = section.footer.paragraphs[0]
    footer.alignment = 1  # centred
    footer._p.append(parse_xml(
        f'<w:r {nsdecls("w")}><w:rPr><w:sz w:val="18"/></w:rPr><w:t xml:space="preserve">{texts["page"]} </w:t></w:r>'))
    footer._p.append(parse_xml(
        f'<w:fldSimple {nsdecls("w")} w:instr=" PAGE "><w:r><w:rPr><w:sz w:val="18"/></w:rPr><w:t>1</w:t></w:r></w:fldSimple>'))
    footer._p.append(parse_xml(
        f'<w:r {nsdecls("w")}><w:rPr><w:sz w:val="18"/></w:rPr><w:t xml:space="preserve"> {texts["of"]} </w:t></w:r>'))
    footer._p.append(parse_xml(
        f'<w:fldSimple {nsdecls("w")} w:instr=" NUMPAGES "><w:r><w:rPr><w:sz w:val="18"/></w:rPr><w:t>1</w:t></w:r></w:fldSimple>'))


class _Writer:
    """Writes one export: it knows the selection, the texts and the style ids."""

    def __init__(self, document, selection: Selection, layout: str, language: str,
                 evaluation_name: str | None, today: date, draft: MemoDraft | None = None,
                 appendix: bool = False):
        self.draft = draft or MemoDraft()
        self.appendix = appendix
        self.doc = document
        self.sel = selection
        self.layout = layout
        self.lang = language
        self.t = TEXTS[language]
        self.evaluation_name = evaluation_name
        self.today = today
        self.body = _Body()
        styles = document.styles
        self.sid = {name: styles[name].style_id for name in
                    ("Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "Quote", "List Bullet",
                     ATTRIBUTION_STYLE, MEMO_STYLE, TABLE_TEXT_STYLE, "Table Grid")}
        self.sections: dict[str, int] = {}
        self.multi_round = len({e.segment.round for e in selection.excerpts}) > 1 or len(selection.rounds) > 1

    # -- small pieces
    def heading(self, level: int, text: str) -> None:
        self.body.add(_para(self.sid[f"Heading {level}"], _run(text)))

    def paragraph(self, text: str, *, italic: bool = False, style: str | None = None) -> None:
        self.body.add(_para(style, _run(text, italic=italic)))

    def code_label(self, code_id: str) -> str:
        return self.sel.codebook.get(code_id).heading(self.lang)

    def group_label(self, group: str | None) -> str:
        return row_label(None, group, "group") if group else self.t["no_group"]

    def round_label(self, round_: str | None) -> str:
        return round_ or self.t["no_round"]

    def excerpt_xml(self, item: CodedExcerpt, *, in_table: bool = False) -> str:
        """The quote, its plain attribution ("Familiegruppe Vest, 2017, tur 24") and its memos."""
        parts = [_para(self.sid["Quote"], _run(self.sel.text(item.text)), in_table=in_table)]
        runs = [_run(self.sel.attribution(item.segment))]
        if not item.confirmed:  # a machine suggestion nobody has confirmed must stand out
            runs.append(_run(" · " + status_text(item, self.lang), bold=True, colour=SUGGESTION_COLOUR))
        parts.append(_para(self.sid[ATTRIBUTION_STYLE], *runs, in_table=in_table))
        for memo in item.memos:
            parts.append(_para(self.sid[MEMO_STYLE], _run(f"{self.t['memo']}: ", bold=True),
                               _run(self.sel.text(memo), italic=True), in_table=in_table))
        return "".join(parts)

    def excerpts(self, items: list[CodedExcerpt], section: str) -> None:
        self.sections[section] = self.sections.get(section, 0) + len(items)
        if not items:
            self.paragraph(self.t["none"], italic=True)
        for item in items:
            self.body.add(self.excerpt_xml(item))

    # -- title page and overview
    def title_page(self) -> None:
        t, sel = self.t, self.sel
        self.body.add(_para(self.sid["Title"], _run(t["memo_title" if self.layout == "memo" else "title"])))
        name = self.evaluation_name or sel.codebook.name
        if name:
            self.body.add(_para(self.sid["Subtitle"], _run(name)))
        f = sel.filters
        every = t["all"]
        codes = ", ".join(self.code_label(c) for c in sel.code_ids) if f.get("codes") else every
        facts = [
            (t["rounds"], ", ".join(sel.rounds) or every),
            (t["districts"], ", ".join(f["districts"]) if f.get("districts") else every),
            (t["groups"], ", ".join(f["groups"]) if f.get("groups") else every),
            (t["codes"], codes),
            (t["coders"], ", ".join(c for c in sel.coders if c != FINAL_CODER) or "–"),
        ]
        if FINAL_CODER in sel.coders:  # the agreed version is no coder: it gets its own line
            facts.append((t["reconciliation"], t["reconciled"]))
        facts += [
            (t["status"], t["with_suggestions"] if "suggested" in f["statuses"] else t["accepted_only"]),
        ]
        if f.get("min_score") is not None:
            facts.append((t["min_score"], f"{f['min_score']:.2f}".replace(".", "," if self.lang == "da" else ".")))
        facts += [
            (t["layout"], t["layout_names"][self.layout]),
            (t["date"], danish_date(self.today) if self.lang == "da" else self.today.strftime("%d %B %Y")),
            (t["counts"], t["count_text"].format(
                excerpts=len(sel.excerpts), documents=len({e.segment.document_id for e in sel.excerpts}),
                codes=len({e.code_id for e in sel.excerpts}))),
            (t["masking"], t["masked"] if sel.masker is not None else t["unmasked"]),
        ]
        rows = [[_para(None, _run(label, bold=True)), _para(None, _run(value))] for label, value in facts]
        self.body.add(_para(None))
        self.body.add(_table(rows, [3000, 6000], style=None, header=False, borders=False))

    def overview(self) -> None:
        """Codes × districts per round: counts of the excerpts in this export."""
        t, sel = self.t, self.sel
        self.body.add(_para(self.sid["Heading 1"], _run(t["overview"]), page_break_before=True))
        self.paragraph(t["overview_note"], italic=True)
        by_round: dict[str | None, list[CodedExcerpt]] = {}
        for item in sel.excerpts:
            by_round.setdefault(item.segment.round, []).append(item)
        rounds = [r for r in sel.rounds if r in by_round] + [r for r in by_round if r not in sel.rounds]
        if not rounds:
            self.paragraph(t["none"], italic=True)
        for round_ in rounds:
            items = by_round[round_]
            columns = row_order(row_label(i.segment.district, i.segment.group) for i in items)
            counts: dict[tuple[str, str], int] = {}
            for i in items:
                key = (i.code_id, row_label(i.segment.district, i.segment.group))
                counts[key] = counts.get(key, 0) + 1
            cell = lambda text, bold=False: _para(self.sid[TABLE_TEXT_STYLE], _run(text, bold=bold))  # noqa: E731
            header = [cell(f"{t['round']} {self.round_label(round_)}", True)]
            header += [cell(_breakable(c), True) for c in columns] + [cell(t["total"], True)]
            rows = [header]
            for code_id in sel.code_ids:
                values = [counts.get((code_id, c), 0) for c in columns]
                rows.append([cell(self.code_label(code_id))] + [cell(str(v) if v else "–") for v in values]
                            + [cell(str(sum(values)), True)])
            first = 3000
            rest = max(700, (9000 - first) // (len(columns) + 1))
            self.body.add(_table(rows, [first] + [rest] * (len(columns) + 1), style=self.sid["Table Grid"],
                                 cell_margin=60))
            self.body.add(_para(None))

    # -- layouts
    def code_sections(self) -> None:
        for code_id in self.sel.code_ids:
            code = self.sel.codebook.get(code_id)
            label = self.code_label(code_id)
            self.body.add(_para(self.sid["Heading 1"], _run(label), page_break_before=True))
            if code.question:
                self.paragraph(code.question, italic=True)
            items = [e for e in self.sel.excerpts if e.code_id == code_id]
            if not items:
                self.excerpts([], label)
                continue
            for group, districts in _by_group_and_district(items, self.sel.census):
                self.heading(2, self.group_label(group))
                for district, chunk in districts:
                    if self.layout == "rounds":
                        if district:
                            self.heading(3, district)
                        self.rounds_table(chunk, " / ".join(x for x in (label, self.group_label(group), district) if x))
                        continue
                    for round_, part in _by_round(chunk, self.sel.rounds):
                        sub = self.sub_label(district, round_)
                        if sub:
                            self.heading(3, sub)
                        self.excerpts(part, " / ".join(x for x in (label, self.group_label(group), sub) if x))

    def district_sections(self) -> None:
        items = self.sel.excerpts
        blocks = _by_group_and_district(items, self.sel.census)
        if not blocks:
            self.body.add(_para(self.sid["Heading 1"], _run(self.t["title"]), page_break_before=True))
            self.excerpts([], self.t["title"])
        for group, districts in blocks:
            for district, chunk in districts:
                title = " ".join(x for x in (self.group_label(group), district) if x)
                self.body.add(_para(self.sid["Heading 1"], _run(title), page_break_before=True))
                for code_id in self.sel.code_ids:
                    code = self.sel.codebook.get(code_id)
                    label = self.code_label(code_id)
                    self.heading(2, label)
                    if code.question:
                        self.paragraph(code.question, italic=True)
                    part = [e for e in chunk if e.code_id == code_id]
                    if not part:
                        self.excerpts([], f"{title} / {label}")
                        continue
                    for round_, sub_items in _by_round(part, self.sel.rounds):
                        sub = f"{self.t['round']} {self.round_label(round_)}" if self.multi_round else ""
                        if sub:
                            self.heading(3, sub)
                        self.excerpts(sub_items, " / ".join(x for x in (title, label, sub) if x))

    def sub_label(self, district: str, round_: str | None) -> str:
        if not self.multi_round:
            return district
        round_text = f"{self.t['round'].lower()} {self.round_label(round_)}"
        return f"{district}, {round_text}" if district else round_text[:1].upper() + round_text[1:]

    def rounds_table(self, items: list[CodedExcerpt], section: str) -> None:
        """One column per round; row i holds each round's i-th excerpt, so rows stay short."""
        per_round = dict(_by_round(items, self.sel.rounds))
        rounds = list(self.sel.rounds) or [r for r in per_round]
        rounds += [r for r in per_round if r not in rounds]
        header = [_para(None, _run(self.round_label(r), bold=True)) for r in rounds]
        columns = []
        for r in rounds:
            part = per_round.get(r, [])
            self.sections[f"{section} / {self.round_label(r)}"] = len(part)
            columns.append([self.excerpt_xml(i, in_table=True) for i in part]
                           or [_para(None, _run(self.t["none"], italic=True))])
        rows = [header] + [[column[i] if i < len(column) else "" for column in columns]
                           for i in range(max(len(c) for c in columns))]
        width = 9000 // max(1, len(rounds))
        self.body.add(_table(rows, [width] * len(rounds), style=self.sid["Table Grid"]))
        self.body.add(_para(None))

    # -- the memo draft
    def contents(self, entries: list[tuple[int, str]]) -> None:
        """A Word table-of-contents field, filled with the headings so it reads before Word updates it."""
        t = self.t
        self.body.add(_para(self.sid["Heading 1"], _run(t["contents"]), page_break_before=True))
        begin = ('<w:r><w:fldChar w:fldCharType="begin" w:dirty="true"/></w:r>'
                 '<w:r><w:instrText xml:space="preserve"> TOC \\o "1-2" \\h \\z \\u </w:instrText></w:r>'
                 '<w:r><w:fldChar w:fldCharType="separate"/></w:r>')
        lines = []
        for i, (level, text) in enumerate(entries):
            indent = f'<w:ind w:left="{(level - 1) * 400}"/>' if level > 1 else ""
            lead = begin if i == 0 else ""
            lines.append(f'<w:p><w:pPr><w:spacing w:after="40"/>{indent}</w:pPr>{lead}'
                         f'{_run(text, bold=level == 1)}</w:p>')
        lines.append('<w:p><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>' if entries else
                     f'<w:p>{begin}<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>')
        self.body.add("".join(lines))
        self.paragraph(t["contents_note"], italic=True)

    def memo_plan(self) -> list[tuple[str | None, str, list[CodedExcerpt]]]:
        """(group, code, its excerpts) in memo order: groups (project group last), then guide points."""
        groups = _by_group_and_district(self.sel.excerpts)
        order = [g for g, _d in groups]
        for s in self.draft.syntheses:  # a synthesis written before any quote is confirmed still counts
            if s.code_id in self.sel.code_ids and not any((g or "").casefold() == s.group.casefold() for g in order):
                order.append(s.group)
        plan = []
        for group in order:
            items = [e for e in self.sel.excerpts if (e.segment.group or "").casefold() == (group or "").casefold()]
            for code_id in self.sel.code_ids:
                plan.append((group, code_id, [e for e in items if e.code_id == code_id]))
        return plan

    def main_results(self, plan) -> None:
        t = self.t
        self.body.add(_para(self.sid["Heading 1"], _run(t["main_results"]), page_break_before=True))
        written = False
        for group, code_id, _items in plan:
            text = self.draft.synthesis(code_id, group)
            if not text.strip():
                continue
            written = True
            label = f"{self.code_label(code_id)} ({self.group_label(group)}): "
            self.body.add(_para(self.sid["List Bullet"], _run(label, bold=True),
                                _run(self.sel.text(opening_line(text)))))
        if not written:
            self.paragraph(t["no_syntheses"], italic=True)

    def remarks(self, group: str | None, code_id: str) -> None:
        t = self.t
        for r in self.draft.remarks:
            if r.code_id != code_id:
                continue
            is_project = r.row == row_label(None, "projektgruppe")
            if is_project != (row_label(None, group) == row_label(None, "projektgruppe")):
                continue
            self.paragraph(t["remark"].format(
                row=r.row, direction=t["more"] if r.prev_b > r.prev_a else t["less"], a=r.round_a, b=r.round_b,
                pa=f"{decimal(100 * r.prev_a, 0, self.lang)} %", pb=f"{decimal(100 * r.prev_b, 0, self.lang)} %"),
                italic=True)

    def synthesis(self, group: str | None, code_id: str) -> None:
        text = self.draft.synthesis(code_id, group)
        if text.strip():
            for chunk in re.split(r"\n\s*\n", text.strip()):
                self.body.add(_para(None, _run(self.sel.text(chunk.strip()))))
        else:
            self.body.add(_para(None, _run(self.t["write_here"], italic=True, colour="6B7280")))
        for district, district_text in self.draft.district_syntheses(code_id, group):
            self.body.add(_para(None, _run(f"{district}: ", bold=True), _run(self.sel.text(district_text))))

    def memo_sections(self, plan, quotes: list[list[CodedExcerpt]]) -> None:
        t = self.t
        current = object()
        for (group, code_id, items), chosen in zip(plan, quotes):
            if group != current:
                current = group
                self.body.add(_para(self.sid["Heading 1"], _run(self.group_label(group)), page_break_before=True))
            code = self.sel.codebook.get(code_id)
            label = self.code_label(code_id)
            self.heading(2, label)
            if code.question:
                self.paragraph(code.question, italic=True)
            self.synthesis(group, code_id)
            self.remarks(group, code_id)
            section = f"{self.group_label(group)} / {label}"
            self.sections[section] = len(chosen)
            if not chosen:
                self.paragraph(t["quoted_elsewhere" if items else "no_quotes"], italic=True)
            for item in chosen:
                self.body.add(self.excerpt_xml(item))

    def notes(self, unquoted: list[tuple[SegmentInfo, MemoInfo]]) -> None:
        """Project memos, and memos on turns that no printed quote shows (with the turn and its source line)."""
        t, d = self.t, self.draft
        if not d.project_memos and not unquoted:
            return
        self.body.add(_para(self.sid["Heading 1"], _run(t["notes"]), page_break_before=True))
        if d.project_memos:
            self.heading(2, t["project_notes"])
            for memo in d.project_memos:
                self.body.add(_para(self.sid[MEMO_STYLE], _run(self.sel.text(memo.text))))
        if unquoted:
            self.heading(2, t["turn_notes"])
            for segment, memo in unquoted:
                self.body.add(_para(self.sid["Quote"], _run(self.sel.text(segment.text))))
                self.body.add(_para(self.sid[ATTRIBUTION_STYLE], _run(self.sel.attribution(segment))))
                self.body.add(_para(self.sid[MEMO_STYLE], _run(f"{t['memo']}: ", bold=True),
                                    _run(self.sel.text(memo.text), italic=True)))

    def memo(self) -> None:
        plan = self.memo_plan()
        quotes = group_quotes(plan, self.draft.marked)
        quoted = {item.segment.id for chosen in quotes for item in chosen}
        unquoted = [(segment, memo) for segment, memo in self.draft.turn_memos if segment.id not in quoted]
        entries = [(1, self.t["main_results"]), (1, self.t["overview"])]
        current = object()
        for group, code_id, _items in plan:
            if group != current:
                current = group
                entries.append((1, self.group_label(group)))
            entries.append((2, self.code_label(code_id)))
        if self.draft.project_memos or unquoted:
            entries.append((1, self.t["notes"]))
        if self.appendix:
            entries.append((1, self.t["appendix"]))
        self.contents(entries)
        self.main_results(plan)
        self.overview()
        self.memo_sections(plan, quotes)
        self.notes(unquoted)
        if self.appendix:
            self.body.add(_para(self.sid["Heading 1"], _run(self.t["appendix"]), page_break_before=True))
            memo_sections = self.sections
            self.sections = {}
            self.code_sections()
            memo_sections.update({f"{self.t['appendix']} / {k}": v for k, v in self.sections.items()})
            self.sections = memo_sections

    def write(self) -> None:
        self.title_page()
        if self.layout == "memo":
            self.memo()
        else:
            self.overview()
            if self.layout == "district-code":
                self.district_sections()
            else:
                self.code_sections()
        self.body.flush_into(self.doc)


def _update_fields_on_open(document) -> None:
    """Ask Word to refresh the table of contents (page numbers) when the file is opened."""
    settings = document.settings.element
    if settings.find(qn("w:updateFields")) is None:
        settings.append(parse_xml(f'<w:updateFields {nsdecls("w")} w:val="true"/>'))


def _by_group_and_district(items: list[CodedExcerpt], census: RoleCensus | None = None,
                           ) -> list[tuple[str | None, list[tuple[str, list[CodedExcerpt]]]]]:
    """Excerpts grouped by respondent group, then district, in reading order (project group last).

    With a ``census`` (masked exports), a group and district that together name one person
    (:meth:`~focusqa.privacy.RoleCensus.lone_place`) get no district heading.
    """
    groups: dict[str | None, dict[str, list[CodedExcerpt]]] = {}
    for item in items:
        seg = item.segment
        district = "" if census is not None and census.lone_place(seg.group, seg.district) else seg.district or ""
        groups.setdefault(seg.group or None, {}).setdefault(district, []).append(item)
    labels = {g: row_label(None, g, "group") for g in groups}
    ordered = sorted(groups, key=lambda g: (labels[g] == PROJECT_GROUP_ROW, g is None, danish_key(labels[g])))
    out = []
    for g in ordered:
        districts = groups[g]
        names = sorted(districts, key=lambda d: (d == "", danish_key(d)))
        out.append((g, [(d, districts[d]) for d in names]))
    return out


def _by_round(items: list[CodedExcerpt], rounds: list[str]) -> list[tuple[str | None, list[CodedExcerpt]]]:
    """Excerpts split by round, oldest round first (document order within a round)."""
    split: dict[str | None, list[CodedExcerpt]] = {}
    for item in items:
        split.setdefault(item.segment.round, []).append(item)
    order = {r: i for i, r in enumerate(rounds)}
    return sorted(split.items(), key=lambda kv: (kv[0] is None, order.get(kv[0], len(order)), kv[0] or ""))


def write_selection(selection: Selection, out: str | Path | BinaryIO, *, layout: Layout = "memo",
                    evaluation_name: str | None = None, language: str = "da",
                    today: date | None = None, draft: MemoDraft | None = None,
                    appendix: bool = False) -> ExportReport:
    """Write an already selected set of excerpts as .docx (``out``: a path or a binary file).

    ``draft`` holds the memo layout's syntheses, marked quotes and notes (see
    :func:`focusqa.export.memo.memo_draft`); ``appendix`` adds every excerpt after the memo.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    if language not in TEXTS:
        raise ValueError(f"language must be one of {', '.join(TEXTS)}, not {language!r}")
    document = Document()
    _setup(document, language)
    props = document.core_properties
    props.title = TEXTS[language]["title"]
    props.subject = evaluation_name or selection.codebook.name
    props.author = "focusqa"
    if layout == "memo":
        _update_fields_on_open(document)
    writer = _Writer(document, selection, layout, language, evaluation_name, today or date.today(),
                     draft, appendix)
    writer.write()
    if isinstance(out, (str, Path)):
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        document.save(str(out))
        path = str(out)
    else:
        document.save(out)
        path = None
    return ExportReport(path=path, layout=layout, excerpts=len(selection.excerpts),
                        documents=len({e.segment.document_id for e in selection.excerpts}),
                        codes=len({e.code_id for e in selection.excerpts}), sections=writer.sections,
                        suggestions=sum(1 for e in selection.excerpts if not e.confirmed),
                        masked=selection.masker is not None)


def export_docx(store: Store, out_path: str | Path | BinaryIO, *, rounds: Iterable[str] | None = None,
                districts: Iterable[str] | None = None, groups: Iterable[str] | None = None,
                codes: Iterable[str] | None = None, coders: Iterable[str] | None = None,
                statuses: str | Iterable[str] = ("accepted",), min_score: float | None = None,
                layout: Layout = "memo", masking: bool = True, evaluation_name: str | None = None,
                language: str = "da", names: Iterable[str] | None = None,
                today: date | None = None, appendix: bool = False) -> ExportReport:
    """Export the coded excerpts matching the filters to a Word file laid out as a memo draft.

    Args:
        out_path: where to write (.docx), or a binary file object.
        rounds, districts, groups, codes, coders: filters (``None``: all); codes may be
            ids, numbers or labels.
        statuses: ("accepted",) by default; "all" adds open suggestions, marked as such.
        min_score: leave out suggestions (and confirmed suggestions) scoring below it.
        layout: "memo" (the memo draft: main results, then per respondent group and guide
            point the synthesis, the marked or representative quotes and remarks),
            "code-district", "district-code" or "rounds" (every excerpt).
        appendix: with "memo", add every excerpt (as "code-district") after the memo.
        masking: mask names, institutions, CPR, phone numbers and e-mails.
        names: the name list to mask (default: the user's ``navne.txt``).
    """
    selection = select(store, rounds=rounds, districts=districts, groups=groups, codes=codes, coders=coders,
                       statuses=statuses, min_score=min_score, masking=masking, names=names)
    draft = memo_draft(store, selection.excerpts, selection.rounds) if layout == "memo" else None
    return write_selection(selection, out_path, layout=layout, evaluation_name=evaluation_name,
                           language=language, today=today, draft=draft, appendix=appendix)


def file_name(layout: str, day: date | None = None) -> str:
    """The name a downloaded Word file gets: ``notatudkast_2026-11-25.docx`` for the memo
    draft, ``kodede_uddrag_2026-11-25.docx`` for the layouts that list every excerpt."""
    stem = "notatudkast" if layout == "memo" else "kodede_uddrag"
    return f"{stem}_{(day or date.today()).isoformat()}.docx"


def to_bytes(store: Store, **options) -> bytes:
    """The .docx as bytes, for the app's download button (same options as :func:`export_docx`)."""
    buffer = io.BytesIO()
    export_docx(store, buffer, **options)
    return buffer.getvalue()


__all__ = ["export_docx", "to_bytes", "write_selection", "file_name", "ExportReport", "LAYOUTS"]
