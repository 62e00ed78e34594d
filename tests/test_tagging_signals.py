"""Each signal of the tagger on its own: structure, terms, project model, and the combiner."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from focusqa.codebook import load_codebook
from focusqa.ingest import parse_text
from focusqa.tagging.analysis import Analyser
from focusqa.tagging.combiner import Combiner, SignalScores
from focusqa.tagging import analysis
from focusqa.tagging.fastpaths import clean_word, evidence_words, rule_scores
from focusqa.tagging.model import MAX_PROJECT_WEIGHT, ProjectModelSignal, project_weights
from focusqa.tagging.rules import TermEvidence, term_spans, term_weight
from focusqa.tagging.structure import Prior, StructureSignal
from focusqa.tagging.terms import TermSignal
from focusqa.tagging.training import codebook_documents

FAMILY, NETWORK, EXTRA = "samarbejde-familiegruppe", "ressourcepersoner-netvaerk", "supplerende"

INTERVIEW = """Moderator: Så til samarbejdet med familiegruppen. Hvordan er dialogen og forventningsafstemningen?
Lise: Underretningerne er blevet bedre, siger familiegruppelederen, og vi får en tilbagemelding.
Moderator: Kan I give et eksempel?
Per: Hun hjalp pædagogen med at formulere bekymringen skarpere, så beskrivelsen af drengens hverdag blev konkret.
Per: Ja.
Moderator: Næste punkt er familiens netværk og ressourcepersoner.
Lise: Vi holdt netværksmøder, og bedstemoren blev en vigtig støtte for drengen.
"""


@pytest.fixture(scope="module")
def codebook():
    return load_codebook()


@pytest.fixture(scope="module")
def analyser(codebook):
    return Analyser(codebook)


def _column(codebook, code_id: str) -> int:
    return codebook.ids.index(code_id)


def _structure(codebook, analyser) -> StructureSignal:
    """The structure signal fitted as the tagger fits it: on the codebook's own texts."""
    texts = [" ".join([c.label_da, c.label_en, c.question, c.definition, c.include, *c.terms])
             for c in codebook.codes]
    numbers = {c.number: i for i, c in enumerate(codebook.codes)}
    return StructureSignal(numbers=numbers).fit([a.lemmas for a in analyser.analyse(texts)],
                                                range(len(codebook.codes)))


def _read(signal: StructureSignal, analyser, segments, **kwargs):
    batch = analyser.analyse_batch([s.text for s in segments])
    return signal.predict(segments, lemmas=[batch.lemmas(i) for i in range(len(batch))], sizes=batch.sizes(),
                          terms=np.zeros((len(segments), len(signal.recognizer_.centroids_))), **kwargs), batch


# ---------------------------------------------------------------- structure
def test_structure_signal_gives_the_asked_point_and_keeps_it_on_a_follow_up(codebook, analyser):
    segments = parse_text(INTERVIEW, "interview.txt").segments
    reading, _ = _read(_structure(codebook, analyser), analyser, segments)
    family, network = _column(codebook, FAMILY), _column(codebook, NETWORK)
    assert [p.code for p in reading.priors] == [family] * 5 + [network] * 2
    assert [p.kind for p in reading.priors] == ["question", "content", "follow-up", "content", "content",
                                                "question", "content"]
    assert reading.content.tolist() == [False, True, False, True, True, False, True]
    # The answer after the follow-up still carries the point; the backchannel "Ja." gets little of it.
    assert reading.strength[3, family] == 1.0 and reading.strength[3].sum() == 1.0
    assert 0.0 < reading.strength[4, family] < 0.2
    assert reading.strength[6, network] == 1.0


OPENING_ROUND = """Moderator: Velkommen, og tak fordi I ville komme. Skal vi tage en kort runde, hvor I siger, hvem I er?
Lise: Jeg er pædagog i Børnehuset Solsikken og har en stue med 22 børn, og jeg har været her i otte år.
Per: Jeg er lærer på mellemtrinnet og skolens trivselsperson, så jeg har tit kontakt til rådgiveren.
Moderator: Så til samarbejdet med familiegruppen. Hvordan er dialogen og forventningsafstemningen?
Lise: Underretningerne er blevet bedre, siger familiegruppelederen, og vi får en tilbagemelding.
"""


