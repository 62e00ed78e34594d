"""The tagger: structure prior, evidence, thresholds, training sources, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from focusqa.codebook import load_codebook
from focusqa.ingest import parse_text
from focusqa.tagging import Tagger, build_tagger, describe, load_examples
from focusqa.tagging.combiner import CODEBOOK_ONLY_FLOOR, DEFAULT_FLOOR, Combiner, signal_features
from focusqa.tagging.fastpaths import shared_ridge
from focusqa.tagging.model import CalibratedOneVsRest, CompoundTfidfVectorizer
from focusqa.tagging.structure import (QuestionRecognizer, catch_all_point, is_transition, looks_like_heading, referenced_number,
                                      referenced_numbers, transition_flags)
from focusqa.tagging.training import TrainingDocument, codebook_documents
from focusqa.types import CodeSuggestion

TRANSCRIPT = """Moderator: Velkommen til jer alle, og tak fordi I ville komme i dag.
Lise: Tak for invitationen.
Moderator: Hvad er jeres erfaringer med den konsultative rådgivning, altså råd og vejledning til lærerne og pædagogerne?
Lise: Vi har fået rigtig god sparring, når vi skulle skrive en underretning. Lærerne føler sig bedre klædt på, når de er usikre på en mistanke om vold.
Moderator: Kan I give et eksempel?
Per: Hun hjalp en pædagog med at formulere bekymringen skarpere, så den blev konkret.
Moderator: Så til samarbejdet med familiegruppen. Hvordan er dialogen og forventningsafstemningen?
Lise: Underretningerne er blevet bedre, siger familiegruppelederen, og skolen får en tilbagemelding.
Per: Ja.
Moderator: Næste punkt er familiens netværk og ressourcepersoner.
Per: Vi holdt netværksmøder med Signs of Safety, og bedstemoren blev en vigtig ressource for drengen.
"""


@pytest.fixture(scope="module")
def codebook():
    return load_codebook()


@pytest.fixture(scope="module")
def tagger(codebook):
    """A tagger that knows only the codebook (no coded documents)."""
    return Tagger(codebook).fit([])


@pytest.fixture(scope="module")
def segments():
    return parse_text(TRANSCRIPT, "fokus.txt").segments


def test_tagging_moderator_turns_get_no_codes(tagger, segments):
    suggestions = tagger.suggest(segments)
    assert len(suggestions) == len(segments)
    for seg, items in zip(segments, suggestions):
        if seg.role == "moderator":
            assert items == []


def test_tagging_prior_follows_the_guide_question_until_the_next(tagger, segments):
    _, signals = tagger.score(segments)
    numbers = [None if p.code is None else tagger.codebook.codes[p.code].number for p in signals.priors]
    kinds = [p.kind for p in signals.priors]
    # greeting: no question yet; then 3, a follow-up keeps 3; then 4; then 5.
    assert numbers == [None, None, 3, 3, 3, 3, 4, 4, 4, 5, 5]
    assert kinds[2] == "question" and kinds[4] == "follow-up" and kinds[6] == "question"


def test_tagging_suggests_the_codes_people_talk_about(tagger, segments):
    top = [items[0].number if items else None for items in tagger.suggest(segments)]
    assert top[3] == 3 and top[5] == 3 and top[7] == 4 and top[10] == 5


def test_tagging_every_suggestion_has_score_and_evidence(tagger, segments):
    found = 0
    for items in tagger.suggest(segments):
        assert [s.score for s in items] == sorted((s.score for s in items), reverse=True)
        for s in items:
            found += 1
            assert isinstance(s, CodeSuggestion) and 0.0 <= s.score <= 1.0
            assert set(s.evidence) == {"terms", "question", "prior", "model", "rules"}
            assert isinstance(s.evidence["terms"], list)
            assert s.evidence["question"] is None or isinstance(s.evidence["question"], int)
            for key in ("prior", "model", "rules"):
                assert 0.0 <= s.evidence[key] <= 1.0
    assert found >= 4


def test_tagging_evidence_names_matched_words_as_written(tagger, segments):
    items = tagger.suggest(segments)[7]
    family = next(s for s in items if s.code_id == "samarbejde-familiegruppe")
    assert "Underretningerne" in family.evidence["terms"]
    assert "familiegruppelederen" in family.evidence["terms"]
    assert family.evidence["question"] == 4 and family.evidence["prior"] > 0


def test_tagging_backchannel_gets_little_from_the_prior(tagger, segments):
    assert tagger.suggest(segments)[8] == [] or tagger.suggest(segments)[8][0].score < 0.5


def test_tagging_is_deterministic(codebook, segments):
    a = Tagger(codebook).fit([]).suggest(segments)
    b = Tagger(codebook).fit([]).suggest(segments)
    assert a == b


def test_tagging_threshold_and_floor(tagger, segments):
    everything = tagger.suggest(segments, threshold=0.0)
    assert all(len(items) == 7 for seg, items in zip(segments, everything) if seg.role != "moderator")
    strict = tagger.suggest(segments, threshold=0.999)
    assert all(len(items) <= 1 for items in strict)


def test_tagging_prose_without_speakers_uses_headings(tagger):
    text = ("Ad. 6: Organisering\n\nDet er uklart hvem socialrådgiveren refererer til, og om funktionen "
            "skal forankres i familiegruppen.\n\nAd. 5: Netværk\n\nBedsteforældre og naboer deltog i "
            "netværksmøderne.\n")
    segments = parse_text(text, "notat.txt").segments
    assert all(s.speaker is None for s in segments)
    _, signals = tagger.score(segments)
    numbers = [None if p.code is None else tagger.codebook.codes[p.code].number for p in signals.priors]
    assert numbers == [6, 6, 5, 5]
    top = [items[0].number for items in tagger.suggest(segments)]
    assert top[1] == 6 and top[3] == 5


def test_tagging_welcome_is_not_a_guide_question(tagger):
    """An opening that presents the evaluation (and names the family group) sets no prior,
    so the first real question is not taken for a return to an earlier point."""
    text = ("Moderator: Velkommen, og tak fordi I vil bruge en time på det her. Vi evaluerer projektet "
            "med socialrådgivere i skoler og dagtilbud, og jeg vil gerne høre jeres erfaringer set fra "
            "familiegruppen og projektgruppen. I må gerne supplere hinanden.\n"
            "Lise: Jeg er teamleder i familiegruppen.\n"
            "Moderator: Så hvis vi starter med det forebyggende, at man kommer ind tidligt, før det bliver en sag?\n"
            "Lise: Forældrene henvender sig selv til hende i børnehaven, før vi får en underretning.\n")
    segments = parse_text(text, "velkommen.txt").segments
    _, signals = tagger.score(segments)
    numbers = [None if p.code is None else tagger.codebook.codes[p.code].number for p in signals.priors]
    assert numbers == [None, None, 1, 1]
    assert signals.priors[0].kind == "follow-up" and signals.priors[2].kind == "question"
    # A welcome that names its point explicitly still asks it.
    named = parse_text("Moderator: Velkommen. Vi starter med punkt 6, organiseringen.\n"
                       "Lise: Hun refererer til lederen af PPR.\n", "navngivet.txt").segments
    _, signals = tagger.score(named)
    assert [p.code for p in signals.priors] == [5, 5]


def test_tagging_section_headings_in_a_transcript_set_the_prior(tagger):
    """Markdown headings over named speakers: each heading opens its guide point."""
    text = ("## Spørgsmål 1: Tidlig indsats\n\n**Mette:** Forældrene kommer selv og spørger om råd, længe "
            "før der er brug for en sag, og vi kan tage det i opløbet.\n\n**Lars:** Ja.\n\n"
            "## Spørgsmål 6: Organisering\n\n**Mette:** Det er uklart hvem hun refererer til, og hvor "
            "funktionen skal forankres når perioden er slut.\n\n**Lars:** Ja.\n")
    segments = parse_text(text, "temaer.md").segments
    assert [s.role for s in segments] == ["moderator", "participant", "participant"] * 2
    _, signals = tagger.score(segments)
    numbers = [None if p.code is None else tagger.codebook.codes[p.code].number for p in signals.priors]
    assert numbers == [1, 1, 1, 6, 6, 6]
    suggestions = tagger.suggest(segments)
    assert suggestions[0] == [] and suggestions[3] == []
    assert (suggestions[1][0].number, suggestions[1][0].evidence["question"]) == (1, 1)
    assert (suggestions[4][0].number, suggestions[4][0].evidence["question"]) == (6, 6)


def test_tagging_finds_an_unlabelled_moderator_by_the_questions(tagger):
    text = ("A: Hvad er jeres erfaringer med koordineringen og brobygningen mellem fagpersonerne?\n"
            "B: PPR og sundhedsplejersken sidder nu med i det tværfaglige team.\n"
            "A: Og hvordan er organiseringen, hvem refererer hun til ledelsesmæssigt?\n"
            "B: Hun refererer til lederen af PPR, det er en god placering.\n"
            "C: Enig.\n")
    segments = parse_text(text, "ab.txt").segments
    assert all(s.role == "participant" for s in segments)
    suggestions = tagger.suggest(segments)
    assert suggestions[0] == [] and suggestions[2] == []
    assert suggestions[1][0].number == 2 and suggestions[3][0].number == 6


@pytest.mark.parametrize("text,number", [
    ("Så til spørgsmål 4 om familiegruppen", 4), ("Ad. 2. Tværfaglig koordinering", 2),
    ("Det fjerde punkt handler om dialog", 4), ("Hvordan går det?", None),
])
def test_tagging_referenced_guide_point(text, number):
    assert referenced_number(text) == number


TURNS = ["Så til spørgsmål 4 om familiegruppen", "SÅ TIL SPØRGSMÅL FIRE", "Hvordan går det?",
         "...", "Lad os gå videre til organiseringen.", "Ad. 2. Tværfaglig koordinering",
         "Det fjerde punkt handler om dialog", "Vi taler om adgangen og punktet bagefter",
         "Hvad så?\nNæste punkt er netværket", "İstanbul-modellen: næste punkt 5", "",
         "Så", "til spørgsmål 3", "Videre"]


def test_tagging_question_cues_in_bulk_equal_one_by_one():
    """The one-pass versions over many moderator turns give what each turn gives alone,
    also when turns are empty, end where the next begins, or change length in lower case."""
    assert referenced_numbers(TURNS) == [referenced_number(t) for t in TURNS]
    assert transition_flags(TURNS) == [is_transition(t) for t in TURNS]
    assert [referenced_number(t) for t in TURNS[:3]] == [4, 4, None]
    assert transition_flags(TURNS)[:5] == [True, True, False, False, True]
    # "Så" at the end of one turn and "til spørgsmål" at the start of the next are two turns.
    assert transition_flags(["Ja, så", "til spørgsmål 3"]) == [False, False]


@pytest.mark.parametrize("text,heading", [
    ("Ad. 3: Konsultativ rådgivning", True), ("Organisering", True),
    ("Det er uklart hvem hun refererer til, og det skaber usikkerhed i familiegruppen.", False),
])
def test_tagging_heading_detection(text, heading):
    assert looks_like_heading(text) is heading


def test_tagging_describe_in_danish_and_english(codebook):
    s = CodeSuggestion("samarbejde-familiegruppe", 4, "Samarbejdet i forhold til familiegruppe", 0.8241,
                       {"terms": ["underretning", "familiegruppen"], "question": 4, "prior": 1.0,
                        "model": 0.7, "rules": 0.6})
    assert describe(s, codebook) == ("forslag: Samarbejdet i forhold til familiegruppe (sikkerhed 0,82) – ord: "
                                     "underretning, familiegruppen; spørgsmål 4")
    assert describe(s, codebook, "en") == ("suggested: Collaboration with the family group (confidence 0.82) – words: "
                                           "underretning, familiegruppen; question 4")
    bare = CodeSuggestion("organisering", 6, "Organisering", 0.5,
                          {"terms": [], "question": None, "prior": 0.0, "model": 0.61, "rules": 0.0})
    assert describe(bare, codebook) == "forslag: Organisering (sikkerhed 0,50) – ligner tidligere kodninger (0,61)"
    # beside the code's own chip in Kodning, the name is not said twice
    assert describe(bare, codebook, named=False) == "forslag (sikkerhed 0,50) – ligner tidligere kodninger (0,61)"


def test_tagging_examples_are_learned(codebook, tmp_path):
    path = tmp_path / "examples.jsonl"
    rows = [{"text": f"Kantinen serverer frikadeller og rugbrød dag {i}.", "code": 7} for i in range(6)]
    rows += [{"text": f"Parkeringen ved rådhuset er fyldt dag {i}.", "code": "organisering"} for i in range(6)]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    docs = load_examples(path, codebook)
    assert len(docs) == 12 and docs[0].labels == {0: frozenset({"supplerende"})}
    seg = parse_text("Frikadeller og rugbrød i kantinen igen.", "x.txt").segments
    before = Tagger(codebook).fit([]).score(seg)[0][0, 6]
    after = Tagger(codebook).fit(docs).score(seg)[0][0, 6]
    assert after > before


def test_tagging_examples_file_errors_name_the_line(codebook, tmp_path):
    from focusqa.errors import FocusqaError

    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok", "code": 1}\n{"text": "x", "code": 99}\n', encoding="utf-8")
    with pytest.raises(FocusqaError, match=r"bad.jsonl, line 2: unknown code 99"):
        load_examples(path, codebook)


def test_tagging_build_tagger_works_from_the_codebook_alone(monkeypatch, tmp_path, segments):
    import focusqa.tagging as tagging

    monkeypatch.setattr(tagging, "default_reference", lambda: tmp_path / "missing.jsonl")
    tagger = build_tagger()
    assert tagger.documents_ == []
    assert any(tagger.suggest(segments))


def test_tagging_estimators_follow_sklearn_conventions():
    vec = CompoundTfidfVectorizer(min_df=1, ngram_range=(3, 4))
    assert clone(vec).get_params() == vec.get_params()
    assert not hasattr(vec, "vocabulary_")
    docs = [["skoleunderretning", "kom"], ["underretning", "sendt"], ["netværksmøde", "holdt"]]
    X = vec.fit_transform(docs)
    assert X.shape[0] == 3 and np.allclose(np.asarray(X.multiply(X).sum(axis=1)).ravel(), 1.0)
    # a compound never seen in training shares n-grams with its part
    unseen = vec.transform([["familieunderretningerne"]])
    assert (unseen @ X[1].T).toarray()[0, 0] > 0
    model = CalibratedOneVsRest(cv=2, random_state=0)
    assert clone(model).get_params() == model.get_params()
    Y = np.array([[1, 0], [1, 0], [0, 1]])
    with pytest.raises(Exception):
        model.predict_proba(X)
    proba = model.fit(X, Y).predict_proba(X)
    assert proba.shape == (3, 2) and ((proba >= 0) & (proba <= 1)).all()
    combiner = Combiner()
    assert clone(combiner).get_params() == {"C": 1.0}
    feats = signal_features(proba, np.zeros((3, 2)), np.zeros((3, 2)))
    assert combiner.fit(feats, Y).predict_proba(feats).shape == (3, 2)


def test_tagging_all_codes_decided_in_one_product_equal_one_classifier_at_a_time():
    rng = np.random.default_rng(0)
    X = sp.random(60, 40, density=0.2, format="csr", random_state=1)
    Y = (rng.random((60, 4)) < [0.4, 0.3, 0.02, 0.5]).astype(int)  # code 2: too few, a constant
    model = CalibratedOneVsRest(cv=3, random_state=0).fit(X, Y)
    assert model.linear_ is not None and not isinstance(model.estimators_[2], tuple)
    one_by_one = np.zeros((60, 4))
    for j, est in enumerate(model.estimators_):
        if isinstance(est, tuple):
            one_by_one[:, j] = est[0].decision_function(X)
    assert np.array_equal(model.decision_function(X), one_by_one)
    assert np.abs(one_by_one).sum() > 0


def test_tagging_codes_and_folds_solved_together_equal_scikit_learn_s_ridge_one_at_a_time():
    """The refit's speed helper: a fold's left-out rows are weight 0, every fit one column."""
    from sklearn.linear_model import RidgeClassifier

    rng = np.random.default_rng(3)
    X = sp.random(300, 120, density=0.05, format="csr", random_state=2)
    Y = (rng.random((300, 3)) < [0.3, 0.1, 0.5]).astype(int)
    sample_weight = rng.choice([1.0, 20.0], size=300)
    model = CalibratedOneVsRest(cv=3, random_state=0).fit(X, Y, sample_weight=sample_weight)
    for j in range(3):
        ours = model.estimators_[j][0].decision_function(X)
        theirs = RidgeClassifier(alpha=1.0, class_weight="balanced").fit(
            X, Y[:, j], sample_weight=sample_weight).decision_function(X)
        assert np.abs(ours - theirs).max() < 1e-3 * np.abs(theirs).max()
    half = np.arange(150)
    weights = np.zeros((300, 1))
    weights[half, 0] = sample_weight[half]
    coef, intercept = shared_ridge(X, np.where(Y[:, :1] == 1, 1.0, -1.0), weights)
    on_half = RidgeClassifier(alpha=1.0).fit(X[half], Y[half, 0], sample_weight=sample_weight[half])
    theirs = on_half.decision_function(X)
    assert np.abs((X @ coef[:, 0] + intercept[0]) - theirs).max() < 1e-3 * np.abs(theirs).max()


def _exact_ridge(X: np.ndarray, y: np.ndarray, w: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """The weighted ridge with an intercept, solved exactly: decision values on ``X``."""
    x_mean, y_mean = w @ X / w.sum(), w @ y / w.sum()
    A = np.sqrt(w)[:, None] * (X - x_mean)
    coef = np.linalg.solve(A.T @ A + alpha * np.eye(X.shape[1]), A.T @ (np.sqrt(w) * (y - y_mean)))
    return X @ coef + (y_mean - x_mean @ coef)


@pytest.mark.parametrize("n_rows, n_features", [(200, 60), (60, 200)])
def test_tagging_ridge_over_rows_or_over_features_is_the_exact_ridge(n_rows, n_features):
    """Both of the solver's branches, in single precision, against the closed form."""
    rng = np.random.default_rng(5)
    X = sp.random(n_rows, n_features, density=0.1, format="csr", random_state=4)
    y = np.where(rng.random(n_rows) < 0.3, 1.0, -1.0)
    w = rng.choice([0.0, 1.0, 20.0], size=n_rows)
    coef, intercept = shared_ridge(X, y[:, None], w[:, None])
    exact = _exact_ridge(X.toarray(), y, w)
    assert np.abs(X @ coef[:, 0] + intercept[0] - exact).max() < 1e-3 * np.abs(exact).max()


