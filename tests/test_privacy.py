"""Pseudonymisation: what is masked, what is not, and how speakers are shown."""

from __future__ import annotations

import pytest

from focusqa.privacy import Masker, is_role_label, load_names, names_file, save_names


@pytest.mark.parametrize("text, masked", [
    ("barnets cpr er 010203-1234.", "barnets cpr er [CPR-nr.]."),
    ("cpr 0102031234 i sagen", "cpr [CPR-nr.] i sagen"),
    ("cpr 010203 1234 i sagen", "cpr [CPR-nr.] i sagen"),
    ("født 290200-4000", "født [CPR-nr.]"),           # 29 Feb 2000: digit 4 and year 00 -> 2000, a leap year
])
def test_privacy_masks_cpr_numbers_with_a_real_date(text, masked):
    assert Masker().mask(text) == masked


@pytest.mark.parametrize("text", [
    "sagsnummer 3102031234",        # 31 February does not exist
    "journal 1234567890",           # month 34
    "290201-4000",                  # 29 Feb 2001 (digit 4, year 01 -> 2001) is not a date
    "kontonummer 01020312345",      # eleven digits are not a CPR number
])
def test_privacy_leaves_other_ten_digit_numbers_alone(text):
    m = Masker()
    assert m.mask(text) == text
    assert m.findings(text) == []


@pytest.mark.parametrize("text, masked", [
    ("ring på 22 33 44 55", "ring på [telefon]"),
    ("ring på 22334455.", "ring på [telefon]."),
    ("ring på 2233 4455", "ring på [telefon]"),
    ("ring på +45 22 33 44 55", "ring på [telefon]"),
    ("ring på 0045 22334455", "ring på [telefon]"),
])
def test_privacy_masks_danish_phone_numbers(text, masked):
    assert Masker().mask(text) == masked


@pytest.mark.parametrize("text", [
    "i skoleåret 2016-2017 kom der flere",
    "fra 2016 2017 og frem",
    "servicenummer 12345678",       # Danish subscriber numbers do not start with 1
    "beløbet var 250000 kr.",
])
def test_privacy_does_not_take_years_or_amounts_for_phone_numbers(text):
    assert Masker().mask(text) == text


def test_privacy_masks_email_addresses():
    text = "skriv til mette.holm@kommune.dk eller anne_b+fg@example.org."
    assert Masker().mask(text) == "skriv til [e-mail] eller [e-mail]."


@pytest.mark.parametrize("label", ["Rådgiver 1", "Moderator", "I", "Interviewer", "D1", "SR", "Teamleder",
                                   "Socialrådgiver (dagtilbud Nord)", "Myndighedsrådgiver 2",
                                   "Rådgiver (modtagegruppen)", "Familiegruppeleder", "Afdelingsleder"])
def test_privacy_role_labels_are_not_names(label):
    assert is_role_label(label)
    assert Masker(speakers=[label]).mask(f"{label} sagde noget") == f"{label} sagde noget"


@pytest.mark.parametrize("label", ["Mette", "Mette Holm", "Anne-Grethe", "Bo", "Mette (leder)"])
def test_privacy_person_name_labels_are_names(label):
    assert not is_role_label(label)


def test_privacy_speaker_names_are_masked_in_text_and_shown_by_role():
    m = Masker(speakers=["Mette Holm", "Bo", "Rådgiver 1", "Moderator"])
    text = "Mette Holm sagde det, og Mettes kollega Bo var enig; Holm og Rådgiver 1 vil bo i Nord."
    assert m.mask(text) == ("[navn] sagde det, og [navn]s kollega [navn] var enig; [navn] og Rådgiver 1 "
                            "vil bo i Nord.")
    assert m.speaker("Mette Holm") == "Deltager"
    assert m.speaker("Bo", "moderator") == "Moderator"
    assert m.speaker("Rådgiver 1") == "Rådgiver 1"


def test_privacy_findings_list_kind_text_offsets_and_replacement():
    m = Masker(names=["Karen Jensen"])
    text = "Karen Jensen: 22 33 44 55, karen@kommune.dk, cpr 010203-1234"
    found = m.findings(text)
    assert [(f.kind, f.text, f.replacement) for f in found] == [
        ("name", "Karen Jensen", "[navn]"), ("phone", "22 33 44 55", "[telefon]"),
        ("email", "karen@kommune.dk", "[e-mail]"), ("cpr", "010203-1234", "[CPR-nr.]")]
    assert all(text[f.start:f.end] == f.text for f in found)