def test_structure_signal_reads_the_introduction_round_as_under_no_guide_point(codebook, analyser):
    """Answers before the first guide question are the opening round: the structured regime
    with no point asked (coders leave introductions uncoded), not plain content."""
    segments = parse_text(OPENING_ROUND, "interview.txt").segments
    reading, _ = _read(_structure(codebook, analyser), analyser, segments)
    family = _column(codebook, FAMILY)
    assert [p.kind for p in reading.priors] == ["follow-up", "opening", "opening", "question", "content"]
    assert [p.code for p in reading.priors] == [None, None, None, family, family]
    assert reading.in_section.tolist() == [False, True, True, True, True]
    assert reading.strength[1:3].sum() == 0.0


def test_structure_signal_without_moderator_or_headings_gives_no_prior(codebook, analyser):
    segments = parse_text("Vi holdt netværksmøder med familien, og bedstemoren hjalp til hver uge i "
                          "lang tid, også da det var svært for alle.\n\nDet gik godt med skolen, og "
                          "lærerne var glade for det hele.", "notat.txt").segments
    reading, _ = _read(_structure(codebook, analyser), analyser, segments)
    assert [p.code for p in reading.priors] == [None, None]
    assert not reading.in_section.any() and reading.strength.sum() == 0.0


def test_structure_signal_from_lemma_ids_equals_from_lemma_strings(codebook, analyser):
    segments = parse_text(INTERVIEW, "interview.txt").segments
    signal = _structure(codebook, analyser)
    plain, batch = _read(signal, analyser, segments)
    fast, _ = _read(signal, analyser, segments, similarity=lambda positions: signal.similarity_of_ids(
        batch.lemma_ids, batch.bounds, analyser.word_types.words, positions))
    assert fast.priors == plain.priors
    candidates = [0, 2, 5]
    np.testing.assert_array_equal(
        signal.similarity_of_ids(batch.lemma_ids, batch.bounds, analyser.word_types.words, candidates),
        signal.recognizer_.similarity([batch.lemmas(i) for i in candidates]))


@pytest.mark.parametrize("signal,use", [
    (StructureSignal(numbers={4: 3}), lambda s: s.predict([], lemmas=[], sizes=np.zeros(0), terms=np.zeros((0, 7)))),
    (TermSignal(code_ids=["a", "b"]), lambda s: s.decision_function([TermEvidence()])),
    (ProjectModelSignal(random_state=3), lambda s: s.predict_proba([["kantine"]])),
    (Combiner(C=2.0), lambda s: s.predict_proba(np.zeros((1, 2, 4)))),
])
def test_signals_follow_the_estimator_contract(signal, use):
    """Parameters only in the constructor (clone keeps them), nothing learned before fit."""
    assert clone(signal).get_params() == signal.get_params()
    assert not [name for name in vars(signal) if name.endswith("_")]
    with pytest.raises(NotFittedError):
        use(signal)


# ------------------------------------------------------------------- terms
def _term_evidence(analyser, texts):
    return analyser.analyse_batch(texts).terms


def test_term_signal_gives_no_weight_to_a_word_in_every_segment(codebook, analyser):
    texts = [f"Vi talte med familiegruppen om eleven i {i}. klasse." for i in range(37)]
    texts += [f"Vi talte med familiegruppen, og der var netværksmøde for {name}." for name in ("Ib", "Bo", "Al")]
    found = _term_evidence(analyser, texts)
    family, network = _column(codebook, FAMILY), _column(codebook, NETWORK)
    plain = TermSignal(code_ids=codebook.ids).fit([]).decision_function(found)
    assert plain[0, family] == pytest.approx(1 - np.exp(-term_weight("familiegruppe")))
    project = TermSignal(code_ids=codebook.ids).fit(found)
    scores = project.decision_function(found)
    assert (scores[:, family] == 0.0).all(), "the project's topic word decides nothing"
    # A term in 3 of 40 segments is specific and keeps its full weight.
    assert scores[-1, network] == pytest.approx(1 - np.exp(-term_weight("netværksmøde")))
    assert project.weights_ == {"familiegruppe": 0.0}