def test_tagging_question_recognizer_ignores_the_shared_frame():
    rec = QuestionRecognizer().fit([["erfaring", "underretning"], ["erfaring", "netværk"]], [0, 1])
    sims = rec.similarity([["erfaring"], ["netværk"]])
    assert sims[0].max() == 0.0 and sims[1].argmax() == 1


@pytest.mark.skipif(not (Path(__file__).resolve().parent.parent / "corpora" / "socialraadgivere" /
                         "reference" / "coder_a.jsonl").exists(), reason="demo corpus not installed")
def test_tagging_refit_learns_from_accepted_codings(store, codebook):
    """An evaluator's accepted codings enter training at the next refit."""
    from focusqa.ingest import parse_text as parse

    text = ("Moderator: Har I supplerende bemærkninger?\n"
            "Lise: Kantinen serverer frikadeller og rugbrød hver dag.\n")
    _, doc_id = store.import_document(parse(text, "kantine.txt"), actor="test")
    seg = [s for s in store.segments(doc_id) if s.role == "participant"][0]
    tagger = Tagger(codebook).fit([])
    tagger.refit(store)
    assert not any(d.name == "kantine.txt" for d in tagger.documents_)
    store.set_coding(seg.id, "organisering", "evaluator")
    tagger.refit(store)
    trained = [d for d in tagger.documents_ if d.name == "kantine.txt"]
    assert trained and trained[0].labels == {1: frozenset({"organisering"})}


