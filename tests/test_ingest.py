"""The transcript readers: every format and label style, æøå, offsets that slice back."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from conftest import BACKGROUND

from focusqa.errors import FocusqaError, TranscriptError
from focusqa.ingest import discover, parse_text, read_transcript
from focusqa.types import DocumentMetadata

TURNS = [
    ("Moderator", "Hvad er jeres erfaringer med den tidlige indsats på skolerne?"),
    ("Rådgiver 1", "Vi får færre underretninger, og forældrene kommer før tingene vokser."),
    ("Teamleder", "Ja, især på Seminarieskolen, hvor socialrådgiveren sidder tæt på lærerne."),
]


def assert_offsets(parsed) -> None:
    for seg in parsed.segments:
        assert parsed.plain_text[seg.start:seg.end] == seg.text
        assert seg.text == seg.text.strip() and seg.text


def speakers(parsed) -> list[tuple[str | None, str]]:
    return [(s.speaker, s.text) for s in parsed.segments]


LABEL_STYLES = {
    "colon": lambda who, i: f"{who}: ",
    "short-I": lambda who, i: ("I: " if who == "Moderator" else f"D{i}: "),
    "interviewer": lambda who, i: ("Interviewer: " if who == "Moderator" else f"{who}: "),
    "brackets": lambda who, i: f"[{who}] ",
    "upper-tab": lambda who, i: f"{who.upper()}\t",
    "markdown-bold": lambda who, i: f"**{who}:** ",
    "timestamp-before": lambda who, i: f"[00:1{i}:31] {who}: ",
    "timestamp-after": lambda who, i: f"{who} (1{i}:31): ",
    "timestamp-plain": lambda who, i: f"00:0{i}:10 {who}: ",
}


@pytest.mark.parametrize("style", sorted(LABEL_STYLES))
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_label_styles_give_turns_with_offsets(tmp_path: Path, style: str, newline: str) -> None:
    make = LABEL_STYLES[style]
    lines = ["Fokusgruppe, Familiegruppe Øst, 2017", ""]
    for i, (who, text) in enumerate(TURNS):
        lines += [make(who, i) + text, ""]
    path = tmp_path / "t.txt"
    path.write_bytes(newline.join(lines).encode("utf-8"))
    parsed = read_transcript(path)
    assert [s.text for s in parsed.segments] == [t for _, t in TURNS]
    assert parsed.segments[0].role == "moderator"
    assert {s.role for s in parsed.segments[1:]} == {"participant"}
    assert parsed.preamble == "Fokusgruppe, Familiegruppe Øst, 2017"
    if style.startswith("timestamp"):
        assert all(s.timestamp for s in parsed.segments)
        assert not any(":" in s.text[:6] for s in parsed.segments)
    assert_offsets(parsed)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252"])
def test_encodings_keep_danish_letters(tmp_path: Path, encoding: str) -> None:
    text = "Moderator: Hvordan går samarbejdet?\n\nRådgiver 1: Søren på Løvvangen er glad, og Ærø-turen gik godt.\n"
    path = tmp_path / "t.txt"
    path.write_bytes(text.encode(encoding))
    parsed = read_transcript(path)
    assert parsed.segments[1].text == "Søren på Løvvangen er glad, og Ærø-turen gik godt."
    assert_offsets(parsed)


def test_paragraph_without_label_continues_the_turn_as_new_segment() -> None:
    parsed = parse_text("I: Fortæl.\n\nRådgiver 2: Første del.\n\nAnden del af samme tur.\n\nI: Tak.")
    assert [(s.speaker, s.turn, s.text) for s in parsed.segments] == [
        ("I", 0, "Fortæl."), ("Rådgiver 2", 1, "Første del."), ("Rådgiver 2", 1, "Anden del af samme tur."),
        ("I", 2, "Tak.")]
    assert_offsets(parsed)


def test_hard_wrapped_lines_stay_in_one_segment() -> None:
    parsed = parse_text("I: Fortæl.\nRådgiver 2: Det var en lang\nsætning over to linjer.\nI: Tak.")
    assert parsed.segments[1].text == "Det var en lang\nsætning over to linjer."
    assert len(parsed.segments) == 3


def test_text_without_labels_gives_one_segment_per_paragraph() -> None:
    prose = ("Formål: at styrke den tidlige indsats.\n\nSocialrådgiverne har haft mange samtaler med "
             "forældre.\nDet har givet færre sager.\n\nBeslutning: forsøget fortsætter.")
    parsed = parse_text(prose)
    assert len(parsed.segments) == 3
    assert parsed.segments[0].text.startswith("Formål")
    assert {s.speaker for s in parsed.segments} == {None}
    assert {s.role for s in parsed.segments} == {"participant"}
    assert_offsets(parsed)


def test_label_only_line_applies_to_following_paragraph() -> None:
    parsed = parse_text("Interviewer:\nHvordan er det gået?\n\nRådgiver 1:\nGodt, synes jeg.\n\nRådgiver 1: Mere.")
    assert [(s.speaker, s.text) for s in parsed.segments] == [
        ("Interviewer", "Hvordan er det gået?"), ("Rådgiver 1", "Godt, synes jeg."), ("Rådgiver 1", "Mere.")]


@pytest.mark.parametrize("moderator,participant", [
    ("INTERVIEWER", "DELTAGER 1"), ("Interviewer", "Deltager 1"), ("00:01:05 MODERATOR", "R1 [00:01:30]"),
])
@pytest.mark.parametrize("gap", ["\n", "\n\n"])
def test_label_alone_on_its_line_without_colon(moderator: str, participant: str, gap: str) -> None:
    """Transcription services often write the speaker on a line of its own above the turn."""
    text = (f"Fokusgruppe 2018\n\n{moderator}{gap}Hvordan går det med\nden tidlige indsats?\n\n"
            f"{participant}{gap}Godt, forældrene kommer tidligere.\n\n{moderator}{gap}Og organiseringen?\n\n"
            f"{participant}{gap}Hun refererer til PPR.\n")
    parsed = parse_text(text)
    who = [s.speaker.split()[0].casefold() for s in parsed.segments]
    assert who == ["interviewer", "deltager", "interviewer", "deltager"] or who == [
        "moderator", "r1", "moderator", "r1"]
    assert [s.role for s in parsed.segments] == ["moderator", "participant"] * 2
    assert parsed.segments[0].text == "Hvordan går det med\nden tidlige indsats?"
    assert parsed.preamble == "Fokusgruppe 2018"
    if moderator[0].isdigit():
        assert parsed.segments[0].timestamp == "00:01:05" and parsed.segments[1].timestamp == "00:01:30"
    assert_offsets(parsed)


def test_lone_names_above_turns_need_a_document_that_writes_labels_that_way() -> None:
    turns = "Interviewer\nHvordan går det?\n\nMette\nGodt.\n\nInterviewer\nOg så?\n\nMette\nFint.\n"
    assert [s.speaker for s in parse_text(turns).segments] == ["Interviewer", "Mette", "Interviewer", "Mette"]
    # Headings in prose look the same: upper-case or title-case, used once or twice.
    for prose in ("INDLEDNING\n\nProjektet har kørt i to år.\n\nRESULTATER\n\nForældrene kommer tidligere.",
                  "Organisering\n\nDet er uklart.\n\nOrganisering\n\nStadig uklart.\n\nSlut på notatet."):
        parsed = parse_text(prose)
        assert {s.speaker for s in parsed.segments} == {None}
        assert parsed.segments[0].text in ("INDLEDNING", "Organisering")


def test_section_headings_in_a_transcript_are_turns_of_their_own() -> None:
    """A heading is not the previous speaker's words: it opens the next guide point."""
    text = ("# Fokusgruppe Nord 2018\n\n## Spørgsmål 1: Tidlig indsats\n\n**Mette:** Forældrene kommer.\n\n"
            "**Lars:** Ja.\n\n## Spørgsmål 6: Organisering\n\nUdenfor tur.\n\n**Mette:** Det er uklart.\n")
    parsed = read_transcript_text(text)
    assert [(s.speaker, s.role, s.text) for s in parsed.segments] == [
        (None, "moderator", "Spørgsmål 1: Tidlig indsats"), ("Mette", "participant", "Forældrene kommer."),
        ("Lars", "participant", "Ja."), (None, "moderator", "Spørgsmål 6: Organisering"),
        (None, "participant", "Udenfor tur."), ("Mette", "participant", "Det er uklart.")]
    assert parsed.preamble == "# Fokusgruppe Nord 2018"
    assert_offsets(parsed)