def test_term_signal_gives_no_weight_to_metadata_words(codebook, analyser):
    found = _term_evidence(analyser, ["Familiegruppen holdt netværksmøde med bedstemoren.",
                                      "Familiegruppen svarede hurtigt."])
    family, network = _column(codebook, FAMILY), _column(codebook, NETWORK)
    before = TermSignal(code_ids=codebook.ids).fit(found).decision_function(found)
    assert before[1, family] > 0, "two segments are too few to judge specificity"
    after = TermSignal(code_ids=codebook.ids).fit(found, metadata={"familiegruppen"}).decision_function(found)
    assert after[:, family].tolist() == [0.0, 0.0]
    assert after[0, network] == before[0, network] > 0


def _evidence_one_by_one(nlp, text: str) -> TermEvidence:
    """A segment's evidence the plain way: its own Doc, its matches one at a time."""
    words: dict[str, list[str]] = {}
    terms: dict[str, set[str]] = {}
    for code_id, term, word, _ in term_spans(nlp(text)):
        shown = words.setdefault(code_id, [])
        if clean_word(word) not in shown:
            shown.append(clean_word(word))
        terms.setdefault(code_id, set()).add(term.lower())
    return TermEvidence(words, terms)


BULK_TEXTS = ["Vi skrev en underretning til familiegruppen, og familiegruppen svarede.", "Ja.", "",
              "Familiegruppen  svarede. Underretningen\nkom, og netværket ", "  Netværksmøde.\n\n",
              "Netværksmøder med bedstemoren; netværksmødet hjalp. Tidlig opsporing i dagtilbud.",
              "Intet her.", "<b>Underretningen</b> kom for sent, sagde familiegruppelederen.",
              "Samarbejdet med familiegruppen om underretninger og netværket."]


def test_term_evidence_in_bulk_equals_one_segment_at_a_time(codebook, analyser, monkeypatch):
    monkeypatch.setattr(analysis, "CHUNK_SEGMENTS", 3)  # segments in three chunks
    found = _term_evidence(analyser, BULK_TEXTS)
    expected = [_evidence_one_by_one(analyser.nlp, text) for text in BULK_TEXTS]
    assert [found[i] for i in range(len(found))] == expected
    assert sum(len(e.terms) for e in expected) >= 6, "the texts match several codes"
    pairs = [(i, code) for i in range(len(BULK_TEXTS)) for code in codebook.ids]
    assert evidence_words(found, [i for i, _ in pairs], [c for _, c in pairs]) == \
        [expected[i].words.get(code, []) for i, code in pairs]


def test_content_lemmas_in_bulk_are_the_letters_only_words_that_are_not_stop_words(analyser, monkeypatch):
    monkeypatch.setattr(analysis, "CHUNK_SEGMENTS", 2)
    texts = BULK_TEXTS + ["Hun flyttede til İstanbul i 2019 og kom hjem igen.", "ÅBEN RÅDGIVNING, 3 gange!"]
    plain = [[t.lemma_ for t in analyser.nlp(text) if t.is_alpha and not t.is_stop and len(t.lemma_) > 1]
             for text in texts]
    batch = analyser.analyse_batch(texts)
    assert [batch.lemmas(i) for i in range(len(texts))] == plain
    assert "i̇stanbul" in plain[-2] and "2019" not in plain[-2] and "rådgivning" in plain[-1]


def test_term_scores_and_fit_from_the_batch_arrays_equal_those_from_the_evidence(codebook, analyser):
    found = _term_evidence(analyser, BULK_TEXTS * 10)
    listed = list(found)
    index = {c: j for j, c in enumerate(codebook.ids)}
    np.testing.assert_allclose(rule_scores(found, index, {}), rule_scores(listed, index, {}), rtol=0, atol=1e-15)
    rows = np.arange(0, len(listed), 2)
    from_arrays = TermSignal(code_ids=codebook.ids).fit(found.take(rows))
    from_evidence = TermSignal(code_ids=codebook.ids).fit([listed[i] for i in rows])
    assert from_arrays.weights_ == from_evidence.weights_ and from_arrays.weights_, "a topic word lost weight"
    np.testing.assert_allclose(from_arrays.decision_function(found), from_evidence.decision_function(listed),
                               rtol=0, atol=1e-15)