def test_tagging_model_signal_from_lemma_ids_equals_the_model_on_lemma_strings(tagger, segments):
    """Bulk scoring feeds the model token-id arrays; it must see exactly the lemmas."""
    _, signals = tagger.score(segments)
    content = signals.content
    lemmas = [a.lemmas for a, c in zip(tagger.analyser.analyse([s.text for s in segments]), content) if c]
    expected = tagger.model_.predict_proba(lemmas)
    np.testing.assert_allclose(signals.model[content], expected, atol=1e-12)


def test_tagging_evidence_word_from_a_long_run_without_spaces_is_shortened(tagger):
    """Pasted text without spaces still shows its evidence, but not as a page-long 'word'."""
    text = "x" * 5000 + "familiegruppe" + "y" * 5000
    items = tagger.suggest([parse_text(f"A: {text}\n", "lang.txt").segments[0]], threshold=0.0)[0]
    shown = [w for item in items for w in item.evidence["terms"]]
    assert shown and all(len(w) <= 60 for w in shown)
    assert any(w.startswith("xxx") and w.endswith("…") for w in shown)


CLOSING = """Moderator: Så til organiseringen. Hvem skal socialrådgiverne høre til ledelsesmæssigt?
Lise: Hun sidder under PPR-lederen, og hun savner en socialfaglig leder i familiegruppen.
Moderator: Har I noget andet på hjerte – noget, vi ikke har fået talt om, eller noget, I gerne vil have, styregruppen hører?
Per: Ja, at stillingerne bliver faste. Det er tosset, at de ikke ved, om de har et job næste år.
Lise: Og så kunne man kigge på de ældste elever i ungdomsskolen, der er ingen derude.
"""