def read_transcript_text(text: str):
    return parse_text(text, "fokus.md")


def test_docx_heading_styles_divide_a_transcript(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("Fokusgruppe Øst", level=1)
    document.add_paragraph("Interviewer: Velkommen.")
    document.add_paragraph("Rådgiver 1: Tak.")
    document.add_heading("Organisering", level=2)
    document.add_paragraph("Rådgiver 1: Hun hører under PPR.")
    path = tmp_path / "overskrifter.docx"
    document.save(path)
    parsed = read_transcript(path)
    assert [(s.speaker, s.role) for s in parsed.segments] == [
        ("Interviewer", "moderator"), ("Rådgiver 1", "participant"), (None, "moderator"),
        ("Rådgiver 1", "participant")]
    assert parsed.segments[2].text == "Organisering"
    assert parsed.preamble == "Fokusgruppe Øst"


def test_f4_time_marks_at_the_end_of_a_turn_are_timestamps_not_text() -> None:
    parsed = parse_text("I: Hvordan går det? #00:00:15-3#\n\nB1: Godt, synes jeg. #00:00:42-8#\n\n"
                        "B2: [00:00:50] Også her.  #00:01:02-1#\n")
    assert [(s.speaker, s.text, s.timestamp) for s in parsed.segments] == [
        ("I", "Hvordan går det?", "00:00:15"), ("B1", "Godt, synes jeg.", "00:00:42"),
        ("B2", "Også her.", "00:00:50")]
    assert parsed.segments[0].role == "moderator"
    assert_offsets(parsed)


@pytest.mark.parametrize("label", ["Mødeleder", "Samtaleleder", "Forsker", "Interviewer (Anne)", "I2"])
def test_danish_moderator_labels(label: str) -> None:
    parsed = parse_text(f"{label}: Hvad tænker I?\n\nBo: Godt.\n\n{label}: Og så?\n\nBo: Fint.")
    assert [s.role for s in parsed.segments] == ["moderator", "participant"] * 2


def test_configured_moderator_label() -> None:
    parsed = parse_text("Anne: Hvad tænker I?\n\nBo: Godt.\n\nAnne: Og så?\n\nBo: Fint.",
                        metadata=DocumentMetadata(moderators=["Anne"]))
    assert [s.role for s in parsed.segments] == ["moderator", "participant", "moderator", "participant"]


def test_front_matter_gives_metadata(tmp_path: Path) -> None:
    path = tmp_path / "fg.md"
    path.write_text("---\nrunde: 2017\ndistrikt: Øst\ngruppe: familiegruppe\ndato: 2017-04-03\n"
                    "skole: Mellervangskolen\n---\nI: Hej.\n\nRådgiver: Hej.\n\nRådgiver: Ja.\n", encoding="utf-8")
    parsed = read_transcript(path)
    meta = parsed.metadata
    assert (meta.round, meta.district, meta.group, meta.date) == ("2017", "Øst", "familiegruppe", "2017-04-03")
    assert meta.attributes == {"skole": "Mellervangskolen"}
    assert not parsed.plain_text.startswith("---")
    assert_offsets(parsed)


def _docx_with_header(path: Path, build) -> None:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "FORTROLIGT – sidehoved"
    document.sections[0].footer.paragraphs[0].text = "Side 1 – sidefod"
    build(document)
    document.save(path)


def test_docx_bold_labels(tmp_path: Path) -> None:
    def build(document):
        document.add_paragraph("Fokusgruppe Familiegruppe Nord")
        for who, text in TURNS:
            p = document.add_paragraph()
            p.add_run(f"{who}:").bold = True
            p.add_run(f" {text}")
        document.add_paragraph("Og en fortsættelse uden label.")
    path = tmp_path / "bold.docx"
    _docx_with_header(path, build)
    parsed = read_transcript(path)
    assert [s.speaker for s in parsed.segments] == ["Moderator", "Rådgiver 1", "Teamleder", "Teamleder"]
    assert parsed.segments[1].text == TURNS[1][1]
    assert "sidehoved" not in parsed.plain_text and "sidefod" not in parsed.plain_text
    assert parsed.source_format == "docx"
    assert_offsets(parsed)


def test_docx_bold_label_with_time_mark_reads_like_the_txt(tmp_path: Path) -> None:
    """"**Deltager 1 (00:00:31):** tekst": the time is a timestamp, not part of the speaker's name."""
    lines = [("Moderator (00:00:05)", "Hvordan går det med samarbejdet?"),
             ("Deltager 1 (00:00:31)", "Vi ringer til rådgiveren, før vi laver en underretning."),
             ("Deltager 2 (00:01:02)", "Det gør vi også."), ("Deltager 1 (00:01:40)", "Og det hjælper.")]

    def build(document):
        for who, text in lines:
            p = document.add_paragraph()
            p.add_run(f"{who}:").bold = True
            p.add_run(f" {text}")
    path = tmp_path / "tid.docx"
    _docx_with_header(path, build)
    parsed = read_transcript(path)
    txt = parse_text("\n\n".join(f"{who}: {text}" for who, text in lines) + "\n", "tid.txt")
    read = [(s.speaker, s.timestamp, s.text) for s in parsed.segments]
    assert read == [(s.speaker, s.timestamp, s.text) for s in txt.segments]
    assert read[1] == ("Deltager 1", "00:00:31", lines[1][1])
    assert parsed.segments[3].speaker == parsed.segments[1].speaker       # the same person, twice
    assert_offsets(parsed)


def test_docx_plain_labels_and_two_column_table(tmp_path: Path) -> None:
    def build(document):
        document.add_paragraph("Interviewer: Velkommen til.")
        table = document.add_table(rows=1, cols=2)
        table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Taler", "Tekst"
        for who, text in TURNS:
            row = table.add_row()
            row.cells[0].text, row.cells[1].text = who, text
    path = tmp_path / "table.docx"
    _docx_with_header(path, build)
    parsed = read_transcript(path)
    assert speakers(parsed) == [("Interviewer", "Velkommen til.")] + TURNS
    assert [s.role for s in parsed.segments][:2] == ["moderator", "moderator"]
    assert_offsets(parsed)


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"   \n\n", "is empty"),
    (b"\x00\x01\x02\x03binary\x00junk" * 20, "binary"),
    (b"\xff\xfe" + "hej".encode("utf-16-le")[:-1], "not valid"),
    (b"Moderator: caf\x81 \x8d\x8f\x90", "neither UTF-8 nor Windows-1252"),
])
def test_bad_text_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(TranscriptError, match=message) as info:
        read_transcript(path)
    assert "bad.txt" in str(info.value)


