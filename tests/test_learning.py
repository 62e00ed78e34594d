"""Learning from the evaluator: confirmations, anchor examples, what counts as evidence."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

from focusqa.codebook import load_codebook, parse_codebook
from focusqa.errors import FocusqaError
from focusqa.ingest import parse_text
from focusqa.store import Store
from focusqa.tagging import autocode, build_tagger, shipped_documents
from focusqa.tagging.active import binary_kappa, confirmation_order, held_out_predictions, trust_per_code
from focusqa.tagging.devsets import DevItem, DevSet
from focusqa.tagging.evidence import lemma_weights, metadata_words, segment_counts, specificity, term_weights
from focusqa.tagging.learning import _split, check_held_out, examples_curve, learning_curve
from focusqa.tagging.tagger import Tagger
from focusqa.tagging.training import TrainingDocument, codebook_documents

ORG, NET, EARLY = "organisering", "ressourcepersoner-netvaerk", "tidlig-indsats"

# Words the codebook does not have: a project that talks about its "madpakker" (packed lunches).
LUNCH = ["Børnene kommer uden madpakker, og køkkenet har lavet morgenmad til dem hele ugen.",
         "Flere elever mangler madpakke, så klubben deler rugbrød og frugt ud om morgenen.",
         "Madpakkerne er tomme igen, og vi har talt med køkkenet om en madordning for klassen."]
NEW_LUNCH = "Hver fredag mangler de samme tre elever madpakker, og køkkenet giver dem rugbrød."


@pytest.fixture(scope="module")
def codebook():
    return load_codebook()


def _one(text: str, name: str = "notat.txt"):
    return parse_text(text, name).segments


def test_a_few_examples_teach_a_code_the_codebook_lacks_words_for(codebook):
    before = Tagger(codebook).fit([])
    target = _one(NEW_LUNCH)
    assert before.score(target)[0][0, codebook.ids.index(NET)] < 0.3
    examples = [TrainingDocument(f"ex{i}", _one(t), {0: frozenset({NET})}, None, "examples")
                for i, t in enumerate(LUNCH)]
    after = Tagger(codebook).fit(examples)
    scores = after.score(target)[0][0]
    assert int(np.argmax(scores)) == codebook.ids.index(NET)
    assert after.suggest(target)[0][0].code_id == NET


def test_anchor_examples_are_used_from_the_first_run(codebook):
    code = codebook.get(NET)
    anchored = dataclasses.replace(codebook, codes=[dataclasses.replace(c, examples=LUNCH) if c.id == NET else c
                                                    for c in codebook.codes])
    assert code.examples == []
    assert any(d.source == "anchor" for d in codebook_documents(anchored))
    tagger = Tagger(anchored).fit([])
    assert tagger.suggest(_one(NEW_LUNCH))[0][0].code_id == NET


def test_project_confirmations_outweigh_the_shipped_coding(codebook):
    """Ten confirmations move the model where the shipped demo coding says otherwise."""
    shipped = build_tagger(codebook)
    target = _one("Socialrådgiveren refererer til lederen af familiegruppen, og stillingen er finansieret.")
    assert shipped.suggest(target)[0][0].code_id == ORG
    project = [TrainingDocument(f"p{i}", _one(t), {0: frozenset({EARLY})}, None, "store")
               for i, t in enumerate([
                   "Socialrådgiveren refererer til lederen, så forældre får hjælp før bekymringen vokser.",
                   "Stillingen er finansieret, så der er åben rådgivning hver tirsdag for forældrene.",
                   "Lederen af familiegruppen vil have, at vi opdager mistrivsel tidligt.",
                   "Hun refererer til lederen og tager snakken med forældrene, før det bliver en sag.",
                   "Stillingen gør, at forældre kan henvende sig anonymt, inden problemerne vokser."] * 2)]
    learned = Tagger(codebook).fit(shipped.base_documents + project)
    assert learned.suggest(target)[0][0].code_id == EARLY


def test_rejected_suggestions_are_not_suggested_again_after_refit(tmp_path, codebook):
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    _status, doc_id = store.import_document(parse_text(
        "Moderator: Hvordan er organiseringen?\n\nLise: Vi refererer til lederen af familiegruppen.\n", "a.txt"))
    tagger = build_tagger(store=store)
    autocode(store, tagger)
    turn = [s for s in store.segments(doc_id) if s.role == "participant"][0]
    suggested = [c for c in store.codings() if c.segment_id == turn.id and c.status == "suggested"]
    assert suggested, "the tagger should suggest something for the turn"
    code = suggested[0].code_id
    store.set_coding(turn.id, code, "Anna", status="rejected")
    autocode(store, tagger.refit(store))
    assert not [c for c in store.codings() if c.segment_id == turn.id and c.code_id == code
                and c.status == "suggested"]
    store.dispose()


def test_a_word_in_every_segment_carries_no_weight():
    assert specificity(np.array([0.05, 0.15]))[0] == 1.0 and specificity(np.array([0.15]))[0] == 1.0
    assert specificity(np.array([0.5, 0.9])).tolist() == [0.0, 0.0]
    found = [{EARLY: {"tidlig"}} for _ in range(40)] + [{ORG: {"ledelse"}}]
    weights = term_weights(segment_counts(found), 41, set())
    assert weights == {"tidlig": 0.0}
    # lemma 0 stands in every segment, lemma 1 in one
    ids = np.array([0, 1] + [0] * 39)
    bounds = np.array([0, 2, *range(3, 42)])
    assert lemma_weights(ids, bounds, np.arange(40), ["tidlig", "ledelse"], set()).tolist() == [0.0, 1.0]


def test_topic_words_do_not_pull_a_project_to_one_code(codebook):
    tagger = build_tagger(codebook)
    filler = [f"Det forebyggende arbejde og den tidlige indsats er emnet for afsnit {i} i rapporten."
              for i in range(35)]
    org = "Det forebyggende arbejde og den tidlige indsats: socialrådgiverne er ansat under ledelsen."
    segments = parse_text("\n\n".join(filler + [org]), "rapport.txt").segments
    alone = tagger.score(_one(org))[1].rules[0, codebook.ids.index(EARLY)]
    in_project = tagger.score(segments)[1].rules[-1, codebook.ids.index(EARLY)]
    assert alone > 0.5 and in_project == 0.0


def test_metadata_words_are_not_evidence(codebook):
    tagger = build_tagger(codebook)
    text = "Moderator: Hvordan går det?\n\nLise: I projektgruppen snakker vi meget om det.\n"
    plain = parse_text(text, "interview.txt").segments
    named = [SimpleNamespace(**s.as_dict(), group="projektgruppe") for s in plain]
    assert "projektgruppe" in metadata_words(named)
    org = codebook.ids.index(ORG)
    assert tagger.score(plain)[1].rules[1, org] > 0
    assert tagger.score(named)[1].rules[1, org] == 0.0


def test_exclusion_notes_lower_their_code():
    base = load_codebook()
    cleared = dataclasses.replace(base, codes=[dataclasses.replace(c, exclude="") for c in base.codes])
    text = _one("Hvem socialrådgiveren refererer til, og hvem der er leder, betyder meget.")
    samarbejde = base.ids.index("samarbejde-familiegruppe")
    with_notes = Tagger(base).fit([]).score(text)[1].model[0, samarbejde]
    without = Tagger(cleared).fit([]).score(text)[1].model[0, samarbejde]
    assert with_notes < without


def test_anchor_examples_survive_yaml_and_the_store(tmp_path, codebook):
    anchored = dataclasses.replace(codebook, codes=[dataclasses.replace(c, examples=LUNCH[:2]) if c.id == NET
                                                    else c for c in codebook.codes])
    back = parse_codebook(anchored.to_yaml())
    assert back.get(NET).examples == LUNCH[:2]
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.sync_codebook(back)
    assert store.codebook().get(NET).examples == LUNCH[:2]
    version = store.add_anchor_example(NET, "  Bedstemor  henter   hver dag. ", "Anna")
    assert store.codebook().get(NET).examples[-1] == "Bedstemor henter hver dag."
    assert store.add_anchor_example(NET, "Bedstemor henter hver dag.", "Anna") == version   # not twice
    with pytest.raises(FocusqaError):
        store.add_anchor_example(NET, "   ", "Anna")
    from focusqa.export.refi import read_qdc, write_qdc

    exported = write_qdc(store.codebook(), tmp_path / "kodebog.qdc")
    again = parse_codebook(read_qdc(exported).to_yaml())
    assert again.get(NET).examples == [*LUNCH[:2], "Bedstemor henter hver dag."]
    store.dispose()


def test_confirmation_order_covers_every_code_and_varied_turns():
    scores = np.array([[0.9, 0.1], [0.89, 0.1], [0.2, 0.7], [0.5, 0.49], [0.1, 0.2]])
    vectors = sp.csr_matrix(np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 1]], float))
    order = confirmation_order(scores, vectors, np.ones(5, bool), [0, 0], limit=5, random_state=0)
    assert sorted(order) == [0, 1, 2, 3, 4]
    assert {order[0], order[2]} >= {0, 2} or order[0] in (0, 2)   # seeded: a likely turn per code
    assert order[1] == 3                                           # then the least certain turn
    assert order.index(1) > order.index(4) or order.index(1) == 4  # the near-duplicate of turn 0 comes late
    assert confirmation_order(scores, vectors, np.array([0, 1, 0, 0, 0], bool), [0, 0], 5) == [1]


def test_each_offered_turn_says_why_in_terms_of_the_tagger_s_own_suggestions(tmp_path, codebook):
    """"code": the code then shortest of confirmations; "unsure": the turn's two best codes;
    both only where the tagger suggests something; "blind": it suggests nothing for the turn."""
    from conftest import DEMO

    from focusqa.ingest import read_transcript
    from focusqa.tagging.active import next_to_confirm

    store = Store(f"sqlite:///{tmp_path / 't.db'}")
    _status, doc_id = store.import_document(read_transcript(DEMO / "2017_vest_familiegruppe.docx"))
    turns = [s for s in store.segments(doc_id) if s.role == "participant"]
    tagger = Tagger(codebook).fit(shipped_documents(codebook))
    first = tagger.suggest(turns)
    agreed = [(seg, items[0].code_id) for seg, items in zip(turns, first) if items][:6]
    for seg, code in agreed:
        store.set_coding(seg.id, code, "Anna")
    confirmed = {code for _, code in agreed}
    offers = next_to_confirm(store, tagger, limit=30)
    everything = store.segments(doc_id)
    row = {s.id: i for i, s in enumerate(everything)}
    shown = tagger.suggest(everything)                # what Kodning shows for each turn
    scores, _suggested = tagger.offer_scores(everything)
    reasons = {o.reason for o in offers}
    assert reasons == {"code", "unsure", "blind"}, reasons
    for offer in offers:
        i = row[offer.segment_id]
        if offer.reason == "code":   # the code asked about is one the turn shows
            assert len(offer.codes) == 1 and offer.codes[0] in {s.code_id for s in shown[i]}
        elif offer.reason == "unsure":   # the code shown first, and the runner-up or the code it was picked for
            assert len(offer.codes) == 2 and shown[i] and shown[i][0].code_id == offer.codes[0]
            best = [tagger.code_ids[j] for j in np.argsort(-scores[i])[:2]]
            assert offer.codes[0] == best[0]
        else:
            assert offer.codes == () and not shown[i]
    # The first offer is for a code nobody has confirmed yet.
    assert offers[0].reason == "code" and offers[0].codes[0] not in confirmed
    store.dispose()


def test_a_turn_the_tagger_finds_nothing_in_is_not_asked_about_a_code(tmp_path, codebook):
    """Once every turn with a suggestion is decided, what is left is offered as "blind"
    (the tagger suggests nothing: code it if it belongs under a code, else skip it), never
    as "is this code 3?" of a remark about coffee or parking."""
    from conftest import DEMO

    from focusqa.ingest import read_transcript
    from focusqa.tagging.active import next_to_confirm

    store = Store(f"sqlite:///{tmp_path / 't.db'}")
    _status, doc_id = store.import_document(read_transcript(DEMO / "2017_vest_familiegruppe.docx"))
    everything = store.segments(doc_id)
    tagger = Tagger(codebook).fit(shipped_documents(codebook))
    for seg, items in zip(everything, tagger.suggest(everything)):       # as Kodning shows them
        if items and seg.role == "participant":
            store.set_coding(seg.id, items[0].code_id, "Anna")
    offers = next_to_confirm(store, tagger, limit=10)
    assert offers, "the turns without a suggestion are still offered"
    assert {o.reason for o in offers} == {"blind"}
    store.dispose()


def test_offers_leave_out_finished_interviews_and_skipped_turns(tmp_path, codebook):
    """An interview someone marked finished is done: its uncoded small talk is not offered.
    A turn the evaluator skipped is not offered again. Two coders confirming a code on one
    turn count as one confirmed turn, as in the trust table."""
    from conftest import DEMO

    from focusqa.ingest import read_transcript
    from focusqa.tagging.active import next_to_confirm

    store = Store(f"sqlite:///{tmp_path / 't.db'}")
    _s, vest = store.import_document(read_transcript(DEMO / "2017_vest_familiegruppe.docx"))
    _s, nord = store.import_document(read_transcript(DEMO / "2017_oest_familiegruppe.docx"))
    tagger = Tagger(codebook).fit(shipped_documents(codebook))
    first = next_to_confirm(store, tagger, limit=40)
    by_doc = {s.id: s.document_id for s in store.segments()}
    assert {by_doc[o.segment_id] for o in first} == {vest, nord}
    store.set_finished(vest, "Anna")
    after = next_to_confirm(store, tagger, limit=40)
    assert after and {by_doc[o.segment_id] for o in after} == {nord}
    skipped = after[0].segment_id
    assert skipped not in {o.segment_id for o in next_to_confirm(store, tagger, limit=40, skip=[skipped])}
    code = codebook.ids[0]
    turn = next(s for s in store.segments(nord) if s.role == "participant")
    store.set_coding(turn.id, code, "Anna")
    store.set_coding(turn.id, code, "Bo")
    counted = [o for o in next_to_confirm(store, tagger, limit=40) if o.reason == "code" and o.codes == (code,)]
    assert all(o.confirmed == 1 for o in counted)
    store.dispose()


def test_trust_per_code_is_kappa_on_held_out_confirmations_with_an_interval():
    truth = [frozenset({"a"})] * 10 + [frozenset()] * 10
    perfect = trust_per_code(["a"], truth, [["a"]] * 10 + [[]] * 10)[0]
    assert perfect.kappa == 1.0 and perfect.confirmations == 10 and perfect.decided == 20
    noisy = trust_per_code(["a"], truth, [["a"]] * 6 + [[]] * 4 + [["a"]] * 3 + [[]] * 7)[0]
    assert 0 < noisy.kappa < 1 and noisy.low < noisy.kappa < noisy.high
    assert binary_kappa(np.ones(4, bool), np.ones(4, bool)) is None     # one class only


def test_held_out_predictions_never_score_a_turn_the_model_trained_on():
    seen = []

    def fit(train):
        seen.append(set(train))
        return lambda test: [["x"] if set(test) & set(train) else [] for _ in test]

    out = held_out_predictions(fit, list(range(12)), folds=4)
    assert set(out) == set(range(12)) and all(codes == [] for codes in out.values())
    assert len(seen) == 4


def test_learning_curve_never_scores_a_turn_it_trained_on(codebook):
    with pytest.raises(FocusqaError, match="trained on"):
        check_held_out({(0, 1)}, [(0, 1), (0, 2)])
    texts = [*LUNCH, NEW_LUNCH, "Ledelsen har besluttet en ny struktur.", "Vi refererer til lederen.",
             "Netværksmødet med bedstemor gik godt.", "Forældrene henvender sig tidligt."]
    doc = TrainingDocument("dev", parse_text("\n\n".join(texts), "dev.txt").segments, {}, None, "devset")
    codes = [NET, NET, NET, NET, ORG, ORG, NET, EARLY]
    items = [DevItem(0, i, s.text, {"a": (c,), "b": (c,)}) for i, (s, c) in enumerate(zip(doc.segments, codes))]
    devset = DevSet("tiny", codebook, [doc], items, "prose")
    curve = learning_curve(devset, ks=(0, 2), seeds=(0, 1))
    for point in curve.points:
        assert point.tested == 4 and point.confirmed <= 4
    assert [p.confirmed for p in curve.points if p.k == 0] == [0, 0]


def test_examples_curve_gives_k_random_examples_per_code_and_never_scores_them(codebook):
    """The `focusqa tag --examples` way in: k pool paragraphs per code, each on its own."""
    texts = [*LUNCH, NEW_LUNCH, "Ledelsen har besluttet en ny struktur.", "Vi refererer til lederen.",
             "Netværksmødet med bedstemor gik godt.", "Forældrene henvender sig tidligt.",
             "Lederen af familiegruppen er vores nærmeste chef.", "Bedstefar hentede drengen hver dag."]
    doc = TrainingDocument("dev", parse_text("\n\n".join(texts), "dev.txt").segments, {}, None, "devset")
    codes = [NET, NET, NET, NET, ORG, ORG, NET, EARLY, ORG, NET]
    items = [DevItem(0, i, s.text, {"a": (c,), "b": (c,)}) for i, (s, c) in enumerate(zip(doc.segments, codes))]
    devset = DevSet("tiny", codebook, [doc], items, "prose")
    fitted: list[list[str]] = []

    class Recording(Tagger):
        def fit(self, documents):
            fitted.append([d.segments[0].text for d in documents if d.source == "examples"])
            return super().fit(documents)

    curve = examples_curve(devset, ks=(0, 1, 2), seeds=(0,), make_tagger=lambda seed: Recording(codebook))
    tested, pool = _split(len(items), 0, 0.5)
    scored = {items[i].text for i in tested}
    assert [len(f) for f in fitted][0] == 0
    for examples, k in zip(fitted, (0, 1, 2)):
        assert not scored & set(examples)
        per_code = {c: sum(1 for t in examples if codes[texts.index(t)] == c) for c in set(codes)}
        assert all(n <= k for n in per_code.values())
        assert all(n == min(k, sum(1 for i in pool if codes[i] == c)) for c, n in per_code.items())
    assert [p.tested for p in curve.points] == [5, 5, 5]


def test_kodning_offers_undecided_turns_and_trust_is_measured_on_held_out_decisions(tmp_path, codebook):
    from conftest import DEMO

    from focusqa.ingest import read_transcript
    from focusqa.tagging.active import next_to_confirm, project_trust

    store = Store(f"sqlite:///{tmp_path / 't.db'}")
    _status, doc_id = store.import_document(read_transcript(DEMO / "2017_vest_familiegruppe.docx"))
    tagger = Tagger(codebook).fit([])
    turns = [s for s in store.segments(doc_id) if s.role == "participant"]
    offered = [turn.segment_id for turn in next_to_confirm(store, tagger, limit=6)]
    assert len(offered) == 6 and len(set(offered)) == 6
    assert set(offered) <= {s.id for s in turns}
    suggestions = tagger.suggest(turns)
    for seg, items in list(zip(turns, suggestions))[:16]:
        if items:
            store.set_coding(seg.id, items[0].code_id, "Anna")      # the evaluator agrees
    decided = {c.segment_id for c in store.codings(origin="human")}
    assert not {t.segment_id for t in next_to_confirm(store, tagger, limit=50)} & decided
    trust = {t.code_id: t for t in project_trust(store, lambda: Tagger(codebook), folds=4)}
    assert set(trust) == set(codebook.ids)
    assert sum(t.confirmations for t in trust.values()) >= len(decided)
    assert all(t.decided == len(decided) for t in trust.values())
    store.dispose()