@pytest.mark.parametrize("question", [
    "Har I noget andet på hjerte – noget, I gerne vil have, styregruppen hører?",
    "Inden vi slutter: hvad mangler I i organiseringen?",
    "Er der mere, I gerne vil nå at sige, inden vi slutter?",
    "Er der noget, I gerne vil tilføje?",
    "Noget, vi ikke har været inde på?",
])
def test_tagging_closing_question_opens_the_catch_all_point(tagger, question):
    # The answers after an everyday closing question belong to "Supplerende bemærkninger",
    # even when the question names the steering group (an organisation term) in passing.
    text = CLOSING.replace(CLOSING.splitlines()[2], f"Moderator: {question}")
    segments = parse_text(text, "fokus.txt").segments
    _, signals = tagger.score(segments)
    asked = [None if p.code is None else tagger.codebook.codes[p.code].id for p in signals.priors]
    assert asked[1] == "organisering"
    assert asked[3] == asked[4] == "supplerende"


def test_tagging_going_back_to_an_earlier_point_before_the_end_is_not_a_closing_question(tagger):
    # "Inden vi runder af" says when; the moderator goes back to point 1 here.
    text = CLOSING.replace(CLOSING.splitlines()[2], "Moderator: Der er noget, jeg gerne vil tilbage til, inden vi "
                           "runder af: den anonyme rådgivning af forældre, før der er en sag. Hvordan går det med den?")
    _, signals = tagger.score(parse_text(text, "fokus.txt").segments)
    asked = [None if p.code is None else tagger.codebook.codes[p.code].id for p in signals.priors]
    assert asked[3] == asked[4] == "tidlig-indsats"