def test_privacy_user_name_list_lives_in_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("FOCUSQA_HOME", str(tmp_path))
    assert names_file() == tmp_path / "navne.txt"
    assert load_names() == []
    save_names(["Karen Jensen", "Ib", "  ", "Karen Jensen"])
    (tmp_path / "navne.txt").write_text((tmp_path / "navne.txt").read_text(encoding="utf-8")
                                        + "Søren Ørsted  # lærer på Farstrup\n", encoding="utf-8")
    assert load_names() == ["Ib", "Karen Jensen", "Søren Ørsted"]
    masked = Masker(load_names()).mask("Søren Ørsted og Ib talte med Karen.")
    assert masked == "[navn] og [navn] talte med [navn]."


def test_privacy_explicit_missing_name_list_is_an_error(tmp_path):
    from focusqa.errors import FocusqaError

    with pytest.raises(FocusqaError, match="does not exist"):
        load_names(tmp_path / "findes-ikke.txt")


def test_privacy_masker_from_store_uses_speaker_labels_and_name_list(db_url, tmp_path):
    from focusqa.ingest import parse_text
    from focusqa.store import Store

    store = Store(db_url)
    store.import_document(parse_text("Moderator: Hvordan går det?\n\nMette: Godt, spørg Ib.\n\n"
                                     "Rådgiver 1: Mette har ret.\n", "a.txt"))
    m = Masker.from_store(store, names=["Ib"])
    assert m.mask("Mette har ret, spørg Ib.") == "[navn] har ret, spørg [navn]."
    assert m.name_speakers == ["Mette"]


# ------------------------------------------------- shipped first names and institutions
@pytest.mark.parametrize("text, masked", [
    ("Vi snakkede med Mette om det, og Søren var enig.", "Vi snakkede med [navn] om det, og [navn] var enig."),
    ("Mette ringede i går.", "[navn] ringede i går."),                                  # a sentence start too
    ("Jeg talte med Karen Møller Vestergaard.", "Jeg talte med [navn]."),                # with surnames
    ("Det var Mikkels mor, og Jens’ far.", "Det var [navn]s mor, og [navn]s far."),     # genitive
    ("så sagde Bo, at Per og Hans havde ret", "så sagde [navn], at [navn] og [navn] havde ret"),  # mid-sentence
    ("Hun gik på Mellervangskolen og senere Farstrup skole.", "Hun gik på [institution] og senere [institution]."),
    ("Han kom fra Herningvejens Skole, og Seminarieskolens lærere.", "Han kom fra [institution], og [institution]s lærere."),
    ("Hun går i børnehaven Solsikken.", "Hun går i [institution]."),
    ("Jeg er på Farstrup og Filstedvejens skole.", "Jeg er på [institution] og [institution]."),   # listed together
    ("Vuggestuen Mariehønen ringede.", "[institution] ringede."),
])
def test_privacy_masks_shipped_first_names_and_institutions(text, masked):
    assert Masker().mask(text) == masked


@pytest.mark.parametrize("text", [
    "Bo hjemme hos sin far er svært for ham.",                 # "bo" = live
    "Hans mor ringede til skolen.",                            # "hans" = his
    "Per uge får vi tre underretninger.",                      # "per"
    "Tage ansvar for sin egen sag er det vigtigste.",          # "tage" = take
    "Liv og glade dage var der ikke meget af.",                # "liv" = life
    "Tom for ideer var vi ikke.",                              # "tom" = empty
    "Lykke er at have en god kollega.",                        # "lykke" = luck
    "August 2016 begyndte forsøget.",                          # a month at a line start
    "Folkeskolen har ansvaret. Efterskolen ringede. Den skole har mange børn. Hver skole er forskellig.",
    "Fordi skolen kan jo godt blive sur, hvis vi ikke ringer.",
    "Børnehaven ringede. Skolen og børnehaven holdt møde i SFO'en.",
    "Vi bor i Nord, og rådgiveren i Øst sagde det samme.",
    "bo og per er ord, mette skrives med stort når det er et navn.",   # shipped names only with a capital
])
def test_privacy_ordinary_danish_is_not_taken_for_names(text):
    assert Masker().findings(text) == []


