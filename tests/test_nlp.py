"""The Danish pipeline: offline lemmas with overrides, compound-aware codebook matching."""

from __future__ import annotations

import pytest
import spacy

from focusqa.codebook import Code, Codebook, load_codebook
from focusqa.nlp import LEMMA_OVERRIDES, build_pipeline, lemmatize, stem_matches


def _codebook(*terms_by_code: tuple[str, list[str]]) -> Codebook:
    return Codebook("test", [Code(id=cid, label_da=cid, number=i + 1, terms=terms)
                             for i, (cid, terms) in enumerate(terms_by_code)])


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline(_codebook(
        ("familie", ["familiegruppe", "underretning", "sag", "åben rådgivning", "vold"]),
        ("netvaerk", ["netværk", "bedstemor", "Signs of Safety"]),
        ("tidlig", ["tidlig", "rådgive"]),
    ))


def _matches(nlp, text: str) -> set[tuple[str, str]]:
    doc = nlp(text)
    return {(span.text, span.label_) for span in doc.spans["codes"]}


@pytest.mark.parametrize("text,word,code", [
    ("Underretningerne er blevet bedre.", "Underretningerne", "familie"),
    ("Skolen sendte en skoleunderretning.", "skoleunderretning", "familie"),
    ("Vi ringede til familiegruppelederen.", "familiegruppelederen", "familie"),
    ("Familiegruppen i Øst svarede hurtigt.", "Familiegruppen", "familie"),
    ("Der var to skoleunderretninger i år.", "skoleunderretninger", "familie"),
    ("Sagerne blev lukket.", "Sagerne", "familie"),
    ("Vi holdt netværksmøder med familien.", "netværksmøder", "netvaerk"),
    ("Bedstemoren kom med.", "Bedstemoren", "netvaerk"),
    ("De brugte Signs of Safety på mødet.", "Signs of Safety", "netvaerk"),
    ("Der er åben rådgivning hver tirsdag.", "åben rådgivning", "familie"),
])
def test_nlp_term_matches_inside_compounds_and_inflections(nlp, text, word, code):
    assert (word, code) in _matches(nlp, text)


@pytest.mark.parametrize("text", [
    "Sagsbehandleren sagde ja.",         # "sag" is too short to start a compound
    "Det var voldsomt travlt.",          # "vold" inside "voldsomt" is an accident
    "Vi talte tidligere om det.",        # "tidligere" (previously) is not "tidlig"
    "Socialrådgiveren kom forbi.",       # "rådgive" inside "socialrådgiver" is not advice
])
def test_nlp_short_or_accidental_stems_do_not_fire(nlp, text):
    assert _matches(nlp, text) == set()


@pytest.fixture(scope="module")
def phrase_nlp():
    return build_pipeline(_codebook(
        ("konsultativ", ["skrive en underretning", "faglig", "klædt på", "leder"]),
        ("koordinering", ["tværfaglig", "tværfagligt team", "netværk af fagfolk"]),
        ("tidlig", ["åben rådgivning", "sikker i"]),
        ("familie", ["familiegruppe", "underretning"]),
    ))


@pytest.mark.parametrize("text,words", [
    # an inflected word in the term ("tværfagligt") finds the other forms of that word
    ("Det tværfaglige team mødes hver uge.", {("tværfaglige team", "koordinering")}),
    # an adjective that drops its vowel: åben -> åbne, sikker -> sikre
    ("Den åbne rådgivning er velbesøgt.", {("åbne rådgivning", "tidlig")}),
    ("Lærerne er blevet mere sikre i det.", {("sikre i", "tidlig")}),
    # a small word in the middle of a phrase may be missing or another word
    ("Hun hjalp dem med at skrive underretninger.",
     {("skrive underretninger", "konsultativ"), ("underretninger", "familie")}),
    ("De lærte at skrive gode underretninger.",
     {("skrive gode underretninger", "konsultativ"), ("underretninger", "familie")}),
    ("Et netværk med fagfolk omkring barnet.", {("netværk med fagfolk", "koordinering")}),
])
def test_nlp_phrases_match_inflected_and_varied_wording(phrase_nlp, text, words):
    assert _matches(phrase_nlp, text) == words


@pytest.mark.parametrize("text", [
    "Vi skal skrive. En underretning kom i går.",   # the wildcard is a word, not a full stop
    "Lærerne er klædt om.",                          # a small word at the end stays literal
    "De er sikre på det.",
])
def test_nlp_phrases_do_not_overreach(phrase_nlp, text):
    assert not {code for _, code in _matches(phrase_nlp, text)} & {"konsultativ", "tidlig"}


def test_nlp_the_longest_compound_stem_decides_what_a_word_is_about(phrase_nlp):
    # "tværfaglige" is coordination ("tværfaglig"), not advice ("faglig") ...
    assert _matches(phrase_nlp, "Et tværfagligt møde.") == {("tværfagligt", "koordinering")}
    assert _matches(phrase_nlp, "Et fagligt møde.") == {("fagligt", "konsultativ")}
    # ... while two stems side by side in one compound both count.
    assert _matches(phrase_nlp, "Familiegruppelederen ringede.") == {
        ("Familiegruppelederen", "familie"), ("Familiegruppelederen", "konsultativ")}


@pytest.mark.parametrize("word,stem,expected", [
    ("underretningerne", "underretning", True),
    ("skoleunderretning", "underretning", True),
    ("familiegruppelederen", "familiegruppe", True),
    ("sagen", "sag", True),
    ("sagsbehandler", "sag", False),
    ("bro", "bro", True),
    ("brobygning", "bro", False),
    ("ppr", "ppr", True),
])
def test_nlp_stem_matches_rules(word, stem, expected):
    assert stem_matches(word, word, stem) is expected