@pytest.mark.parametrize("content, message", [
    (b"PK\x03\x04 not really a zip", "damaged"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "password-protected"),
    (b"Moderator: this is text, not Word", "not a Word .docx"),
])
def test_bad_docx_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.docx"
    path.write_bytes(content)
    with pytest.raises(TranscriptError, match=message) as info:
        read_transcript(path)
    assert "bad.docx" in str(info.value)


def test_empty_docx(tmp_path: Path) -> None:
    path = tmp_path / "empty.docx"
    docx.Document().save(path)
    with pytest.raises(TranscriptError, match="no text"):
        read_transcript(path)


def test_missing_and_unsupported_files(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match="not found"):
        read_transcript(tmp_path / "nope.txt")
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(TranscriptError, match="unsupported file type"):
        read_transcript(tmp_path / "x.pdf")


def test_manifest_metadata_and_missing_file_rows(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("I: Hej.\n\nRådgiver: Hej.\n", encoding="utf-8")
    (tmp_path / "manifest.csv").write_text(
        "file,round,district,group,date,participants\n"
        "a.txt,2016,Nord,familiegruppe,2016-04-01,Rådgiver 1; Teamleder\n"
        "ghost.txt,2016,Øst,familiegruppe,,\n", encoding="utf-8")
    items = discover([tmp_path], overrides=DocumentMetadata(group="projektgruppe"))
    by_name = {i.path.name: i for i in items}
    assert by_name["a.txt"].error is None
    meta = by_name["a.txt"].metadata
    assert (meta.round, meta.district, meta.group) == ("2016", "Nord", "projektgruppe")
    assert meta.attributes["participants"] == "Rådgiver 1; Teamleder"
    assert isinstance(by_name["ghost.txt"].error, FocusqaError)
    assert "ghost.txt" in str(by_name["ghost.txt"].error)


@pytest.mark.shared
def test_reader_on_real_background_documents() -> None:
    """Real municipal prose (no speaker labels) reads as paragraphs, nothing lost or invented."""
    files = sorted(BACKGROUND.glob("*.txt"))
    assert files, f"no .txt documents in {BACKGROUND}"
    for path in files:
        parsed = read_transcript(path)
        assert len(parsed.segments) >= 5
        assert_offsets(parsed)
        words_in = len(parsed.plain_text.split())
        assert parsed.word_count >= 0.9 * words_in
        assert not any(tag in parsed.plain_text for tag in ("<p>", "</li>", "<b>"))


def test_role_labels_with_commas_in_parentheses() -> None:
    parsed = parse_text("Moderator: Hvordan går det?\n\nSocialrådgiver (skoler, PPR): Godt, tak.\n\n"
                        "Socialrådgiver (dagtilbud Nord): Også her.\n\nModerator: Hun sagde, at: det gik.")
    assert [s.speaker for s in parsed.segments] == [
        "Moderator", "Socialrådgiver (skoler, PPR)", "Socialrådgiver (dagtilbud Nord)", "Moderator"]
    assert parsed.segments[3].text == "Hun sagde, at: det gik."


def test_html_markup_is_removed_but_a_literal_tag_stays() -> None:
    parsed = parse_text("<p><b>Mål:</b> tidlig indsats &amp; forebyggelse</p>\n<p>Status:</p><ul><li>Tre forløb</li></ul>")
    assert [s.text for s in parsed.segments] == ["Mål: tidlig indsats & forebyggelse", "Status:", "Tre forløb"]
    literal = parse_text("Rådgiver: Hun skrev <b> i mailen, sjovt nok.\n\nI: Nå.")
    assert literal.segments[0].text == "Hun skrev <b> i mailen, sjovt nok."