def test_tagging_a_follow_up_asking_for_more_on_the_point_keeps_it(tagger):
    text = CLOSING.replace(CLOSING.splitlines()[2], "Moderator: Er der mere at sige om ledelsen end det?")
    _, signals = tagger.score(parse_text(text, "fokus.txt").segments)
    assert {tagger.codebook.codes[p.code].id for p in signals.priors[1:]} == {"organisering"}


def test_tagging_catch_all_point_is_found_by_label_or_definition():
    guide = load_codebook()
    assert catch_all_point([c.label_da for c in guide.codes], [c.definition for c in guide.codes]) == \
        guide.ids.index("supplerende")
    assert catch_all_point(["Organisering", "Andet"], ["", ""]) == 1
    assert catch_all_point(["Resultater", "Ekstra"], ["Virkningen", "Alt andet, der er sagt."]) == 1
    assert catch_all_point(["Organisering", "Andet samarbejde"], ["", ""]) == 1  # a label starting "Andet"
    assert catch_all_point(["Organisering", "Resultater", "Økonomi"], ["", "", ""]) is None


PROSE = ("Skolesocialrådgiverne er ansat i børnefamilieenheden og har ingen sager; de er tilknyttet "
         "undersøgelsesgruppen og har en fast kontaktperson der.\n\n"
         "Forældrene ringer selv til den åbne rådgivning, før problemerne vokser, og mange vil helst "
         "være anonyme.\n\n"
         "Bedsteforældre og naboer blev inddraget på netværksmøder, så løsningen blev holdbar for familien.\n")