def test_term_scores_in_bulk_equal_the_documented_formula(codebook, analyser):
    found = _term_evidence(analyser, ["Vi skrev en underretning til familiegruppen om dialogen.",
                                      "Signs of Safety og netværksmøder med bedstemoren.", "Intet her."])
    index = {c: j for j, c in enumerate(codebook.ids)}
    expected = np.zeros((3, len(index)))
    for i, evidence in enumerate(found):
        for code, terms in evidence.terms.items():
            expected[i, index[code]] = 1 - np.exp(-sum(term_weight(t) for t in terms))
    np.testing.assert_allclose(rule_scores(found, index, {}), expected, rtol=0, atol=1e-15)
    assert expected[0].max() > 0 and expected[2].sum() == 0


# ----------------------------------------------------------- project model
LUNCH = ["Børnene kommer uden madpakker, og køkkenet har lavet morgenmad til dem hele ugen.",
         "Flere elever mangler madpakke, så klubben deler rugbrød og frugt ud om morgenen.",
         "Madpakkerne er tomme igen, og vi har talt med køkkenet om en madordning for klassen."]
NEW_LUNCH = "Hver fredag mangler de samme tre elever madpakker, og køkkenet giver dem rugbrød."


def _seed_rows(codebook, analyser):
    """The codebook's own texts as training rows (lemmas, label sets), as the tagger uses them."""
    texts, labels = [], []
    for doc in codebook_documents(codebook):
        for pos, codes in sorted(doc.labels.items()):
            texts.append(doc.segments[pos].text)
            labels.append(codes)
    return [a.lemmas for a in analyser.analyse(texts)], labels


def _fit_model(codebook, analyser, project: list[tuple[str, frozenset]]) -> ProjectModelSignal:
    lemmas, labels = _seed_rows(codebook, analyser)
    is_project = [False] * len(lemmas) + [True] * len(project)
    lemmas += [a.lemmas for a in analyser.analyse([text for text, _ in project])]
    labels += [codes for _, codes in project]
    Y = np.array([[code in codes for code in codebook.ids] for codes in labels], dtype=int)
    weights = project_weights(np.array(is_project), np.array(is_project))
    return ProjectModelSignal(random_state=0).fit(lemmas, Y, sample_weight=weights)


def test_project_model_learns_a_code_from_examples_whose_words_the_codebook_lacks(codebook, analyser):
    target = [analyser.analyse([NEW_LUNCH])[0].lemmas]
    extra = _column(codebook, EXTRA)
    before = _fit_model(codebook, analyser, []).predict_proba(target)[0]
    after = _fit_model(codebook, analyser, [(t, frozenset({EXTRA})) for t in LUNCH]).predict_proba(target)[0]
    assert after[extra] > 0.5 > before[extra]
    assert int(np.argmax(after)) == extra


def test_project_model_stops_suggesting_a_rejected_code_after_refit(codebook, analyser):
    target = [analyser.analyse([NEW_LUNCH])[0].lemmas]
    extra = _column(codebook, EXTRA)
    model = _fit_model(codebook, analyser, [(t, frozenset({EXTRA})) for t in LUNCH])
    assert model.predict_proba(target)[0, extra] > 0.5
    # The evaluator rejects the code on those turns (no other code applies): the refit unlearns it.
    refit = _fit_model(codebook, analyser, [(t, frozenset()) for t in LUNCH])
    assert refit.predict_proba(target)[0, extra] < 0.2


def test_project_model_from_lemma_ids_equals_from_lemma_strings(codebook, analyser):
    model = _fit_model(codebook, analyser, [(t, frozenset({EXTRA})) for t in LUNCH])
    texts = [NEW_LUNCH, "Ja.", "Lærerne fik sparring om underretningen.", LUNCH[0]]
    batch = analyser.analyse_batch(texts)
    rows = np.array([0, 2, 3])
    fast = model.predict_proba_ids(batch.lemma_ids, batch.bounds, analyser.word_types.words, rows)
    np.testing.assert_allclose(fast, model.predict_proba([batch.lemmas(i) for i in rows]), atol=1e-12)