def test_privacy_shipped_first_name_list_is_large_and_clean():
    from focusqa.privacy import COMMON_WORD_NAMES, danish_first_names

    names = danish_first_names()
    assert 400 <= len(names) <= 2000
    assert {"Mette", "Søren", "Anne", "Jens", "Lise", "Mikkel", "Karen"} <= names
    assert all(n[0].isupper() and n.replace("-", "").isalpha() for n in names)
    assert COMMON_WORD_NAMES <= names


def test_privacy_first_names_and_institutions_can_be_switched_off():
    text = "Mette gik på Mellervangskolen."
    assert Masker(first_names=False, institutions=False).mask(text) == text


def test_masking_preview_counts_what_is_masked_and_flags_capitalised_words():
    from focusqa.privacy import masking_preview

    texts = ["Vi har to derude, en på Tornhøj og en på Mellervangskolen, og Mette ringer.",
             "Mette og Ib fra Familiegruppe Nord var der. Hans mor kom til Tornhøj.",
             "Bo kom også. Så sagde De noget, og vi ringede til PPR."]
    preview = masking_preview(Masker(names=["Ib"]), texts, known=["Nord", "familiegruppe"])
    assert ("name", "Mette", 2) in preview.found
    assert ("name", "Ib", 1) in preview.found and ("institution", "Mellervangskolen", 1) in preview.found
    assert preview.total == 4
    unsure = {word: n for word, n, _example in preview.unsure}
    # Tornhøj twice mid-sentence; "Hans" and "Bo" start a sentence (a name or an ordinary word?)
    assert unsure == {"Tornhøj": 2, "Hans": 1, "Bo": 1}
    assert dict((w, e) for w, _n, e in preview.unsure)["Tornhøj"].startswith("…Vi har to derude, en på [Tornhøj]")


def test_privacy_shipped_rules_mask_only_names_in_the_demo_corpus():
    """Every place the first-name and institution rules mask in the ten demo transcripts
    (about 21,000 words) is a name: the five schools (one also by itself, when listed with
    another: "Farstrup og Filstedvejens skole") and the one child's name."""
    from pathlib import Path

    from focusqa.ingest import read_transcript

    corpus = Path(__file__).resolve().parents[1] / "corpora" / "socialraadgivere"
    masker = Masker()
    masked: dict[str, int] = {}
    for path in sorted(p for p in corpus.iterdir() if p.suffix in (".txt", ".docx")):
        for seg in read_transcript(path).segments:
            for f in masker.findings(seg.text):
                masked[f.text] = masked.get(f.text, 0) + 1
    assert set(masked) == {"Seminarieskolen", "Filstedvejens skole", "Mellervangskolen", "Herningvejens skole",
                           "Farstrup skole", "Farstrup", "Mikkel"}
    assert sum(masked.values()) >= 70


def test_privacy_an_institution_recognised_once_is_masked_where_it_stands_alone():
    from focusqa.privacy import institution_names, masking_preview

    texts = ["Vi har samarbejde med Farstrup og Filstedvejens skole.",
             "Underretningerne fra Farstrup er blevet bedre, og Farstrups lærere ringer.",
             "Hun går i børnehaven Solsikken. Solsikken har ny leder."]
    learned = institution_names(texts)
    assert learned == {"Farstrup", "Filstedvejens", "Solsikken"}
    masker = Masker(institution_names=learned)
    assert masker.mask(texts[1]) == "Underretningerne fra [institution] er blevet bedre, og [institution]s lærere ringer."
    assert masker.mask(texts[2]) == "Hun går i [institution]. [institution] har ny leder."
    assert masker.mask("en farstrup-agtig løsning") == "en farstrup-agtig løsning"      # the name as written
    preview = masking_preview(masker, texts)
    assert ("institution", "Farstrup", 2) in preview.found and ("institution", "Farstrups", 1) in preview.found
    assert "Farstrup" not in {word for word, _n, _example in preview.unsure}


def test_privacy_institution_names_in_the_demo_corpus_are_the_schools():
    """The demo's transcripts name three schools in the "X skole" form; nothing else is learned."""
    from pathlib import Path

    from focusqa.ingest import read_transcript
    from focusqa.privacy import institution_names

    corpus = Path(__file__).resolve().parents[1] / "corpora" / "socialraadgivere"
    texts = [seg.text for path in sorted(corpus.iterdir()) if path.suffix in (".txt", ".docx")
             for seg in read_transcript(path).segments]
    assert institution_names(texts) == {"Farstrup", "Filstedvejens", "Herningvejens"}