def test_tagging_prose_with_nothing_confirmed_reads_the_codebook_alone(codebook, segments):
    # The shipped coding is focus-group turns: a prior for transcripts, not for a report.
    prose = parse_text(PROSE, "rapport.txt").segments
    shipped = build_tagger(codebook)
    alone = Tagger(codebook).fit([])
    assert shipped.suggest(prose) == alone.suggest(prose)
    assert shipped.suggest(segments) != alone.suggest(segments)  # a transcript keeps the prior
    # As soon as the project has confirmed anything, its own model reads the prose too.
    confirmed = TrainingDocument("mine", prose, {0: frozenset({"organisering"})}, None, "project")
    learned = Tagger(codebook).fit(list(shipped.base_documents) + [confirmed])
    assert learned.prose_tagger_ is None and shipped.prose_tagger_ is not None


def test_a_confirmed_paragraph_learns_its_context_from_the_paragraph_beside_it(codebook):
    """The combiner learns how far a neighbour's code carries from the project's confirmed
    turns. Scoring reads the neighbour really beside a turn, so training must too: the first
    paragraph's neighbour is the unconfirmed one about the open counselling, not the next
    confirmed one about network meetings three paragraphs on."""
    prose = parse_text(PROSE + "\nMødet sluttede klokken tre.\n\nDer var kaffe og kage.\n", "notat.txt").segments
    confirmed = TrainingDocument("mine", prose, {0: frozenset({"organisering"}),
                                                 2: frozenset({"ressourcepersoner-netvaerk"})}, None, "project")
    tagger = Tagger(codebook).fit([confirmed])
    rows = tagger._training_rows([confirmed] + codebook_documents(codebook))
    context = tagger._training_context(rows)
    beside = tagger.model_.predict_proba([rows.unlabelled[0]])[0]   # paragraph 1, nobody coded it
    assert rows.turn_is_row[:5].tolist() == [True, False, True, False, False]
    np.testing.assert_allclose(context[0], beside)
    # Paragraph 2 (the network meetings) has paragraphs 1 and 3 beside it, both uncoded.
    after = tagger.model_.predict_proba([rows.unlabelled[1]])[0]
    np.testing.assert_allclose(context[1], np.maximum(beside, after))