@pytest.mark.parametrize("word,lemma", [
    ("med", "med"), ("godt", "godt"), ("under", "under"), ("anden", "anden"),
    ("underretningerne", "underretning"), ("Familiegruppen", "familiegruppe"),
    ("børnene", "barn"), ("sagerne", "sag"),
])
def test_nlp_lemmas_with_overrides(word, lemma):
    assert lemmatize(word) == lemma


def test_nlp_overrides_fix_known_lookup_errors():
    from spacy.lookups import load_lookups

    table = load_lookups("da", ["lemma_lookup"]).get_table("lemma_lookup")
    assert table.get("med") == "mede" and table.get("godt") == "godte"  # why the overrides exist
    assert LEMMA_OVERRIDES["med"] == "med" and lemmatize("med") == "med"


def test_nlp_pipeline_sets_lemmas_and_sentences(nlp):
    doc = nlp("Underretningerne kom med posten. Børnene var glade!")
    assert [t.lemma_ for t in doc][:3] == ["underretning", "komme", "med"]
    assert len(list(doc.sents)) == 2


def test_nlp_span_evidence_keeps_the_words_of_the_text(nlp):
    doc = nlp("Skoleunderretningerne fra Åby skole kom til FAMILIEGRUPPEN.")
    spans = {span.text: span.id_ for span in doc.spans["codes"]}
    assert spans == {"Skoleunderretningerne": "underretning", "FAMILIEGRUPPEN": "familiegruppe"}


def test_nlp_pipeline_is_cached_by_codebook_content():
    first = build_pipeline(load_codebook())
    assert build_pipeline(load_codebook()) is first
    other = load_codebook()
    other.codes[0].terms = ["helt-nyt-ord"]
    assert build_pipeline(other) is not first


def test_nlp_pipeline_is_blank_danish_with_registered_components(nlp):
    assert nlp.lang == "da"
    assert nlp.pipe_names == ["focusqa_sentences", "focusqa_lemmatizer", "focusqa_codebook"]
    assert "focusqa_codebook" in spacy.registry.factories.get_all() or nlp.get_pipe("focusqa_codebook")


def test_nlp_matching_is_deterministic(nlp):
    text = "Underretningen om familiens netværk kom fra familiegruppen, og sagen blev lukket."
    docs = [nlp(text) for _ in range(3)]
    runs = [[(s.start, s.end, s.label_, s.id_) for s in doc.spans["codes"]] for doc in docs]
    assert runs[0] == runs[1] == runs[2] and runs[0]


def test_nlp_shared_pipeline_is_safe_across_threads(nlp):
    """The app shares one pipeline between sessions; concurrent use gives the same matches."""
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"Skoleunderretning nummer {i} kom til familiegruppe{i}lederen og netværk{i}et."
             for i in range(300)]

    def run(chunk: list[str]) -> list[list[tuple[str, str]]]:
        return [[(s.text, s.label_) for s in doc.spans["codes"]] for doc in nlp.pipe(chunk)]

    with ThreadPoolExecutor(4) as pool:
        parallel = [m for part in pool.map(run, [texts[i::4] for i in range(4)]) for m in part]
    serial = [m for i in range(4) for m in run(texts[i::4])]
    assert parallel == serial and all(len(m) >= 2 for m in serial)


def test_nlp_batch_matching_equals_one_document_at_a_time():
    """nlp.pipe (per-type shortcuts, phrases, overlaps) finds exactly what nlp(text) finds."""
    from focusqa.nlp.components import MATCHES_KEY

    codebook = _codebook(
        ("familie", ["familiegruppe", "underretning", "åben rådgivning", "rådgivning af forældre", "med",
                     "forældre"]),
        ("netvaerk", ["netværk", "Signs of Safety", "familiens netværk", "rådgivning"]),
        ("tidlig", ["tidlig", "åben", "med myndighed"]),
    )
    texts = [
        "Åben rådgivning med myndighed og rådgivning af forældre.",
        "Familiens netværk og familiegruppen, med underretningerne.",
        "Signs of Safety blev brugt med familiens netværk i åben rådgivning.",
        "Åben åben rådgivning rådgivning med med myndighed.",
        "Rådgivning til forældre, rådgivning forældre og rådgivning. Af forældre.",
        "Ingen af ordene her.",
        "med",
    ] * 3
    one = build_pipeline(codebook)
    singles = [one(t) for t in texts]
    expected = [sorted((s.start, s.end, s.label_, s.id_) for s in doc.spans["codes"]) for doc in singles]
    # A fresh pipeline, so the batch path builds its per-type caches itself.
    fresh = build_pipeline(_codebook(*[(c.id, list(c.terms)) for c in codebook.codes]
                                     + [("extra", ["ekstra"])]))
    batch = list(fresh.pipe(texts, batch_size=4))
    found = [sorted((s.start, s.end, s.label_, s.id_) for s in doc.spans["codes"] if s.label_ != "extra")
             for doc in batch]
    assert found == expected
    assert any(end - start > 1 for row in expected for start, end, _, _ in row)
    quick = list(fresh.pipe(texts, batch_size=4, component_cfg={"focusqa_codebook": {"spans": False}}))
    assert [sorted((m[2], m[3], m[0], m[1]) for m in doc.user_data[MATCHES_KEY] if m[0] != "extra")
            for doc in quick] == expected
    assert all(not doc.spans.get("codes") for doc in quick)