def test_privacy_exports_mask_an_institution_everywhere_once_the_corpus_names_it(db_url):
    """Word draft and masking preview: "Farstrup" alone is masked because another turn says
    "Farstrup og Filstedvejens skole"; a district is never taken for a school ("Vest skole")."""
    import io

    import docx

    from focusqa.export import select
    from focusqa.export.docx import export_docx
    from focusqa.ingest import parse_text
    from focusqa.store import Store
    from focusqa.types import DocumentMetadata

    store = Store(db_url)
    meta = DocumentMetadata(round="2017", district="Vest", group="familiegruppe")
    _, first = store.import_document(parse_text(
        "Moderator: Hvem samarbejder I med?\n\nRådgiver 1: Med Farstrup og Filstedvejens skole, og Vest skole.\n",
        "vest_a.txt", meta))
    _, second = store.import_document(parse_text(
        "Moderator: Hvad har ændret sig?\n\nRådgiver 2: Underretningerne fra Farstrup er blevet bedre.\n",
        "vest_b.txt", meta))
    code = store.codebook().ids[0]
    store.set_coding(store.segments(second, role="participant")[0].id, code, "anna")   # only the loose mention
    buffer = io.BytesIO()
    export_docx(store, buffer, names=[])
    body = [p.text for p in docx.Document(buffer).paragraphs]
    assert "Underretningerne fra [institution] er blevet bedre." in body
    assert not any("Farstrup" in text for text in body)
    assert any(text.startswith("Familiegruppe Vest, 2017, tur") for text in body)     # the district stays
    preview = select(store, names=[]).masking_preview()
    assert ("institution", "Farstrup", 1) in preview.found
    assert "Farstrup" not in {word for word, _n, _example in preview.unsure}
    store.dispose()


def test_privacy_masking_preview_names_only_the_speakers_of_the_chosen_excerpts(db_url):
    """The export page says which speakers are shown by role: those quoted, not every
    speaker of the project (a name from another document is still masked in the text)."""
    from focusqa.export import select
    from focusqa.ingest import parse_text
    from focusqa.store import Store
    from focusqa.types import DocumentMetadata

    store = Store(db_url)
    meta = DocumentMetadata(round="2017", district="Vest", group="familiegruppe")
    _, quoted = store.import_document(parse_text(
        "Moderator: Hvad virker?\n\nMette: Samarbejdet med skolen virker, siger Karen også.\n", "a.txt", meta))
    store.import_document(parse_text(
        "Moderator: Hvad virker?\n\nKaren: Det ved jeg ikke.\n\nJens: Heller ikke jeg.\n", "b.txt", meta))
    store.set_coding(store.segments(quoted, role="participant")[0].id, store.codebook().ids[0], "anna")
    selection = select(store, names=[])
    preview = selection.masking_preview()
    assert preview.speakers == ["Mette"]
    assert selection.text("siger Karen også") == "siger [navn] også"
    store.dispose()


def test_privacy_masker_from_store_masks_moderators_names_not_their_role_words(db_url):
    from focusqa.ingest import parse_text
    from focusqa.store import Store
    from focusqa.types import DocumentMetadata

    store = Store(db_url)
    store.import_document(parse_text("I: Hvordan går det?\n\nRådgiver 1: Godt, spørg Lise Bech.\n", "a.txt",
                                     DocumentMetadata(moderators=["I", "Interviewer", "Lise Bech"])))
    masker = Masker.from_store(store, names=[])
    assert masker.mask("Spørg Lise Bech, eller Bech. I kan også spørge mig.") == \
        "Spørg [navn], eller [navn]. I kan også spørge mig."
    store.dispose()


@pytest.mark.parametrize("text", ["Mette " * 50_000, "Aa skole " * 30_000, "Aa, " * 75_000 + "Bb skole"])
def test_privacy_masking_a_text_full_of_names_takes_linear_time(text):
    """A 300 KB turn of names or school names (minutes before: each finding was checked
    against every earlier one)."""
    import time

    from focusqa.privacy import masking_preview

    began = time.monotonic()
    masked = Masker().mask(text)
    preview = masking_preview(Masker(), [text])
    assert time.monotonic() - began < 15     # a hang guard, far above the ~1-3 s it takes
    assert "Mette" not in masked and "skole" not in masked
    assert preview.total >= 15_000      # "Mette Mette Mette" is one name with its surnames