def test_plain_content_needs_more_examples_than_a_guide_question_before_its_weights_are_learned():
    """Ten examples calibrate a code under a guide question (the prior is strong evidence),
    not on plain content, where the defaults do better until a dozen examples are coded."""
    from focusqa.tagging.combiner import MIN_CONTENT_EXAMPLES, MIN_EXAMPLES

    rng = np.random.default_rng(1)
    n = 60
    X = rng.normal(size=(n, 1, 4))
    Y = np.zeros((n, 1), int)
    Y[:10, 0] = 1
    combiner = Combiner().fit(X, Y, np.ones(n, bool))
    assert MIN_EXAMPLES <= 10 < MIN_CONTENT_EXAMPLES
    assert combiner.learned_[:, 0].tolist() == [True, False]
    Y[:MIN_CONTENT_EXAMPLES, 0] = 1
    assert Combiner().fit(X, Y, np.ones(n, bool)).learned_[:, 0].tolist() == [True, True]


def test_the_floor_is_lower_only_for_a_code_whose_weights_are_still_the_defaults():
    """A new codebook's first examples do not yet calibrate a code: its floor stays low
    until the combiner has learned that code's weights, while a learned code gets the
    default floor."""
    rng = np.random.default_rng(0)
    n = 40
    X = rng.normal(size=(n, 2, 4))
    Y = np.zeros((n, 2), int)
    Y[:20, 0] = 1                     # code 0: 20 examples, learned
    Y[:2, 1] = 1                      # code 1: 2 examples, the defaults
    combiner = Combiner().fit(X, Y, np.zeros(n, bool))
    assert combiner.learned_[1].tolist() == [True, False]
    scores = np.array([[0.25, 0.1], [0.1, 0.25]])
    floors = combiner.floors(scores, np.zeros(2, bool), DEFAULT_FLOOR)
    assert floors.tolist() == [DEFAULT_FLOOR, CODEBOOK_ONLY_FLOOR]