def test_project_rows_together_weigh_as_much_as_the_shipped_rows():
    shipped = np.array([True] * 100 + [False] * 10)
    project = np.array([False] * 100 + [True] * 10)
    weights = project_weights(project, shipped | project)
    assert weights[project].sum() == pytest.approx(weights[~project].sum())
    few = project_weights(np.array([False] * 1000 + [True]), np.ones(1001, bool))
    assert few[-1] == MAX_PROJECT_WEIGHT
    assert (project_weights(np.zeros(5, bool), np.ones(5, bool)) == 1.0).all()


# ---------------------------------------------------------------- combiner
def _signals(k: int, asked: int, terms: dict[int, tuple[float, list[str]]], codes) -> SignalScores:
    """One participant turn under guide point ``asked`` (prior at full strength), with term
    scores per code, and a moderator turn before it."""
    rules, prior = np.zeros((2, k)), np.zeros((2, k))
    prior[1, asked] = 1.0
    words = {}
    for j, (score, shown) in terms.items():
        rules[1, j] = score
        words[codes[j].id] = shown
    evidence = [TermEvidence(), TermEvidence(words, {c: set(w) for c, w in words.items()})]
    return SignalScores(np.full((2, k), 0.5), rules, prior, np.zeros((2, k)), np.array([True, True]),
                        np.array([False, True]), [Prior(asked, True, "question"), Prior(asked, True)], evidence)


def test_combiner_lets_strong_specific_content_evidence_override_the_structure(codebook):
    combiner = Combiner().fit(np.zeros((0, len(codebook.codes), 4)), np.zeros((0, len(codebook.codes))))
    assert not combiner.learned_.any(), "no examples: the documented default weights"
    codes, k = codebook.codes, len(codebook.codes)
    asked, other = _column(codebook, NETWORK), _column(codebook, FAMILY)
    strong = 1 - np.exp(-(term_weight("skrive en underretning") + term_weight("underretning")
                          + term_weight("familiegruppe")))
    signals = _signals(k, asked, {other: (strong, ["skrive en underretning", "familiegruppen"])}, codes)
    suggestions = combiner.suggest(combiner.combine(signals), signals, codes)
    assert suggestions[0] == [], "the moderator's turn gets no codes"
    top = suggestions[1][0]
    assert top.code_id == FAMILY and top.evidence["terms"] == ["skrive en underretning", "familiegruppen"]
    assert top.evidence["question"] == codes[asked].number and top.evidence["rules"] == round(strong, 3)


def test_combiner_keeps_the_asked_point_against_one_passing_word(codebook):
    combiner = Combiner().fit(np.zeros((0, len(codebook.codes), 4)), np.zeros((0, len(codebook.codes))))
    codes, k = codebook.codes, len(codebook.codes)
    asked, other = _column(codebook, NETWORK), _column(codebook, FAMILY)
    weak = 1 - np.exp(-term_weight("dialog"))
    signals = _signals(k, asked, {other: (weak, ["dialogen"])}, codes)
    suggestions = combiner.suggest(combiner.combine(signals), signals, codes)
    assert suggestions[1][0].code_id == NETWORK
    assert FAMILY not in [s.code_id for s in suggestions[1]]


def test_tagger_lets_a_turn_about_another_point_override_the_question_asked():
    """With the weights learned on the shipped coding: a participant who answers the network
    question by talking about reports to the family group is coded for the family group."""
    from focusqa.tagging import build_tagger

    segments = parse_text(
        "Moderator: Næste punkt er familiens netværk og ressourcepersoner. Hvordan inddrager I netværket?\n"
        "Lise: Vi har talt med bedstemoren.\n"
        "Lise: Når vi skal skrive en underretning, ringer vi først til familiegruppen, og "
        "myndighedsrådgiveren giver os en tilbagemelding på underretningen.\n", "netværk.txt").segments
    suggestions = build_tagger().suggest(segments)
    assert suggestions[1][0].code_id == NETWORK and suggestions[1][0].evidence["question"] == 5
    assert suggestions[2][0].code_id == FAMILY and suggestions[2][0].evidence["question"] == 5
    assert NETWORK not in [s.code_id for s in suggestions[2]]