def test_tagging_with_no_coded_text_offers_the_best_supported_code_at_a_lower_floor(codebook):
    # A single codebook word is weak evidence, but without any coding to calibrate on it is
    # still worth offering for confirmation.
    alone = Tagger(codebook).fit([])
    prose = parse_text("Det blev besluttet at fortsætte ordningen et år mere.\n", "notat.txt").segments
    scores, signals = alone.score(prose)
    assert alone.combiner_.floors(scores, signals.structured, DEFAULT_FLOOR).tolist() == [CODEBOOK_ONLY_FLOOR]
    assert CODEBOOK_ONLY_FLOOR < DEFAULT_FLOOR
    top = float(scores.max())
    assert CODEBOOK_ONLY_FLOOR <= top < DEFAULT_FLOOR
    assert [s.code_id for s in alone.suggest(prose)[0]] == ["supplerende"]  # "fortsætte"


def test_tagging_closing_questions_are_found_in_bulk_with_the_turn_end_as_the_end():
    """The word pre-filter finds what a scan of every turn finds, and a closing question
    without a question mark at the end of its turn too."""
    from focusqa.tagging.structure import _CLOSING, _CLOSING_WORDS, _JoinedTexts

    turns = ["Har I noget andet på hjerte?", "Er der noget, I gerne vil tilføje", "Noget, du vil tilføje til sidst?",
             "Vi har ikke talt om budgettet.", "Inden vi runder af: andre bemærkninger?", "Hvad med ledelsen?",
             "Er der noget I har lyst til at tilføje – før vi stopper?", "Ikke mere om det.", "",
             "Supplerende kommentarer", "Der er noget, I gerne vil tilføje. Ja."] * 3
    joined = _JoinedTexts(turns)
    found = joined.owners(_CLOSING, word_start=True, needs=_CLOSING_WORDS)
    closing = {0, 1, 2, 4, 6, 9, 10}
    assert found == {i + 11 * copy for i in closing for copy in range(3)}
    assert joined.owners(_CLOSING, word_start=True) == found - {1, 12, 23}, "a scan of all turns misses the turn end"
